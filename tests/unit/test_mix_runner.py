"""The mix runner: real ``mix test`` runs, one typed report per test file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctworkflow.runners.mix_runner import MixRunner
from ctworkflow.runners.registry import get_runner
from tests.elixir_support import mix_workspace

LIB = {
    "lib/demo/math.ex": """\
        defmodule Demo.Math do
          def double(x), do: x * 2
        end
        """,
}

MIXED = """\
    defmodule Demo.MixedTest do
      use ExUnit.Case

      test "doubles" do
        assert Demo.Math.double(2) == 4
      end

      test "is wrong on purpose" do
        assert Demo.Math.double(2) == 5
      end

      @tag :skip
      test "is skipped" do
        assert true
      end
    end
    """

PASSING = """\
    defmodule Demo.PassingTest do
      use ExUnit.Case
      test "doubles", do: assert(Demo.Math.double(1) == 2)
    end
    """

BROKEN_SETUP = """\
    defmodule Demo.BrokenSetupTest do
      use ExUnit.Case

      setup_all do
        raise "setup went wrong"
      end

      test "never runs", do: assert(true)
    end
    """

NOT_COMPILING = """\
    defmodule Demo.NotCompilingTest do
      use ExUnit.Case
      test "calls nothing", do: assert(undefined_thing())
    end
    """

EMPTY = """\
    defmodule Demo.EmptyTest do
      use ExUnit.Case
    end
    """

SLOW = """\
    defmodule Demo.SlowTest do
      use ExUnit.Case
      @moduletag timeout: :infinity
      test "sleeps", do: Process.sleep(:infinity)
    end
    """


def test_each_file_gets_its_own_counts_and_failure_text(tmp_path: Path) -> None:
    workspace = mix_workspace(
        tmp_path / "ws",
        {
            **LIB,
            "test/demo/mixed_test.exs": MIXED,
            "test/demo/passing_test.exs": PASSING,
            "test/demo/broken_setup_test.exs": BROKEN_SETUP,
        },
    )

    reports = MixRunner(mix_home=tmp_path / "mix").run(
        workspace,
        [
            "test/demo/mixed_test.exs",
            "test/demo/passing_test.exs",
            "test/demo/broken_setup_test.exs",
        ],
        timeout_s=120,
    )

    mixed = reports["test/demo/mixed_test.exs"]
    assert (mixed.collected, mixed.passed, mixed.failed, mixed.errors, mixed.skipped) == (
        3,
        1,
        1,
        0,
        1,
    )
    assert "is wrong on purpose" in mixed.output_tail
    assert "Assertion with == failed" in mixed.output_tail
    # Every test case by its id (the test module and the test's name), with its outcome.
    assert mixed.cases == {
        "Demo.MixedTest test doubles": "passed",
        "Demo.MixedTest test is wrong on purpose": "failed",
        "Demo.MixedTest test is skipped": "skipped",
    }
    passing = reports["test/demo/passing_test.exs"]
    assert passing.all_passed and (passing.collected, passing.passed) == (1, 1)
    assert passing.output_tail == ""
    broken = reports["test/demo/broken_setup_test.exs"]
    assert (broken.collected, broken.errors, broken.passed) == (1, 1, 0)
    assert "setup went wrong" in broken.output_tail


def test_a_file_that_does_not_compile_is_blamed_alone(tmp_path: Path) -> None:
    workspace = mix_workspace(
        tmp_path / "ws",
        {
            **LIB,
            "test/demo/passing_test.exs": PASSING,
            "test/demo/not_compiling_test.exs": NOT_COMPILING,
        },
    )

    reports = MixRunner(mix_home=tmp_path / "mix").run(
        workspace,
        ["test/demo/passing_test.exs", "test/demo/not_compiling_test.exs"],
        timeout_s=120,
    )

    assert reports["test/demo/passing_test.exs"].all_passed
    broken = reports["test/demo/not_compiling_test.exs"]
    assert broken.errors == 1 and broken.collected == 0
    assert "undefined_thing" in broken.output_tail


def test_a_file_without_tests_does_not_pass(tmp_path: Path) -> None:
    workspace = mix_workspace(tmp_path / "ws", {**LIB, "test/demo/empty_test.exs": EMPTY})

    (report,) = (
        MixRunner(mix_home=tmp_path / "mix")
        .run(workspace, ["test/demo/empty_test.exs"], timeout_s=120)
        .values()
    )

    assert report.collected == 0 and not report.all_passed
    assert report.output_tail.startswith("no test ran from test/demo/empty_test.exs")


def test_missing_and_escaping_paths_are_reported_without_running(tmp_path: Path) -> None:
    workspace = mix_workspace(tmp_path / "ws", LIB)

    reports = MixRunner(mix_home=tmp_path / "mix").run(
        workspace, ["test/demo/nothing_test.exs", "../outside_test.exs"], timeout_s=120
    )

    assert reports["test/demo/nothing_test.exs"].output_tail == (
        "test file test/demo/nothing_test.exs does not exist"
    )
    assert reports["../outside_test.exs"].output_tail == (
        "test file ../outside_test.exs is outside the workspace"
    )
    assert not (workspace / "_build").exists()  # nothing ran


def test_a_run_past_its_time_limit_is_an_error(tmp_path: Path) -> None:
    workspace = mix_workspace(tmp_path / "ws", {**LIB, "test/demo/slow_test.exs": SLOW})

    (report,) = (
        MixRunner(mix_home=tmp_path / "mix")
        .run(workspace, ["test/demo/slow_test.exs"], timeout_s=8)
        .values()
    )

    assert report.errors == 1 and not report.all_passed
    assert report.output_tail.startswith("mix test timed out after 8 s")


def test_mix_keeps_its_files_in_the_runner_folder_and_builds_in_the_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    workspace = mix_workspace(tmp_path / "ws", {**LIB, "test/demo/passing_test.exs": PASSING})

    reports = MixRunner(mix_home=tmp_path / "mix").run(
        workspace, ["test/demo/passing_test.exs"], timeout_s=120
    )

    assert reports["test/demo/passing_test.exs"].all_passed
    assert (workspace / "_build" / "test").is_dir()  # MIX_ENV=test
    assert list(home.iterdir()) == []
    assert not (workspace / "erl_crash.dump").exists()


def test_the_registry_builds_the_mix_runner() -> None:
    assert get_runner("mix").name == "mix"


ORDER_DEPENDENT = """\
    defmodule Demo.OrderTest do
      use ExUnit.Case

      test "sets a flag" do
        :persistent_term.put(:demo_flag, true)
      end

      test "needs the flag" do
        assert :persistent_term.get(:demo_flag, false), "the flag was not set before"
      end

      test "is left out", do: assert(true)
    end
    """


def test_chosen_cases_run_alone_or_in_an_order_drawn_from_a_seed(tmp_path: Path) -> None:
    workspace = mix_workspace(tmp_path / "ws", {**LIB, "test/demo/order_test.exs": ORDER_DEPENDENT})
    runner = MixRunner(mix_home=tmp_path / "mix")
    path = "test/demo/order_test.exs"

    alone = runner.run_cases(
        workspace, path, ["Demo.OrderTest test needs the flag"], seed=None, timeout_s=120
    )
    both = runner.run_cases(
        workspace,
        path,
        ["Demo.OrderTest test sets a flag", "Demo.OrderTest test needs the flag"],
        seed=7,
        timeout_s=120,
    )

    # Alone, the test misses what the other one does; the tests not chosen are left out.
    assert alone.cases["Demo.OrderTest test needs the flag"] == "failed"
    assert "the flag was not set before" in alone.output_tail
    assert alone.cases["Demo.OrderTest test sets a flag"] == "skipped"
    assert both.cases["Demo.OrderTest test sets a flag"] == "passed"
    assert both.cases["Demo.OrderTest test is left out"] == "skipped"
