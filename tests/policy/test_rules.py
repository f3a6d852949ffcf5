"""Every rule, on real plan resources: it passes them as the program makes them (or, for an advisory rule the
program does not meet yet, once fixed) and reports the resource when one thing is changed to break it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from infra.policy.engine import evaluate, resource_from_plan
from infra.policy.model import Enforcement, Stack
from infra.policy.registry import RULES, rule
from tests.policy.support import (
    Mutation,
    add_copy,
    drop_input,
    findings,
    mutated,
    real_plan,
    remove,
    set_input,
    set_option,
)

PLAIN_HTTP_ALLOWED_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject"}
        ],
    }
)


@dataclass(frozen=True)
class Case:
    rule_id: str
    stack_id: str
    breaks: tuple[Mutation, ...]
    subject: str
    says: str
    """A fragment of the message: what is wrong."""
    fixes: tuple[Mutation, ...] = field(default=())
    """What the real plan lacks for an advisory rule it does not meet yet."""
    label: str = ""


def _lt_instance(name: str) -> Mutation:
    """An aws:ec2/instance made from the fleet's launch template, as a program could write it."""

    def mutation(resources: list) -> None:
        template = next(r for r in resources if r["name"] == "app-fleet-template")
        inputs = {
            "instanceType": template["inputs"]["instanceType"],
            "ami": template["inputs"]["imageId"],
            "metadataOptions": dict(template["inputs"]["metadataOptions"]),
            "rootBlockDevice": {"encrypted": True, "volumeSize": 30},
        }
        add_copy("app-fleet-template", name, "aws:ec2/instance:Instance", inputs)(resources)

    return mutation


def _without_rule(acl: str, rule_name: str) -> Mutation:
    """The web ACL without one of its rules."""

    def mutation(resources: list) -> None:
        (resource,) = (r for r in resources if r["name"] == acl)
        kept = [r for r in resource["inputs"]["rules"] if r["name"] != rule_name]
        assert len(kept) == len(resource["inputs"]["rules"]) - 1, f"{acl} has no rule {rule_name}"
        resource["inputs"]["rules"] = kept

    return mutation


CASES = [
    # S3
    Case(
        "s3-public-access-blocked",
        "prod",
        (remove("files-uploads-public-access-block"),),
        "files-uploads",
        "has no public access block",
    ),
    Case(
        "s3-public-access-blocked",
        "dev",
        (set_input("load-balancer-logs-public-access-block", ("ignorePublicAcls",), False),),
        "load-balancer-logs",
        "leaves ignorePublicAcls off",
        label="one flag off",
    ),
    Case("s3-encrypted-at-rest", "prod", (remove("files-logs-encryption"),), "files-logs", "no default encryption"),
    Case(
        "s3-encrypted-at-rest",
        "dev",
        (
            set_input(
                "files-uploads-encryption", ("rules", 0, "applyServerSideEncryptionByDefault", "sseAlgorithm"), "none"
            ),
        ),
        "files-uploads",
        "found none",
        label="unknown algorithm",
    ),
    Case("s3-data-versioned", "prod", (remove("files-uploads-versioning"),), "files-uploads", "is not versioned"),
    Case(
        "s3-data-versioned",
        "dev",
        (set_input("files-uploads-versioning", ("versioningConfiguration", "status"), "Suspended"),),
        "files-uploads",
        "is not versioned",
        label="suspended",
    ),
    Case(
        "s3-tls-only",
        "prod",
        (set_input("files-uploads-policy", ("policy",), PLAIN_HTTP_ALLOWED_POLICY),),
        "files-uploads",
        "accepts plain-HTTP requests",
    ),
    # The log bucket's policy also names the uploads bucket (a condition): it still configures only the log bucket.
    Case(
        "s3-tls-only",
        "prod",
        (set_input("files-logs-policy", ("policy",), PLAIN_HTTP_ALLOWED_POLICY),),
        "files-logs",
        "accepts plain-HTTP requests",
        label="policy naming two buckets",
    ),
    Case(
        "s3-tls-only",
        "dev",
        (remove("load-balancer-logs-policy"),),
        "load-balancer-logs",
        "accepts plain-HTTP requests",
        label="no policy",
    ),
    # EC2
    Case(
        "ec2-imdsv2-required",
        "prod",
        (set_input("app-fleet-template", ("metadataOptions", "httpTokens"), "optional"),),
        "app-fleet-template",
        "allows IMDSv1",
    ),
    Case(
        "ec2-imdsv2-required",
        "dev",
        (_lt_instance("bastion"), set_input("bastion", ("metadataOptions",), {})),
        "bastion",
        "allows IMDSv1",
        label="instance",
    ),
    Case(
        "ec2-metadata-hop-limit",
        "prod",
        (set_input("app-fleet-template", ("metadataOptions", "httpPutResponseHopLimit"), 3),),
        "app-fleet-template",
        "3 hops",
    ),
    Case(
        "ec2-volumes-encrypted",
        "prod",
        (set_input("app-fleet-template", ("blockDeviceMappings", 0, "ebs", "encrypted"), "false"),),
        "app-fleet-template",
        "is not encrypted",
    ),
    Case(
        "ec2-volumes-encrypted",
        "dev",
        (drop_input("app-fleet-template", ("blockDeviceMappings",)),),
        "app-fleet-template",
        "declares no EBS volume",
        label="root left to the AMI",
    ),
    Case(
        "ec2-volumes-encrypted",
        "dev",
        (_lt_instance("bastion"), set_input("bastion", ("rootBlockDevice",), {})),
        "bastion",
        "root volume is not encrypted",
        label="instance",
    ),
    # The job workers' launch template is held to the same EC2 rules as the app's (every rule reads every
    # launch template): tighter still, since its containers share the host's network and need no second hop.
    Case(
        "ec2-imdsv2-required",
        "prod",
        (set_input("worker-fleet-template", ("metadataOptions", "httpTokens"), "optional"),),
        "worker-fleet-template",
        "allows IMDSv1",
        label="job workers",
    ),
    Case(
        "ec2-metadata-hop-limit",
        "prod",
        (set_input("worker-fleet-template", ("metadataOptions", "httpPutResponseHopLimit"), 3),),
        "worker-fleet-template",
        "3 hops",
        label="job workers",
    ),
    Case(
        "ec2-volumes-encrypted",
        "prod",
        (set_input("worker-fleet-template", ("blockDeviceMappings", 0, "ebs", "encrypted"), "false"),),
        "worker-fleet-template",
        "is not encrypted",
        label="job workers",
    ),
    Case(
        "ec2-public-ip-only-on-nat",
        "prod",
        (
            set_input(
                "worker-fleet-template",
                ("networkInterfaces",),
                [{"deviceIndex": 0, "associatePublicIpAddress": "true"}],
            ),
        ),
        "worker-fleet-template",
        "gives its instances a public IPv4 address",
        label="job workers",
    ),
    Case(
        "ec2-public-ip-only-on-nat",
        "prod",
        (
            set_input(
                "app-fleet-template",
                ("networkInterfaces",),
                [{"deviceIndex": 0, "associatePublicIpAddress": "true"}],
            ),
        ),
        "app-fleet-template",
        "gives its instances a public IPv4 address",
    ),
    Case(
        "ec2-no-ssh-key",
        "prod",
        (set_input("app-fleet-template", ("keyName",), "ops"),),
        "app-fleet-template",
        "SSH key pair ops",
    ),
    # Security groups
    Case(
        "sg-no-admin-ports-from-internet",
        "prod",
        (
            set_input("security-groups-alb-in-443-ipv4", ("fromPort",), 22),
            set_input("security-groups-alb-in-443-ipv4", ("toPort",), 22),
        ),
        "security-groups-alb-in-443-ipv4",
        "opens SSH (port 22)",
    ),
    Case(
        "sg-no-admin-ports-from-internet",
        "dev",
        (
            set_input(
                "network-default-sg",
                ("ingress",),
                [{"protocol": "-1", "fromPort": 0, "toPort": 0, "ipv6CidrBlocks": ["::/0"]}],
            ),
        ),
        "network-default-sg",
        "opens SSH",
        label="inline, all protocols",
    ),
    Case(
        "sg-internet-only-to-load-balancer",
        "prod",
        (
            drop_input("security-groups-app-in-alb", ("referencedSecurityGroupId",)),
            set_input("security-groups-app-in-alb", ("cidrIpv4",), "0.0.0.0/0"),
        ),
        "security-groups-app-in-alb",
        "only a load balancer's group",
    ),
    Case(
        "sg-internet-only-to-load-balancer",
        "dev",
        (
            set_input("security-groups-alb-in-80-ipv6", ("fromPort",), 8080),
            set_input("security-groups-alb-in-80-ipv6", ("toPort",), 8080),
        ),
        "security-groups-alb-in-80-ipv6",
        "only HTTP(S) on 80 or 443",
        label="load balancer, another port",
    ),
    # Load balancers
    Case(
        "alb-drops-invalid-headers",
        "prod",
        (set_input("load-balancer-alb", ("dropInvalidHeaderFields",), False),),
        "load-balancer-alb",
        "invalid header fields",
    ),
    Case(
        "alb-tls13-policy",
        "prod",
        (set_input("load-balancer-https", ("sslPolicy",), "ELBSecurityPolicy-2016-08"),),
        "load-balancer-https",
        "ELBSecurityPolicy-2016-08",
    ),
    Case(
        "alb-http-redirects-to-https",
        "prod",
        (
            set_input(
                "load-balancer-http-redirect",
                ("defaultActions",),
                [
                    {
                        "type": "forward",
                        "targetGroupArn": "arn:aws:elasticloadbalancing:x:targetgroup/load-balancer-app-tg/1",
                    }
                ],
            ),
        ),
        "load-balancer-http-redirect",
        "serves plain HTTP",
    ),
    Case(
        "alb-https-in-production",
        "prod",
        (remove("load-balancer-https"),),
        "load-balancer-alb",
        "no HTTPS listener in production",
    ),
    Case(
        "alb-access-logs",
        "dev",
        (set_input("load-balancer-alb", ("accessLogs", "enabled"), False),),
        "load-balancer-alb",
        "keeps no access logs",
    ),
    Case(
        "alb-deletion-protection",
        "prod",
        (set_input("load-balancer-alb", ("enableDeletionProtection",), False),),
        "load-balancer-alb",
        "stray destroy",
    ),
    Case("alb-waf", "prod", (remove("alb-firewall-association"),), "load-balancer-alb", "without a web application"),
    Case(
        "alb-waf",
        "prod-tier-B",
        (remove("alb-firewall-association"),),
        "load-balancer-alb",
        "without a web application",
        label="tier B",
    ),
    Case(
        "lb-target-group-health-check",
        "prod",
        (drop_input("load-balancer-app-tg", ("healthCheck",)),),
        "load-balancer-app-tg",
        "has no health check",
    ),
    Case(
        "lb-target-group-health-check",
        "dev",
        (drop_input("load-balancer-app-tg", ("healthCheck", "path")),),
        "load-balancer-app-tg",
        "has no path",
        label="no path",
    ),
    # Auto Scaling
    Case(
        "asg-elb-health-check",
        "prod",
        (set_input("app-fleet-asg", ("healthCheckType",), "EC2"),),
        "app-fleet-asg",
        "health_check_type='ELB'",
    ),
    Case(
        "asg-launch-template-pinned",
        "prod",
        (set_input("app-fleet-asg", ("launchTemplate", "version"), "$Latest"),),
        "app-fleet-asg",
        "version $Latest",
    ),
    # ElastiCache
    Case(
        "elasticache-encrypted-at-rest",
        "prod",
        (set_input("cache-redis", ("atRestEncryptionEnabled",), False),),
        "cache-redis",
        "unencrypted",
    ),
    Case(
        "elasticache-encrypted-in-transit",
        "dev",
        (set_input("cache-redis", ("transitEncryptionEnabled",), False),),
        "cache-redis",
        "plain-text connections",
    ),
    Case(
        "elasticache-encrypted-in-transit",
        "prod",
        (set_input("cache-redis", ("transitEncryptionMode",), "preferred"),),
        "cache-redis",
        "'preferred'",
        label="preferred mode",
    ),
    Case("elasticache-auth", "prod", (drop_input("cache-redis", ("authToken",)),), "cache-redis", "without a password"),
    Case(
        "elasticache-failover",
        "prod",
        (set_input("cache-redis", ("multiAzEnabled",), False),),
        "cache-redis",
        "multi_az_enabled=True",
    ),
    Case(
        "elasticache-failover",
        "prod-tier-C",
        (set_input("cache-redis", ("numCacheClusters",), 1),),
        "cache-redis",
        "a replica",
        label="tier C without its replica",
    ),
    # CloudFront
    Case(
        "cloudfront-https-only",
        "prod",
        (set_input("files-cdn", ("defaultCacheBehavior", "viewerProtocolPolicy"), "allow-all"),),
        "files-cdn",
        "plain HTTP",
    ),
    Case(
        "cloudfront-modern-tls",
        "prod",
        (set_input("files-cdn", ("viewerCertificate", "minimumProtocolVersion"), "TLSv1.1_2016"),),
        "files-cdn",
        "TLSv1.1_2016",
    ),
    Case(
        "cloudfront-access-logs",
        "dev-tier-B",
        (drop_input("files-cdn", ("loggingConfig",)),),
        "files-cdn",
        "keeps no access logs",
    ),
    Case(
        "cloudfront-origin-access-control",
        "prod",
        (drop_input("files-cdn", ("origins", 0, "originAccessControlId")),),
        "files-cdn",
        "without origin access control",
    ),
    Case(
        "cloudfront-waf",
        "prod",
        (drop_input("files-cdn", ("webAclId",)),),
        "files-cdn",
        "no web application firewall",
    ),
    # WAF
    Case(
        "waf-managed-rules-and-rate-limit",
        "prod",
        (_without_rule("alb-firewall-acl", "rate-limit-per-ip"),),
        "alb-firewall-acl",
        "no rate limit per client IP",
    ),
    Case(
        "waf-managed-rules-and-rate-limit",
        "prod",
        (_without_rule("cdn-firewall-acl", "aws-known-bad-inputs-rule-set"),),
        "cdn-firewall-acl",
        "AWSManagedRulesKnownBadInputsRuleSet",
        label="managed group",
    ),
    Case(
        "waf-logs-without-credentials",
        "prod",
        (remove("cdn-firewall-logging"),),
        "cdn-firewall-acl",
        "keeps no logs",
    ),
    Case(
        "waf-logs-without-credentials",
        "dev",
        (set_input("alb-firewall-logging", ("redactedFields",), [{"singleHeader": {"name": "authorization"}}]),),
        "alb-firewall-acl",
        "cookie",
        label="cookies logged",
    ),
    Case(
        "waf-blocks-in-production",
        "prod",
        (set_input("alb-firewall-acl", ("rules", 2, "overrideAction"), {"count": {}}),),
        "alb-firewall-acl",
        "only counts what aws-common-rule-set",
    ),
    # Audit and alerting
    Case(
        "cloudtrail-multi-region-validated-encrypted",
        "prod",
        (set_input("audit-trail-trail", ("isMultiRegionTrail",), False),),
        "audit-trail-trail",
        "one region only",
    ),
    Case(
        "cloudtrail-multi-region-validated-encrypted",
        "prod-tier-B",
        (drop_input("audit-trail-trail", ("kmsKeyId",)),),
        "audit-trail-trail",
        "not encrypted with a KMS key",
        label="unencrypted",
    ),
    Case(
        "cloudwatch-alarm-notifies",
        "dev",
        (drop_input("monitoring-api-latency-p95", ("okActions",)),),
        "monitoring-api-latency-p95",
        "notifies nobody on OK",
    ),
    Case(
        "cloudwatch-alarm-notifies",
        "prod",
        (drop_input("app-fleet-deploy-errors", ("alarmActions",)),),
        "app-fleet-deploy-errors",
        "notifies nobody on ALARM",
        label="deploy alarm",
    ),
    Case(
        "sns-encrypted-with-customer-key",
        "prod",
        (set_input("alerts-topic", ("kmsMasterKeyId",), "alias/aws/sns"),),
        "alerts-topic",
        "AWS-managed alias/aws/sns",
    ),
    Case(
        "kms-key-rotation",
        "prod-tier-B",
        (set_input("audit-trail-key", ("enableKeyRotation",), False),),
        "audit-trail-key",
        "never rotates",
    ),
    # MongoDB Atlas
    Case(
        "atlas-backup-point-in-time",
        "prod",
        (set_input("database-cluster", ("pitEnabled",), False),),
        "database-cluster",
        "pitEnabled off",
    ),
    Case(
        "atlas-termination-protection",
        "prod",
        (set_input("database-cluster", ("terminationProtectionEnabled",), False),),
        "database-cluster",
        "can be terminated",
    ),
    Case(
        "atlas-tls12-minimum",
        "dev",
        (set_input("database-cluster", ("advancedConfiguration", "minimumEnabledTlsProtocol"), "TLS1_0"),),
        "database-cluster",
        "TLS1_0",
    ),
    Case(
        "atlas-access-list-not-open",
        "prod",
        (set_input("database-access-vpc", ("cidrBlock",), "0.0.0.0/0"),),
        "database-access-vpc",
        "every address on the internet",
    ),
    # EKS (tier B)
    Case(
        "eks-secrets-encrypted",
        "prod-tier-B",
        (drop_input("cluster-eks", ("encryptionConfig",)),),
        "cluster-eks",
        "does not envelope-encrypt",
    ),
    Case(
        "eks-control-plane-logging",
        "prod-tier-B",
        (set_input("cluster-eks", ("enabledClusterLogTypes",), ["api", "authenticator"]),),
        "cluster-eks",
        "does not log audit",
    ),
    Case(
        "eks-endpoint-not-public",
        "prod-tier-B",
        (set_input("cluster-eks", ("vpcConfig", "endpointPublicAccess"), True),),
        "cluster-eks",
        "whole internet",
    ),
    Case(
        "eks-endpoint-not-public",
        "dev-tier-B",
        (
            set_input("cluster-eks", ("vpcConfig", "endpointPublicAccess"), True),
            set_input("cluster-eks", ("vpcConfig", "publicAccessCidrs"), ["81.2.69.160/27", "0.0.0.0/0"]),
        ),
        "cluster-eks",
        "from 0.0.0.0/0",
        label="0.0.0.0/0 listed",
    ),
    Case(
        "eks-access-entries",
        "prod-tier-B",
        (set_input("cluster-eks", ("accessConfig", "authenticationMode"), "API_AND_CONFIG_MAP"),),
        "cluster-eks",
        "aws-auth ConfigMap",
    ),
    Case(
        "eks-node-imdsv2-hop-limit-1",
        "prod-tier-B",
        (set_input("nodes-template", ("metadataOptions", "httpPutResponseHopLimit"), 2),),
        "nodes-group",
        "hop limit 2",
    ),
    Case(
        "eks-node-imdsv2-hop-limit-1",
        "dev-tier-B",
        (drop_input("nodes-group", ("launchTemplate",)),),
        "nodes-group",
        "no launch template",
        label="no launch template",
    ),
    # Kubernetes workloads (tier B)
    Case(
        "k8s-run-as-non-root",
        "prod-tier-B",
        (
            set_input(
                "app-deployment", ("spec", "template", "spec", "containers", 0, "securityContext", "runAsUser"), 0
            ),
        ),
        "app-deployment",
        "may run as root",
    ),
    Case(
        "k8s-run-as-non-root",
        "dev-tier-B",
        (
            drop_input(
                "app-deployment", ("spec", "template", "spec", "containers", 0, "securityContext", "runAsNonRoot")
            ),
            drop_input("app-deployment", ("spec", "template", "spec", "securityContext", "runAsNonRoot")),
        ),
        "app-deployment",
        "may run as root",
        label="runAsNonRoot unset",
    ),
    Case(
        "k8s-read-only-root-filesystem",
        "prod-tier-B",
        (
            set_input(
                "app-deployment",
                ("spec", "template", "spec", "containers", 0, "securityContext", "readOnlyRootFilesystem"),
                False,
            ),
        ),
        "app-deployment",
        "can write its root filesystem",
    ),
    Case(
        "k8s-no-privilege-escalation",
        "prod-tier-B",
        (
            set_input(
                "app-deployment",
                ("spec", "template", "spec", "containers", 0, "securityContext", "allowPrivilegeEscalation"),
                True,
            ),
        ),
        "app-deployment",
        "may gain privileges",
    ),
    Case(
        "k8s-drop-all-capabilities",
        "prod-tier-B",
        (
            set_input(
                "app-deployment",
                ("spec", "template", "spec", "containers", 0, "securityContext", "capabilities"),
                {"drop": ["ALL"], "add": ["NET_ADMIN"]},
            ),
        ),
        "app-deployment",
        "NET_ADMIN",
    ),
    Case(
        "k8s-seccomp-runtime-default",
        "prod-tier-B",
        (
            drop_input("app-deployment", ("spec", "template", "spec", "securityContext", "seccompProfile")),
            drop_input(
                "app-deployment", ("spec", "template", "spec", "containers", 0, "securityContext", "seccompProfile")
            ),
        ),
        "app-deployment",
        "without a seccomp profile",
    ),
    Case(
        "k8s-resource-limits",
        "prod-tier-B",
        (drop_input("app-deployment", ("spec", "template", "spec", "containers", 0, "resources", "limits")),),
        "app-deployment",
        "limits.cpu",
    ),
    Case(
        "k8s-probes",
        "prod-tier-B",
        (drop_input("app-deployment", ("spec", "template", "spec", "containers", 0, "readinessProbe")),),
        "app-deployment",
        "no readinessProbe",
    ),
    Case(
        "k8s-probes",
        "prod-tier-B",
        (drop_input("jobs-worker", ("spec", "template", "spec", "containers", 0, "livenessProbe")),),
        "jobs-worker",
        "no livenessProbe",
        label="job worker",
    ),
    Case(
        "k8s-read-only-root-filesystem",
        "dev-tier-B",
        (
            set_input(
                "jobs-worker",
                ("spec", "template", "spec", "containers", 0, "securityContext", "readOnlyRootFilesystem"),
                False,
            ),
        ),
        "jobs-worker",
        "can write its root filesystem",
        label="job worker",
    ),
    Case(
        "k8s-namespace-restricted",
        "prod-tier-B",
        (set_input("app-namespace", ("metadata", "labels", "pod-security.kubernetes.io/enforce"), "privileged"),),
        "app-namespace",
        "enforces Pod Security 'privileged'",
    ),
    Case(
        "k8s-namespace-restricted",
        "dev-tier-B",
        (set_input("keda-namespace", ("metadata", "labels", "pod-security.kubernetes.io/enforce"), "baseline"),),
        "keda-namespace",
        "only datadog may be privileged",
        label="KEDA's namespace",
    ),
    # State and secrets
    Case(
        "stateful-protected", "prod", (set_option("files-uploads", "protect", False),), "files-uploads", "not protected"
    ),
    Case(
        "stateful-protected",
        "prod-tier-B",
        (set_option("database-cluster", "protect", False),),
        "database-cluster",
        "not protected",
        label="tier B",
    ),
    Case(
        "secrets-not-plaintext",
        "prod",
        (set_input("app-secret-version", ("secretString",), '{"JWT_SECRET": "x"}'),),
        "app-secret-version",
        "secretString holds a credential in plain text",
    ),
    Case(
        "secrets-not-plaintext",
        "dev",
        (set_input("database-app-user", ("password",), "hunter2-but-longer"),),
        "database-app-user",
        "password holds a credential",
        label="database password",
    ),
    Case(
        "secrets-not-plaintext",
        "prod",
        (set_input("cache-redis", ("authToken",), "0123456789abcdef"),),
        "cache-redis",
        "authToken holds a credential",
        label="cache token",
    ),
]


def _id(case: Case) -> str:
    return f"{case.rule_id}[{case.label or case.stack_id}]"


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_rule_passes_the_program_and_reports_the_broken_resource(case: Case) -> None:
    fixed = mutated(real_plan(case.stack_id), *case.fixes)
    assert findings(case.rule_id, fixed) == [], f"{case.rule_id} on {case.stack_id} as the program makes it"
    # Broken: the program's plan with the one change (for an advisory rule it misses today: as it is).
    broken = findings(case.rule_id, mutated(real_plan(case.stack_id), *case.breaks))
    assert broken, f"{case.rule_id} missed: {case.says}"
    assert {f.resource.name for f in broken} == {case.subject}, [f.message for f in broken]
    assert all(case.subject in f.message for f in broken), "each message names its resource"
    assert any(case.says in f.message for f in broken), [f.message for f in broken]
    assert not any(f.unchecked for f in broken)


def test_every_rule_has_a_failing_case() -> None:
    assert {rule.id for rule in RULES} == {case.rule_id for case in CASES}


def test_the_program_meets_every_rule_as_it_is() -> None:
    """No case needs a fix: the firewalls, once advisory findings, are built for every tier."""
    assert [case.rule_id for case in CASES if case.fixes] == []


@pytest.mark.parametrize("rule_id", ["alb-waf", "cloudfront-waf"])
def test_the_firewall_rules_are_advice_in_development_and_mandatory_in_production(rule_id: str) -> None:
    assert rule(rule_id).enforcement_in(production=False) is Enforcement.ADVISORY
    assert rule(rule_id).enforcement_in(production=True) is Enforcement.MANDATORY


@pytest.mark.parametrize(
    "rule_id",
    [
        "alb-deletion-protection",
        "elasticache-failover",
        "stateful-protected",
        "atlas-backup-point-in-time",
        "atlas-termination-protection",
        "alb-https-in-production",
    ],
)
def test_production_rules_leave_development_alone(rule_id: str) -> None:
    """dev has no deletion protection, one cache node, nothing protected, no PIT and plain HTTP, on purpose:
    the rules would report it, and they are not applied there."""
    assert rule(rule_id).production_only
    plan = real_plan("dev")
    stack = Stack(tuple(resource_from_plan(r) for r in plan.resources))
    assert evaluate([rule(rule_id)], stack, production=True), f"dev would break {rule_id}"
    assert evaluate([rule(rule_id)], stack, production=False) == []
    assert findings(rule_id, plan) == []


def test_development_http_listener_may_forward_without_a_certificate() -> None:
    """dev has no domain: its HTTP listener forwards, and that is not a redirect violation."""
    plan = real_plan("dev")
    (listener,) = (r for r in plan.resources if r["type"] == "aws:lb/listener:Listener")
    assert listener["inputs"]["defaultActions"][0]["type"] == "forward"
    assert findings("alb-http-redirects-to-https", plan) == []


def test_log_buckets_need_no_versioning_but_data_buckets_do() -> None:
    plan = real_plan("prod")
    versioned = {
        r["inputs"]["bucket"] for r in plan.resources if r["type"] == "aws:s3/bucketVersioning:BucketVersioning"
    }
    # The trail's bucket is versioned on purpose: an overwritten or deleted audit log stays recoverable.
    assert versioned == {"files-uploads-id", "audit-trail-bucket-id"}, (
        "the other log buckets are deliberately unversioned"
    )
    assert findings("s3-data-versioned", plan) == []
    # Once no service writes logs to it, the ALB's log bucket is just a bucket, and must be versioned.
    orphaned = mutated(plan, set_input("load-balancer-alb", ("accessLogs",), {"enabled": False}))
    assert [f.resource.name for f in findings("s3-data-versioned", orphaned)] == ["load-balancer-logs"]


def _public_access_flags_of_the_s3_api() -> list[str]:
    """The four flags as S3's own API model lists them (camelCased, as the plan's inputs are): taken from
    botocore, not from the rule, so a rule that forgets one cannot shrink its own test."""
    import botocore.session

    shape = botocore.session.get_session().get_service_model("s3").shape_for("PublicAccessBlockConfiguration")
    return [name[0].lower() + name[1:] for name in shape.members]


PUBLIC_ACCESS_FLAGS_OF_THE_API = _public_access_flags_of_the_s3_api()


def test_s3_has_four_public_access_flags() -> None:
    assert sorted(PUBLIC_ACCESS_FLAGS_OF_THE_API) == [
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ]


@pytest.mark.parametrize("flag", PUBLIC_ACCESS_FLAGS_OF_THE_API)
@pytest.mark.parametrize("how", ["false", "absent"])
def test_each_public_access_flag_left_off_is_reported(flag: str, how: str) -> None:
    block = "files-uploads-public-access-block"
    breaks = set_input(block, (flag,), False) if how == "false" else drop_input(block, (flag,))
    broken = findings("s3-public-access-blocked", mutated(real_plan("prod"), breaks))
    assert [f.resource.name for f in broken] == ["files-uploads"], f"{flag} {how} was not caught"
    assert f"leaves {flag} off" in broken[0].message


@pytest.mark.parametrize("flag", PUBLIC_ACCESS_FLAGS_OF_THE_API)
def test_an_account_wide_block_with_a_flag_off_covers_nothing(flag: str) -> None:
    flags = dict.fromkeys(PUBLIC_ACCESS_FLAGS_OF_THE_API, True) | {flag: False}
    account_block = add_copy(
        "load-balancer-logs-public-access-block",
        "account-public-access-block",
        "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
        flags,
    )
    plan = mutated(real_plan("dev"), remove("files-uploads-public-access-block"), account_block)
    assert [f.resource.name for f in findings("s3-public-access-blocked", plan)] == ["files-uploads"]


def test_an_account_wide_public_access_block_covers_every_bucket() -> None:
    plan = real_plan("dev")
    account_block = add_copy(
        "load-balancer-logs-public-access-block",
        "account-public-access-block",
        "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
        dict.fromkeys(("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True),
    )
    unblocked = mutated(plan, remove("files-uploads-public-access-block"))
    assert findings("s3-public-access-blocked", unblocked)
    assert findings("s3-public-access-blocked", mutated(unblocked, account_block)) == []
