"""The tiers' presets: every size explicit, each overridable per stack by setting its key.

Why these values: tier A must carry 100K users with no single point of failure (three AZs, a NAT per AZ, a
cache replica); tier B runs the same data tier under EKS; tier C is the budget shape for 10-20K users and for
`dev`. Instance families are Graviton (arm64), about 15% cheaper than their x86 peers at the same size
(`../shared/facts/prices.md`): the app image is built for both architectures.

`monthlyBudgetUsd` is a guard, not the finance target: about 10% above the tier's estimate at its documented
usage, so `cost` fails (exit 3) on a change that grows the bill beyond the tier's planned shape. The targets
(A $1,100, B $1,400, C $180) and what it would take to meet them are in docs/costs.md.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from infra.config.model import Tier

# Values are spelled exactly as `pulumi config set` would store them: strings.
TIER_PRESETS: Final = MappingProxyType(
    {
        Tier.A: MappingProxyType(
            {
                "azCount": "3",
                "natStrategy": "one-per-az",
                "logRetentionDays": "365",
                "computeInstanceType": "c7g.xlarge",  # 4 vCPU, compute-optimized
                "computeMinSize": "4",
                "computeDesiredSize": "4",
                "computeMaxSize": "12",
                "atlasInstanceSize": "M30",
                "atlasMinInstanceSize": "M30",
                "atlasMaxInstanceSize": "M50",
                "atlasNodeCount": "3",
                "cacheMode": "elasticache",
                "cacheNodeType": "cache.m6g.large",
                "cacheReplicas": "1",
                "cdnEnabled": "true",
                "cdnPriceClass": "PriceClass_200",  # users beyond North America and Europe
                # 1500 until the web ACLs, the audit trail, the alarms and the dashboard (+$58 a month): ~10% above.
                # Background jobs: 2-6 x 2 vCPU Graviton, 4 Celery processes each (uploads wait on S3 as much as
                # they compute thumbnails); a new host per 20 waiting jobs; an alarm at 500 waiting.
                "workerInstanceType": "c7g.large",
                "workerMinSize": "2",
                "workerMaxSize": "6",
                "workerConcurrency": "4",
                "jobQueueDepthTargetPerWorker": "20",
                "jobQueueDepthAlarmThreshold": "500",
                "monthlyBudgetUsd": "1550",
            }
        ),
        Tier.B: MappingProxyType(
            {
                "azCount": "3",
                "natStrategy": "one-per-az",
                "logRetentionDays": "365",
                "computeInstanceType": "m7g.xlarge",  # 4 vCPU / 16 GiB nodes
                "computeMinSize": "6",
                "computeDesiredSize": "6",
                "computeMaxSize": "12",
                "atlasInstanceSize": "M30",
                "atlasMinInstanceSize": "M30",
                "atlasMaxInstanceSize": "M50",
                "atlasNodeCount": "3",
                "cacheMode": "elasticache",
                "cacheNodeType": "cache.m6g.large",  # ~6.4 GiB: holds the seed's 5 GB
                "cacheReplicas": "1",
                "cdnEnabled": "true",
                "cdnPriceClass": "PriceClass_200",  # users beyond North America and Europe
                # 1900 until the web ACLs, the audit trail, Container Insights' logs and the alarms (+$78 a month).
                # Background jobs: pods (workerPodMinReplicas/MaxReplicas); the instance keys size nothing here.
                "workerInstanceType": "c7g.large",
                "workerMinSize": "2",
                "workerMaxSize": "6",
                "workerConcurrency": "4",
                "jobQueueDepthTargetPerWorker": "20",
                "jobQueueDepthAlarmThreshold": "500",
                "monthlyBudgetUsd": "2000",
            }
        ),
        Tier.C: MappingProxyType(
            {
                "azCount": "2",
                "natStrategy": "single",
                "logRetentionDays": "30",
                "computeInstanceType": "t4g.large",  # 2 vCPU / 8 GiB
                "computeMinSize": "2",
                "computeDesiredSize": "2",
                "computeMaxSize": "4",
                "atlasInstanceSize": "M10",
                "atlasMinInstanceSize": "M10",
                "atlasMaxInstanceSize": "M20",
                "atlasNodeCount": "3",  # every dedicated Atlas cluster is a 3-node replica set
                "cacheMode": "elasticache",
                # ~1.4 GiB: hot posts and sessions of 10-20K users; a single node either way, so the
                # smaller node costs no availability (docs/costs.md: $19 a month less than t4g.medium).
                "cacheNodeType": "cache.t4g.small",
                "cacheReplicas": "0",
                "cdnEnabled": "false",
                "cdnPriceClass": "PriceClass_100",  # cheapest edges, when the CDN is turned on
                # 300 until the web ACL, the alerts key, the alarms and the dashboard (+$18 a month).
                # Background jobs: 1-2 x t4g.small (2 vCPU / 2 GiB), 2 Celery processes each; colocated on the
                # app instances instead with workerPlacement colocated (outside production).
                "workerInstanceType": "t4g.small",
                "workerMinSize": "1",
                "workerMaxSize": "2",
                "workerConcurrency": "2",
                "jobQueueDepthTargetPerWorker": "10",
                "jobQueueDepthAlarmThreshold": "100",
                "monthlyBudgetUsd": "325",
            }
        ),
    }
)
