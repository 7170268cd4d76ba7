"""Side effects on the outside world: child programs and git, behind small typed functions."""

from __future__ import annotations
