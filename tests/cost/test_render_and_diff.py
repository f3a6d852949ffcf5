"""Display rounding that adds up, the CSV's total row, quantities people can read, and diffs that never turn an
unpriced part into a saving."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from infra.cost.diff import diff
from infra.cost.render import (
    diff_lines,
    diff_record,
    displayed_split,
    line_cents,
    quantity,
    reconciled,
    to_csv,
    to_json,
)
from tests.cost.support import priced, resource

LT, ASG = "aws:ec2/launchTemplate:LaunchTemplate", "aws:autoscaling/group:Group"


def test_rounded_amounts_add_up_to_the_rounded_total() -> None:
    # Three lines of $16.425 each: rounded one by one they show $49.29, but the total is $49.275 -> $49.28.
    amounts = [Decimal("16.425")] * 3
    shown = reconciled(amounts)
    assert sum(shown) == Decimal("49.28")
    assert sorted(shown) == [Decimal("16.42"), Decimal("16.43"), Decimal("16.43")]
    assert reconciled([Decimal("1.004"), Decimal("2.004")]) == [Decimal("1.01"), Decimal("2.00")]  # tie: first
    assert reconciled([Decimal("5")], Decimal("5.01")) == [Decimal("5.01")]


def test_the_displayed_lines_of_an_estimate_add_up_to_its_displayed_total() -> None:
    albs = [resource("aws:lb/loadBalancer:LoadBalancer", f"alb-{i}", {"internal": True}) for i in range(3)]
    result = priced(*albs, usage={"aws:lb/loadBalancer:LoadBalancer": {"lcuPerHour": 0}})
    total, baseline, usage = displayed_split(result)
    assert sum(line_cents(result)) == total == Decimal("49.28")  # 3 x 730 h x $0.0225 = $49.275
    assert baseline + usage == total


def test_csv_ends_with_a_total_row_and_lists_unpriced_items() -> None:
    albs = [resource("aws:lb/loadBalancer:LoadBalancer", f"alb-{i}", {"internal": True}) for i in range(3)]
    result = priced(*albs, resource("aws:sagemaker/endpoint:Endpoint", "mystery"))
    rows = list(csv.DictReader(io.StringIO(to_csv(result))))
    assert rows[-1]["resource"] == "TOTAL"
    assert rows[-1]["kind"] == "total-lower-bound", "an unpriced baseline item makes the total a lower bound"
    assert Decimal(rows[-1]["monthlyUsd"]) == sum(Decimal(r["monthlyUsd"]) for r in rows if r["kind"] == "baseline")
    assert Decimal(rows[-1]["monthlyUsd"]) == Decimal("49.28")
    assert Decimal(rows[-1]["yearlyUsd"]) == 12 * Decimal("49.28")
    assert "mystery" in [r["resource"] for r in rows if r["kind"] == "unpriced"]
    assert {(r["stack"], r["tier"]) for r in rows} == {(result.stack, result.tier)}, "every row names its stack"


def test_a_csv_of_several_estimates_ends_with_a_numeric_total_of_all() -> None:
    one = priced(resource("aws:lb/loadBalancer:LoadBalancer", "alb", {"internal": True}))
    two = priced(*[resource("aws:lb/loadBalancer:LoadBalancer", f"alb-{i}", {"internal": True}) for i in range(2)])
    rows = list(csv.DictReader(io.StringIO(to_csv([one, two]))))
    totals = [r for r in rows if r["resource"] == "TOTAL"]
    assert [r["stack"] for r in totals] == [one.stack, two.stack, "ALL"]
    assert Decimal(totals[-1]["monthlyUsd"]) == Decimal(totals[0]["monthlyUsd"]) + Decimal(totals[1]["monthlyUsd"])
    assert Decimal(totals[-1]["yearlyUsd"]) == 12 * Decimal(totals[-1]["monthlyUsd"])
    assert totals[-1]["kind"] == "total"


def test_quantities_are_shown_to_four_decimals_at_most() -> None:
    assert quantity(Decimal(90 * 24) / 730 * 10) == "29.589"
    assert quantity(Decimal("243.3333333333333333333333334")) == "243.3333"
    assert quantity(Decimal("2920")) == "2,920"
    logs = resource("aws:cloudwatch/logGroup:LogGroup", "logs", {"retentionInDays": 90})
    document = to_json(priced(logs, usage={"aws:cloudwatch/logGroup:LogGroup": {"ingestedGb": 10}}))
    assert '"quantity": 29.589,' in document


def fleet(instance_type: str) -> tuple[dict, ...]:
    """A tier's fleet behind an internal load balancer (what tier A needs, so nothing else is unpriced)."""
    template = resource(LT, "app-lt", {"instanceType": instance_type})
    alb = resource("aws:lb/loadBalancer:LoadBalancer", "alb", {"internal": True})
    return template, alb, resource(ASG, "app-asg", {"desiredCapacity": 4, "launchTemplate": {"id": "app-lt-id"}})


def test_an_upgrade_to_an_unpriced_type_is_unknown_in_the_diff_not_a_saving() -> None:
    before, after = priced(*fleet("c7g.xlarge")), priced(*fleet("c7g.16xlarge"))
    change = diff(before, after, "plan before.json")
    [asg] = [c for c in change.changes if c.resource == "app-asg"]
    assert asg.marker == "?"
    assert not asg.known
    assert any("ec2.instance.c7g.16xlarge" in reason for reason in asg.unpriced)
    assert not change.known
    text = "\n".join(diff_lines(change))
    assert "? app-asg  unknown (priced parts $423.40 -> $0.00; unpriced: 4 x c7g.16xlarge" in text
    assert "Monthly total: unknown" in text
    assert "-$423.40 (" not in text.replace("(-$423.40)", "")
    record = diff_record(change)
    assert record["changeUsd"] is None
    assert next(r for r in record["resources"] if r["resource"] == "app-asg")["changeUsd"] is None


def test_a_fully_priced_change_keeps_its_sign_and_amount() -> None:
    change = diff(priced(*fleet("c7g.xlarge")), priced(*fleet("c7g.2xlarge")), "stack dev")
    [asg] = [c for c in change.changes if c.resource == "app-asg"]
    assert (asg.marker, asg.change) == ("~", 4 * 730 * (Decimal("0.29") - Decimal("0.145")))
    assert change.known


def test_usage_based_gaps_leave_the_change_known() -> None:
    """Atlas backup storage is usage-based and unpriced on one side only: the cluster's change is still known."""

    def atlas(size: str, **flags: object) -> dict:
        spec = {"regionConfigs": [{"providerName": "AWS", "electableSpecs": {"instanceSize": size, "nodeCount": 3}}]}
        return resource(
            "mongodbatlas:index/advancedCluster:AdvancedCluster", "db", {"replicationSpecs": [spec], **flags}
        )

    change = diff(
        priced(*fleet("c7g.xlarge"), atlas("M10")), priced(*fleet("c7g.xlarge"), atlas("M30", backupEnabled=True)), "x"
    )
    [db] = [c for c in change.changes if c.resource == "db"]
    assert (db.marker, db.known) == ("~", True)
    assert change.known
