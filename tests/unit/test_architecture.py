"""Which module may import which: the ``[tool.importlinter]`` contracts (docs/architecture.md)."""

from __future__ import annotations

import importlib.metadata
import pkgutil
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from importlinter.cli import lint_imports

import ctworkflow

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"
CONFIG: dict[str, Any] = tomllib.loads(PYPROJECT.read_text())


def contract(contract_id: str) -> dict[str, Any]:
    contracts: list[dict[str, Any]] = CONFIG["tool"]["importlinter"]["contracts"]
    found = [c for c in contracts if c["id"] == contract_id]
    assert len(found) == 1, contract_id
    return found[0]


def test_every_import_contract_is_kept(capsys: pytest.CaptureFixture[str]) -> None:
    code = lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)

    report = capsys.readouterr().out
    assert code == 0, report
    contracts = len(CONFIG["tool"]["importlinter"]["contracts"])
    assert f"Contracts: {contracts} kept, 0 broken." in report, report


def test_the_pure_core_may_import_no_other_part_of_ctworkflow() -> None:
    forbidden = set(contract("pure-core")["forbidden_modules"])
    parts = {
        f"ctworkflow.{info.name}"
        for info in pkgutil.iter_modules(ctworkflow.__path__)
        if info.name not in {"domain", "errors"}
    }

    missing = sorted(parts - forbidden)
    assert missing == [], f"add {missing} to pure-core's forbidden_modules in pyproject.toml"


def test_the_pure_core_may_import_no_dependency_of_the_project() -> None:
    forbidden = set(contract("pure-core")["forbidden_modules"])
    project = CONFIG["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["runner"]]
    wanted = {
        re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements
    }
    modules: dict[str, set[str]] = {}
    for module, distributions in importlib.metadata.packages_distributions().items():
        for distribution in distributions:
            modules.setdefault(distribution.lower().replace("_", "-"), set()).add(module)
    missing = {
        name: sorted(m for m in modules.get(name, set()) if not m.startswith("_"))
        for name in sorted(wanted)
        if not {m for m in modules.get(name, set()) if not m.startswith("_")} <= forbidden
    }

    assert all(name in modules for name in wanted), sorted(wanted - set(modules))
    assert missing == {}, f"add these modules to pure-core's forbidden_modules: {missing}"


def test_nothing_above_persistence_may_import_sqlalchemy() -> None:
    rule = contract("no-sqlalchemy-above-persistence")
    parts = {
        f"ctworkflow.{info.name}"
        for info in pkgutil.iter_modules(ctworkflow.__path__)
        if info.name != "persistence"
    }

    missing = sorted(parts - set(rule["source_modules"]))
    assert missing == [], f"add {missing} to no-sqlalchemy-above-persistence's source_modules"
    assert "sqlalchemy" in rule["forbidden_modules"]
    assert "ignore_imports" not in rule, "no module above persistence is let through"
