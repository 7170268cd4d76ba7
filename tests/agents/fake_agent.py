"""A coding agent for the tests: a real program that speaks the ``command`` agent contract.

    fake_agent.py --plan PLAN.json --state DIR --module M --test-path P --prompt PROMPT_FILE

It is run in the workspace. PLAN maps a module name to a list of behaviours, one per call
(the last one repeats); a module not in the plan is ``good``:

- ``good``: write a passing test of the module's ``double_*`` function;
- ``fail``: write a test that fails;
- ``crash``: exit with status 3 without writing anything;
- ``hang``: start a child process (its command line names DIR, so a test finds it from
  outside the sandbox, whose pids mean nothing there), write both pids to DIR, sleep forever;
- ``outside``: write a good test, and also change README.md (outside the test directory);
- ``replace``: remove whatever is at the test path (a link the repository has there), then
  write a good test;
- ``symlink``: make the test path a symbolic link to ``/etc/passwd``;
- ``huge``: write a test file of 200 MiB (sparse: it costs no disk);
- ``gated``: wait until the file DIR/release exists (at most 120 s), then write a good test
  (a test holds a session active while it looks at it, then lets it finish);
- ``append``: add a passing test to the existing test file, keeping all of it;
- ``drop``: replace the existing test file with a good one (its own tests are lost);
- ``keep``: leave the existing test file as it is;
- ``flaky``: write two good tests and one that passes only after another test of the file
  ran in the same process (it passes in the file's order, fails alone or run first);
- ``cover``: write a good test, plus one that calls each function of the module holding a
  line the prompt says no test runs ("no test runs (12-15, 40)"), with the arguments 0, 1000
  and -1000: the lines it was told about, and only those, get covered.

Every call is appended to DIR/calls.jsonl with the prompt it was given.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

GOOD = """import importlib

MODULE = {module!r}


def test_double_doubles() -> None:
    module = importlib.import_module(MODULE)
    double = next(getattr(module, n) for n in dir(module) if n.startswith("double_"))
    assert double(21) == 42


def test_module_has_a_docstring() -> None:
    assert importlib.import_module(MODULE).__doc__
"""

ADDED = """

def test_added_by_the_fake_agent() -> None:
    import importlib

    assert importlib.import_module({module!r}).__doc__
"""

FLAKY = """import importlib

MODULE = {module!r}
RAN: list[str] = []


def test_double_doubles() -> None:
    module = importlib.import_module(MODULE)
    double = next(getattr(module, n) for n in dir(module) if n.startswith("double_"))
    RAN.append("double")
    assert double(21) == 42


def test_depends_on_another_test() -> None:
    assert RAN, "passes only after test_double_doubles ran in the same process"


def test_module_has_a_docstring() -> None:
    assert importlib.import_module(MODULE).__doc__
"""

FAILING = """def test_deliberately_wrong() -> None:
    assert 1 + 1 == 3, "this test was written to fail"
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    for flag in ("--plan", "--state", "--module", "--test-path", "--prompt"):
        parser.add_argument(flag, required=True)
    args = parser.parse_args()
    state = Path(args.state)
    state.mkdir(parents=True, exist_ok=True)
    prompt = Path(args.prompt).read_text()
    plan = json.loads(Path(args.plan).read_text()) if Path(args.plan).exists() else {}
    calls_file = state / "calls.jsonl"
    previous = 0
    if calls_file.exists():
        previous = sum(
            1
            for line in calls_file.read_text().splitlines()
            if json.loads(line)["module"] == args.module
        )
    steps = plan.get(args.module) or ["good"]
    behaviour = steps[min(previous, len(steps) - 1)]
    with calls_file.open("a") as calls:
        calls.write(
            json.dumps({"module": args.module, "behaviour": behaviour, "prompt": prompt}) + "\n"
        )
    test_path = Path(args.test_path)
    if behaviour == "crash":
        return 3
    if behaviour == "hang":
        child = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(3600)", f"hang-child-of:{state}"]
        )
        # Named uniquely: in its sandbox every agent may have the same pid.
        (state / f"hang-{uuid.uuid4().hex}.pids").write_text(f"{os.getpid()} {child.pid}\n")
        time.sleep(3600)
        return 0
    if behaviour == "gated":
        deadline = time.monotonic() + 120
        while not (state / "release").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    if behaviour == "keep":
        return 0
    test_path.parent.mkdir(parents=True, exist_ok=True)
    if behaviour == "append":
        with test_path.open("a") as existing:
            existing.write(ADDED.format(module=args.module))
        return 0
    if behaviour == "replace":
        test_path.unlink(missing_ok=True)
    if behaviour == "symlink":
        test_path.unlink(missing_ok=True)
        test_path.symlink_to("/etc/passwd")
        return 0
    if behaviour == "huge":
        with test_path.open("wb") as huge:
            huge.truncate(200 * 1024 * 1024)
        return 0
    test_path.write_text(body_of(behaviour, args.module, prompt))
    if behaviour == "outside":
        with Path("README.md").open("a") as readme:
            readme.write("\nchanged by an agent\n")
    return 0


def body_of(behaviour: str, module: str, prompt: str) -> str:
    """The test file a behaviour that writes one writes."""
    template = {"fail": FAILING, "flaky": FLAKY}.get(behaviour, GOOD)
    body = template.format(module=module)
    return body + covering(prompt) if behaviour == "cover" else body


def covering(prompt: str) -> str:
    """Tests that run the functions holding the lines the prompt says no test runs."""
    found = re.search(r"Lines of (\S+) no test runs \(([^)]*)\)", prompt)
    if found is None:
        return ""
    lines: set[int] = set()
    for part in found.group(2).split(","):
        first, _, last = part.strip().partition("-")
        lines.update(range(int(first), int(last or first) + 1))
    tree = ast.parse(Path(found.group(1)).read_text())
    names = [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and lines & set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    ]
    return "".join(
        f"""

def test_{name}_runs_on_small_and_large_values() -> None:
    function = getattr(importlib.import_module(MODULE), {name!r})
    for value in (0, 1000, -1000):
        assert function(value) is not None
"""
        for name in names
    )


if __name__ == "__main__":
    sys.exit(main())
