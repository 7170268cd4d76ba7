"""The container smoke suite's fixtures: pytest-celery's and its own (fixtures.py), and its skip.

Without a Docker engine, its tests are skipped at collection, each with one line saying why.
"""

from __future__ import annotations

import pytest

# The fixtures of pytest-celery this suite uses. Its plugin is off (pyproject's -p no:celery):
# imported here, they exist for this folder only, and no other test loads or sees them.
from pytest_celery import (  # noqa: F401
    celery_backend_cluster_config,
    celery_broker_cluster_config,
    celery_redis_backend,
    celery_redis_broker,
    celery_setup,
    celery_setup_app,
    celery_setup_cls,
    celery_setup_config,
    celery_setup_name,
    celery_worker_cluster_config,
    default_pytest_celery_network,
    default_redis_backend,
    default_redis_backend_cls,
    default_redis_backend_command,
    default_redis_backend_env,
    default_redis_backend_ports,
    default_redis_broker,
    default_redis_broker_cls,
    default_redis_broker_command,
    default_redis_broker_env,
    default_redis_broker_ports,
)

from tests.containers import stack

# This suite's own fixtures (tests/containers/fixtures.py).
from tests.containers.fixtures import (  # noqa: F401
    celery_backend_cluster,
    celery_broker_cluster,
    celery_worker_cluster,
    ctw_components,
    ctw_database,
    ctw_image,
    ctw_orchestration,
    ctw_postgres,
    ctw_remotes,
    ctw_worker_env,
    default_redis_backend_image,
    default_redis_broker_image,
    docker_client,
    shop,
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without a Docker engine, the suite's tests are skipped with one line saying why.

    ``--setup-plan`` runs nothing, so it needs no engine: it shows the whole setup (and a
    fixture missing from it, which a skip would hide; tests/containers/test_wiring.py).
    """
    smoke = [item for item in items if item.get_closest_marker("containers")]
    if not smoke or config.option.setupplan:
        return
    missing = stack.engine_missing()
    if missing is not None:
        for item in smoke:
            item.add_marker(pytest.mark.skip(reason=missing))
