"""Each pricer against small synthetic resources in the plan JSON's shape: the quantities, the unit prices
and the sums a person can check by hand."""

from __future__ import annotations

from decimal import Decimal

from infra.cost.estimate import EXTERNAL_REDIS_TYPE, UNKNOWN_TYPE
from infra.cost.model import Category, Kind
from tests.cost.support import HOURS, PRICES, components, monthly, priced, resource, unpriced_resources

ASG, LT = "aws:autoscaling/group:Group", "aws:ec2/launchTemplate:LaunchTemplate"


def fleet(template_ref: dict[str, str], *, desired: int = 4) -> tuple[dict, dict]:
    template = resource(
        LT,
        "app-lt",
        {
            "instanceType": "c7g.xlarge",
            "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 30, "volumeType": "gp3"}}],
        },
    )
    group = resource(ASG, "app-asg", {"desiredCapacity": desired, "minSize": 2, "launchTemplate": template_ref})
    return template, group


def test_an_asg_is_priced_from_its_launch_template_found_by_id() -> None:
    result = priced(*fleet({"id": "app-lt-id", "version": "1"}))
    lines = components(result, "app-asg")
    assert lines["4 x c7g.xlarge (Linux, on-demand)"] == 4 * HOURS * Decimal("0.145")  # $423.40
    assert lines["Storage (gp3, /dev/xvda of each instance)"] == 4 * 30 * Decimal("0.08")
    assert any(f.resource == "app-lt" for f in result.free), "the template itself is free"


def test_an_asg_finds_the_only_launch_template_of_its_component_when_ids_are_unknown() -> None:
    result = priced(*fleet({"id": "unknown-until-apply"}, desired=2))
    assert components(result, "app-asg")["2 x c7g.xlarge (Linux, on-demand)"] == 2 * HOURS * Decimal("0.145")


def test_an_asg_without_a_findable_template_is_unpriced_not_zero() -> None:
    group = resource(ASG, "lonely-asg", {"desiredCapacity": 2, "launchTemplate": {"id": "x"}})
    result = priced(group)
    assert monthly(result, "lonely-asg") == 0
    assert [(u.resource, u.kind) for u in unpriced_resources(result)] == [("lonely-asg", Kind.BASELINE)]


def test_gp3_iops_and_throughput_above_the_included_are_charged() -> None:
    template = resource(LT, "io-lt", {"instanceType": "t4g.large", "blockDeviceMappings": [
        {"deviceName": "/dev/xvda", "ebs": {"volumeSize": 100, "volumeType": "gp3", "iops": 4000, "throughput": 250}}
    ]})  # fmt: skip
    group = resource(ASG, "io-asg", {"desiredCapacity": 1, "launchTemplate": {"id": "io-lt-id"}})
    lines = components(priced(template, group), "io-asg")
    assert lines["Provisioned IOPS above 3,000 (gp3, /dev/xvda of each instance)"] == 1000 * Decimal("0.005")
    assert lines["Throughput above 125 MB/s (gp3, /dev/xvda of each instance)"] == 125 * Decimal("0.04")


def test_eks_control_plane_and_nodes() -> None:
    cluster = resource("aws:eks/cluster:Cluster", "eks")
    nodes = resource(
        "aws:eks/nodeGroup:NodeGroup",
        "nodes",
        {"instanceTypes": ["m7g.xlarge"], "scalingConfig": {"desiredSize": 6, "minSize": 6, "maxSize": 12}},
    )
    result = priced(cluster, nodes)
    assert monthly(result, "eks") == Decimal("73.00")
    lines = components(result, "nodes")
    assert lines["6 x m7g.xlarge (Linux, on-demand)"] == 6 * HOURS * Decimal("0.1632")  # $714.82
    assert lines["Storage (gp2, node disk)"] == 6 * 20 * Decimal("0.10")  # EKS's default 20 GB disk


def test_elasticache_counts_primary_and_replicas_and_gives_valkey_its_lower_price() -> None:
    def group(name: str, engine: str) -> dict:
        return resource("aws:elasticache/replicationGroup:ReplicationGroup", name,
                        {"nodeType": "cache.m6g.large", "numCacheClusters": 2, "engine": engine})  # fmt: skip

    result = priced(group("valkey-cache", "valkey"), group("redis-cache", "redis"))
    assert monthly(result, "redis-cache") == 2 * HOURS * Decimal("0.149")
    assert monthly(result, "valkey-cache") == monthly(result, "redis-cache") * Decimal("0.8")
    assert "1 primary + 1 replica" in next(iter(components(result, "valkey-cache")))


def test_cluster_mode_replicas_per_shard() -> None:
    sharded = resource("aws:elasticache/replicationGroup:ReplicationGroup", "sharded",
                       {"nodeType": "cache.t4g.medium", "numNodeGroups": 2, "replicasPerNodeGroup": 1,
                        "engine": "valkey"})  # fmt: skip
    assert monthly(priced(sharded), "sharded") == 4 * HOURS * Decimal("0.052")


def atlas(size: str, nodes: int = 3, **flags: object) -> dict:
    spec = {"regionConfigs": [{"providerName": "AWS", "regionName": "US_EAST_1", "priority": 7,
                                "electableSpecs": {"instanceSize": size, "nodeCount": nodes}}]}  # fmt: skip
    return resource(
        "mongodbatlas:index/advancedCluster:AdvancedCluster", f"atlas-{size}", {"replicationSpecs": [spec], **flags}
    )


def test_atlas_clusters_by_size_and_hours() -> None:
    result = priced(atlas("M30"), atlas("M10"))
    assert monthly(result, "atlas-M30") == Decimal("394.20")  # $0.54 x 730, the whole 3-node replica set
    assert monthly(result, "atlas-M10") == Decimal("56.94")  # the pricing page's "starts at $56.94/month"


def test_atlas_five_nodes_scale_the_three_node_price() -> None:
    five = monthly(priced(atlas("M30", nodes=5)), "atlas-M30")
    assert five.quantize(Decimal("0.01")) == Decimal("657.00")  # $394.20 x 5/3


def test_atlas_backups_and_unknown_sizes_are_unpriced_with_the_reason() -> None:
    result = priced(atlas("M30", backupEnabled=True, pitEnabled=True), atlas("M40"))
    kinds = {u.reason: u.kind for u in unpriced_resources(result)}
    backups = [kind for reason, kind in kinds.items() if "backupStorageGb" in reason or "point-in" in reason]
    assert backups == [Kind.USAGE, Kind.USAGE], "backup storage grows with the data: usage-based, not baseline"
    sizes = [kind for reason, kind in kinds.items() if "atlas.aws.M40" in reason]
    assert sizes == [Kind.BASELINE], "an unsourced size is unpriced (never $0), and it is a baseline cost"


def test_an_unpriced_instance_type_is_a_baseline_gap_that_blocks_the_budget_check() -> None:
    template = resource(LT, "big-lt", {"instanceType": "c7g.16xlarge"})
    group = resource(ASG, "big-asg", {"desiredCapacity": 4, "launchTemplate": {"id": "big-lt-id"}})
    config = {"aws:region": "us-east-1", "tier": "A", "monthlyBudgetUsd": "1000"}
    result = priced(template, group, config=config)
    assert [(u.resource, u.kind) for u in unpriced_resources(result)] == [("big-asg", Kind.BASELINE)]
    assert result.total < result.budget  # type: ignore[operator]
    assert not result.over_budget
    assert result.budget_status.value == "unknown", "below the budget only because the instances are unpriced"


LB = "aws:lb/loadBalancer:LoadBalancer"


def test_an_alb_pays_hours_capacity_units_public_ips_and_egress_after_the_free_100_gb_once() -> None:
    first = resource(LB, "alb-1", {"loadBalancerType": "application", "subnets": ["a", "b", "c"]})
    second = resource(LB, "alb-2", {"subnets": ["a", "b"]})
    usage = {LB: {"lcuPerHour": 2, "internetEgressGb": 600}}
    result = priced(first, second, usage=usage)
    one = components(result, "alb-1")
    assert one["Application load balancer"] == HOURS * Decimal("0.0225")
    assert one["Load balancer capacity units"] == 2 * HOURS * Decimal("0.008")
    assert one["Public IPv4 addresses (one per AZ, at least)"] == 3 * HOURS * Decimal("0.005")
    assert one["Data transfer out to the internet (after 100 GB free a month per account)"] == 500 * Decimal("0.09")
    # The 100 GB are per account: the second load balancer pays for all of its 600 GB.
    assert components(result, "alb-2")["Data transfer out to the internet"] == 600 * Decimal("0.09")
    kinds = {line.component: line.kind for line in result.lines if line.resource == "alb-1"}
    assert kinds["Application load balancer"] is Kind.BASELINE
    assert kinds["Load balancer capacity units"] is Kind.USAGE


def test_an_internal_alb_has_no_public_addresses_or_egress() -> None:
    internal = resource(LB, "inner", {"internal": True, "subnets": ["a", "b"]})
    lines = components(priced(internal, usage={LB: {"lcuPerHour": 1, "internetEgressGb": 50}}), "inner")
    assert set(lines) == {"Application load balancer", "Load balancer capacity units"}


def test_nat_gateways_elastic_ips_and_endpoints() -> None:
    nat = resource("aws:ec2/natGateway:NatGateway", "nat")
    eip = resource("aws:ec2/eip:Eip", "eip", {"domain": "vpc"})
    gateway = resource("aws:ec2/vpcEndpoint:VpcEndpoint", "s3-endpoint", {"vpcEndpointType": "Gateway"})
    interface = resource("aws:ec2/vpcEndpoint:VpcEndpoint", "ecr-endpoint",
                         {"vpcEndpointType": "Interface", "subnetIds": ["a", "b", "c"]})  # fmt: skip
    usage = {"aws:ec2/natGateway:NatGateway": {"dataProcessedGb": 100},
             "aws:ec2/vpcEndpoint:VpcEndpoint": {"dataProcessedGb": 10}}  # fmt: skip
    result = priced(nat, eip, gateway, interface, usage=usage)
    assert monthly(result, "nat") == Decimal("32.85") + Decimal("4.50")  # infracost's own golden figures
    assert monthly(result, "eip") == Decimal("3.65")
    assert monthly(result, "ecr-endpoint") == 3 * HOURS * Decimal("0.01") + 10 * Decimal("0.01")
    assert any(f.resource == "s3-endpoint" for f in result.free)


def test_s3_storage_requests_and_cdn_fronted_egress() -> None:
    bucket = resource("aws:s3/bucket:Bucket", "files-uploads")
    origin = {"domainName": "files-uploads-offline.s3.us-east-1.amazonaws.com", "originId": "uploads"}
    cdn = resource(
        "aws:cloudfront/distribution:Distribution", "cdn", {"priceClass": "PriceClass_200", "origins": [origin]}
    )
    usage = {
        "aws:s3/bucket:Bucket": {"storageGb": 1000, "putRequests": 1_000_000, "getRequests": 2_000_000,
                                 "internetEgressGb": 300},
        "aws:cloudfront/distribution:Distribution": {"dataOutGb": 2024, "httpsRequests": 30_000_000,
                                                     "europeShare": 0, "asiaPacificShare": 0},
    }  # fmt: skip
    result = priced(bucket, cdn, usage=usage)
    assert components(result, "files-uploads") == {
        "Storage (S3 Standard)": Decimal("23.000"),
        "PUT, COPY, POST, LIST requests": Decimal("5.000"),
        "GET and other requests": Decimal("0.8000"),
    }, "downloads go through the CDN: no S3 internet egress"
    cdn_lines = components(result, "cdn")
    # 1 TB and 10 M requests a month are always free: 1,000 GB and 20 M requests are paid.
    assert cdn_lines["Data out, North America (after 1,024 free a month per account)"] == 1000 * Decimal("0.085")
    assert cdn_lines["HTTPS requests, North America (after 10,000,000 free a month per account)"] == Decimal("20.00")


def test_cloudfront_price_class_100_bills_asia_pacific_viewers_at_european_rates() -> None:
    cdn = resource("aws:cloudfront/distribution:Distribution", "cdn", {"priceClass": "PriceClass_100"})
    usage = {"aws:cloudfront/distribution:Distribution": {"dataOutGb": 3048, "httpsRequests": 0,
                                                          "europeShare": 0, "asiaPacificShare": 0.5}}  # fmt: skip
    lines = components(priced(cdn, usage=usage), "cdn")
    # North America's 1,524 GB take the free 1,024 GB first; Asia Pacific's 1,524 GB pay Europe's rate.
    assert lines["Data out, Asia Pacific, billed at europe rates (PriceClass_100)"] == 1524 * Decimal("0.085")


def test_waf_alarms_dns_secrets_keys_registry_and_logs() -> None:
    acl = resource("aws:wafv2/webAcl:WebAcl", "waf", {"rules": [{"name": "a"}, {"name": "b"}]})
    alarm = resource("aws:cloudwatch/metricAlarm:MetricAlarm", "alarm", {"period": 60})
    fast = resource("aws:cloudwatch/metricAlarm:MetricAlarm", "fast-alarm", {"period": 10})
    zone = resource("aws:route53/zone:Zone", "zone")
    alias = resource("aws:route53/record:Record", "api", {"aliases": [{"name": "alb"}]})
    secret = resource("aws:secretsmanager/secret:Secret", "secret")
    key = resource("aws:kms/key:Key", "key")
    repo = resource("aws:ecr/repository:Repository", "repo")
    logs = resource("aws:cloudwatch/logGroup:LogGroup", "logs", {"retentionInDays": 90})
    usage = {
        "aws:wafv2/webAcl:WebAcl": {"requests": 10_000_000},
        "aws:secretsmanager/secret:Secret": {"apiRequests": 100_000},
        "aws:kms/key:Key": {"requests": 100_000},
        "aws:ecr/repository:Repository": {"storageGb": 5},
        "aws:cloudwatch/logGroup:LogGroup": {"ingestedGb": 10},
    }
    result = priced(acl, alarm, fast, zone, alias, secret, key, repo, logs, usage=usage)
    assert monthly(result, "waf") == 5 + 2 * 1 + 10 * Decimal("0.60")
    assert monthly(result, "alarm") == Decimal("0.10")
    assert monthly(result, "fast-alarm") == Decimal("0.30")
    assert monthly(result, "zone") == Decimal("0.50")
    assert any(f.resource == "api" for f in result.free), "alias queries to AWS resources cost nothing"
    assert monthly(result, "secret") == Decimal("0.40") + 10 * Decimal("0.05")
    assert monthly(result, "key") == 1 + 10 * Decimal("0.03")
    assert monthly(result, "repo") == Decimal("0.50")
    # 90 days kept, months of 730 hours: 10 GB x 90 x 24 / 730 stored.
    assert components(result, "logs") == {
        "Data ingested": Decimal("5.00"),
        "Storage (90 days kept)": 10 * Decimal(90 * 24) / 730 * Decimal("0.03"),
    }


def test_free_resources_are_listed_with_a_reason() -> None:
    result = priced(
        resource("aws:ec2/vpc:Vpc", "vpc"),
        resource("aws:ec2/subnet:Subnet", "subnet"),
        resource("aws:ec2/securityGroup:SecurityGroup", "sg"),
        resource("aws:iam/role:Role", "role"),
        resource("aws:ec2/routeTable:RouteTable", "rt"),
        resource("random:index/randomPassword:RandomPassword", "password"),
    )
    assert not result.lines
    assert not unpriced_resources(result)
    assert {f.resource for f in result.free} == {"vpc", "subnet", "sg", "role", "rt", "password"}
    assert all(f.reason for f in result.free)


def test_an_unknown_type_is_unpriced_with_a_warning_never_zero() -> None:
    result = priced(resource("aws:sagemaker/endpoint:Endpoint", "mystery"))
    assert [(u.resource, u.reason, u.kind) for u in unpriced_resources(result)] == [
        ("mystery", UNKNOWN_TYPE, Kind.BASELINE)
    ]
    assert any("aws:sagemaker/endpoint:Endpoint" in w for w in result.warnings)


def test_missing_usage_is_reported_as_depending_on_usage() -> None:
    result = priced(resource("aws:ec2/natGateway:NatGateway", "nat"))
    assert monthly(result, "nat") == Decimal("32.85")
    missing = [u for u in unpriced_resources(result) if "depends on usage: set 'dataProcessedGb'" in u.reason]
    assert [u.kind for u in missing] == [Kind.USAGE], "missing usage leaves the baseline (and the budget) intact"


def test_a_kubernetes_load_balancer_service_is_unpriced_because_aws_creates_it_outside_the_plan() -> None:
    service = resource("kubernetes:core/v1:Service", "web", {"spec": {"type": "LoadBalancer"}})
    deployment = resource("kubernetes:apps/v1:Deployment", "app")
    result = priced(service, deployment)
    assert [u.resource for u in unpriced_resources(result)] == ["web"]
    assert [f.resource for f in result.free] == ["app"]


def test_an_external_redis_is_priced_from_config_and_a_zero_price_warns() -> None:
    config = {"aws:region": "us-east-1", "cache": {"cacheMode": "external", "externalRedisMonthlyUsd": "65.5"}}
    result = priced(config=config)
    assert [(line.type, line.monthly, line.source) for line in result.lines] == [
        (EXTERNAL_REDIS_TYPE, Decimal("65.5"), "config:externalRedisMonthlyUsd")
    ]
    free = priced(config={"cache": {"cacheMode": "external", "externalRedisMonthlyUsd": "0"}})
    assert any("external Redis is priced at $0" in w for w in free.warnings)


def test_baseline_and_usage_add_up_to_the_total() -> None:
    result = priced(*fleet({"id": "app-lt-id"}), resource("aws:ec2/natGateway:NatGateway", "nat"),
                    usage={"aws:ec2/natGateway:NatGateway": {"dataProcessedGb": 10}})  # fmt: skip
    assert result.baseline + result.usage == result.total
    assert result.usage == 10 * Decimal("0.045")


def test_target_tracking_policies_pay_for_the_alarms_they_create() -> None:
    def policy(name: str, **config: object) -> dict:
        return resource("aws:autoscaling/policy:Policy", name, {"policyType": "TargetTrackingScaling",
                        "targetTrackingConfiguration": {"targetValue": 50, **config}})  # fmt: skip

    step = resource("aws:autoscaling/policy:Policy", "step", {"policyType": "StepScaling"})
    result = priced(policy("cpu"), policy("out-only", disableScaleIn=True), step)
    # Scale-out and scale-in alarms: two standard alarms a month, which the plan never shows.
    assert monthly(result, "cpu") == 2 * Decimal("0.10")
    assert monthly(result, "out-only") == Decimal("0.10")
    assert {line.category for line in result.lines} == {Category.MONITORING}
    assert any(f.resource == "step" for f in result.free), "a step policy's alarms are declared (and priced) apart"


def test_data_across_azs_to_the_cache_the_nat_and_atlas_is_priced_per_gb_each_way() -> None:
    cache = resource("aws:elasticache/replicationGroup:ReplicationGroup", "cache",
                     {"nodeType": "cache.t4g.small", "numCacheClusters": 1, "engine": "valkey"})  # fmt: skip
    nat = resource("aws:ec2/natGateway:NatGateway", "nat")
    accepter = resource("aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter", "peering-accepter")
    usage = {
        "aws:elasticache/replicationGroup:ReplicationGroup": {"crossAzGb": 100},
        "aws:ec2/natGateway:NatGateway": {"dataProcessedGb": 0, "crossAzGb": 10},
        "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": {"crossAzGb": 50},
    }
    result = priced(cache, nat, accepter, usage=usage)
    transfer = {line.resource: line for line in result.lines if line.category is Category.DATA_TRANSFER}
    # Inside the account both ends pay $0.01 a GB (out of one AZ, into the other); across the peering to Atlas,
    # this account pays its own end.
    assert transfer["cache"].monthly == 100 * 2 * Decimal("0.01")
    assert transfer["nat"].monthly == 10 * 2 * Decimal("0.01")
    assert transfer["peering-accepter"].monthly == 50 * Decimal("0.01")
    assert {line.kind for line in transfer.values()} == {Kind.USAGE}


def test_atlas_backup_storage_is_a_range_between_two_sourced_rates_beside_the_total() -> None:
    usage = {"mongodbatlas:index/advancedCluster:AdvancedCluster": {"backupStorageGb": 90}}
    result = priced(atlas("M30", backupEnabled=True), usage=usage)
    (ranged,) = result.ranged
    low, high = PRICES.get("atlas.backup-storage.low-end"), PRICES.get("atlas.backup-storage.high-end")
    assert (ranged.low.quantity, ranged.low.unit_price, ranged.high.unit_price) == (90, low.usd, high.usd)
    assert ranged.low.source_url == low.source.url
    assert ranged.high.source_url == high.source.url
    assert ranged.low.source_url.startswith("https://")
    assert ranged.high.source_url.startswith("https://")
    assert not any("backup snapshot" in line.component.lower() for line in result.lines), "never in the total"
    assert monthly(result, "atlas-M30") == Decimal("394.20")


def test_atlas_peering_traffic_is_usage_priced_at_the_same_region_rate_never_free() -> None:
    peering = resource("mongodbatlas:index/networkPeering:NetworkPeering", "atlas-peering")
    result = priced(peering)
    assert ("atlas-peering", Kind.USAGE) in [(u.resource, u.kind) for u in unpriced_resources(result)]
    assert not any(f.resource == "atlas-peering" for f in result.free)
    usage = {"mongodbatlas:index/networkPeering:NetworkPeering": {"dataTransferGb": 500}}
    (line,) = [line for line in priced(peering, usage=usage).lines if line.resource == "atlas-peering"]
    rate = PRICES.get("atlas.aws.data-transfer.same-region")
    assert (line.quantity, line.unit_price, line.kind) == (500, rate.usd, Kind.USAGE)
    assert line.monthly == 500 * rate.usd


def test_cache_snapshots_beyond_the_free_one_are_billed_from_the_plans_retention() -> None:
    def group(name: str, retention: int) -> dict:
        return resource("aws:elasticache/replicationGroup:ReplicationGroup", name,
                        {"nodeType": "cache.m6g.large", "numCacheClusters": 2, "engine": "valkey",
                         "snapshotRetentionLimit": retention})  # fmt: skip

    usage = {"aws:elasticache/replicationGroup:ReplicationGroup": {"snapshotSizeGb": 3}}
    result = priced(group("weekly", 7), group("one", 1), group("none", 0), usage=usage)
    backups = {line.resource: line.monthly for line in result.lines if line.price_key == "elasticache.backup-storage"}
    assert backups == {"weekly": 6 * 3 * Decimal("0.085")}, "one snapshot is free; 0 or 1 kept costs nothing"


def test_a_certificate_validation_record_is_free_not_a_zero_dollar_line() -> None:
    validation = resource("aws:route53/record:Record", "cert-validation",
                          {"type": "CNAME", "name": "_abc.api.example.com.",
                           "records": ["_def.acm-validations.aws."]})  # fmt: skip
    other = resource("aws:route53/record:Record", "txt", {"type": "TXT", "records": ["v=spf1 -all"]})
    result = priced(validation, other, usage={"aws:route53/record:Record": {"queries": 2_000_000}})
    assert any(f.resource == "cert-validation" for f in result.free)
    assert not [line for line in result.lines if line.resource == "cert-validation"]
    assert monthly(result, "txt") == 2 * Decimal("0.40")


def test_standard_ia_storage_follows_the_buckets_lifecycle_rule() -> None:
    bucket = resource("aws:s3/bucket:Bucket", "uploads")
    lifecycle = resource("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "uploads-lifecycle",
                         {"bucket": "uploads-id", "rules": [{"status": "Enabled", "filter": {},
                          "transitions": [{"storageClass": "STANDARD_IA", "days": 30}]}]})  # fmt: skip
    plain = resource("aws:s3/bucket:Bucket", "plain")
    base = {"storageGb": 100, "putRequests": 0, "getRequests": 0, "internetEgressGb": 0}
    usage = {"aws:s3/bucket:Bucket": {**base, "byName": {"uploads": {
        "infrequentAccessStorageGb": 1000, "lifecycleTransitions": 30000, "infrequentAccessGetRequests": 30000,
        "infrequentAccessRetrievalGb": 300}}}}  # fmt: skip
    result = priced(bucket, lifecycle, plain, usage=usage)
    assert components(result, "uploads") == {
        "Storage (S3 Standard)": 100 * Decimal("0.023"),
        "Storage (S3 Standard-IA)": 1000 * Decimal("0.0125"),
        "Lifecycle transitions to Standard-IA": 30 * Decimal("0.01"),
        "GET requests (Standard-IA)": 30 * Decimal("0.001"),
        "Retrievals (Standard-IA)": 300 * Decimal("0.01"),
    }
    assert not [w for w in result.warnings if "STANDARD_IA" in w]
    # The same usage without the rule, and the rule without the usage, contradict the plan: both are reported.
    contradicting = priced(resource("aws:s3/bucket:Bucket", "uploads"), usage=usage)
    assert any("no lifecycle rule of the bucket moves objects there" in w for w in contradicting.warnings)
    unmodelled = priced(bucket, lifecycle, usage={"aws:s3/bucket:Bucket": base})
    assert any("uploads: its lifecycle moves objects to STANDARD_IA after 30 days" in w for w in unmodelled.warnings)


def test_a_local_command_is_free() -> None:
    result = priced(resource("command:local:Command", "start-instance-refresh"))
    assert [f.resource for f in result.free] == ["start-instance-refresh"]
    assert not unpriced_resources(result)


def test_log_storage_counts_months_of_730_hours() -> None:
    logs = resource("aws:cloudwatch/logGroup:LogGroup", "logs", {"retentionInDays": 365})
    lines = components(priced(logs, usage={"aws:cloudwatch/logGroup:LogGroup": {"ingestedGb": 20}}), "logs")
    assert lines["Storage (365 days kept)"] == 20 * 12 * Decimal("0.03"), "365 days of 24 hours are 12 x 730 hours"


def test_detailed_monitoring_is_billed_per_instance_when_the_launch_template_turns_it_on() -> None:
    template, group = fleet({"id": "app-lt-id", "version": "1"})
    plain = components(priced(template, group), "app-asg")
    assert not any("detailed monitoring" in name for name in plain), "basic five-minute monitoring is free"
    monitored = {**template, "inputs": {**template["inputs"], "monitoring": {"enabled": True}}}
    lines = components(priced(monitored, group), "app-asg")
    assert lines["EC2 detailed monitoring (4 instance(s) x 7 metrics)"] == 4 * 7 * Decimal("0.30")


def test_a_nat_instance_pays_its_hours_its_disk_and_its_public_address() -> None:
    template = resource(
        LT,
        "nat-lt",
        {
            "instanceType": "t4g.nano",
            "creditSpecification": {"cpuCredits": "standard"},
            "networkInterfaces": [{"deviceIndex": 0, "associatePublicIpAddress": "true"}],
            "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 8, "volumeType": "gp3"}}],
        },
    )
    group = resource(ASG, "nat-asg", {"desiredCapacity": 1, "launchTemplate": {"id": "nat-lt-id", "version": "1"}})
    result = priced(template, group)
    lines = components(result, "nat-asg")
    assert lines["1 x t4g.nano (Linux, on-demand)"] == HOURS * Decimal("0.0042")
    assert lines["Public IPv4 address (one per instance's interface)"] == HOURS * Decimal("0.005")
    assert lines["Storage (gp3, /dev/xvda of each instance)"] == 8 * Decimal("0.08")
    assert not any("burstable" in w for w in result.warnings), "standard credits: never billed above the baseline"


def test_internet_egress_walks_the_volume_tiers() -> None:
    alb = resource(LB, "alb", {"subnets": ["a", "b"]})
    result = priced(alb, usage={LB: {"lcuPerHour": 0, "internetEgressGb": 100 + 10_240 + 20_000}})
    lines = components(result, "alb")
    first = "Data transfer out to the internet (after 100 GB free a month per account)"
    assert lines[first] == 10_240 * Decimal("0.09")
    assert lines[f"{first} (next 40 TB)"] == 20_000 * Decimal("0.085")
    used = {line.price_key for line in result.lines if line.resource == "alb"}
    assert {"internet.data-out", "internet.data-out.next-40tb"} <= used


def test_cloudfront_walks_each_region_s_volume_tiers() -> None:
    cdn = resource("aws:cloudfront/distribution:Distribution", "cdn", {"priceClass": "PriceClass_All"})
    usage = {"aws:cloudfront/distribution:Distribution": {"dataOutGb": 1024 + 10_240 + 1_000, "httpsRequests": 0,
                                                          "europeShare": 0, "asiaPacificShare": 0}}  # fmt: skip
    result = priced(cdn, usage=usage)
    keys = {line.price_key: line.quantity for line in result.lines if line.resource == "cdn"}
    assert keys["cloudfront.data-out.north-america"] == 10_240
    assert keys["cloudfront.data-out.north-america.next-40tb"] == 1_000


def test_the_hosted_zone_the_stack_names_is_priced_once_when_the_plan_does_not_create_it() -> None:
    config = {"aws:region": "us-east-1", "tier": "A", "hostedZoneId": "Z0123456789ABCDEFGHIJ"}
    result = priced(resource(LB, "alb", {"subnets": ["a"]}), config=config, usage={LB: {"lcuPerHour": 0}})
    (zone,) = [line for line in result.lines if line.price_key == "route53.zone"]
    assert (zone.resource, zone.monthly) == ("hosted-zone (hostedZoneId)", Decimal("0.50"))
    without = priced(resource(LB, "alb", {"subnets": ["a"]}), usage={LB: {"lcuPerHour": 0}})
    assert not [line for line in without.lines if line.price_key == "route53.zone"]
