"""The AWS side of verify (boto3, read-only calls): target health, fleet capacity, alarms.

- Targets: every target registered in the stack's target group (`targetGroupName`) is `healthy`, and there
  is at least one (an empty group serves nothing).
- Capacity: tiers A and C run an Auto Scaling group (`autoScalingGroupName`): at least its MinSize instances
  InService and Healthy. Tier B runs a Deployment, which verify cannot see without Kubernetes credentials; the
  sound proxy is the IP target group the AWS Load Balancer Controller fills with the pods: at least the HPA's
  minimum (`appMinReplicas`) of healthy targets. A stack exporting neither cannot be checked, and says so.
- Alarms: every CloudWatch alarm tagged with the stack's `Project` and `Stack` (the provider's default tags,
  which every alarm of the program carries), found through the Resource Groups Tagging API, is not in ALARM.
  Alarms AWS creates for target tracking scaling are untagged and left out on purpose: their ALARM state is a
  scaling signal, not an incident.
- Alerts: every subscription of the alert topic (`alertTopicArn`) is confirmed. An email subscription stays
  PendingConfirmation until someone clicks the link AWS mailed; until then every alarm reaches nobody there.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from infra.verify.result import CheckResult

_DESCRIBE_ALARMS_BATCH = 100  # DescribeAlarms takes at most 100 names


def _aws_error(name: str, action: str, error: Exception) -> CheckResult:
    return CheckResult.failed(name, f"{action} failed: {error}")


def _target_group(elbv2: Any, name: str) -> dict[str, Any]:
    return elbv2.describe_target_groups(Names=[name])["TargetGroups"][0]


def check_targets(elbv2: Any, target_group_name: str) -> CheckResult:
    name = "targets"
    try:
        group = _target_group(elbv2, target_group_name)
        health = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])["TargetHealthDescriptions"]
    except (ClientError, BotoCoreError) as error:
        return _aws_error(name, f"reading target group {target_group_name}", error)
    if not health:
        return CheckResult.failed(name, f"target group {target_group_name} has no registered target: it serves nothing")
    unhealthy = [t for t in health if t["TargetHealth"]["State"] != "healthy"]
    if unhealthy:
        listed = "; ".join(_describe_target(t) for t in unhealthy)
        return CheckResult.failed(
            name, f"{len(unhealthy)} of {len(health)} targets in {target_group_name} are not healthy: {listed}"
        )
    return CheckResult.passed(name, f"all {len(health)} targets in {target_group_name} are healthy")


def _describe_target(description: dict[str, Any]) -> str:
    target = description["Target"]
    where = f"{target['Id']}:{target['Port']}" if "Port" in target else target["Id"]
    state = description["TargetHealth"]
    reason = ", ".join(filter(None, (state.get("Reason"), state.get("Description"))))
    return f"{where} {state['State']}" + (f" ({reason})" if reason else "")


def check_group_capacity(autoscaling: Any, group_name: str) -> CheckResult:
    name = "capacity"
    try:
        groups = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[group_name])["AutoScalingGroups"]
    except (ClientError, BotoCoreError) as error:
        return _aws_error(name, f"reading Auto Scaling group {group_name}", error)
    if not groups:
        return CheckResult.failed(name, f"Auto Scaling group {group_name} does not exist")
    group = groups[0]
    minimum = int(group["MinSize"])
    instances = group.get("Instances", [])
    serving = [i for i in instances if i["LifecycleState"] == "InService" and i["HealthStatus"] == "Healthy"]
    if len(serving) < minimum:
        others = "; ".join(
            f"{i['InstanceId']} {i['LifecycleState']}/{i['HealthStatus']}" for i in instances if i not in serving
        )
        return CheckResult.failed(
            name,
            f"Auto Scaling group {group_name} runs {len(serving)} healthy in-service instance(s), below its minimum "
            f"of {minimum}" + (f"; the others: {others}" if others else ""),
        )
    return CheckResult.passed(
        name, f"Auto Scaling group {group_name} runs {len(serving)} healthy in-service instance(s) (minimum {minimum})"
    )


def check_pod_capacity(elbv2: Any, target_group_name: str, minimum: int) -> CheckResult:
    """Tier B: the pods the controller registered in the IP target group stand for the Deployment's replicas."""
    name = "capacity"
    try:
        group = _target_group(elbv2, target_group_name)
        health = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])["TargetHealthDescriptions"]
    except (ClientError, BotoCoreError) as error:
        return _aws_error(name, f"reading target group {target_group_name}", error)
    if group.get("TargetType") != "ip":
        return CheckResult.failed(
            name, f"target group {target_group_name} has {group.get('TargetType')} targets, not the pods' IPs"
        )
    healthy = sum(1 for t in health if t["TargetHealth"]["State"] == "healthy")
    if healthy < minimum:
        return CheckResult.failed(
            name,
            f"{healthy} healthy pod(s) in {target_group_name}, below the HorizontalPodAutoscaler's minimum of "
            f"{minimum}",
        )
    return CheckResult.passed(name, f"{healthy} healthy pod(s) in {target_group_name} (minimum {minimum})")


def stack_alarm_names(tagging: Any, project: str, stack: str) -> list[str]:
    """The names of the CloudWatch alarms tagged Project=<project>, Stack=<stack>."""
    paginator = tagging.get_paginator("get_resources")
    names = []
    for page in paginator.paginate(
        TagFilters=[{"Key": "Project", "Values": [project]}, {"Key": "Stack", "Values": [stack]}],
        ResourceTypeFilters=["cloudwatch:alarm"],
    ):
        for mapping in page["ResourceTagMappingList"]:
            # arn:aws:cloudwatch:<region>:<account>:alarm:<name> (the name may itself hold colons)
            names.append(mapping["ResourceARN"].split(":alarm:", 1)[1])
    return sorted(names)


PENDING = "PendingConfirmation"


def check_alert_subscriptions(sns: Any, topic_arn: str) -> CheckResult:
    """The alert topic reaches someone: it has subscriptions and none awaits confirmation. Email addresses are
    named; an HTTPS endpoint is not (a pager's URL carries its key)."""
    name = "alerts"
    try:
        subscriptions = [
            subscription
            for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
            for subscription in page["Subscriptions"]
        ]
    except (ClientError, BotoCoreError) as error:
        return _aws_error(name, f"listing the subscriptions of {topic_arn}", error)
    if not subscriptions:
        return CheckResult.failed(name, f"the alert topic {topic_arn} has no subscription: alarms reach nobody")

    def who(subscription: dict[str, Any]) -> str:
        protocol = subscription.get("Protocol", "?")
        return f"email {subscription.get('Endpoint', '?')}" if protocol == "email" else f"an {protocol} endpoint"

    pending = [who(s) for s in subscriptions if s.get("SubscriptionArn") == PENDING]
    if pending:
        return CheckResult.failed(
            name,
            f"{', '.join(pending)} never confirmed the alert topic's subscription, so alarms do not reach it: click"
            " the link in AWS's 'Subscription Confirmation' mail (or resend it: aws sns subscribe --topic-arn"
            f" {topic_arn} --protocol email --notification-endpoint <address>)",
        )
    return CheckResult.passed(
        name, f"{len(subscriptions)} confirmed subscription(s): {', '.join(map(who, subscriptions))}"
    )


def check_alarms(cloudwatch: Any, tagging: Any, project: str, stack: str) -> CheckResult:
    name = "alarms"
    try:
        names = stack_alarm_names(tagging, project, stack)
        alarms: list[dict[str, Any]] = []
        for start in range(0, len(names), _DESCRIBE_ALARMS_BATCH):
            batch = names[start : start + _DESCRIBE_ALARMS_BATCH]
            found = cloudwatch.describe_alarms(AlarmNames=batch, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
            alarms += found.get("MetricAlarms", []) + found.get("CompositeAlarms", [])
    except (ClientError, BotoCoreError) as error:
        return _aws_error(name, f"reading the alarms of stack {stack}", error)
    if not alarms:
        return CheckResult.failed(
            name,
            f"no CloudWatch alarm is tagged Project={project}, Stack={stack}: verify cannot tell that none fires "
            "(every alarm of the program carries these default tags; does the role allow tag:GetResources?)",
        )
    firing = [a for a in alarms if a["StateValue"] == "ALARM"]
    if firing:
        listed = "; ".join(f"{a['AlarmName']} ({a.get('StateReason', 'no reason given')})" for a in firing)
        return CheckResult.failed(name, f"{len(firing)} of {len(alarms)} alarms are firing: {listed}")
    return CheckResult.passed(name, f"none of the stack's {len(alarms)} alarms is firing")
