"""Where the pynguin agent's runs look and what they leave: the folder a module is imported
from, Pynguin's import path, the one pytest run that says which new tests pass, and the files a
sandboxed run wrote in its scratch folder (read without following a link)."""

from __future__ import annotations

import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from ctworkflow import errors
from ctworkflow.agents.base import AgentRequest
from ctworkflow.config import get_settings
from ctworkflow.effects import nofollow, sandbox, shell
from ctworkflow.effects.tool_environments import site_packages


def project_path(source_path: str, module_name: str) -> str:
    """The folder of the checkout ``module_name`` is imported from (``src`` for
    ``src/pkg/mod.py`` and ``pkg.mod``; ``.`` for a flat layout)."""
    parts = Path(source_path).with_suffix("").parts
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    depth = len(module_name.split("."))
    root = parts[:-depth] if len(parts) >= depth else ()
    return str(Path(*root)) if root else "."


def read_scratch(folder: Path, name: str) -> str | None:
    """A file the sandboxed run wrote in its scratch folder (never through a link), or None."""
    try:
        return nofollow.read_text(
            folder, name, max_bytes=get_settings().max_report_bytes, setting="CTW_MAX_REPORT_BYTES"
        )
    except (FileNotFoundError, errors.UnsafeFile, errors.LimitExceeded):
        return None


def target_root(request: AgentRequest) -> tuple[Path, ...]:
    """The target environment's folder, if the request runs in one."""
    root = (request.env or {}).get("VIRTUAL_ENV")
    return (Path(root),) if root else ()


def package_roots(request: AgentRequest) -> list[str]:
    """The checkout's package roots, as the target's environment puts them first."""
    listed = (request.env or {}).get("PYTHONPATH", "")
    roots = [part for part in listed.split(os.pathsep) if part]
    own = str(request.workspace / project_path(request.source_path, request.module_name))
    return list(dict.fromkeys([*roots, own]))


def pynguin_env(request: AgentRequest, tool: Path) -> dict[str, str]:
    """Pynguin's variables: the checkout first, then its own packages, then the target's."""
    target = [p for root in target_root(request) for p in site_packages(root)]
    path = [*package_roots(request), *site_packages(tool), *target]
    return shell.base_env(
        {
            "PYNGUIN_DANGER_AWARE": "1",
            "PYTHONPATH": os.pathsep.join(dict.fromkeys(path)),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )


def passing_tests(request: AgentRequest, scratch: Path) -> set[str]:
    """The names of the test functions of the component's file that pass when run once with
    pytest in the target's environment, as the session's runner runs them."""
    junit = scratch / "junit.xml"
    root = target_root(request)
    python = str(root[0] / "bin" / "python") if root else sys.executable
    variables = {k: v for k, v in (request.env or {}).items() if k != "PYTHONPATH"}
    path = [*package_roots(request), str(request.workspace)]
    shell.run(
        [
            python,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--import-mode=importlib",
            "-o",
            "junit_family=xunit1",
            "--junitxml",
            str(junit),
            "--rootdir",
            str(request.workspace),
            "--",
            request.test_path,
        ],
        cwd=request.workspace,
        timeout_s=get_settings().test_timeout_s,
        env=shell.base_env(
            {
                **variables,
                "PYTHONPATH": os.pathsep.join(dict.fromkeys(path)),
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        ),
        should_stop=request.should_stop,
        policy=sandbox.for_tests(request.workspace, scratch=(scratch,), readable=root),
    )
    return passed_names(read_scratch(scratch, junit.name) or "")


def passed_names(junit_xml: str) -> set[str]:
    """The test names a JUnit report says passed (no failure, error or skip)."""
    try:
        root = ET.fromstring(junit_xml)
    except ET.ParseError:
        return set()
    return {
        str(case.get("name"))
        for case in root.iter("testcase")
        if not any(child.tag in ("failure", "error", "skipped") for child in case)
    }
