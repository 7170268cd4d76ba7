"""The fixtures of the container smoke suite (conftest.py brings them in, with pytest-celery's).

pytest-celery's ``celery_setup`` is the entry point; these give it its parts: Redis broker and
backend (compose's Redis image), the deployment's two workers in containers of the image the
``Dockerfile`` builds, compose's PostgreSQL migrated by compose's ``migrate`` command, and a
volume both workers mount that holds the target's bare remote.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import docker
import pytest
from pytest_celery import (
    CeleryBackendCluster,
    CeleryBrokerCluster,
    CeleryTestWorker,
    CeleryWorkerCluster,
    RedisTestBackend,
    RedisTestBroker,
)
from pytest_docker_tools import build, container, volume

from tests.containers import stack
from tests.containers.stack import ACCOUNT, CONTEXT, MODULES, PROJECT, REMOTE, Shop


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """The Docker engine (pytest-docker-tools' fixture, with room for the image's build)."""
    # Building the image installs every dependency: a long silence on the build's stream.
    with docker.from_env(timeout=900) as client:
        yield client


# The project's own image, as compose builds it (`build: .`).
ctw_image = build(path=str(stack.ROOT), tag="ctworkflow:smoke", scope="session")

ctw_postgres = container(
    image=stack.image("postgres"),
    environment={
        "POSTGRES_USER": stack.POSTGRES_USER,
        "POSTGRES_PASSWORD": stack.POSTGRES_PASSWORD,
    },
    network="{default_pytest_celery_network.name}",
    wrapper_class=stack.PostgresContainer,
    timeout=120,
)

# The remotes both workers reach, at the same path, as a deployment's git server would be.
ctw_remotes = volume()

_WORKER: dict[str, Any] = {
    "image": "{ctw_image.id}",
    # A function of fixtures, so that pytest knows the dependency (fxtr() hides it from
    # --setup-plan and from the order of setup).
    "environment": lambda ctw_worker_env: ctw_worker_env,
    "network": "{default_pytest_celery_network.name}",
    "volumes": {"{ctw_remotes.name}": {"bind": stack.REMOTES, "mode": "rw"}},
    "timeout": 120,
}
ctw_orchestration = container(
    command=stack.OrchestrationWorker.command(),
    wrapper_class=stack.OrchestrationWorker,
    **_WORKER,
)
ctw_components = container(
    command=stack.ComponentWorker.command(),
    wrapper_class=stack.ComponentWorker,
    **_WORKER,
)


@pytest.fixture
def default_redis_broker_image() -> str:
    return stack.image("redis")


@pytest.fixture
def default_redis_backend_image() -> str:
    return stack.image("redis")


@pytest.fixture
def celery_broker_cluster(celery_redis_broker: RedisTestBroker) -> Iterator[CeleryBrokerCluster]:
    """Redis only: the broker the deployment runs (pytest-celery would add RabbitMQ)."""
    cluster = CeleryBrokerCluster(celery_redis_broker)
    yield cluster
    cluster.teardown()


@pytest.fixture
def celery_backend_cluster(
    celery_redis_backend: RedisTestBackend,
) -> Iterator[CeleryBackendCluster]:
    cluster = CeleryBackendCluster(celery_redis_backend)
    yield cluster
    cluster.teardown()


@pytest.fixture
def ctw_database(
    docker_client: docker.DockerClient,
    ctw_image: Any,
    ctw_postgres: stack.PostgresContainer,
    default_pytest_celery_network: Any,
) -> str:
    """PostgreSQL migrated by compose's one-shot ``migrate`` command; its URL."""
    url = ctw_postgres.url()
    docker_client.containers.run(
        ctw_image.id,
        stack.command("migrate"),
        environment={"CTW_DATABASE_URL": url},
        network=default_pytest_celery_network.name,
        remove=True,
    )
    return url


@pytest.fixture
def ctw_worker_env(
    ctw_database: str,
    celery_redis_broker: RedisTestBroker,
    celery_redis_backend: RedisTestBackend,
) -> dict[str, str]:
    """The settings compose gives the workers, pointed at this suite's servers."""
    return {
        **stack.environment("orchestration"),
        "CTW_DATABASE_URL": ctw_database,
        "CTW_BROKER_URL": celery_redis_broker.config()["url"],
        "CTW_RESULT_BACKEND": celery_redis_backend.config()["url"],
        # Compose lifts Docker's masked /proc paths for bubblewrap (systempaths=unconfined), which
        # the Docker SDK cannot ask for: here the workers are told to run without a sandbox.
        "CTW_SANDBOX": "none",
        "CTW_LOG_LEVEL": "INFO",
    }


@pytest.fixture
def celery_worker_cluster(
    ctw_orchestration: stack.OrchestrationWorker,
    ctw_components: stack.ComponentWorker,
    celery_setup_app: Any,
) -> Iterator[CeleryWorkerCluster]:
    """The deployment's two workers, each on its queue."""
    cluster = CeleryWorkerCluster(
        CeleryTestWorker(ctw_orchestration, app=celery_setup_app),
        CeleryTestWorker(ctw_components, app=celery_setup_app),
    )
    yield cluster
    cluster.teardown()


@pytest.fixture
def shop(ctw_orchestration: stack.OrchestrationWorker) -> Shop:
    """The demo's sample repository published to a bare remote on the shared volume, and
    registered with the image's own ``ctw`` commands (account, project, discovery)."""
    worker = ctw_orchestration
    stack.run(worker, ["chown", stack.IMAGE_USER, stack.REMOTES], user="root")
    sample = (
        "from pathlib import Path\n"
        "from ctworkflow.cli.demo_sample import python_sample\n"
        f"python_sample(Path({stack.REMOTES + '/shop'!r}), modules={MODULES!r})\n"
    )
    stack.run(worker, ["python", "-c", sample])
    account = stack.json_of(worker, ["ctw", "account", "create", ACCOUNT, "--json"])
    create = ["ctw", "project", "create", PROJECT, "--repo", REMOTE, "--layout", "python"]
    project = stack.json_of(worker, [*create, "--account", ACCOUNT, "--json"])
    found = stack.json_of(
        worker, ["ctw", "discover", "--account", ACCOUNT, "--project", PROJECT, "--json"]
    )
    assert set(found["added"]) >= {CONTEXT, *(f"{CONTEXT}.{m}" for m in MODULES)}, found
    base = stack.run(worker, ["git", "--git-dir", REMOTE, "rev-parse", "main"]).strip()
    return Shop(account_id=account["id"], project_id=project["id"], base=base)
