"""A project's environment setting: checked when it is set, and laid over the detected recipe."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final

from ctworkflow import errors
from ctworkflow.domain.repository.config_files import inside
from ctworkflow.domain.repository.environments import Installer, Recipe

__all__ = ["check_setting", "with_setting"]

#: An extra's or a group's name (PEP 685 normalizes them to this alphabet).
_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


_SETTING_KEYS: Final = {
    "installer": "one of auto, uv, pip, none",
    "install_project": "true or false",
    "extras": "a list of extra names",
    "groups": "a list of dependency group names",
    "requirements": "a list of requirement files in the repository",
    "packages": "a list of requirement specifiers",
}


def check_setting(value: object) -> dict[str, Any]:
    """A project's ``environment`` setting, checked.

    Raises:
        InvalidInput: not a mapping, an unknown key, or a value it cannot take, naming it.
    """
    if not isinstance(value, Mapping):
        raise errors.InvalidInput("setting environment must be a mapping")
    checked: dict[str, Any] = {}
    for name, item in value.items():
        if name not in _SETTING_KEYS:
            raise errors.InvalidInput(
                f"unknown environment setting {name!r}: expected one of "
                + ", ".join(sorted(_SETTING_KEYS))
            )
        checked[name] = _checked_item(name, item)
    return checked


def _checked_item(name: str, item: object) -> Any:
    bad = errors.InvalidInput(f"environment setting {name} must be {_SETTING_KEYS[name]}")
    if name == "installer":
        if item not in (Installer.AUTO, Installer.UV, Installer.PIP, Installer.NONE):
            raise bad
        return item
    if name == "install_project":
        if not isinstance(item, bool):
            raise bad
        return item
    if not isinstance(item, list) or not all(isinstance(s, str) and s for s in item):
        raise bad
    if name in ("extras", "groups") and not all(_NAME.match(s) for s in item):
        raise bad
    if name == "requirements":
        try:
            return [inside(s, "environment setting requirements") for s in item]
        except errors.InvalidLayout as error:
            raise errors.InvalidInput(str(error)) from None
    if name == "packages" and any(s.startswith("-") or "\n" in s for s in item):
        raise errors.InvalidInput(
            "environment setting packages must hold requirement specifiers, not options"
        )
    return list(item)


def with_setting(recipe: Recipe, setting: Mapping[str, Any] | None) -> Recipe:
    """The detected recipe with the project's ``environment`` setting applied over it (of a
    mix recipe, only ``installer: none`` applies)."""
    if not setting:
        return recipe
    chosen = check_setting(setting)
    if recipe.installer is Installer.MIX:
        if chosen.get("installer") == Installer.NONE:
            return replace(recipe, installer=Installer.NONE, source="project setting environment")
        return recipe
    changes: dict[str, Any] = {}
    if "installer" in chosen:
        changes["installer"] = Installer(chosen["installer"])
    if "install_project" in chosen:
        changes["install_project"] = chosen["install_project"]
    for name in ("extras", "groups", "requirements", "packages"):
        if name in chosen:
            changes[name] = tuple(chosen[name])
    return replace(recipe, **changes, source=f"{recipe.source}; project setting environment")
