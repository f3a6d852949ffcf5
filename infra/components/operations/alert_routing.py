"""Where every alarm goes: one SNS topic per stack, encrypted with a customer-managed KMS key that CloudWatch and
Budgets may use (infra/planning/operations/alerting.py says why not the AWS-managed key), with an email
subscription to `alertEmail` and one HTTPS subscription per `alertHttpsEndpoints` entry (a pager).

An email subscription stays PendingConfirmation until someone clicks the link AWS sends to the address; until
then alarms reach nobody there (`verify` reports it). An HTTPS endpoint confirms itself by fetching the
SubscribeURL SNS posts to it (pagers' SNS integrations do).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.planning.naming import child_name, name_tag
from infra.planning.operations.alerting import alert_key_policy, alert_topic_policy
from infra.planning.protection import Protection

KEY_DELETION_WINDOW_DAYS = 30
CONFIRMATION_TIMEOUT_MINUTES = 5


@dataclass(frozen=True)
class AlertRoutingArgs:
    name_prefix: str
    region: str
    alert_email: str
    https_endpoints: Sequence[str]
    """A pager's URL carries its key: each subscription's endpoint is a Pulumi secret."""
    guard: Protection
    """Production keeps the key through a mistaken destroy (deleting it would make the topic unusable)."""


class AlertRouting(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AlertRoutingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:operations:AlertRouting", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id

        key = aws.kms.Key(
            child_name(name, "key"),
            description=f"{args.name_prefix}: encrypts the alerts topic; CloudWatch and Budgets may publish with it",
            enable_key_rotation=True,
            deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
            policy=account_id.apply(alert_key_policy),
            tags=name_tag(args.name_prefix, "alerts-key"),
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.guard.protect, retain_on_delete=args.guard.retain_on_delete
            ),
        )
        aws.kms.Alias(
            child_name(name, "key-alias"),
            name=f"alias/{args.name_prefix}-alerts",
            target_key_id=key.key_id,
            opts=child,
        )
        topic = aws.sns.Topic(
            child_name(name, "topic"),
            display_name=f"{args.name_prefix} alerts",
            kms_master_key_id=key.arn,
            tags=name_tag(args.name_prefix, "alerts"),
            opts=child,
        )
        aws.sns.TopicPolicy(
            child_name(name, "topic-policy"),
            arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, account_id).apply(
                lambda values: alert_topic_policy(topic_arn=values[0], account_id=values[1], region=args.region)
            ),
            opts=child,
        )
        aws.sns.TopicSubscription(
            child_name(name, "email"),
            topic=topic.arn,
            protocol="email",
            endpoint=args.alert_email,
            opts=child,
        )
        for index, endpoint in enumerate(args.https_endpoints):
            aws.sns.TopicSubscription(
                child_name(name, "https", index),
                topic=topic.arn,
                protocol="https",
                endpoint=pulumi.Output.secret(endpoint),
                # The endpoint confirms by fetching the SubscribeURL (pagers' SNS integrations do): `pulumi up` waits
                # for it and fails when it never comes, rather than leave a pager that receives nothing.
                endpoint_auto_confirms=True,
                confirmation_timeout_in_minutes=CONFIRMATION_TIMEOUT_MINUTES,
                opts=child,
            )

        self.topic_arn = topic.arn
        self.key_arn = key.arn
        self.register_outputs({"topicArn": self.topic_arn, "keyArn": self.key_arn})
