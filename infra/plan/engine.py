"""Runs the program in-process under the mock engine, the way the language host runs it under `pulumi up`."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from infra.config.loader import RawConfig
from infra.plan.mocks import PlanMocks
from infra.plan.recording import Recording, RecordingMonitor

PROGRAM_LOG = logging.getLogger("infra.plan.program")


def run_under_mocks(raw: RawConfig, program: Callable[[], None]) -> Recording:
    """Run `program` as the stack `raw.stack` with `raw`'s config; return what it registered.

    The runtime's settings, root stack and config are process-global: they are reset here on every run, so
    runs never leak into each other (tests run many stacks in one process).
    """
    region = raw.values.get("aws:region", "us-east-1")
    monitor = RecordingMonitor(PlanMocks(region))
    set_all_config(dict(raw.values), sorted(raw.secret_keys))
    pulumi_settings.ROOT.set(None)
    settings = pulumi_mocks.MockSettings(
        monitor=monitor,
        monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
        # What the program logs (pulumi.log.warn: config warnings) goes here; the CLI prints it.
        engine=pulumi_mocks.MockEngine(PROGRAM_LOG),
        project=raw.project,
        stack=raw.stack,
        # Not a preview: with preview=True every computed output stays unknown and .apply() callbacks never run,
        # so the plan would omit exactly the values (policies, ARNs in IAM documents) worth reviewing.
        dry_run=False,
        organization="offline",
        callbacks=None,
    )
    pulumi_settings.configure(settings)
    try:
        _sync_await(run_in_stack(program))
    finally:
        pulumi_settings.ROOT.set(None)
    return monitor.recording


def config_error_or_none(error: BaseException) -> pulumi.RunError | None:
    """The first `RunError` in an exception chain: how the language host decides to print without a traceback."""
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, pulumi.RunError):
            return current
        current = current.__cause__ or current.__context__
    return None
