"""The stack's AWS Budget: a monthly cost budget at `monthlyBudgetUsd`, filtered to the stack's cost-allocation
tag (`user:Stack$<stack>`), alerting the alert topic on actual spend past 80% and on a forecast past 100%.

Budgets only see the tag once it is activated as a cost-allocation tag in the Billing console (README); until
then the budget tracks $0. The program does not activate it (aws.costexplorer.CostAllocationTag): the tag key
must already appear in the billing data, which it does up to a day after the first tagged resource exists, so a
first `pulumi up` would fail. Budgets are global: the provider's region does not matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pulumi
import pulumi_aws as aws

from infra.planning.naming import child_name, name_tag
from infra.planning.operations.budget import budget_alerts, budget_amount, cost_allocation_filter


@dataclass(frozen=True)
class CostBudgetArgs:
    name_prefix: str
    stack: str
    monthly_budget_usd: Decimal
    alert_topic_arn: pulumi.Input[str]


class CostBudget(pulumi.ComponentResource):
    budget_name: pulumi.Output[str]

    def __init__(self, name: str, args: CostBudgetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("contentry:operations:CostBudget", name, None, opts)
        budget = aws.budgets.Budget(
            child_name(name, "monthly"),
            name=f"{args.name_prefix}-monthly",
            budget_type="COST",
            limit_amount=budget_amount(args.monthly_budget_usd),
            limit_unit="USD",
            time_unit="MONTHLY",
            cost_filters=[
                aws.budgets.BudgetCostFilterArgs(name="TagKeyValue", values=[cost_allocation_filter(args.stack)])
            ],
            notifications=[
                aws.budgets.BudgetNotificationArgs(
                    notification_type=kind,
                    comparison_operator="GREATER_THAN",
                    threshold=percent,
                    threshold_type="PERCENTAGE",
                    subscriber_sns_topic_arns=[args.alert_topic_arn],
                )
                for kind, percent in budget_alerts()
            ],
            tags=name_tag(args.name_prefix, "budget"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.budget_name = budget.name
        self.register_outputs({"budgetName": self.budget_name})
