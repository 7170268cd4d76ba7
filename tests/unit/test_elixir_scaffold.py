"""The scaffold agent for Elixir: smoke tests read from the source that really pass."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ctworkflow.agents.base import AgentRequest, ExistingTests
from ctworkflow.agents.elixir_scaffold import public_functions
from ctworkflow.agents.scaffold import ScaffoldAgent
from ctworkflow.domain import regression
from ctworkflow.domain.repository.layouts import Layout, source_file_path, test_file_path
from ctworkflow.runners.mix_runner import MixRunner
from tests.elixir_support import mix_workspace
from tests.samples import elixir_module_source

TRICKY = """\
    defmodule Demo.Accounts.Tricky do
      @moduledoc "Heads of every shape."

      defstruct [:name]

      def plain, do: :ok
      def guarded(x) when is_integer(x), do: x
      def guarded(_x), do: nil
      def defaults(a, b \\\\ 1, c \\\\ 2), do: {a, b, c}
      def valid?(%{name: name}), do: is_binary(name)
      defdelegate upcase(text), to: String
      defmacro quoted(x), do: x
      defp hidden(x), do: x

      def uses_hidden(x), do: hidden(x)

      defmodule Inner do
        def inner_only, do: :inner
      end
    end
    """


def request(workspace: Path, module: str) -> AgentRequest:
    return AgentRequest(
        workspace=workspace,
        component_name=module.rsplit(".", 1)[-1],
        module_name=module,
        source_path=source_file_path(Layout.PHOENIX, module),
        test_path=test_file_path(Layout.PHOENIX, module),
        layout=Layout.PHOENIX,
    )


def test_public_functions_come_with_every_arity_their_heads_export(tmp_path: Path) -> None:
    workspace = mix_workspace(tmp_path / "ws", {"lib/demo/accounts/tricky.ex": TRICKY})

    functions = public_functions(request(workspace, "Demo.Accounts.Tricky"))

    assert functions == [
        ("defaults", 1),
        ("defaults", 2),
        ("defaults", 3),
        ("guarded", 1),
        ("plain", 0),
        ("upcase", 1),
        ("uses_hidden", 1),
        ("valid?", 1),
    ]


def test_the_scaffold_writes_smoke_tests_that_pass_under_mix_test(tmp_path: Path) -> None:
    module = "Demo.Accounts.User"
    workspace = mix_workspace(
        tmp_path / "ws",
        {
            "lib/demo/accounts/user.ex": elixir_module_source(module),
            "lib/demo/accounts/tricky.ex": TRICKY,
        },
    )

    results = [
        ScaffoldAgent().write_tests(request(workspace, m)) for m in (module, "Demo.Accounts.Tricky")
    ]

    assert all(r.ok for r in results), [r.error for r in results]
    assert results[0].stdout_tail == ("wrote test/demo/accounts/user_test.exs covering 3 functions")
    content = (workspace / "test/demo/accounts/user_test.exs").read_text()
    assert "defmodule Demo.Accounts.UserTest do" in content
    assert "function_exported?(@module, :greet, 2)" in content
    assert "doctest Demo.Accounts.User" in content
    reports = MixRunner(mix_home=tmp_path / "mix").run(
        workspace,
        ["test/demo/accounts/user_test.exs", "test/demo/accounts/tricky_test.exs"],
        timeout_s=120,
    )
    user, tricky = reports.values()
    # Loaded, double/1, greet/1, greet/2, and the doctest of double/1.
    assert (user.collected, user.passed) == (5, 5), user.output_tail
    assert (tricky.collected, tricky.passed) == (9, 9), tricky.output_tail


def test_the_smoke_tests_fail_when_a_function_is_gone(tmp_path: Path) -> None:
    module = "Demo.Accounts.User"
    workspace = mix_workspace(
        tmp_path / "ws", {"lib/demo/accounts/user.ex": elixir_module_source(module)}
    )
    assert ScaffoldAgent().write_tests(request(workspace, module)).ok
    source = workspace / "lib/demo/accounts/user.ex"
    source.write_text(source.read_text().replace("def greet(", "defp greet("))

    (report,) = (
        MixRunner(mix_home=tmp_path / "mix")
        .run(workspace, ["test/demo/accounts/user_test.exs"], timeout_s=120)
        .values()
    )

    assert report.failed == 2 and "exports greet/1" in report.output_tail


def test_a_source_that_does_not_define_the_module_is_refused(tmp_path: Path) -> None:
    workspace = mix_workspace(
        tmp_path / "ws", {"lib/demo/accounts/user.ex": "defmodule Demo.Other do\nend\n"}
    )

    result = ScaffoldAgent().write_tests(request(workspace, "Demo.Accounts.User"))

    assert not result.ok
    assert result.error == (
        "cannot read the functions of lib/demo/accounts/user.ex:"
        " lib/demo/accounts/user.ex does not define Demo.Accounts.User"
    )
    assert not (workspace / "test/demo/accounts/user_test.exs").exists()


def test_a_missing_source_is_refused(tmp_path: Path) -> None:
    workspace = mix_workspace(tmp_path / "ws", {})

    result = ScaffoldAgent().write_tests(request(workspace, "Demo.Accounts.User"))

    assert result.error == "source file lib/demo/accounts/user.ex does not exist"


def test_an_existing_test_file_keeps_its_tests_and_gains_a_smoke_module_under_mix_test(
    tmp_path: Path,
) -> None:
    module = "Demo.Accounts.User"
    existing = (
        "defmodule Demo.Accounts.UserTest do\n"
        "  use ExUnit.Case\n"
        '  test "doubles", do: assert(Demo.Accounts.User.double(2) == 4)\n'
        '  test "greets", do: assert(Demo.Accounts.User.greet("Ada") == "Hello, Ada!")\n'
        "end\n"
    )
    test_path = "test/demo/accounts/user_test.exs"
    workspace = mix_workspace(
        tmp_path / "ws",
        {"lib/demo/accounts/user.ex": elixir_module_source(module), test_path: existing},
    )
    runner = MixRunner(mix_home=tmp_path / "mix")
    (base,) = runner.run(workspace, [test_path], timeout_s=120).values()
    known = ExistingTests(path=test_path, tests=base.collected, content=existing)

    result = ScaffoldAgent().write_tests(
        dataclasses.replace(request(workspace, module), existing=known)
    )

    assert result.ok, result.error
    assert (workspace / test_path).read_text().startswith(existing)
    (after,) = runner.run(workspace, [test_path], timeout_s=120).values()
    assert after.all_passed, after.output_tail
    assert not regression.lost_tests(base, after)
    assert base.passing_ids() == {
        "Demo.Accounts.UserTest test doubles",
        "Demo.Accounts.UserTest test greets",
    }
    assert "Demo.Accounts.UserCtwSmokeTest test exports greet/2" in after.passing_ids()


def test_a_doctest_that_failed_is_not_asserted_again_and_the_file_says_why(
    tmp_path: Path,
) -> None:
    # Given a module whose iex> example is wrong at the base
    module = "Demo.Accounts.User"
    wrong = elixir_module_source(module).replace("      42\n", "      43\n")
    workspace = mix_workspace(tmp_path / "ws", {"lib/demo/accounts/user.ex": wrong})
    runner = MixRunner(mix_home=tmp_path / "mix")
    path = "test/demo/accounts/user_test.exs"
    assert ScaffoldAgent().write_tests(request(workspace, module)).ok
    (first,) = runner.run(workspace, [path], timeout_s=120).values()
    assert first.failed == 1 and f"doctest {module}.double/1 (1)" in first.output_tail

    # When the scaffold writes again, handed that run's output
    again = dataclasses.replace(request(workspace, module), feedback=first.output_tail)
    assert ScaffoldAgent().write_tests(again).ok

    # Then the new file asserts no doctest, says why, and passes
    content = (workspace / path).read_text()
    assert f"doctest {module}" not in content
    assert "# No doctest: one of the module's iex> examples failed when last run." in content
    (second,) = runner.run(workspace, [path], timeout_s=120).values()
    assert second.all_passed and second.collected == 4, second.output_tail
