"""The app instances' user data: a valid cloud-init document that runs exactly the configured image, keeps
the secret out of every log, and changes whenever the image does. Pure renderer first, then through the plan."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from infra.planning.compute.user_data import (
    APP_ENV_FILE,
    CLOUDWATCH_AGENT_CONFIG,
    GUNICORN_COMMAND,
    JOURNAL_COPY_UNIT_NAME,
    JOURNAL_COPY_UNIT_PATH,
    PREPARE_SCRIPT,
    SECRET_TO_ENV_SCRIPT,
    UNIT_LOG_FILE,
    UNIT_NAME,
    UNIT_PATH,
    AppBoot,
    render_user_data,
)
from tests.infra.compute.compute_support import (
    EC2_STACKS,
    cloud_config,
    exec_start,
    stack_plan,
    unit_directives,
    user_data_of,
    written_file,
)

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
REPOSITORY = f"{REGISTRY}/contentry-prod/api"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:contentry-prod-app-AbCdEf"
DIGEST = "sha256:" + "ab" * 32
EC2_USER_DATA_LIMIT = 16 * 1024  # bytes, before base64


def boot(tag: str = "1.4.2", *, digest: bool = False) -> AppBoot:
    return AppBoot(
        region="us-east-1",
        image=f"{REPOSITORY}@{tag}" if digest else f"{REPOSITORY}:{tag}",
        release=tag,
        registry=REGISTRY,
        app_secret_arn=SECRET_ARN,
        log_group_name="/contentry-prod/api",
        workers=4,
        mongo_max_pool_size=23,
        settings_digest=SECRET_DIGEST,
    )


def test_is_a_cloud_config_that_installs_docker_and_the_cloudwatch_agent() -> None:
    document = cloud_config(render_user_data(boot()))
    assert {"docker", "amazon-cloudwatch-agent"} <= set(document["packages"])
    # Patches arrive as a new AMI (a new launch template version), never as an unpinned upgrade at boot.
    assert document["package_upgrade"] is False
    assert len(render_user_data(boot()).encode()) < EC2_USER_DATA_LIMIT


def test_runs_exactly_the_configured_image_under_gunicorn() -> None:
    args = exec_start(cloud_config(render_user_data(boot("1.4.2"))), UNIT_PATH)
    assert args[:2] == ["/usr/bin/docker", "run"]
    image_index = args.index(f"{REPOSITORY}:1.4.2")
    assert tuple(args[image_index + 1 :]) == GUNICORN_COMMAND
    assert [a for a in args if REGISTRY in a] == [f"{REPOSITORY}:1.4.2"], "exactly one image on the command line"
    assert args[args.index("--pull") + 1] == "never", "run only what the prepare step pulled"
    assert args[args.index("--env-file") + 1] == APP_ENV_FILE
    assert args[args.index("--publish") + 1] == "8000:8000"


def test_a_digest_is_referenced_with_an_at_sign() -> None:
    args = exec_start(cloud_config(render_user_data(boot(DIGEST, digest=True))), UNIT_PATH)
    assert f"{REPOSITORY}@{DIGEST}" in args
    assert f"{REPOSITORY}:{DIGEST}" not in args


def test_the_container_is_locked_down_and_logs_to_cloudwatch() -> None:
    args = exec_start(cloud_config(render_user_data(boot())), UNIT_PATH)
    assert "--read-only" in args
    assert args[args.index("--cap-drop") + 1] == "ALL"
    assert "no-new-privileges" in args
    assert "--privileged" not in args
    assert args[args.index("--log-driver") + 1] == "awslogs"
    log_options = {
        args[i + 1].split("=", 1)[0]: args[i + 1].split("=", 1)[1] for i, a in enumerate(args) if a == "--log-opt"
    }
    assert log_options["awslogs-group"] == "/contentry-prod/api"
    assert log_options["awslogs-region"] == "us-east-1"
    assert log_options["mode"] == "non-blocking"


def test_systemd_restarts_the_container_on_failure_and_starts_it_on_boot() -> None:
    document = cloud_config(render_user_data(boot()))
    unit = unit_directives(written_file(document, UNIT_PATH)["content"])
    assert unit["Restart"] == ["always"]
    assert unit["WantedBy"] == ["multi-user.target"]
    assert unit["Requires"] == ["docker.service"]
    assert PREPARE_SCRIPT in unit["ExecStartPre"]
    assert ["systemctl", "enable", "--now", UNIT_NAME] in document["runcmd"]
    assert ["systemctl", "enable", "--now", "docker.service"] in document["runcmd"]
    # systemd owns restarts; a Docker restart policy as well would fight it.
    assert not any(a.startswith("--restart") for a in exec_start(document, UNIT_PATH))


def test_scripts_are_root_only() -> None:
    document = cloud_config(render_user_data(boot()))
    for path in (PREPARE_SCRIPT, SECRET_TO_ENV_SCRIPT):
        entry = written_file(document, path)
        assert (entry["owner"], entry["permissions"]) == ("root:root", "0700"), path


def test_the_user_data_carries_the_secret_arn_never_a_secret_value() -> None:
    text = render_user_data(boot())
    assert SECRET_ARN in text
    for name in ("MONGO_URL=", "REDIS_URL=", "JWT_KEYS=", "JWT_SECRET=", "HEALTH_DETAILED_TOKEN="):
        assert name not in text, f"{name} must come from Secrets Manager at boot, not from user data"
    prepare = written_file(cloud_config(text), PREPARE_SCRIPT)["content"]
    assert "set -x" not in prepare.replace("Never add `set -x`", "")


def test_the_cloudwatch_agent_collects_memory_disk_and_the_boot_logs() -> None:
    config = json.loads(written_file(cloud_config(render_user_data(boot())), CLOUDWATCH_AGENT_CONFIG)["content"])
    collected = config["metrics"]["metrics_collected"]
    assert "mem_used_percent" in collected["mem"]["measurement"]
    assert "used_percent" in collected["disk"]["measurement"]
    assert ["AutoScalingGroupName"] in config["metrics"]["aggregation_dimensions"]
    files = {entry["file_path"]: entry for entry in config["logs"]["logs_collected"]["files"]["collect_list"]}
    assert set(files) == {"/var/log/cloud-init-output.log", UNIT_LOG_FILE}
    # Into the app's own log group, one stream per instance and source, beside the container's stream.
    assert {entry["log_group_name"] for entry in files.values()} == {"/contentry-prod/api"}
    assert files[UNIT_LOG_FILE]["log_stream_name"] == "{instance_id}/api-unit"


def test_the_api_unit_s_journal_is_copied_to_the_file_the_agent_ships() -> None:
    """Boot failures (the secret unreadable, the image not pulled, systemd's restarts) reach CloudWatch, not
    only journald."""
    document = cloud_config(render_user_data(boot()))
    copy = unit_directives(written_file(document, JOURNAL_COPY_UNIT_PATH)["content"])
    (command,) = copy["ExecStart"]
    words = shlex.split(command)
    assert words[0] == "/usr/bin/journalctl"
    assert f"--unit={UNIT_NAME}" in words
    assert "--follow" in words
    assert copy["StandardOutput"] == [f"append:{UNIT_LOG_FILE}"]
    assert copy["Restart"] == ["always"]
    api = unit_directives(written_file(document, UNIT_PATH)["content"])
    assert JOURNAL_COPY_UNIT_NAME in api["Wants"]
    # The agent starts first (it reads the copy from its start), then the copy, then the API.
    commands = [" ".join(step) for step in document["runcmd"]]
    agent = next(i for i, step in enumerate(commands) if "amazon-cloudwatch-agent-ctl" in step)
    copying = commands.index(f"systemctl enable --now {JOURNAL_COPY_UNIT_NAME}")
    assert agent < copying < commands.index(f"systemctl enable --now {UNIT_NAME}")


def test_only_the_container_s_stderr_reaches_the_journal_so_request_logs_are_not_shipped_twice() -> None:
    args = exec_start(cloud_config(render_user_data(boot())), UNIT_PATH)
    assert args[args.index("--attach") + 1] == "stderr"
    assert args[args.index("--log-driver") + 1] == "awslogs"


@pytest.mark.skipif(shutil.which("journalctl") is None, reason="needs journalctl (systemd 252, as AL2023)")
def test_journalctl_accepts_the_copy_s_options(tmp_path: Path) -> None:
    document = cloud_config(render_user_data(boot()))
    (command,) = unit_directives(written_file(document, JOURNAL_COPY_UNIT_PATH)["content"])["ExecStart"]
    words = [w for w in shlex.split(command) if w != "--follow"]
    words = [f"--cursor-file={tmp_path / 'cursor'}" if w.startswith("--cursor-file=") else w for w in words]
    result = subprocess.run([*words, "--no-pager"], capture_output=True, text=True, check=False, timeout=60)
    assert "unrecognized option" not in result.stderr, result.stderr
    assert "Invalid" not in result.stderr, result.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_accepts_both_units(tmp_path: Path) -> None:
    document = cloud_config(render_user_data(boot()))
    for path in (UNIT_PATH, JOURNAL_COPY_UNIT_PATH):
        unit = tmp_path / Path(path).name
        unit.write_text(written_file(document, path)["content"])
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    output = result.stdout + result.stderr
    for complaint in ("Unknown key", "Unknown section", "Invalid", "Failed to parse", "bad unit"):
        assert complaint not in output, output


def test_rendering_is_deterministic_and_follows_the_image() -> None:
    assert render_user_data(boot("1.4.2")) == render_user_data(boot("1.4.2"))
    assert render_user_data(boot("1.4.2")) != render_user_data(boot("1.4.3"))


def test_a_value_that_would_need_quoting_in_systemd_is_refused() -> None:
    unsafe = AppBoot(
        region="us-east-1",
        image=f"{REPOSITORY}:1.0.0",
        release="1.0.0",
        registry=REGISTRY,
        app_secret_arn=SECRET_ARN,
        log_group_name="/contentry prod/%api",
        workers=4,
        mongo_max_pool_size=23,
        settings_digest=SECRET_DIGEST,
    )
    with pytest.raises(ValueError, match="quoting"):
        render_user_data(unsafe)


# The two scripts, run for real with stand-ins for `aws` and `docker`.

SECRET = {
    "MONGO_URL": "mongodb+srv://app:s3cr3t-pw@cluster.example.net/contentry",
    "REDIS_URL": "rediss://:t0ken-value@cache.example.net:6379/0",
    "JWT_KEYS": json.dumps({"gen-1": "i" * 64, "gen-2": "j" * 64}),
    "JWT_CURRENT_KID": "gen-1",
    "HEALTH_DETAILED_TOKEN": "h" * 64,
    "S3_BUCKET": "contentry-prod-uploads",
}
SECRET_VALUES = [v for k, v in SECRET.items() if k not in ("S3_BUCKET", "JWT_CURRENT_KID")] + ["i" * 64, "j" * 64]
SECRET_DIGEST = hashlib.sha256(json.dumps(SECRET).encode()).hexdigest()
"""The digest the launch template carries for SECRET, as the program computes it from the secret's document."""


def secret_to_env(
    tmp_path: Path, secret_text: str, *fixed: str, expected_digest: str | None = None
) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "secret-to-env"
    script.write_text(written_file(cloud_config(render_user_data(boot())), SECRET_TO_ENV_SCRIPT)["content"])
    env = {**os.environ, "EXPECTED_SETTINGS_SHA256": expected_digest} if expected_digest else None
    return subprocess.run(
        [sys.executable, str(script), *fixed], input=secret_text, capture_output=True, text=True, check=False, env=env
    )


def test_secret_to_env_writes_every_key_and_the_instance_values(tmp_path: Path) -> None:
    result = secret_to_env(tmp_path, json.dumps(SECRET), "APP_ENV=production", "APP_RELEASE=1.4.2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert dict(line.split("=", 1) for line in lines) == {**SECRET, "APP_ENV": "production", "APP_RELEASE": "1.4.2"}


@pytest.mark.parametrize(
    ("secret_text", "expected"),
    [
        ("not json " + SECRET["MONGO_URL"], "not JSON"),
        (json.dumps({**SECRET, "APP_ENV": "development"}), "must not set APP_ENV"),
        (json.dumps({**SECRET, "JWT_KEYS": '{"gen-1":\n"' + "x" * 40 + '"}'}), "JWT_KEYS is not a one-line string"),
        (json.dumps({**SECRET, "bad-key": "v"}), "not an environment variable name"),
        (json.dumps([SECRET["MONGO_URL"]]), "not a non-empty JSON object"),
    ],
)
def test_secret_to_env_refuses_bad_secrets_without_echoing_them(
    tmp_path: Path, secret_text: str, expected: str
) -> None:
    result = secret_to_env(tmp_path, secret_text, "APP_ENV=production")
    assert result.returncode != 0
    assert expected in result.stderr
    assert not any(value in result.stdout + result.stderr for value in SECRET_VALUES)


def test_secret_to_env_says_when_the_secret_is_not_the_one_the_template_was_made_for(tmp_path: Path) -> None:
    # As the AWS CLI prints it: the value, then a newline (not part of the digest).
    same = secret_to_env(tmp_path, json.dumps(SECRET) + "\n", "APP_ENV=production", expected_digest=SECRET_DIGEST)
    assert same.returncode == 0, same.stderr
    assert same.stderr == ""
    changed = {**SECRET, "JWT_CURRENT_KID": "gen-2"}
    other = secret_to_env(tmp_path, json.dumps(changed) + "\n", "APP_ENV=production", expected_digest=SECRET_DIGEST)
    assert other.returncode == 0, "a secret changed since is still used: the next pulumi up rolls the fleet"
    assert "is not the one this launch template was made for" in other.stderr
    assert SECRET_DIGEST in other.stderr
    assert not any(value in other.stderr for value in SECRET_VALUES)
    assert "JWT_CURRENT_KID=gen-2" in other.stdout


def test_the_settings_digest_is_in_the_user_data_and_nothing_else_of_the_secret() -> None:
    text = render_user_data(boot())
    prepare = written_file(cloud_config(text), PREPARE_SCRIPT)["content"]
    assert f"readonly SETTINGS_SHA256={SECRET_DIGEST}" in prepare
    assert 'EXPECTED_SETTINGS_SHA256="$SETTINGS_SHA256"' in prepare
    other = dataclasses.replace(boot(), settings_digest=hashlib.sha256(b"other settings").hexdigest())
    assert render_user_data(other) != text, "another secret is another launch template version"
    with pytest.raises(ValueError, match="SHA-256 hex digest"):
        render_user_data(dataclasses.replace(boot(), settings_digest="$(reboot)"))


FAKE_AWS = """#!/bin/sh
echo "aws $*" >> "$CALLS"
case "$1 $2" in
  "secretsmanager get-secret-value") cat "$SECRET_FILE" ;;
  "ecr get-login-password") echo ecr-token-value ;;
  *) exit 3 ;;
esac
"""
FAKE_DOCKER = """#!/bin/sh
echo "docker $*" >> "$CALLS"
case "$1" in
  login) echo "stdin: $(cat)" >> "$CALLS" ;;
  image) exit 1 ;;
esac
"""


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_prepare_script_fetches_the_secret_into_a_root_only_file_and_pulls_the_image(tmp_path: Path) -> None:
    document = cloud_config(render_user_data(boot("1.4.2")))
    etc, libexec, bin_dir = tmp_path / "etc", tmp_path / "libexec", tmp_path / "bin"
    for folder in (libexec, bin_dir):
        folder.mkdir()
    prepare = written_file(document, PREPARE_SCRIPT)["content"]
    prepare = prepare.replace("/etc/contentry", str(etc)).replace("/usr/local/libexec/contentry", str(libexec))
    prepare = prepare.replace(" -o root -g root", "")  # the test does not run as root
    (libexec / "prepare-api").write_text(prepare)
    secret_to_env_program = written_file(document, SECRET_TO_ENV_SCRIPT)["content"]
    (libexec / "secret-to-env").write_text(secret_to_env_program.replace("/usr/bin/python3", sys.executable, 1))
    (bin_dir / "aws").write_text(FAKE_AWS)
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    for script in (libexec / "prepare-api", libexec / "secret-to-env", bin_dir / "aws", bin_dir / "docker"):
        script.chmod(0o700)
    (tmp_path / "secret.json").write_text(json.dumps(SECRET))
    calls = tmp_path / "calls.log"
    environment = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CALLS": str(calls),
        "SECRET_FILE": str(tmp_path / "secret.json"),
    }

    result = subprocess.run(
        ["bash", str(libexec / "prepare-api")], env=environment, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == "", "the secret read is the one the launch template was made for: nothing to say"
    assert not any(value in result.stdout + result.stderr for value in SECRET_VALUES), "a secret reached the log"
    env_file = etc / "app.env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(etc.stat().st_mode) == 0o700
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    assert env == {
        **SECRET,
        "APP_ENV": "production",
        "AWS_REGION": "us-east-1",
        "APP_RELEASE": "1.4.2",
        "GUNICORN_BIND": "0.0.0.0:8000",
        "GUNICORN_WORKERS": "4",
        "MONGO_MAX_POOL_SIZE": "23",
    }
    log = calls.read_text()
    assert f"--secret-id {SECRET_ARN}" in log
    assert f"docker login --username AWS --password-stdin {REGISTRY}" in log
    assert "stdin: ecr-token-value" in log, "the registry token goes through stdin, never the command line"
    assert f"docker pull --quiet {REPOSITORY}:1.4.2" in log
    assert list(etc.iterdir()) == [env_file], "no temporary copy of the secret is left behind"


# Through the plan: what each EC2 stack's launch template really carries.


@pytest.mark.parametrize("stack_id", sorted(EC2_STACKS))
def test_the_plan_runs_the_stack_image_from_its_own_repository(stack_id: str) -> None:
    plan = stack_plan(stack_id)
    document = cloud_config(user_data_of(plan))
    args = exec_start(document, UNIT_PATH)
    repository = plan.outputs["imageRepositoryUrl"]
    assert repository.endswith(f"/contentry-{plan.stack}/api")
    assert f"{repository}:1.0.0" in args  # the stack file's placeholder tag, as the offline plan substitutes it
    prepare = written_file(document, PREPARE_SCRIPT)["content"]
    assert f"readonly SECRET_ARN={plan.outputs['appSecretArn']}" in prepare
    assert "APP_RELEASE=1.0.0" in prepare


def test_a_changed_image_tag_changes_the_launch_template_user_data() -> None:
    before = user_data_of(stack_plan("prod"))
    after = user_data_of(stack_plan("prod", ("appImageTag=2.3.4",)))
    assert before != after
    args = exec_start(cloud_config(after), UNIT_PATH)
    repository = stack_plan("prod").outputs["imageRepositoryUrl"]
    assert f"{repository}:2.3.4" in args
    assert f"{repository}:1.0.0" not in args


def test_a_digest_in_config_runs_the_image_by_digest() -> None:
    plan = stack_plan("dev", (f"appImageTag={DIGEST}",))
    args = exec_start(cloud_config(user_data_of(plan)), UNIT_PATH)
    assert f"{plan.outputs['imageRepositoryUrl']}@{DIGEST}" in args


# The prepare step retries the secret, the registry login and the pull with backoff (fake `sleep`: no waiting).

FLAKY_AWS = """#!/bin/sh
echo "aws $*" >> "$CALLS"
count=$(cat "$FAILS_LEFT")
if [ "$count" -gt 0 ]; then
  echo $((count - 1)) > "$FAILS_LEFT"
  echo "An error occurred (AccessDeniedException): credentials not yet valid" >&2
  exit 255
fi
case "$1 $2" in
  "secretsmanager get-secret-value") cat "$SECRET_FILE" ;;
  "ecr get-login-password") echo ecr-token-value ;;
  *) exit 3 ;;
esac
"""
FAKE_SLEEP = """#!/bin/sh
echo "$1" >> "$SLEPT"
"""


def run_prepare(tmp_path: Path, *, failures: int) -> tuple[subprocess.CompletedProcess[str], Path]:
    document = cloud_config(render_user_data(boot("1.4.2")))
    etc, libexec, bin_dir = tmp_path / "etc", tmp_path / "libexec", tmp_path / "bin"
    for folder in (libexec, bin_dir):
        folder.mkdir()
    prepare = written_file(document, PREPARE_SCRIPT)["content"]
    prepare = prepare.replace("/etc/contentry", str(etc)).replace("/usr/local/libexec/contentry", str(libexec))
    prepare = prepare.replace(" -o root -g root", "")
    (libexec / "prepare-api").write_text(prepare)
    secret_to_env_program = written_file(document, SECRET_TO_ENV_SCRIPT)["content"]
    (libexec / "secret-to-env").write_text(secret_to_env_program.replace("/usr/bin/python3", sys.executable, 1))
    (bin_dir / "aws").write_text(FLAKY_AWS)
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "sleep").write_text(FAKE_SLEEP)
    for script in (*libexec.iterdir(), *bin_dir.iterdir()):
        script.chmod(0o700)
    (tmp_path / "secret.json").write_text(json.dumps(SECRET))
    (tmp_path / "fails-left").write_text(str(failures))
    environment = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CALLS": str(tmp_path / "calls.log"),
        "SECRET_FILE": str(tmp_path / "secret.json"),
        "FAILS_LEFT": str(tmp_path / "fails-left"),
        "SLEPT": str(tmp_path / "slept"),
    }
    result = subprocess.run(
        ["bash", str(libexec / "prepare-api")], env=environment, capture_output=True, text=True, check=False
    )
    return result, tmp_path


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_prepare_step_retries_the_secret_with_backoff_until_it_is_readable(tmp_path: Path) -> None:
    """Right after launch the instance role's credentials can take seconds to work."""
    result, folder = run_prepare(tmp_path, failures=3)
    assert result.returncode == 0, result.stderr
    assert (folder / "slept").read_text().split() == ["2", "4", "8"], "exponential backoff"
    assert result.stderr.count("prepare-api: fetch_secret failed") == 3
    assert (folder / "etc" / "app.env").read_text().count("MONGO_URL=") == 1
    assert not any(value in result.stdout + result.stderr for value in SECRET_VALUES)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_prepare_step_gives_up_after_its_attempts_and_leaves_no_partial_secret(tmp_path: Path) -> None:
    result, folder = run_prepare(tmp_path, failures=100)
    assert result.returncode != 0
    assert "fetch_secret failed 6 times; giving up" in result.stderr
    assert (folder / "slept").read_text().split() == ["2", "4", "8", "16", "32"]
    assert list((folder / "etc").iterdir()) == [], "no env file, no temporary copy"
    assert "docker pull" not in (folder / "calls.log").read_text()
