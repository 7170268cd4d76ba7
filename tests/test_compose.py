"""docker-compose.yml cannot run here (no Docker): check it parses and matches the code."""

from __future__ import annotations

import importlib
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from ctworkflow import constants
from ctworkflow.config import Settings
from tests.cli_support import CTW, base_env

ROOT = Path(__file__).parent.parent
SETTINGS = {f"CTW_{name.upper()}" for name in Settings.model_fields}
QUEUES = {constants.ORCHESTRATION_QUEUE, constants.COMPONENT_QUEUE}


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
    assert "ping" in services["redis"]["healthcheck"]["test"]
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
        assert env["CTW_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["CTW_BROKER_URL"].startswith("redis://redis:6379/")


def test_workers_run_our_app_on_our_queues(services: dict[str, Any]) -> None:
    for name, queue in (
        ("orchestration", constants.ORCHESTRATION_QUEUE),
        ("components", constants.COMPONENT_QUEUE),
    ):
        command = services[name]["command"]
        assert command[:1] == ["celery"] and "worker" in command
        module = importlib.import_module(option(command, "-A"))
        assert module.app.main == "ctworkflow"
        assert option(command, "-Q").split(",") == [queue]
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
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
    assert "FLOWER_BASIC_AUTH" in flower["environment"]


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
