"""What a shape runs on: one git repository with its contexts and modules, and its catalog."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctworkflow.domain.model import Component, Scope
from ctworkflow.persistence.db import unit_of_work
from ctworkflow.services import catalog
from tests.benchmarks.noop import NOOP
from tests.benchmarks.shapes import Kind, Shape
from tests.samples import git

PACKAGE = "benchpkg"
MODULE_SOURCE = '"""A benchmark module."""\n\nVALUE = 1\n'
#: Where a repository shape's padding lives: modules of no context, 100 to a folder.
PADDING = "otherpkg"
WARM_UP = "warmup"
PADDING_PER_FOLDER = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchProject:
    """A registered project whose contexts have the shape's components."""

    shape: Shape
    scope: Scope
    remote: Path
    contexts: list[Component]
    agent: str = NOOP
    #: A one-component context of its own, run untimed first so the timed sessions do not
    #: pay for the repository's first clone (:func:`tests.benchmarks.orchestrated.warm_up`).
    warm_up: Component | None = None


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
    warm_up = work / PACKAGE / WARM_UP
    warm_up.mkdir()
    (warm_up / "__init__.py").write_text('"""The warm-up context."""\n')
    (warm_up / f"{component_module(0)}.py").write_text(MODULE_SOURCE)
    if shape.kind is Kind.REPOSITORY:
        _pad(work, shape.argument)
    git("add", "--all", cwd=work)
    git("commit", "--quiet", "-m", "Benchmark repository", cwd=work)
    git("push", "--quiet", str(remote), "main", cwd=work)
    return remote


def _pad(work: Path, files: int) -> None:
    """Add modules of no context until the work tree holds ``files`` files."""
    present = sum(1 for path in work.rglob("*") if path.is_file() and ".git" not in path.parts)
    for index in range(max(0, files - present)):
        folder = work / PADDING / f"d{index // PADDING_PER_FOLDER:04d}"
        if index % PADDING_PER_FOLDER == 0:
            folder.mkdir(parents=True)
        (folder / f"f{index:05d}.py").write_text(MODULE_SOURCE)


def register(
    database_url: str,
    root: Path,
    shape: Shape,
    *,
    agent: str = NOOP,
    runner: str = NOOP,
    extra_settings: Mapping[str, Any] | None = None,
) -> BenchProject:
    """Build the repository and register its project (``agent`` and ``runner``, no
    environment to build), contexts and components."""
    remote = build_repository(root, shape)
    with unit_of_work(database_url) as uow:
        account = catalog.create_account(uow, f"bench-{shape.name}-{uuid.uuid4().hex[:6]}")
        project = catalog.create_project(
            uow,
            account.id,
            name=f"bench-{shape.name}",
            code_repo=str(remote),
            layout="python",
            settings={
                "agent": agent,
                "runner": runner,
                "environment": {"installer": "none"},
                **(extra_settings or {}),
            },
        )
        scope = Scope(account_id=account.id, project_id=project.id, user_id="bench")
        contexts = []
        for c in range(shape.contexts + 1):
            last = c == shape.contexts  # the warm-up context
            module = f"{PACKAGE}.{WARM_UP if last else context_module(c)}"
            name = "Bench warm-up" if last else f"Bench {c:04d}"
            context = catalog.add_component(
                uow, scope, name=name, module_name=module, type="context"
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
                    for m in range(1 if last else shape.components)
                ],
            )
            contexts.append(context)
    return BenchProject(
        shape=shape,
        scope=scope,
        remote=remote,
        contexts=contexts[:-1],
        agent=agent,
        warm_up=contexts[-1],
    )
