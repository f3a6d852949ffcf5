"""Alarms that reach someone: every CloudWatch alarm notifies on ALARM and on OK; SNS topics are encrypted with a
customer-managed key (CloudWatch cannot publish to a topic under the AWS-managed alias/aws/sns key); KMS keys
rotate."""

from __future__ import annotations

from collections.abc import Iterator

from infra.policy.model import Resource, get, items, present

METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
TOPIC = "aws:sns/topic:Topic"
KMS_KEY = "aws:kms/key:Key"
AWS_MANAGED_SNS_KEY = "alias/aws/sns"


def alarm_notifies(alarm: Resource) -> Iterator[str]:
    if get(alarm.inputs, "actionsEnabled") is False:
        yield f"{alarm.name} has its actions disabled: remove actions_enabled=False"
    states = {"alarmActions": "ALARM", "okActions": "OK"}
    missing = [state for kind, state in states.items() if not items(alarm.inputs, kind)]
    if missing:
        yield (
            f"{alarm.name} notifies nobody on {' or '.join(missing)}: set alarm_actions and ok_actions to the stack's"
            " alert topic"
        )


def topic_encrypted_with_customer_key(topic: Resource) -> Iterator[str]:
    key = get(topic.inputs, "kmsMasterKeyId")
    if not present(topic.inputs, "kmsMasterKeyId"):
        yield f"{topic.name} is not encrypted: set kms_master_key_id to a customer-managed KMS key"
    elif isinstance(key, str) and key.endswith(AWS_MANAGED_SNS_KEY):
        yield (
            f"{topic.name} uses the AWS-managed {AWS_MANAGED_SNS_KEY} key, whose policy admits no CloudWatch alarm: "
            "alarms would fail to publish (KMS AccessDenied, seen only in their history); use a customer-managed key"
        )


def key_rotates(key: Resource) -> Iterator[str]:
    if get(key.inputs, "customerMasterKeySpec") not in (None, "SYMMETRIC_DEFAULT"):
        return  # KMS rotates symmetric keys only
    if get(key.inputs, "enableKeyRotation") is not True:
        yield f"{key.name} never rotates: set enable_key_rotation=True (yearly, old material kept for decryption)"
