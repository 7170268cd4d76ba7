"""``python -m ctworkflow.bench``."""

from __future__ import annotations

from ctworkflow.bench.main import main

raise SystemExit(main())
