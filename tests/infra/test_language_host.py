"""`pulumi up` runs infra/ through the language host: imports and the working directory must hold there too."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.infra.plans import REPO_ROOT

DRIVER = REPO_ROOT / "tests" / "infra" / "language_host_driver.py"
REAL_DEV_CONFIG = {
    "aws:region": "us-east-1",
    "contentry:tier": "C",
    "contentry:atlasOrgId": "5f1e2d3c4b5a69788796a5b4",
    "contentry:alertEmail": "ops@contentry.ai",
    "contentry:appImageTag": "1.4.2",
}


def run_like_the_host(config: dict[str, str], stack: str = "dev") -> dict:
    env = {**os.environ, "PULUMI_CONFIG": json.dumps(config), "DRIVER_STACK": stack}
    env.pop("PYTHONPATH", None)
    result = subprocess.run(
        [sys.executable, str(DRIVER), str(REPO_ROOT / "infra")],
        cwd=REPO_ROOT / "infra",
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_main_runs_from_the_infra_folder_as_the_language_host_runs_it() -> None:
    outcome = run_like_the_host(REAL_DEV_CONFIG)
    assert "run_error" not in outcome, outcome
    assert outcome["infra_module"] == str(REPO_ROOT / "infra" / "__init__.py")
    assert outcome["cwd"] == str(REPO_ROOT / "infra")
    assert "aws:ec2/vpc:Vpc" in outcome["types"]
    assert "contentry:network:Network" in outcome["types"]


@pytest.mark.slow
def test_a_real_run_refuses_invalid_config_before_registering_anything() -> None:
    outcome = run_like_the_host({**REAL_DEV_CONFIG, "contentry:tier": "Z", "contentry:atlasOrgId": "<your org>"})
    message = outcome["run_error"]
    assert "contentry:tier: 'Z' is not a tier" in message
    assert "pulumi config set atlasOrgId <value> --stack dev" in message
    assert outcome["registered"] == 0, "a resource was registered before the config was validated"
