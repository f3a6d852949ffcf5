"""The CDN serves private files through signed URLs only: a Pulumi-generated key pair, its public half in a
CloudFront key group trusted by the distribution's behaviour, its private half only in the app's secret."""

from __future__ import annotations

import pytest

from infra.components.data.cdn import SIGNING_KEY_ALGORITHM, SIGNING_KEY_BITS
from infra.plan.document import Plan
from tests.infra.data.data_support import app_settings_of, only, resource
from tests.infra.plans import STACKS, plan_of

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
PUBLIC_KEY = "aws:cloudfront/publicKey:PublicKey"
KEY_GROUP = "aws:cloudfront/keyGroup:KeyGroup"
PRIVATE_KEY = "tls:index/privateKey:PrivateKey"
WITH_CDN = [
    stack_id for stack_id, (stack, overrides) in STACKS.items() if plan_of(stack, overrides).of_type(DISTRIBUTION)
]


def cdn_plan(stack_id: str) -> Plan:
    return plan_of(*STACKS[stack_id])


def test_every_tier_with_a_cdn_is_covered() -> None:
    assert {"prod", "prod-tier-B", "dev-tier-B"} <= set(WITH_CDN)


@pytest.mark.parametrize("stack_id", WITH_CDN)
def test_the_behaviour_trusts_only_the_stacks_key_group(stack_id: str) -> None:
    plan = cdn_plan(stack_id)
    distribution = only(plan, DISTRIBUTION)
    group = only(plan, KEY_GROUP)
    public_key = only(plan, PUBLIC_KEY)
    assert distribution["inputs"]["defaultCacheBehavior"]["trustedKeyGroups"] == [f"{group['name']}-id"]
    assert group["urn"] in distribution["options"]["dependsOn"]
    assert group["inputs"]["items"] == [f"{public_key['name']}-id"]
    assert "trustedSigners" not in distribution["inputs"]["defaultCacheBehavior"], "the legacy account signers"


@pytest.mark.parametrize("stack_id", WITH_CDN)
def test_the_key_pair_is_generated_rsa_2048_and_cloudfront_gets_the_public_half(stack_id: str) -> None:
    plan = cdn_plan(stack_id)
    private_key = only(plan, PRIVATE_KEY)
    assert (private_key["inputs"]["algorithm"], private_key["inputs"]["rsaBits"]) == ("RSA", 2048)
    assert (SIGNING_KEY_ALGORITHM, SIGNING_KEY_BITS) == ("RSA", 2048)  # what CloudFront accepts for RSA
    public_key = only(plan, PUBLIC_KEY)
    assert public_key["inputs"]["encodedKey"].startswith("-----BEGIN PUBLIC KEY-----")
    assert private_key["urn"] in public_key["options"]["dependsOn"]
    assert "name" not in public_key["inputs"], "a named key in a key group cannot be replaced (provider docs)"


@pytest.mark.parametrize("stack_id", WITH_CDN)
def test_the_app_gets_the_key_id_and_the_private_key(stack_id: str) -> None:
    stack, overrides = STACKS[stack_id]
    settings = app_settings_of(stack, overrides)
    assert settings["CDN_SIGNING_KEY_ID"] == f"{only(cdn_plan(stack_id), PUBLIC_KEY)['name']}-id"
    assert settings["CDN_SIGNING_PRIVATE_KEY"]


NO_CDN = ("cdnEnabled=false",)


def test_without_a_cdn_no_keys_and_presigned_s3_urls() -> None:
    plan = plan_of("dev", NO_CDN)
    assert not plan.of_type(DISTRIBUTION)
    assert not plan.of_type(PRIVATE_KEY)
    assert not plan.of_type(PUBLIC_KEY)
    assert not plan.of_type(KEY_GROUP)
    assert not {"CDN_DOMAIN", "CDN_SIGNING_KEY_ID", "CDN_SIGNING_PRIVATE_KEY"} & set(app_settings_of("dev", NO_CDN))


def test_the_key_is_a_child_of_the_files_component() -> None:
    files = resource(plan_of("prod"), "files")
    for type_token in (PRIVATE_KEY, PUBLIC_KEY, KEY_GROUP):
        assert only(plan_of("prod"), type_token)["parent"] == files["urn"]
