"""Runs infra/ the way Pulumi's Python language host does, under the SDK's own mocks, in a fresh process.

The host calls `runpy.run_path(<main folder>, run_name="__main__")` inside `run_in_stack`, after a chdir to the
program folder, with that folder as sys.path[0] and the repository root not on the path. This driver also hides
the editable install of the project, so it proves `infra/__main__.py` finds its own package.

Usage: python language_host_driver.py <infra dir>; config comes from PULUMI_CONFIG, as the host passes it.
Prints one JSON line: the registered resources' types, or the RunError's message.
"""

import json
import os
import runpy
import sys

infra_dir = os.path.abspath(sys.argv[1])
repo_root = os.path.dirname(infra_dir)
sys.path[:] = [infra_dir] + [p for p in sys.path[1:] if os.path.abspath(p or ".") != repo_root]
sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")]
os.chdir(infra_dir)

import pulumi  # noqa: E402
from pulumi.runtime import mocks, settings  # noqa: E402
from pulumi.runtime.stack import run_in_stack  # noqa: E402
from pulumi.runtime.sync_await import _sync_await  # noqa: E402


class Mocks(pulumi.runtime.Mocks):
    """The offline plan's answers (computed outputs, invokes), imported only once the program has run
    `infra/__main__.py`: importing `infra` here, before the program fixes sys.path, would defeat the test."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        return _plan_mocks().new_resource(args)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        return _plan_mocks().call(args)


def _plan_mocks() -> pulumi.runtime.Mocks:
    from infra.plan.mocks import PlanMocks

    return PlanMocks("us-east-1")


monitor = mocks.MockMonitor(Mocks())
mocks.set_mocks(Mocks(), project="contentry", stack=os.environ["DRIVER_STACK"], preview=False, monitor=monitor)
settings.ROOT.set(None)  # set_mocks made a root stack; the host's run_in_stack makes its own
try:

    def program() -> None:
        runpy.run_path(infra_dir, run_name="__main__")

    _sync_await(run_in_stack(program))
except pulumi.RunError as error:
    print(json.dumps({"run_error": str(error), "registered": len(monitor.resources)}))
    sys.exit(0)
types = sorted(r.urn.split("::")[2].split("$")[-1] for r in monitor.resources.values())
infra_module = sys.modules["infra"].__file__
print(json.dumps({"types": types, "infra_module": infra_module, "cwd": os.getcwd()}))
