"""Sample repositories with a context of components and a bare remote (tests, demo, bench).

Everything runs real git through argv lists; nothing here is needed in production.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

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

BROKEN_MODULE = '''"""A component whose documented behaviour is wrong: its doctest fails."""


def total(values: list[int]) -> int:
    """Add values up.

    >>> total([1, 2, 3])
    7
    """
    return sum(values)
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


def _camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def module_source(module: str) -> str:
    """The source of a good sample module named ``module``."""
    return GOOD_MODULE.format(name=module, func=f"double_{module}", cls=_camel(module))


def python_sample(
    root: Path,
    *,
    package: str = "shop",
    context: str = "accounts",
    modules: Sequence[str] = ("user", "user_repository", "accounts_live"),
    sources: Mapping[str, str] | None = None,
    context_name: str = "Accounts",
) -> SampleRepo:
    """Create ``root/remote.git`` holding a package whose ``context`` subpackage has modules.

    ``sources`` overrides the source of some modules (e.g. :data:`BROKEN_MODULE`).
    """
    work, remote = root / "work", root / "remote.git"
    git("init", "--bare", "--initial-branch=main", str(remote), cwd=root)
    git("init", "--initial-branch=main", str(work), cwd=root)
    package_dir = work / package / context
    package_dir.mkdir(parents=True)
    (work / package / "__init__.py").write_text(f'"""The {package} package."""\n')
    (package_dir / "__init__.py").write_text(f'"""The {context} context."""\n')
    for module in modules:
        source = (sources or {}).get(module) or module_source(module)
        (package_dir / f"{module}.py").write_text(source)
    (work / "README.md").write_text(f"# {package}\n")
    git("add", "--all", cwd=work)
    git("commit", "--quiet", "-m", "Initial commit", cwd=work)
    git("remote", "add", "origin", str(remote), cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    components = [
        SampleComponent(
            name=_camel(module),
            module_name=f"{package}.{context}.{module}",
            priority=len(modules) - i,
        )
        for i, module in enumerate(modules)
    ]
    return SampleRepo(
        remote=remote,
        context_name=context_name,
        context_module=f"{package}.{context}",
        components=components,
    )
