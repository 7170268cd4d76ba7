"""Sample repositories for the tests and the benchmark: the demo's Python sample, a module whose
declared API is wrong, and a mix project (no dependencies) with one context.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from ctworkflow.cli.demo_sample import (
    GIT_IDENTITY,
    SampleComponent,
    SampleRepo,
    camel,
    git,
    module_source,
    publish,
    python_sample,
    ranked,
    register,
)

__all__ = [
    "BROKEN_MODULE",
    "GIT_IDENTITY",
    "MIX_PROJECT",
    "SampleComponent",
    "SampleRepo",
    "elixir_module_source",
    "git",
    "mix_sample",
    "module_source",
    "publish",
    "python_sample",
    "register",
]

BROKEN_MODULE = '''"""A component whose declared API is wrong: its ``__all__`` names a function
it does not define, so the scaffold's test of its public names fails in every round."""

__all__ = ["total", "average"]


def total(values: list[int]) -> int:
    """Add values up."""
    return sum(values)
'''


MIX_PROJECT = """defmodule {app_module}.MixProject do
  use Mix.Project

  def project do
    [app: :{app}, version: "0.1.0", elixir: "~> 1.14", deps: {deps}]
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
    deps: str = "[]",
) -> SampleRepo:
    """Create ``root/remote.git`` holding a mix project (``deps``: none) with one context.

    ``lib/<app>/<context>.ex`` is the context and ``lib/<app>/<context>/<module>.ex`` its
    components. Like many real projects, it has no ``.gitignore``, so ``_build`` shows up as
    untracked once compiled.
    """
    app_module, context_module = camel(app), f"{camel(app)}.{camel(context)}"
    files = {
        "mix.exs": MIX_PROJECT.format(app_module=app_module, app=app, deps=deps),
        "test/test_helper.exs": "ExUnit.start()\n",
        f"lib/{app}.ex": ELIXIR_CONTEXT.format(module=app_module, name=app_module),
        f"lib/{app}/{context}.ex": ELIXIR_CONTEXT.format(
            module=context_module, name=camel(context)
        ),
        "README.md": f"# {app}\n",
    }
    for module in modules:
        module_name = f"{context_module}.{camel(module)}"
        source = (sources or {}).get(module) or elixir_module_source(module_name)
        files[f"lib/{app}/{context}/{module}.ex"] = source
    remote = publish(root, files)
    return SampleRepo(
        remote=remote,
        context_name=camel(context),
        context_module=context_module,
        components=ranked(modules, context_module, camel),
    )
