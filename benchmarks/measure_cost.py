"""What the test-quality measurements cost one component (docs/test-quality.md).

    python benchmarks/measure_cost.py CHECKOUT SOURCE TEST [--max-mutants N] [--budget S]

Builds (or reuses) the checkout's environment as a session would (its recipe detected from its
own files: pytest and coverage.py besides the project's), measures SOURCE's coverage by TEST and
its mutants, in the sandbox, and prints the measurement with the wall time it took.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import uuid
from pathlib import Path

from ctworkflow.config import get_settings
from ctworkflow.domain import quality
from ctworkflow.domain.repository import environments
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.effects.checkout_files import read_recipe_files
from ctworkflow.effects.environments import Environments
from ctworkflow.runners import measure


def main(argv: list[str] | None = None) -> int:
    """Measure once and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path)
    parser.add_argument("source")
    parser.add_argument("test")
    parser.add_argument("--max-mutants", type=int, default=quality.QualitySettings().max_mutants)
    parser.add_argument("--budget", type=float, default=quality.QualitySettings().mutation_budget_s)
    args = parser.parse_args(argv)
    workspace = args.checkout.resolve()
    recipe = environments.detect(Layout.PYTHON, read_recipe_files(workspace))
    config = quality.QualitySettings(max_mutants=args.max_mutants, mutation_budget_s=args.budget)
    with Environments(get_settings()).using(str(uuid.uuid4()), recipe, workspace) as build:
        target = measure.Target(
            workspace=workspace,
            source_path=args.source,
            test_path=args.test,
            # The checkout's source first on the import path, as a session puts it.
            environment=dataclasses.replace(
                build.environment, python_path=("src",) if (workspace / "src").is_dir() else ()
            ),
            seed=args.source,
        )
        started = time.monotonic()
        found = measure.measure(target, config, timeout_s=300, tests_pass=True)
        took = time.monotonic() - started
    lines = len((workspace / args.source).read_text().splitlines())
    found["mutation"].pop("surviving", None)
    shown = {"source_lines": lines, "wall_s": round(took, 1), **found}
    sys.stdout.write(json.dumps(shown, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
