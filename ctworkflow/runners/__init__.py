"""Test runners: run a workspace's test files and report on each one."""

from __future__ import annotations
