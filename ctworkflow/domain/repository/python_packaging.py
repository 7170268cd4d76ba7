"""Where a Python project says its packages are, read from its own build configuration.

The build backend named in ``pyproject.toml`` decides which configuration counts, the way the
backend itself would read it:

- setuptools: ``[tool.setuptools] packages`` (a list, or ``[tool.setuptools.packages.find]``
  with ``where``/``include``/``exclude``) and ``package-dir``; else ``setup.cfg``'s ``[options]
  packages`` (a list, or ``find:``/``find_namespace:`` with ``[options.packages.find]``) and
  ``package_dir``; else the literal ``packages=``/``package_dir=`` of ``setup.py``'s ``setup()``
  call (read with :mod:`ast`, never run); else setuptools' automatic discovery.
- hatchling: ``[tool.hatch.build.targets.wheel] packages`` (or ``[tool.hatch.build]``), else
  the project name at ``<name>/`` or ``src/<name>/``.
- flit: ``[tool.flit.module] name``, else the project name, at ``<name>/`` or ``src/<name>/``.
- poetry: ``[tool.poetry] packages = [{include, from}]``, else its name as for flit.
- anything else: automatic discovery (a ``src/`` folder of packages, else packages at the root).

It also lists the files the build writes into the package (setuptools-scm ``write_to`` and
``version_file``, hatch-vcs ``version-file``, versioneer's ``versionfile_source``): they are not
the project's code, and discovery leaves them out.

Pure: configuration texts in, a :class:`Packaging` value out. Every path it reads must stay
inside the repository, or :class:`ctworkflow.errors.InvalidLayout` names the setting.
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any, Final

from ctworkflow import errors
from ctworkflow.domain.repository import setup_py_reading
from ctworkflow.domain.repository.config_files import (
    inside,
    line_list,
    lookup,
    normalized_name,
    parse_cfg,
    parse_toml,
    string_list,
)

PYPROJECT: Final = "pyproject.toml"
SETUP_CFG: Final = "setup.cfg"
SETUP_PY: Final = "setup.py"
#: The root files this module reads.
FILES: Final = (PYPROJECT, SETUP_CFG, SETUP_PY)


class Finder(StrEnum):
    """How the packages are named."""

    LISTED = "listed"  #: the configuration lists them, with their folders
    FIND = "find"  #: found under ``where`` folders, filtered by include/exclude patterns
    AUTO = "auto"  #: setuptools' automatic discovery (src layout, else flat layout)


@dataclass(frozen=True, slots=True, kw_only=True)
class Packaging:
    """What the build configuration says about the packages (no file was looked at yet)."""

    finder: Finder
    #: Where this came from, for people: e.g. ``setup.cfg [options.packages.find]``.
    source: str
    #: LISTED: (dotted package name, folder) pairs; folders may be missing from the tree.
    listed: tuple[tuple[str, str], ...] = ()
    #: FIND: the folders to look in, and fnmatch patterns of dotted names.
    where: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    #: LISTED by project name (hatch, flit, poetry): also try ``src/<name>`` for ``<name>``.
    try_src: bool = False
    #: LISTED: a listed package brings its subpackages (hatch, flit, poetry ship whole folders;
    #: setuptools ships exactly the packages listed).
    walk: bool = True
    #: Files the build writes, with what writes them: (path, reason).
    generated: tuple[tuple[str, str], ...] = ()


def read_packaging(configs: Mapping[str, str]) -> Packaging:
    """Read ``pyproject.toml``, ``setup.cfg`` and ``setup.py`` (those present) as the build would.

    Raises:
        InvalidLayout: a configuration file does not parse, or a path in it leaves the
            repository.
    """
    pyproject = parse_toml(configs.get(PYPROJECT), PYPROJECT)
    setup_cfg = parse_cfg(configs.get(SETUP_CFG), SETUP_CFG)
    setup_py = setup_py_reading.setup_keywords(configs.get(SETUP_PY))
    backend = str(lookup(pyproject, "build-system", "build-backend") or "")
    name = str(lookup(pyproject, "project", "name") or "")
    if backend.startswith("hatchling"):
        found = _hatch(pyproject, name)
    elif backend.startswith("flit_core"):
        module = lookup(pyproject, "tool", "flit", "module", "name") or name
        found = _by_name(str(module), "flit module name")
    elif backend.startswith("poetry"):
        found = _poetry(pyproject, name)
    elif backend.startswith("setuptools") or not backend:
        found = _setuptools(pyproject, setup_cfg, setup_py)
    else:
        found = Packaging(finder=Finder.AUTO, source=f"automatic discovery ({backend})")
    generated = _generated(pyproject, setup_cfg, setup_py)
    return Packaging(
        finder=found.finder,
        source=found.source,
        listed=found.listed,
        where=found.where,
        include=found.include,
        exclude=found.exclude,
        try_src=found.try_src,
        walk=found.walk,
        generated=generated,
    )


# -- backends -----------------------------------------------------------------------------


def _by_name(name: str, source: str) -> Packaging:
    if not name:
        return Packaging(finder=Finder.AUTO, source="automatic discovery")
    module = normalized_name(name)
    return Packaging(
        finder=Finder.LISTED, source=f"{source} {module}", listed=((module, module),), try_src=True
    )


def _hatch(pyproject: Mapping[str, Any], name: str) -> Packaging:
    for table in ("tool.hatch.build.targets.wheel", "tool.hatch.build"):
        setting = f"{PYPROJECT} [{table}] packages"
        paths = string_list(lookup(pyproject, *table.split("."), "packages"), setting)
        if paths:
            listed = []
            for path in paths:
                folder = inside(path, setting)
                if not folder:
                    raise errors.InvalidLayout(f"{setting} names the repository root")
                listed.append((PurePosixPath(folder).name, folder))
            return Packaging(finder=Finder.LISTED, source=setting, listed=tuple(listed))
    return _by_name(name, "hatch project name")


def _poetry(pyproject: Mapping[str, Any], name: str) -> Packaging:
    entries = lookup(pyproject, "tool", "poetry", "packages")
    setting = f"{PYPROJECT} [tool.poetry] packages"
    if entries is None:
        return _by_name(str(lookup(pyproject, "tool", "poetry", "name") or name), "poetry name")
    if not isinstance(entries, list):
        raise errors.InvalidLayout(f"{setting} must be a list of tables")
    listed = []
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("include"), str):
            raise errors.InvalidLayout(f"{setting}: every entry needs an include")
        include = inside(entry["include"], setting)
        base = inside(str(entry.get("from", "")), f"{setting} from")
        folder = f"{base}/{include}" if base else include
        listed.append((include.replace("/", "."), folder))
    return Packaging(finder=Finder.LISTED, source=setting, listed=tuple(listed))


def _setuptools(
    pyproject: Mapping[str, Any], setup_cfg: configparser.ConfigParser, setup_py: Mapping[str, Any]
) -> Packaging:
    tool = lookup(pyproject, "tool", "setuptools") or {}
    if "packages" in tool:
        return _setuptools_pyproject(tool)
    if setup_cfg.has_option("options", "packages"):
        return _setuptools_cfg(setup_cfg)
    if "packages" in setup_py:
        return _setuptools_py(setup_py)
    return Packaging(finder=Finder.AUTO, source="setuptools automatic discovery")


def _package_dirs(mapping: Mapping[str, str], setting: str) -> dict[str, str]:
    return {str(key): inside(str(value), setting) for key, value in mapping.items()}


def _folder_of(package: str, package_dir: Mapping[str, str]) -> str:
    """The folder setuptools builds dotted ``package`` from, given ``package_dir``."""
    parts = package.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in package_dir:
            base = package_dir[prefix]
            return "/".join(p for p in (base, *parts[end:]) if p)
    base = package_dir.get("", "")
    return "/".join(p for p in (base, *parts) if p)


def _listed(
    names: tuple[str, ...], package_dir: Mapping[str, str], source: str, setting: str
) -> Packaging:
    listed = []
    for name in names:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", name):
            raise errors.InvalidLayout(f"{setting}: {name!r} is not a package name")
        listed.append((name, inside(_folder_of(name, package_dir), setting)))
    return Packaging(finder=Finder.LISTED, source=source, listed=tuple(listed), walk=False)


def _setuptools_pyproject(tool: Mapping[str, Any]) -> Packaging:
    setting = f"{PYPROJECT} [tool.setuptools] package-dir"
    raw_dirs = tool.get("package-dir") or {}
    if not isinstance(raw_dirs, Mapping):
        raise errors.InvalidLayout(f"{setting} must be a table")
    package_dir = _package_dirs(raw_dirs, setting)
    packages = tool["packages"]
    if isinstance(packages, Mapping):
        find = packages.get("find", packages.get("find-namespace")) or {}
        setting = f"{PYPROJECT} [tool.setuptools.packages.find]"
        where = string_list(find.get("where"), f"{setting} where") or (".",)
        return Packaging(
            finder=Finder.FIND,
            source=setting,
            where=tuple(inside(w, f"{setting} where") for w in where),
            include=string_list(find.get("include"), f"{setting} include") or ("*",),
            exclude=string_list(find.get("exclude"), f"{setting} exclude"),
        )
    names = string_list(packages, f"{PYPROJECT} [tool.setuptools] packages")
    source = f"{PYPROJECT} [tool.setuptools] packages"
    return _listed(names, package_dir, source, source)


def _cfg_package_dir(setup_cfg: configparser.ConfigParser) -> dict[str, str]:
    raw = setup_cfg.get("options", "package_dir", fallback="")
    mapping: dict[str, str] = {}
    for item in line_list(raw):
        key, sep, value = item.partition("=")
        if not sep:
            raise errors.InvalidLayout(f"{SETUP_CFG} [options] package_dir: {item!r} has no '='")
        mapping[key.strip()] = value.strip()
    return _package_dirs(mapping, f"{SETUP_CFG} [options] package_dir")


def _setuptools_cfg(setup_cfg: configparser.ConfigParser) -> Packaging:
    package_dir = _cfg_package_dir(setup_cfg)
    value = setup_cfg.get("options", "packages").strip()
    if value in ("find:", "find_namespace:"):
        section = "options.packages.find"
        setting = f"{SETUP_CFG} [{section}]"
        where = line_list(setup_cfg.get(section, "where", fallback="")) or (
            package_dir.get("", "."),
        )
        return Packaging(
            finder=Finder.FIND,
            source=setting,
            where=tuple(inside(w, f"{setting} where") for w in where),
            include=line_list(setup_cfg.get(section, "include", fallback="")) or ("*",),
            exclude=line_list(setup_cfg.get(section, "exclude", fallback="")),
        )
    source = f"{SETUP_CFG} [options] packages"
    return _listed(line_list(value), package_dir, source, source)


def _setuptools_py(setup_py: Mapping[str, Any]) -> Packaging:
    setting = f"{SETUP_PY} setup(packages=...)"
    raw_dirs = setup_py.get("package_dir") or {}
    if not isinstance(raw_dirs, Mapping):
        raise errors.InvalidLayout(f"{SETUP_PY} setup(package_dir=...) must be a dict")
    package_dir = _package_dirs(raw_dirs, f"{SETUP_PY} setup(package_dir=...)")
    packages = setup_py["packages"]
    if isinstance(packages, setup_py_reading.FindCall):
        where = inside(packages.where, f"{SETUP_PY} find_packages(where=...)")
        return Packaging(
            finder=Finder.FIND,
            source=f"{SETUP_PY} find_packages()",
            where=(where,),
            include=packages.include or ("*",),
            exclude=packages.exclude,
        )
    return _listed(string_list(packages, setting), package_dir, setting, setting)


# -- files the build writes ---------------------------------------------------------------


def _generated(
    pyproject: Mapping[str, Any], setup_cfg: configparser.ConfigParser, setup_py: Mapping[str, Any]
) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []

    def add(value: Any, what: str) -> None:
        if isinstance(value, str) and value.strip():
            found.append((inside(value, what), f"written by the build ({what})"))

    scm = lookup(pyproject, "tool", "setuptools_scm") or {}
    add(lookup(scm, "write_to"), "setuptools-scm write_to")
    add(lookup(scm, "version_file"), "setuptools-scm version_file")
    hatch_build = lookup(pyproject, "tool", "hatch", "build") or {}
    add(lookup(hatch_build, "hooks", "vcs", "version-file"), "hatch-vcs version-file")
    add(
        lookup(hatch_build, "targets", "wheel", "hooks", "vcs", "version-file"),
        "hatch-vcs version-file",
    )
    add(lookup(pyproject, "tool", "versioneer", "versionfile_source"), "versioneer")
    add(setup_cfg.get("versioneer", "versionfile_source", fallback=None), "versioneer")
    scm_py = setup_py.get("use_scm_version")
    if isinstance(scm_py, Mapping):
        add(scm_py.get("write_to"), "setuptools-scm write_to")
        add(scm_py.get("version_file"), "setuptools-scm version_file")
    return tuple(dict.fromkeys(found))
