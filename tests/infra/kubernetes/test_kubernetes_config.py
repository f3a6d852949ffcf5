"""Tier B's config keys: validated, reported all at once, refused where they do not apply, and the rule that the
pods' requests at the HPA maximum fit the nodes at their maximum."""

from __future__ import annotations

import pytest

from infra.config import InvalidStackConfig, Tier
from infra.config.loader import RawConfig, resolve

VALID_B = {
    "aws:region": "us-east-1",
    "contentry:tier": "B",
    "contentry:atlasOrgId": "5f1e2d3c4b5a69788796a5b4",
    "contentry:alertEmail": "ops@contentry.ai",
    "contentry:appImageTag": "1.4.2",
}
PROD_B = {
    **VALID_B,
    "contentry:environment": "production",
    "contentry:domain": "api.contentry.ai",
    "contentry:hostedZoneId": "Z0123456789ABCDEFGHIJ",
}


def problems(values: dict[str, str], stack: str = "dev") -> dict[str, str]:
    with pytest.raises(InvalidStackConfig) as caught:
        resolve(RawConfig(project="contentry", stack=stack, values=values))
    return {p.key: p.message for p in caught.value.problems}


def test_tier_b_presets() -> None:
    config = resolve(RawConfig("contentry", "prod", PROD_B))
    settings = config.kubernetes
    assert config.tier is Tier.B
    assert (settings.version, settings.min_replicas, settings.max_replicas) == ("1.35", 9, 27)
    assert (settings.pod_cpu_millicores, settings.pod_memory_mib) == (1000, 1536)
    assert settings.public_access_cidr_list == ()
    assert (config.compute.instance_type, config.compute.min_size, config.compute.max_size) == ("c7g.2xlarge", 3, 5)


def test_every_bad_key_is_reported_at_once_with_what_is_allowed() -> None:
    found = problems(
        {
            **VALID_B,
            "contentry:kubernetesVersion": "1.34",
            "contentry:clusterPublicAccessCidrs": "10.0.0.0/8,not-a-cidr",
            "contentry:clusterAdminRoleArn": "arn:aws:iam::123:user/bob",
            "contentry:podMinReplicas": "0",
            "contentry:podMemoryRequestMib": "lots",
        }
    )
    assert "allowed: 1.35" in found["contentry:kubernetesVersion"]
    assert (
        "is not an IPv4 CIDR" in found["contentry:clusterPublicAccessCidrs"]
        or "not a public range" in found["contentry:clusterPublicAccessCidrs"]
    )
    assert "is not an IAM role ARN" in found["contentry:clusterAdminRoleArn"]
    assert "contentry:podMinReplicas" in found
    assert found["contentry:podMemoryRequestMib"] == "must be a whole number"


def test_a_private_range_is_refused_for_public_access() -> None:
    found = problems({**VALID_B, "contentry:clusterPublicAccessCidrs": "81.2.69.160/27,10.0.0.0/8"})
    assert "10.0.0.0/8 is not a public range" in found["contentry:clusterPublicAccessCidrs"]


def test_the_whole_internet_is_refused_in_production_only() -> None:
    found = problems({**PROD_B, "contentry:clusterPublicAccessCidrs": "0.0.0.0/0"}, "prod")
    assert "refused in production" in found["contentry:clusterPublicAccessCidrs"]
    dev = resolve(RawConfig("contentry", "dev", {**VALID_B, "contentry:clusterPublicAccessCidrs": "0.0.0.0/0"}))
    assert dev.kubernetes.public_access_cidr_list == ("0.0.0.0/0",)


def test_the_hpa_maximum_must_fit_the_nodes_maximum_naming_both_keys() -> None:
    found = problems({**VALID_B, "contentry:podMaxReplicas": "36"})
    message = found["contentry:podMaxReplicas"]
    assert "computeMaxSize 5 x c7g.2xlarge" in message
    assert "podMaxReplicas" in message
    assert "hold 7 a node and 33 in all" in message
    # More nodes make it fit; so do smaller pods.
    resolve(
        RawConfig("contentry", "dev", {**VALID_B, "contentry:podMaxReplicas": "36", "contentry:computeMaxSize": "7"})
    )
    resolve(
        RawConfig(
            "contentry",
            "dev",
            {**VALID_B, "contentry:podMaxReplicas": "36", "contentry:podCpuRequestMillicores": "800"},
        )
    )


def test_a_pod_larger_than_a_node_is_refused() -> None:
    found = problems({**VALID_B, "contentry:podCpuRequestMillicores": "8000"})
    assert "fits no c7g.2xlarge node" in found["contentry:podCpuRequestMillicores"]


def test_nodes_must_be_a_family_the_capacity_rule_can_size() -> None:
    found = problems({**VALID_B, "contentry:computeInstanceType": "t4g.large"})
    assert "use a c, m or r family type" in found["contentry:computeInstanceType"]


def test_min_replicas_above_max_and_below_the_zones_in_production() -> None:
    found = problems({**VALID_B, "contentry:podMinReplicas": "8", "contentry:podMaxReplicas": "7"})
    assert "podMinReplicas <= podMaxReplicas" in found["contentry:podMinReplicas"]
    found = problems({**PROD_B, "contentry:podMinReplicas": "2"}, "prod")
    assert "at least one pod per AZ (3)" in found["contentry:podMinReplicas"]


@pytest.mark.parametrize("tier", ["A", "C"])
def test_tier_b_keys_are_refused_on_the_ec2_tiers(tier: str) -> None:
    values = {
        **VALID_B,
        "contentry:tier": tier,
        "contentry:podMaxReplicas": "20",
        "contentry:kubernetesVersion": "1.35",
    }
    found = problems(values)
    assert set(found) == {"contentry:podMaxReplicas"}, "the default value is harmless; a changed one is refused"
    assert f"tier {tier} runs on EC2 and would ignore it" in found["contentry:podMaxReplicas"]
