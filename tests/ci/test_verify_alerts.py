"""verify's alert check: the alert topic's subscriptions are confirmed, with SNS answering through botocore's
Stubber (the exact responses of ListSubscriptionsByTopic), and the check asked only of stacks that export the
topic."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

import infra.verify.run as verify_run
from infra.verify.aws_checks import PENDING, check_alert_subscriptions
from infra.verify.result import CheckResult
from infra.verify.run import AwsClients, VerifyOptions, run_checks

TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts-topic-1a2b3c"


@pytest.fixture
def sns() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("sns", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def subscription(protocol: str, endpoint: str, arn: str) -> dict[str, str]:
    return {
        "SubscriptionArn": arn,
        "Owner": "123456789012",
        "Protocol": protocol,
        "Endpoint": endpoint,
        "TopicArn": TOPIC,
    }


def answer(stubber: Stubber, *subscriptions: dict[str, str]) -> None:
    stubber.add_response("list_subscriptions_by_topic", {"Subscriptions": list(subscriptions)}, {"TopicArn": TOPIC})


def test_confirmed_subscriptions_pass(sns: tuple[Any, Stubber]) -> None:
    client, stubber = sns
    answer(
        stubber,
        subscription("email", "ops@contentry.ai", f"{TOPIC}:1"),
        subscription("https", "https://p/k", f"{TOPIC}:2"),
    )
    result = check_alert_subscriptions(client, TOPIC)
    assert result.ok, result.detail
    assert "2 confirmed" in result.detail
    assert "ops@contentry.ai" in result.detail
    assert "https://p/k" not in result.detail  # a pager URL carries its key


def test_an_unconfirmed_email_fails_saying_what_to_do(sns: tuple[Any, Stubber]) -> None:
    client, stubber = sns
    answer(stubber, subscription("email", "ops@contentry.ai", PENDING))
    result = check_alert_subscriptions(client, TOPIC)
    assert not result.ok
    assert "email ops@contentry.ai never confirmed" in result.detail
    assert "Subscription Confirmation" in result.detail


def test_a_topic_without_subscriptions_reaches_nobody(sns: tuple[Any, Stubber]) -> None:
    client, stubber = sns
    answer(stubber)
    result = check_alert_subscriptions(client, TOPIC)
    assert not result.ok
    assert "alarms reach nobody" in result.detail


def test_an_aws_error_fails_the_check_naming_the_call(sns: tuple[Any, Stubber]) -> None:
    client, stubber = sns
    stubber.add_client_error("list_subscriptions_by_topic", "AuthorizationError", "not allowed")
    result = check_alert_subscriptions(client, TOPIC)
    assert not result.ok
    assert "listing the subscriptions" in result.detail


class _Nothing:
    """Stands for the AWS clients the other checks would use: these outputs never reach them."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected AWS call {name}")


def test_the_alert_check_runs_only_for_stacks_exporting_the_topic(
    sns: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = sns
    answer(stubber, subscription("email", "ops@contentry.ai", f"{TOPIC}:1"))
    clients = AwsClients(
        elbv2=_Nothing(), autoscaling=_Nothing(), cloudwatch=_Nothing(), tagging=_Nothing(), sns=client
    )
    # The alarm check has its own tests (test_verify.py); here it only must not call AWS.
    monkeypatch.setattr(verify_run, "check_alarms", lambda *_: CheckResult.passed("alarms", "not asked here"))

    def checks(outputs: dict[str, Any]) -> list[str]:
        return [r.name for r in run_checks(outputs, "contentry", "dev", clients, VerifyOptions())]

    assert checks({"alertTopicArn": TOPIC})[-1] == "alerts"
    assert "alerts" not in checks({})
