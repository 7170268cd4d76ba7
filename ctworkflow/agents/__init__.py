"""Coding agents: write the test file of one component in a workspace."""

from __future__ import annotations
