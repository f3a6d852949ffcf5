"""Every policy rule of the project, with what a security reviewer needs to map it: its id, what it enforces,
how strictly, the Checkov and Trivy checks it corresponds to, the resource types it inspects, and whether it
applies only in production. `check` and the policy pack (policy/) both run exactly this list."""

from __future__ import annotations

from infra.policy import atlas, autoscaling, cloudfront, ec2, elasticache, elb, protection, s3, secrets
from infra.policy import security_groups as sg
from infra.policy.model import Enforcement, Rule

MANDATORY = Enforcement.MANDATORY
ADVISORY = Enforcement.ADVISORY

RULES: tuple[Rule, ...] = (
    # S3
    Rule(
        "s3-public-access-blocked",
        "Every S3 bucket has a public access block with all four flags on.",
        MANDATORY,
        s3.BUCKET_TYPES,
        checkov=("CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"),
        trivy=("AWS-0086", "AWS-0087", "AWS-0091", "AWS-0093", "AWS-0094"),
        stack_check=s3.public_access_blocked,
    ),
    Rule(
        "s3-encrypted-at-rest",
        "Every S3 bucket has default server-side encryption (SSE-S3 or SSE-KMS).",
        MANDATORY,
        s3.BUCKET_TYPES,
        checkov=("CKV_AWS_19",),
        trivy=("AWS-0088",),
        stack_check=s3.encrypted_at_rest,
    ),
    Rule(
        "s3-data-versioned",
        "Every S3 bucket that holds data (no service writes logs to it, such as the uploads) is versioned.",
        MANDATORY,
        s3.BUCKET_TYPES,
        checkov=("CKV_AWS_21",),
        trivy=("AWS-0090",),
        stack_check=s3.data_bucket_versioned,
    ),
    Rule(
        "s3-tls-only",
        "Every S3 bucket's policy denies requests that do not use TLS (aws:SecureTransport false).",
        MANDATORY,
        s3.BUCKET_TYPES,
        checkov=("CKV_AWS_379",),
        stack_check=s3.denies_insecure_transport,
    ),
    # EC2 instances and launch templates
    Rule(
        "ec2-imdsv2-required",
        "Instances and launch templates require IMDSv2 session tokens (http_tokens required).",
        MANDATORY,
        ec2.MACHINE_TYPES,
        checkov=("CKV_AWS_79",),
        trivy=("AWS-0130",),
        check=ec2.imdsv2_required,
    ),
    Rule(
        "ec2-metadata-hop-limit",
        f"The instance metadata response hop limit is at most {ec2.MAX_HOP_LIMIT} (Checkov wants 1; 2 lets the "
        "app's containers reach the instance role).",
        MANDATORY,
        ec2.MACHINE_TYPES,
        checkov=("CKV_AWS_341",),
        check=ec2.metadata_hop_limit,
    ),
    Rule(
        "ec2-volumes-encrypted",
        "Every EBS volume of an instance or launch template is encrypted, the root volume declared explicitly.",
        MANDATORY,
        ec2.MACHINE_TYPES,
        checkov=("CKV_AWS_8",),
        trivy=("AWS-0131",),
        check=ec2.volumes_encrypted,
    ),
    Rule(
        "ec2-no-ssh-key",
        "No instance or launch template installs an SSH key pair (access is through SSM Session Manager).",
        MANDATORY,
        ec2.MACHINE_TYPES,
        check=ec2.no_key_pair,
    ),
    # Security groups
    Rule(
        "sg-no-admin-ports-from-internet",
        "No security group admits SSH (22) or RDP (3389) from 0.0.0.0/0 or ::/0.",
        MANDATORY,
        sg.INGRESS_TYPES,
        checkov=("CKV_AWS_24", "CKV_AWS_25"),
        trivy=("AWS-0107",),
        check=sg.no_admin_ports_from_internet,
    ),
    Rule(
        "sg-internet-only-to-load-balancer",
        "Ingress from 0.0.0.0/0 or ::/0 is allowed only into a load balancer's security group, on TCP 80 or 443.",
        MANDATORY,
        sg.INGRESS_TYPES,
        checkov=("CKV_AWS_260", "CKV_AWS_277"),
        trivy=("AWS-0107",),
        stack_check=sg.internet_reaches_only_load_balancer_web_ports,
    ),
    # Load balancers
    Rule(
        "alb-drops-invalid-headers",
        "Application load balancers drop HTTP headers with invalid fields.",
        MANDATORY,
        elb.LOAD_BALANCER_TYPES,
        checkov=("CKV_AWS_131",),
        trivy=("AWS-0052",),
        check=elb.drops_invalid_headers,
    ),
    Rule(
        "alb-tls13-policy",
        "HTTPS and TLS listeners use a TLS 1.3 security policy (ELBSecurityPolicy-TLS13-*).",
        MANDATORY,
        elb.LISTENER_TYPES,
        checkov=("CKV_AWS_103",),
        trivy=("AWS-0047",),
        check=elb.tls13_policy,
    ),
    Rule(
        "alb-http-redirects-to-https",
        "When a load balancer has an HTTPS listener, its HTTP listeners only redirect to HTTPS.",
        MANDATORY,
        elb.LISTENER_TYPES,
        checkov=("CKV_AWS_2", "CKV2_AWS_20"),
        trivy=("AWS-0054",),
        stack_check=elb.http_redirects_to_https,
    ),
    Rule(
        "alb-https-in-production",
        "In production every application load balancer has an HTTPS listener.",
        MANDATORY,
        elb.LOAD_BALANCER_TYPES,
        checkov=("CKV_AWS_2",),
        production_only=True,
        stack_check=elb.serves_https_in_production,
    ),
    Rule(
        "alb-access-logs",
        "Load balancers write access logs to a bucket.",
        MANDATORY,
        elb.LOAD_BALANCER_TYPES,
        checkov=("CKV_AWS_91",),
        check=elb.access_logs,
    ),
    Rule(
        "alb-deletion-protection",
        "In production load balancers have deletion protection on.",
        MANDATORY,
        elb.LOAD_BALANCER_TYPES,
        checkov=("CKV_AWS_150",),
        production_only=True,
        check=elb.deletion_protection,
    ),
    Rule(
        "alb-waf",
        "Internet-facing application load balancers have a WAFv2 web ACL associated.",
        ADVISORY,
        elb.LOAD_BALANCER_TYPES,
        checkov=("CKV2_AWS_28",),
        stack_check=elb.web_acl_attached,
    ),
    Rule(
        "lb-target-group-health-check",
        "Target groups health-check their targets (HTTP(S) on an explicit path).",
        MANDATORY,
        elb.TARGET_GROUP_TYPES,
        checkov=("CKV_AWS_261",),
        check=elb.target_group_health_check,
    ),
    # Auto Scaling
    Rule(
        "asg-elb-health-check",
        "Auto Scaling groups behind a load balancer use ELB health checks.",
        MANDATORY,
        (autoscaling.GROUP,),
        checkov=("CKV2_AWS_15",),
        check=autoscaling.elb_health_check,
    ),
    Rule(
        "asg-launch-template-pinned",
        "Auto Scaling groups reference a launch template version, not $Latest or $Default.",
        ADVISORY,
        (autoscaling.GROUP,),
        check=autoscaling.launch_template_version_pinned,
    ),
    # ElastiCache
    Rule(
        "elasticache-encrypted-at-rest",
        "ElastiCache replication groups encrypt data at rest.",
        MANDATORY,
        (elasticache.REPLICATION_GROUP,),
        checkov=("CKV_AWS_29",),
        trivy=("AWS-0045",),
        check=elasticache.encrypted_at_rest,
    ),
    Rule(
        "elasticache-encrypted-in-transit",
        "ElastiCache replication groups require TLS from clients.",
        MANDATORY,
        (elasticache.REPLICATION_GROUP,),
        checkov=("CKV_AWS_30",),
        trivy=("AWS-0051",),
        check=elasticache.encrypted_in_transit,
    ),
    Rule(
        "elasticache-auth",
        "ElastiCache replication groups authenticate clients (AUTH token or RBAC user groups).",
        MANDATORY,
        (elasticache.REPLICATION_GROUP,),
        checkov=("CKV_AWS_31",),
        check=elasticache.clients_authenticated,
    ),
    Rule(
        "elasticache-failover",
        "In production ElastiCache has a replica, automatic failover and multi-AZ.",
        MANDATORY,
        (elasticache.REPLICATION_GROUP,),
        production_only=True,
        check=elasticache.failover_across_zones,
    ),
    # CloudFront
    Rule(
        "cloudfront-https-only",
        "CloudFront cache behaviors redirect viewers to HTTPS (or accept HTTPS only).",
        MANDATORY,
        (cloudfront.DISTRIBUTION,),
        checkov=("CKV_AWS_34",),
        trivy=("AWS-0012",),
        check=cloudfront.viewers_on_https,
    ),
    Rule(
        "cloudfront-modern-tls",
        "A CloudFront distribution with its own certificate requires TLSv1.2_2021 or newer.",
        MANDATORY,
        (cloudfront.DISTRIBUTION,),
        checkov=("CKV_AWS_174",),
        trivy=("AWS-0013",),
        check=cloudfront.modern_tls,
    ),
    Rule(
        "cloudfront-access-logs",
        "CloudFront distributions write access logs.",
        MANDATORY,
        (cloudfront.DISTRIBUTION,),
        checkov=("CKV_AWS_86",),
        trivy=("AWS-0010",),
        check=cloudfront.access_logs,
    ),
    Rule(
        "cloudfront-origin-access-control",
        "CloudFront reads S3 origins through origin access control.",
        MANDATORY,
        (cloudfront.DISTRIBUTION,),
        checkov=("CKV2_AWS_46",),
        check=cloudfront.origin_access_control,
    ),
    Rule(
        "cloudfront-waf",
        "CloudFront distributions have a WAFv2 web ACL.",
        ADVISORY,
        (cloudfront.DISTRIBUTION,),
        checkov=("CKV_AWS_68",),
        trivy=("AWS-0011",),
        check=cloudfront.web_acl_attached,
    ),
    # MongoDB Atlas
    Rule(
        "atlas-backup-point-in-time",
        "In production Atlas clusters have cloud backup and point-in-time restore on.",
        MANDATORY,
        atlas.CLUSTER_TYPES,
        production_only=True,
        check=atlas.backup_and_point_in_time,
    ),
    Rule(
        "atlas-termination-protection",
        "In production Atlas clusters have termination protection on.",
        MANDATORY,
        atlas.CLUSTER_TYPES,
        production_only=True,
        check=atlas.termination_protection,
    ),
    Rule(
        "atlas-tls12-minimum",
        "Atlas clusters refuse connections below TLS 1.2.",
        MANDATORY,
        atlas.CLUSTER_TYPES,
        check=atlas.tls12_minimum,
    ),
    Rule(
        "atlas-access-list-not-open",
        "No Atlas IP access list entry admits 0.0.0.0/0.",
        MANDATORY,
        (atlas.ACCESS_LIST,),
        check=atlas.access_list_not_open,
    ),
    # State and secrets
    Rule(
        "stateful-protected",
        "In production every stateful resource (data, logs, secrets, images) is protected from deletion.",
        MANDATORY,
        protection.STATEFUL_TYPES,
        production_only=True,
        check=protection.protected,
    ),
    Rule(
        "secrets-not-plaintext",
        "Inputs that carry credentials (passwords, auth tokens, secret strings) are Pulumi secrets.",
        MANDATORY,
        tuple(secrets.SECRET_INPUTS),
        checkov=("CKV_SECRET_*",),
        needs_secret_markers=True,
        check=secrets.not_in_plain_text,
    ),
)


def rule(rule_id: str) -> Rule:
    """The rule with `rule_id` (KeyError naming it otherwise)."""
    for candidate in RULES:
        if candidate.id == rule_id:
            return candidate
    raise KeyError(f"no policy rule {rule_id!r}")
