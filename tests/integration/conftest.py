"""Fixtures of the integration tier."""

from __future__ import annotations

import pytest

from tests.factories import Tenant, make_tenant


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/integration needs the throwaway servers."""
    for item in items:
        if "/integration/" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def tenant(database_url: str) -> Tenant:
    """The seed's tenant in a fresh database."""
    return make_tenant(database_url)


@pytest.fixture
def other_tenant(database_url: str) -> Tenant:
    """A second account, in the same database, with the same kind of context."""
    return make_tenant(database_url)
