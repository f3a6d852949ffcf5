"""The EKS control plane, its add-ons and its nodes, through the plan of every tier B stack."""

from __future__ import annotations

import json

import pytest

from infra.catalog.kubernetes_versions import (
    ADDONS,
    ADDONS_AFTER_NODES,
    ADDONS_BEFORE_NODES,
    CLOUDWATCH_OBSERVABILITY,
    KUBERNETES_VERSIONS,
)
from infra.plan.document import Plan
from infra.plan.recording import REDACTED
from tests.infra.kubernetes.k8s_support import (
    ADDON,
    CLUSTER,
    EKS_STACKS,
    LAUNCH_TEMPLATE,
    NODE_GROUP,
    depends_on,
    eks_plan,
    named,
    urn_of,
)


@pytest.fixture(params=EKS_STACKS)
def plan(request: pytest.FixtureRequest) -> Plan:
    return eks_plan(request.param)


def cluster(plan: Plan) -> dict:
    (found,) = plan.of_type(CLUSTER)
    return found["inputs"]


def test_the_cluster_runs_a_pinned_version_in_standard_support_and_never_extended(plan: Plan) -> None:
    inputs = cluster(plan)
    assert inputs["version"] == "1.35"
    assert inputs["version"] in KUBERNETES_VERSIONS
    assert inputs["upgradePolicy"] == {"supportType": "STANDARD"}
    assert inputs["name"] == f"contentry-{plan.stack}" == plan.outputs["clusterName"]


def test_secrets_are_envelope_encrypted_with_a_rotated_customer_key(plan: Plan) -> None:
    (config,) = (
        cluster(plan)["encryptionConfig"]
        if isinstance(cluster(plan)["encryptionConfig"], list)
        else [cluster(plan)["encryptionConfig"]]
    )
    assert config["resources"] == ["secrets"]
    key = named(plan, "cluster-secrets-key")
    assert key["inputs"]["enableKeyRotation"] is True
    assert config["provider"]["keyArn"].endswith(":key/" + config["provider"]["keyArn"].rsplit("/", 1)[1])
    grant = json.loads(named(plan, "cluster-role-secrets-key")["inputs"]["policy"])
    (statement,) = grant["Statement"]
    assert statement["Resource"] == config["provider"]["keyArn"], "the cluster role may use this key only"


def test_control_plane_logs_go_to_a_precreated_group_with_the_stacks_retention(plan: Plan) -> None:
    inputs = cluster(plan)
    assert set(inputs["enabledClusterLogTypes"]) == {"api", "audit", "authenticator"}
    group = named(plan, "cluster-logs")
    assert group["inputs"]["name"] == f"/aws/eks/contentry-{plan.stack}/cluster"
    assert group["inputs"]["retentionInDays"] == 365
    assert depends_on(plan, "cluster-eks", "cluster-logs"), "EKS would otherwise create it with no retention"
    production = plan.outputs["environment"] == "production"
    assert group["options"]["protect"] is production


def test_the_api_endpoint_is_private_by_default(plan: Plan) -> None:
    vpc = cluster(plan)["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc
    private = sorted(
        f"{s['name']}-id"
        for s in plan.of_type("aws:ec2/subnet:Subnet")
        if s["inputs"]["tags"]["SubnetTier"] == "private"
    )
    assert sorted(vpc["subnetIds"]) == private


def test_public_access_is_restricted_to_the_configured_cidrs() -> None:
    plan = eks_plan("prod-tier-B", ("clusterPublicAccessCidrs=81.2.69.160/27, 91.198.174.192/32",))
    vpc = cluster(plan)["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True
    assert vpc["publicAccessCidrs"] == ["81.2.69.160/27", "91.198.174.192/32"]


def test_access_is_granted_by_access_entries_to_the_deployer_and_the_admin_role() -> None:
    role = "arn:aws:iam::123456789012:role/platform-admins"
    plan = eks_plan("prod-tier-B", (f"clusterAdminRoleArn={role}",))
    inputs = cluster(plan)
    assert inputs["accessConfig"] == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    entries = {r["name"]: r["inputs"] for r in plan.of_type("aws:eks/accessEntry:AccessEntry")}
    assert entries["cluster-admin-role-access"]["principalArn"] == role
    # The offline caller is an IAM user, its own issuer (an assumed role would resolve to its role ARN).
    assert entries["cluster-deployer-access"]["principalArn"] == "arn:aws:iam::123456789012:user/offline-plan"
    associations = plan.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert len(associations) == 2
    for association in associations:
        assert association["inputs"]["policyArn"].endswith("cluster-access-policy/AmazonEKSClusterAdminPolicy")
        assert association["inputs"]["accessScope"] == {"type": "cluster"}
    assert depends_on(plan, "cluster-kubernetes", "cluster-deployer-cluster-admin", "cluster-admin-role-cluster-admin")
    assert "cluster-admin-role-access" not in {r["name"] for r in eks_plan("prod-tier-B").resources}


def test_the_kubeconfig_is_a_secret_output_and_the_provider_uses_it(plan: Plan) -> None:
    assert plan.outputs["kubeconfig"] == REDACTED
    (provider,) = plan.of_type("pulumi:providers:kubernetes")
    assert provider["inputs"]["kubeconfig"] == REDACTED
    for resource in plan.resources:
        if resource["type"].startswith("kubernetes:"):
            assert resource["provider"].startswith(provider["urn"] + "::"), resource["name"]


def test_production_clusters_have_deletion_protection() -> None:
    assert cluster(eks_plan("prod-tier-B"))["deletionProtection"] is True
    assert cluster(eks_plan("dev-tier-B"))["deletionProtection"] is False


def test_every_addon_is_managed_and_pinned_to_the_versions_table(plan: Plan) -> None:
    addons = {r["inputs"]["addonName"]: r for r in plan.of_type(ADDON)}
    # Container Insights too, built apart with its own identity (infra/components/kubernetes/observability.py).
    assert set(addons) == {*ADDONS, CLOUDWATCH_OBSERVABILITY}
    assert cluster(plan)["bootstrapSelfManagedAddons"] is False
    pins = {
        **KUBERNETES_VERSIONS["1.35"].addons,
        CLOUDWATCH_OBSERVABILITY: KUBERNETES_VERSIONS["1.35"].observability_addon,
    }
    for name, addon in addons.items():
        assert addon["inputs"]["addonVersion"] == pins[name]


def test_coredns_and_metrics_server_come_after_the_nodes_and_the_node_daemonsets_before(plan: Plan) -> None:
    # A dependency on a component is recorded as one on each of its children.
    assert urn_of(plan, "nodes-group") in named(plan, "system-addons")["options"]["dependsOn"]
    for name in ADDONS_AFTER_NODES:
        assert named(plan, f"system-addons-{name}")["parent"] == urn_of(plan, "system-addons")
    before = {urn_of(plan, f"node-addons-{name}") for name in ADDONS_BEFORE_NODES}
    assert before <= set(named(plan, "nodes")["options"]["dependsOn"])
    assert {f"node-addons-{name}" for name in ADDONS_BEFORE_NODES} <= {r["name"] for r in plan.resources}


def test_nodes_are_graviton_al2023_in_every_private_subnet_with_bounded_rolling_updates(plan: Plan) -> None:
    (group,) = plan.of_type(NODE_GROUP)
    inputs = group["inputs"]
    assert inputs["amiType"] == "AL2023_ARM_64_STANDARD"
    assert inputs["instanceTypes"] == ["c7g.2xlarge"]
    assert inputs["scalingConfig"] == {"minSize": 3, "desiredSize": 3, "maxSize": 5}
    assert inputs["updateConfig"] == {"maxUnavailable": 1}
    assert inputs["subnetIds"] == cluster(plan)["vpcConfig"]["subnetIds"]
    assert "scalingConfig.desiredSize" in group["options"]["ignoreChanges"], "the autoscaler owns the desired size"
    assert inputs["launchTemplate"]["id"] == "nodes-template-id"
    assert inputs["launchTemplate"]["version"] == "7", "a template version number, never $Latest"


def test_x86_nodes_get_the_x86_image() -> None:
    plan = eks_plan("dev-tier-B", ("computeInstanceType=m7i.2xlarge",))
    (group,) = plan.of_type(NODE_GROUP)
    assert group["inputs"]["amiType"] == "AL2023_x86_64_STANDARD"


def test_nodes_require_imdsv2_with_hop_limit_1_and_encrypted_gp3_disks(plan: Plan) -> None:
    (template,) = plan.of_type(LAUNCH_TEMPLATE)
    inputs = template["inputs"]
    assert inputs["metadataOptions"]["httpTokens"] == "required"
    assert inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1
    (disk,) = inputs["blockDeviceMappings"]
    assert disk["ebs"]["volumeType"] == "gp3"
    assert disk["ebs"]["encrypted"] == "true"
    assert disk["ebs"]["volumeSize"] == 30
    # EKS keeps its cluster security group (control plane <-> node rules) only when the template names none.
    assert "vpcSecurityGroupIds" not in inputs
    assert "imageId" not in inputs
    assert "userData" not in inputs


def test_the_node_role_has_only_the_node_policies(plan: Plan) -> None:
    attached = {
        r["inputs"]["policyArn"].rsplit("/", 1)[1]
        for r in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r["inputs"]["role"] == "nodes-role-id"
    }
    assert attached == {"AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly"}
