"""A project's layout setting: checked when it is set, and laid over the detected profile."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final

from ctworkflow import errors
from ctworkflow.domain.inputs import preview
from ctworkflow.domain.repository.config_files import inside
from ctworkflow.domain.repository.layout_profile import (
    SETTINGS,
    ElixirLayout,
    LayoutProfile,
    TestStyle,
)
from ctworkflow.domain.repository.layouts import Layout

_CHOICES: Final[dict[str, set[str]]] = {
    "test_style": set(TestStyle),
    "elixir_layout": set(ElixirLayout),
}


def check_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The layout settings among a project's settings, checked; others are left alone.

    Raises:
        InvalidInput: a layout setting has a value it cannot take, naming it.
    """
    checked: dict[str, Any] = {}
    for key in SETTINGS:
        if key not in settings:
            continue
        value = settings[key]
        bad = errors.InvalidInput(f"setting {key} must be {SETTINGS[key]}, not {value!r}")
        if key == "include_private":
            if not isinstance(value, bool):
                raise bad
        elif not isinstance(value, str):
            raise bad
        elif key in ("source_root", "tests_root"):
            try:
                value = inside(value, f"setting {key}")
            except errors.InvalidLayout as error:
                raise errors.InvalidInput(str(error)) from None
        elif value not in _CHOICES.get(key, {value}):
            raise bad
        checked[key] = value
    return checked


def with_settings(profile: LayoutProfile, settings: Mapping[str, Any]) -> LayoutProfile:
    """The profile with the project's test and privacy settings applied over what was detected.

    ``source_root`` is not applied here: it changes where packages are looked for, so the
    detection itself takes it (:func:`ctworkflow.domain.repository.python_layout.detect`).
    """
    chosen = check_settings(settings)
    if not chosen:
        return profile
    changes: dict[str, Any] = {}
    said = ", ".join(f"{k}={preview(str(v))}" for k, v in sorted(chosen.items()))
    if "include_private" in chosen:
        changes["include_private"] = chosen["include_private"]
    if "elixir_layout" in chosen and profile.layout is Layout.PHOENIX:
        changes["elixir_layout"] = ElixirLayout(chosen["elixir_layout"])
    if "tests_root" in chosen:
        changes["tests_root"] = chosen["tests_root"]
        changes["tests_from"] = f"project settings ({said})"
    if "test_style" in chosen:
        changes["test_style"] = TestStyle(chosen["test_style"])
        changes["tests_from"] = f"project settings ({said})"
    return replace(profile, **changes)
