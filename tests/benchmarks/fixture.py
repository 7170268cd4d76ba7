"""What a shape runs on: one git repository with its contexts and modules, and its catalog."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from ctworkflow.domain.model import Component, Scope
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.services import catalog
from tests.benchmarks.noop import NOOP
from tests.benchmarks.shapes import Shape
from tests.samples import git

PACKAGE = "benchpkg"
MODULE_SOURCE = '"""A benchmark module."""\n\nVALUE = 1\n'


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchProject:
    """A registered project whose contexts have the shape's components."""

    shape: Shape
    scope: Scope
    remote: Path
    contexts: list[Component]


def context_module(index: int) -> str:
    return f"ctx{index:04d}"


def component_module(index: int) -> str:
    return f"m{index:05d}"


def build_repository(root: Path, shape: Shape) -> Path:
    """``root/remote.git``: a package with ``shape.contexts`` subpackages of modules."""
    work, remote = root / "work", root / "remote.git"
    root.mkdir(parents=True, exist_ok=True)
    git("init", "--quiet", "--bare", "--initial-branch=main", str(remote), cwd=root)
    git("init", "--quiet", "--initial-branch=main", str(work), cwd=root)
    (work / PACKAGE).mkdir()
    (work / PACKAGE / "__init__.py").write_text('"""Benchmark package."""\n')
    for c in range(shape.contexts):
        folder = work / PACKAGE / context_module(c)
        folder.mkdir()
        (folder / "__init__.py").write_text('"""A benchmark context."""\n')
        for m in range(shape.components):
            (folder / f"{component_module(m)}.py").write_text(MODULE_SOURCE)
    git("add", "--all", cwd=work)
    git("commit", "--quiet", "-m", "Benchmark repository", cwd=work)
    git("push", "--quiet", str(remote), "main", cwd=work)
    return remote


def register(database_url: str, root: Path, shape: Shape) -> BenchProject:
    """Build the repository and register its project, contexts and components."""
    remote = build_repository(root, shape)
    with unit_of_work(database_url) as uow:
        account = catalog.create_account(uow, f"bench-{shape.name}-{uuid.uuid4().hex[:6]}")
        project = catalog.create_project(
            uow,
            account.id,
            name=f"bench-{shape.name}",
            code_repo=str(remote),
            layout="python",
            settings={"agent": NOOP, "runner": NOOP, "environment": {"installer": "none"}},
        )
        scope = Scope(account_id=account.id, project_id=project.id, user_id="bench")
        contexts = []
        for c in range(shape.contexts):
            module = f"{PACKAGE}.{context_module(c)}"
            context = catalog.add_component(
                uow, scope, name=f"Bench {c:04d}", module_name=module, type="context"
            )
            uow.catalog.add_components(
                scope,
                context.id,
                [
                    {
                        "name": f"M{m:05d}",
                        "module_name": f"{module}.{component_module(m)}",
                        "type": "module",
                        "priority": 0,
                    }
                    for m in range(shape.components)
                ],
            )
            contexts.append(context)
    return BenchProject(shape=shape, scope=scope, remote=remote, contexts=contexts)
