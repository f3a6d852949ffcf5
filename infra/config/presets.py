"""The tiers' presets: every size explicit, each overridable per stack by setting its key.

Why these values: each tier's fleet, cache node, CloudFront price class and log retention (and, for development,
the NAT strategy and the CDN) are the cheapest combination that carries its traffic model's peak
(infra/capacity/traffic/tier-*.yaml) at the measured throughput (infra/capacity/throughput.py) within the
environment's rules: docs/costs.md shows the search (`make cost-docs`), and tests/cost/test_levers.py fails when
a preset here is not that combination. Tier A must carry 100K concurrent users with no single point of
failure (three AZs, a NAT per AZ, a cache replica, any one AZ lost); tier B runs the same data tier under EKS;
tier C is the budget shape for 10-20K users and for `dev`. Instance families are Graviton (arm64), about 15%
cheaper than their x86 peers at the same size (`../shared/facts/prices.md`): the app image is built for both.

`monthlyBudgetUsd` is a guard, not the finance target: about 10% above the tier's estimate at its traffic model,
so `cost` fails (exit 3) on a change that grows the bill beyond the tier's planned shape. The targets
(A $1,100, B $1,400, C $180), whether each is met and what each buys are in docs/costs.md.
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
                # 1 vCPU each: 6 carry the peak at 70% CPU; 3 per AZ, so that any two AZs still hold 6. Finer than
                # 4-vCPU instances, so less of the AZ-loss spare is paid for
                "computeInstanceType": "c7g.medium",
                "computeMinSize": "9",
                "computeDesiredSize": "9",
                "computeMaxSize": "27",
                "atlasInstanceSize": "M30",
                "atlasMinInstanceSize": "M30",
                "atlasMaxInstanceSize": "M50",
                "atlasNodeCount": "3",
                "cacheMode": "elasticache",
                "cacheNodeType": "cache.m6g.large",
                "cacheReplicas": "1",
                "cdnEnabled": "true",
                # Asia Pacific's viewers (15% in the model) are served from North American and European edges:
                # slower for them, and their data billed at Europe's rate instead of Asia's
                "cdnPriceClass": "PriceClass_100",
                # Background jobs: 2-6 x 2 vCPU Graviton, 4 Celery processes each (uploads wait on S3 as much as
                # they compute thumbnails); a new host per 20 waiting jobs; an alarm at 500 waiting.
                "workerInstanceType": "c7g.large",
                "workerMinSize": "2",
                "workerMaxSize": "6",
                "workerConcurrency": "4",
                "jobQueueDepthTargetPerWorker": "20",
                "jobQueueDepthAlarmThreshold": "500",
                "monthlyBudgetUsd": "10600",  # ~10% above the estimate with the job workers ($9,637)
            }
        ),
        Tier.B: MappingProxyType(
            {
                "azCount": "3",
                "natStrategy": "one-per-az",
                "logRetentionDays": "365",
                # 8 vCPU nodes, one per AZ: they hold the 9 app pods (podMinReplicas) and, with an AZ lost, the 6 the
                # peak needs; 5 hold the HPA's 27 (podMaxReplicas) beside the 12 job worker pods at
                # their most (workerPodMaxReplicas), KEDA and the queue metrics exporter
                "computeInstanceType": "c7g.2xlarge",
                "computeMinSize": "3",
                "computeDesiredSize": "3",
                "computeMaxSize": "5",
                "atlasInstanceSize": "M30",
                "atlasMinInstanceSize": "M30",
                "atlasMaxInstanceSize": "M50",
                "atlasNodeCount": "3",
                "cacheMode": "elasticache",
                "cacheNodeType": "cache.m6g.large",  # ~6.4 GiB: holds the seed's 5 GB
                "cacheReplicas": "1",
                "cdnEnabled": "true",
                "cdnPriceClass": "PriceClass_100",  # as tier A
                # Background jobs: pods (workerPodMinReplicas/MaxReplicas); the instance keys size nothing here.
                # Two Celery processes a pod (half a c7g.large host's four): KEDA adds capacity in finer steps, at
                # the same waiting jobs per process as tier A (10 per pod of 2, 20 per host of 4).
                "workerInstanceType": "c7g.large",
                "workerMinSize": "2",
                "workerMaxSize": "6",
                "workerConcurrency": "2",
                "jobQueueDepthTargetPerWorker": "10",
                "jobQueueDepthAlarmThreshold": "500",
                "monthlyBudgetUsd": "10950",
            }
        ),
        Tier.C: MappingProxyType(
            {
                "azCount": "2",
                # A self-healing NAT instance: about $30 a month less than a NAT gateway (development only)
                "natStrategy": "instance",
                "logRetentionDays": "7",  # development: a week of logs
                "computeInstanceType": "t4g.medium",  # 2 vCPU / 4 GiB: one carries the peak, one per AZ
                "computeMinSize": "2",
                "computeDesiredSize": "2",
                "computeMaxSize": "6",
                "atlasInstanceSize": "M10",
                "atlasMinInstanceSize": "M10",
                "atlasMaxInstanceSize": "M20",
                "atlasNodeCount": "3",  # every dedicated Atlas cluster is a 3-node replica set
                "cacheMode": "elasticache",
                # ~1.4 GiB: hot posts and sessions of 10-20K users; a single node either way, so the
                # smaller node costs no availability (docs/costs.md: $19 a month less than t4g.medium).
                "cacheNodeType": "cache.t4g.small",
                "cacheReplicas": "0",
                # At 20,000 users the media (about 5 TB a month) cost less through CloudFront (its free 1 TB, then
                # $0.085) than straight from S3 ($0.09 after 100 GB)
                "cdnEnabled": "true",
                "cdnPriceClass": "PriceClass_100",  # cheapest edges
                # Background jobs: 1-2 x t4g.small (2 vCPU / 2 GiB), 2 Celery processes each; colocated on the
                # app instances instead with workerPlacement colocated (outside production).
                "workerInstanceType": "t4g.small",
                "workerMinSize": "1",
                "workerMaxSize": "2",
                "workerConcurrency": "2",
                "jobQueueDepthTargetPerWorker": "10",
                "jobQueueDepthAlarmThreshold": "100",
                "monthlyBudgetUsd": "1930",  # ~10% above the estimate with the job workers ($1,753)
            }
        ),
    }
)
