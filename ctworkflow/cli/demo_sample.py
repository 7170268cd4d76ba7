"""The sample repository of ``ctw demo``: a Python package whose context has components.

It is written with real git (argv lists), published to a new bare repository that serves as
its remote, and registered in a project's catalog. The test suite builds on it
(``tests/samples.py``).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ctworkflow.domain.model import Component, Scope
from ctworkflow.persistence.db import UnitOfWork
from ctworkflow.services import catalog

GIT_IDENTITY = ("-c", "user.name=ctworkflow samples", "-c", "user.email=samples@localhost")

GOOD_MODULE = '''"""The {name} component of the sample shop."""


def {func}(value: int) -> int:
    """Double a value.

    >>> {func}(21)
    42
    """
    return value * 2


class {cls}:
    """A small record."""

    def __init__(self, key: str) -> None:
        self.key = key
'''


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleComponent:
    """A module of the sample context."""

    name: str
    module_name: str
    priority: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleRepo:
    """A sample Python repository: its bare remote and its context."""

    remote: Path
    context_name: str
    context_module: str
    components: list[SampleComponent]


def git(*args: str, cwd: Path) -> str:
    """Run git with a fixed identity; return its output."""
    done = subprocess.run(
        ["git", *GIT_IDENTITY, *args], cwd=cwd, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def publish(root: Path, files: Mapping[str, str]) -> Path:
    """Commit ``files`` in ``root/work`` and push them to a new bare ``root/remote.git``."""
    work, remote = root / "work", root / "remote.git"
    root.mkdir(parents=True, exist_ok=True)
    git("init", "--bare", "--initial-branch=main", str(remote), cwd=root)
    git("init", "--initial-branch=main", str(work), cwd=root)
    for relative, content in files.items():
        path = work / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    git("add", "--all", cwd=work)
    git("commit", "--quiet", "-m", "Initial commit", cwd=work)
    git("remote", "add", "origin", str(remote), cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    return remote


def camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def module_source(module: str) -> str:
    """The source of a good sample module named ``module``."""
    return GOOD_MODULE.format(name=module, func=f"double_{module}", cls=camel(module))


def python_sample(
    root: Path,
    *,
    package: str = "shop",
    context: str = "accounts",
    modules: Sequence[str] = ("user", "user_repository", "accounts_live"),
    sources: Mapping[str, str] | None = None,
    context_name: str = "Accounts",
    extra_files: Mapping[str, str] | None = None,
) -> SampleRepo:
    """Create ``root/remote.git`` holding a package whose ``context`` subpackage has modules.

    ``sources`` overrides the source of some modules (e.g. :data:`BROKEN_MODULE`);
    ``extra_files`` adds files (a ``pyproject.toml``, say).
    """
    files = {
        **(extra_files or {}),
        f"{package}/__init__.py": f'"""The {package} package."""\n',
        f"{package}/{context}/__init__.py": f'"""The {context} context."""\n',
        "README.md": f"# {package}\n",
    }
    for module in modules:
        source = (sources or {}).get(module) or module_source(module)
        files[f"{package}/{context}/{module}.py"] = source
    remote = publish(root, files)
    return SampleRepo(
        remote=remote,
        context_name=context_name,
        context_module=f"{package}.{context}",
        components=ranked(modules, f"{package}.{context}", lambda module: module),
    )


def ranked(
    modules: Sequence[str], context_module: str, segment: Callable[[str], str]
) -> list[SampleComponent]:
    """The context's components, the first module ranked highest."""
    return [
        SampleComponent(
            name=camel(module),
            module_name=f"{context_module}.{segment(module)}",
            priority=len(modules) - i,
        )
        for i, module in enumerate(modules)
    ]


def register(
    uow: UnitOfWork, scope: Scope, sample: SampleRepo
) -> tuple[Component, list[Component]]:
    """Register the sample's context and its components in the scope's project."""
    context = catalog.add_component(
        uow, scope, name=sample.context_name, module_name=sample.context_module, type="context"
    )
    components = [
        catalog.add_component(
            uow,
            scope,
            name=c.name,
            module_name=c.module_name,
            priority=c.priority,
            parent_id=context.id,
        )
        for c in sample.components
    ]
    return context, components
