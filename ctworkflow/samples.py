"""Sample repositories with a context of components and a bare remote (tests, demo, bench).

Everything runs real git through argv lists; nothing here is needed in production.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ctworkflow import catalog
from ctworkflow.domain.model import Component, Scope
from ctworkflow.persistence.db import UnitOfWork

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
    files = {
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
        components=_ranked(modules, f"{package}.{context}", lambda module: module),
    )


MIX_PROJECT = """defmodule {app_module}.MixProject do
  use Mix.Project

  def project do
    [app: :{app}, version: "0.1.0", elixir: "~> 1.14", deps: []]
  end

  def application do
    [extra_applications: [:logger]]
  end
end
"""

ELIXIR_CONTEXT = """defmodule {module} do
  @moduledoc "The {name} context of the sample app."
end
"""

ELIXIR_MODULE = r'''defmodule {module} do
  @moduledoc "The {name} component of the sample app."

  @doc """
  Doubles a value.

      iex> {module}.double(21)
      42
  """
  def double(value) when is_integer(value), do: value * 2

  @doc "Greets someone."
  def greet(name, greeting \\ "Hello"), do: format(greeting, name)

  defp format(greeting, name), do: "#{{greeting}}, #{{name}}!"
end
'''


def elixir_module_source(module: str) -> str:
    """The source of a good sample Elixir module."""
    return ELIXIR_MODULE.format(module=module, name=module.rsplit(".", 1)[-1])


def mix_sample(
    root: Path,
    *,
    app: str = "my_app",
    context: str = "accounts",
    modules: Sequence[str] = ("user", "user_repository", "session_token"),
    sources: Mapping[str, str] | None = None,
) -> SampleRepo:
    """Create ``root/remote.git`` holding a mix project (no dependencies) with one context.

    ``lib/<app>/<context>.ex`` is the context and ``lib/<app>/<context>/<module>.ex`` its
    components. Like many real projects, it has no ``.gitignore``, so ``_build`` shows up as
    untracked once compiled.
    """
    app_module, context_module = _camel(app), f"{_camel(app)}.{_camel(context)}"
    files = {
        "mix.exs": MIX_PROJECT.format(app_module=app_module, app=app),
        "test/test_helper.exs": "ExUnit.start()\n",
        f"lib/{app}.ex": ELIXIR_CONTEXT.format(module=app_module, name=app_module),
        f"lib/{app}/{context}.ex": ELIXIR_CONTEXT.format(
            module=context_module, name=_camel(context)
        ),
        "README.md": f"# {app}\n",
    }
    for module in modules:
        module_name = f"{context_module}.{_camel(module)}"
        source = (sources or {}).get(module) or elixir_module_source(module_name)
        files[f"lib/{app}/{context}/{module}.ex"] = source
    remote = publish(root, files)
    return SampleRepo(
        remote=remote,
        context_name=_camel(context),
        context_module=context_module,
        components=_ranked(modules, context_module, _camel),
    )


def _ranked(
    modules: Sequence[str], context_module: str, segment: Callable[[str], str]
) -> list[SampleComponent]:
    """The context's components, the first module ranked highest."""
    return [
        SampleComponent(
            name=_camel(module),
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
