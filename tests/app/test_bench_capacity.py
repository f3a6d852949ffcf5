"""The capacity run's arithmetic (bench/capacity.py), on made-up runs: the figure is the median requests per app
CPU-second over the steps within p95 < 200 ms and no error, the test database's CPU is apart, the mix is the
traffic model's."""

from typing import Any

from bench.capacity import mix_weights, summarise


def run(app_us: float, database_us: float, response: float, *, within: bool = True, users: int = 1) -> dict[str, Any]:
    return {
        "users": users,
        "rps": 100.0 * users,
        "within_goal": within,
        "app_cpu_us_per_request": app_us,
        "database_cpu_us_per_request": database_us,
        "endpoints": {"cachedRead": {"mean_response_bytes": response}},
    }


def test_the_figure_is_the_median_over_the_steps_within_the_goal() -> None:
    weights = {"cachedRead": 3, "databaseRead": 1}
    classes = {"cachedRead": run(500.0, 0.0, 5000.0), "databaseRead": run(1500.0, 2000.0, 4800.0)}
    steps = [
        run(1000.0, 400.0, 0, users=2),
        run(800.0, 400.0, 0, users=4),
        run(500.0, 400.0, 0, users=8),
        run(100.0, 400.0, 0, users=16, within=False),  # beyond the goal: never counted
    ]
    summary = summarise("A", weights, classes, steps, 256.5)
    assert summary["requests_per_vcpu_second_each_step"] == {2: 1000.0, 4: 1250.0, 8: 2000.0}
    assert summary["requests_per_vcpu_second"] == 1250.0
    assert summary["at_step"]["users"] == 8, "the busiest step within the goal"
    # The classes alone, weighted 3:1: 750 us of app CPU a request; the test database's 500 us is apart.
    assert summary["predicted_from_classes_requests_per_vcpu_second"] == round(1e6 / 750, 1)
    assert summary["test_database_cpu_us_per_request_mix"] == 500.0
    assert summary["response_bytes"]["cachedRead"] == 5000.0
    assert summary["access_line_bytes"] == 256.5


def test_no_step_within_the_goal_gives_no_figure() -> None:
    summary = summarise("A", {"cachedRead": 1}, {}, [run(100.0, 0.0, 0, within=False)], None)
    assert summary["requests_per_vcpu_second"] is None
    assert summary["at_step"] is None


def test_the_mix_is_the_traffic_model_s() -> None:
    weights = mix_weights("A")
    assert set(weights) == {"cachedRead", "databaseRead", "write", "uploadPresign"}
    assert weights["cachedRead"] > weights["databaseRead"] > weights["write"] > weights["uploadPresign"] > 0
