"""The one line that says why an environment build failed, in the installer's own words."""

from __future__ import annotations

from ctworkflow.effects.build_failures import failure_reason
from ctworkflow.effects.shell import CommandResult

UV = ("/usr/bin/uv", "pip", "install", "--quiet", "pytest")


def failed(output: str, **fields: object) -> str:
    result = CommandResult(
        argv=UV,
        returncode=2,
        stdout="",
        stderr=output,
        duration_s=1.0,
        **fields,  # type: ignore[arg-type]
    )
    return failure_reason(UV, result, output)


def test_the_installer_error_line_is_the_reason() -> None:
    output = (
        "Resolved 3 packages\n"
        "  x No solution found when resolving dependencies:\n"
        "  error: Because nosuchpkg was not found in the package registry, we can't continue\n"
        "hint: check the name\n"
    )

    assert failed(output) == (
        "uv pip install failed: error: Because nosuchpkg was not found in the package "
        "registry, we can't continue"
    )


def test_an_unreachable_registry_is_said_so() -> None:
    output = "error: Failed to fetch: https://pypi.org/simple/attrs/\n  cause: dns error\n"

    assert failed(output) == (
        "uv pip install failed: the package registry cannot be reached "
        "(error: Failed to fetch: https://pypi.org/simple/attrs/: dns error)"
    )


def test_mix_without_hex_says_where_the_dependencies_come_from() -> None:
    output = (
        "Could not find Hex, which is needed to build dependency :jason\n"
        "Shall I install Hex? [Yn] ** (Mix) Could not find an SCM for dependency :jason\n"
    )
    mix = ("/usr/bin/mix", "deps.get")
    result = CommandResult(argv=mix, returncode=1, stdout=output, stderr="", duration_s=1.0)

    assert failure_reason(mix, result, output) == (
        "mix deps.get failed: the project's dependencies come from the Hex registry and this "
        "worker has no Hex (install it with mix local.hex, which needs builds.hex.pm)"
    )


def test_a_build_past_its_time_limit_names_the_setting() -> None:
    assert failed("", timed_out=True) == (
        "uv pip install timed out after 1 s (CTW_ENVIRONMENT_TIMEOUT_S)"
    )


def test_a_reason_after_a_colon_is_kept_with_its_error() -> None:
    output = (
        "error: No solution found when resolving dependencies:\n"
        "  \u2570\u2500\u25b6 Because nosuchpkg was not found in the package registry and you "
        "require\n"
    )

    assert failed(output) == (
        "uv pip install failed: error: No solution found when resolving dependencies: "
        "Because nosuchpkg was not found in the package registry and you require"
    )


def test_uv_s_cause_line_is_kept_with_its_error() -> None:
    output = (
        "error: No solution found when resolving dependencies\n"
        "  cause: Because nosuchpkg was not found in the package registry and you require "
        "nosuchpkg==9.9, we can conclude that your requirements are unsatisfiable.\n"
    )

    assert failed(output) == (
        "uv pip install failed: error: No solution found when resolving dependencies: Because "
        "nosuchpkg was not found in the package registry and you require nosuchpkg==9.9, we "
        "can conclude that your requirements are unsatisfiable."
    )
