"""What the container smoke suite runs, read from the deployment itself, and how it talks to it.

The services are those of ``docker-compose.yml``: the same images for PostgreSQL and Redis, the
same commands for the migration and the two workers, so the suite follows the deployment when
it changes. The containers are pytest-celery's (``CeleryTestContainer``,
``CeleryWorkerContainer``) around the project's own image, built from the ``Dockerfile``.
"""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import docker
import yaml
from pytest_celery import CeleryTestContainer, CeleryWorkerContainer

from ctworkflow import constants

ROOT = Path(__file__).parent.parent.parent
#: Where the workers find the remote of the target repository (a volume both mount).
REMOTES = "/srv/git"
#: The user the image runs as (Dockerfile: ``USER 10001:10001``).
IMAGE_USER = "10001:10001"
POSTGRES_USER = "ctw"
#: The sample (ctworkflow.cli.demo_sample.python_sample): its context, modules and remote.
CONTEXT = "shop.accounts"
MODULES = ("user", "user_repository", "accounts_live")
REMOTE = f"{REMOTES}/shop/remote.git"
ACCOUNT = "smoke"
PROJECT = "shop"
#: A throwaway database in a throwaway container, reachable from its network only.
POSTGRES_PASSWORD = "smoke"


@dataclass(frozen=True, slots=True)
class Shop:
    """The sample project, registered: the ids a backend sends, and its remote's base commit."""

    account_id: str
    project_id: str
    base: str


@cache
def services() -> dict[str, Any]:
    """The services of docker-compose.yml."""
    found: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return found


def command(service: str) -> list[str]:
    """The command compose runs for ``service``."""
    argv: list[str] = services()[service]["command"]
    return list(argv)


def environment(service: str) -> dict[str, str]:
    """The environment compose gives ``service`` (its credentials are secrets, not here)."""
    return {name: str(value) for name, value in services()[service]["environment"].items()}


def image(service: str) -> str:
    """The image compose runs for a server (``postgres``, ``redis``)."""
    name: str = services()[service]["image"]
    return name


def engine_missing() -> str | None:
    """Why no Docker engine can be used here, in one line; None when one answers."""
    try:
        with docker.from_env(timeout=5) as client:
            client.ping()
    except docker.errors.DockerException as error:
        cause: BaseException = error
        while cause.__cause__ or cause.__context__:
            cause = cause.__cause__ or cause.__context__  # type: ignore[assignment]
        reason = getattr(cause, "strerror", None) or str(cause).splitlines()[0]
        address = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        return f"no Docker engine at {address} ({reason}): the container smoke suite needs one"
    return None


def run(container: Any, argv: list[str], *, user: str = "") -> str:
    """Run ``argv`` in a running container (as the image's user unless told); its stdout.

    A failure fails the test with the command, its exit status and its output.
    """
    code, (out, err) = container.exec_run(argv, user=user, demux=True)
    stdout, stderr = (out or b"").decode(), (err or b"").decode()
    assert code == 0, f"{shlex.join(argv)} exited with {code}:\n{stdout}{stderr}"
    return stdout


def json_of(container: Any, argv: list[str]) -> Any:
    """The JSON a ``ctw ... --json`` command run in ``container`` prints."""
    return json.loads(run(container, argv))


class PostgresContainer(CeleryTestContainer):  # type: ignore[misc]
    """PostgreSQL, ready once it accepts TCP connections (its first-start server accepts none)."""

    def ready(self) -> bool:
        self._container.reload()
        if self.status != "running":
            return False
        code, _ = self.exec_run(["pg_isready", "-h", "127.0.0.1", "-U", POSTGRES_USER])
        return bool(code == 0)

    def url(self) -> str:
        """The SQLAlchemy URL of its database, from the containers of its network."""
        return (
            f"postgresql+psycopg://{POSTGRES_USER}:{POSTGRES_PASSWORD}@{self.name}:5432/"
            f"{POSTGRES_USER}"
        )


class WorkerContainer(CeleryWorkerContainer):  # type: ignore[misc]
    """A worker of the project's image, run with the command compose gives its service.

    Its node name is ``<service>@<container hostname>`` (compose's ``--hostname``), which is
    what pytest-celery's ``CeleryTestWorker.hostname()`` builds from these class methods.
    """

    SERVICE: ClassVar[str]
    QUEUE: ClassVar[str]

    @classmethod
    def command(cls, *args: str, **kwargs: Any) -> list[str]:
        return [*command(cls.SERVICE), *args]

    @classmethod
    def worker_name(cls) -> str:
        return cls.SERVICE

    @classmethod
    def worker_queue(cls) -> str:
        return cls.QUEUE

    @property
    def client(self) -> WorkerContainer:
        return self


class OrchestrationWorker(WorkerContainer):
    SERVICE = "orchestration"
    QUEUE = constants.ORCHESTRATION_QUEUE


class ComponentWorker(WorkerContainer):
    SERVICE = "components"
    QUEUE = constants.COMPONENT_QUEUE
