"""``python -m tests.benchmarks``."""

from __future__ import annotations

from tests.benchmarks.main import main

raise SystemExit(main())
