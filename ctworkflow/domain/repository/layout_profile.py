"""A repository layout profile: where a project's modules are and where their tests go.

A profile is detected from one commit (:mod:`ctworkflow.domain.repository.python_layout`,
:mod:`ctworkflow.domain.repository.elixir_layout`) and is then plain data: every path of a component
follows from it and the module name alone, so a session stores the profile it detected at its
base commit and every step of it agrees on every path.

Python
    ``packages`` maps each package to its folder (``marshmallow`` → ``src/marshmallow``), as the
    build configuration says. A module ``pkg.sub.mod`` is ``<folder of pkg.sub>/mod.py``. Its
    test file follows ``test_style``:

    - ``mirrored`` (the seed's rule, the default): ``<tests_root>/sub/test_mod.py``, the package
      tree below the top-level package mirrored under ``tests_root``;
    - ``flat``: ``<tests_root>/test_mod.py``, one folder of ``test_<module>.py`` files;
    - ``in_package``: ``<folder of pkg.sub>/tests/test_mod.py``, next to the code.

    The file name is ``test_<module>.py`` unless the project's pytest ``python_files`` (or its
    existing tests) use ``<module>_test.py``.

Elixir
    ``MyApp.Accounts.User`` is ``lib/my_app/accounts/user.ex`` (Elixir's ``Macro.underscore``),
    tested in ``test/my_app/accounts/user_test.exs``: mix's ``test/`` mirrors ``lib/``.
    ``elixir_layout`` says which files are contexts: ``phoenix`` (``lib/<app>/<ctx>.ex`` next to
    ``lib/<app>/<ctx>/``) or ``library`` (``lib/<app>.ex``, its modules under ``lib/<app>/``).

A component's test file is the one already there when there is one at that path
(:func:`component_paths`); otherwise a new one is written there.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from ctworkflow import errors
from ctworkflow.domain.repository import layouts
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.repository.repository_tree import RepositoryTree


class TestStyle(StrEnum):
    """Where a Python project keeps the test file of a module."""

    __test__ = False  # a domain value, not a pytest test class

    MIRRORED = "mirrored"
    FLAT = "flat"
    IN_PACKAGE = "in_package"


class ElixirLayout(StrEnum):
    """Which files of an Elixir project are contexts."""

    PHOENIX = "phoenix"
    LIBRARY = "library"


DEFAULT_TEST_FILES: Final = ("test_*.py", "*_test.py")
#: File name templates a test file may follow (``{}``: the module's last segment).
PYTHON_TEST_NAMES: Final = ("test_{}.py", "{}_test.py")
ELIXIR_TEST_NAME: Final = "{}_test.exs"
#: The project settings that override what is detected, and what each must be.
SETTINGS: Final = {
    "source_root": "a folder of the repository holding the top-level packages ('' or 'src')",
    "tests_root": "a folder of the repository ('tests')",
    "test_style": "mirrored, flat or in_package",
    "include_private": "true or false",
    "elixir_layout": "phoenix or library",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class LayoutProfile:
    """Where the modules of one commit are, and where their tests go."""

    layout: Layout
    #: Python: every package (dotted name) and its folder; Elixir: empty.
    packages: tuple[tuple[str, str], ...] = ()
    #: The folder of top-level packages the configuration does not name ("" or "src").
    source_root: str = ""
    tests_root: str = "tests"
    test_style: TestStyle = TestStyle.MIRRORED
    #: The file name template of a new test file.
    test_name: str = "test_{}.py"
    #: ``in_package``: the name of a package's test folder.
    package_tests_dir: str = "tests"
    #: Names of test files (pytest's ``python_files``): never components.
    test_file_patterns: tuple[str, ...] = DEFAULT_TEST_FILES
    #: Private modules (``_x.py``) and packages are components too.
    include_private: bool = False
    #: Files the build writes (never components), with what writes each.
    generated: tuple[tuple[str, str], ...] = ()
    elixir_layout: ElixirLayout | None = None
    #: The mix project's application (``:eex`` is ``eex``).
    app: str | None = None
    #: For people: where the packages and the test placement were read from.
    packages_from: str = "default"
    tests_from: str = "default"

    @property
    def package_folders(self) -> dict[str, str]:
        """Every package's folder, by dotted name."""
        return dict(self.packages)

    @property
    def import_roots(self) -> tuple[str, ...]:
        """The folders that hold the top-level packages ("src" for a src layout, "." for
        the repository root): what a run puts first on its import path."""
        roots = []
        for name, folder in self.packages:
            if "." not in name:
                roots.append(posixpath.dirname(folder) or ".")
        return tuple(dict.fromkeys(roots))

    def describe(self) -> str:
        """One line for people: what was detected, and from where."""
        if self.layout is Layout.PHOENIX:
            kind = (self.elixir_layout or ElixirLayout.PHOENIX).value
            app = f" app {self.app}," if self.app else ""
            return f"elixir {kind} layout,{app} tests in {self.tests_root}/ mirroring lib/"
        tops = sorted({name.split(".")[0] for name, _ in self.packages})
        where = f"{self.source_root}/" if self.source_root else "the repository root"
        tests = {
            TestStyle.MIRRORED: f"{self.tests_root or '.'}/<subpackages>/{self.test_name}",
            TestStyle.FLAT: f"{self.tests_root or '.'}/{self.test_name}",
            TestStyle.IN_PACKAGE: f"<package>/{self.package_tests_dir}/{self.test_name}",
        }[self.test_style].replace("{}", "<module>")
        return (
            f"python packages {', '.join(tops) or '(none)'} under {where} ({self.packages_from});"
            f" tests: {self.test_style.value}, {tests} ({self.tests_from})"
        )

    def to_json(self) -> dict[str, Any]:
        """The profile as JSON-safe data (stored on a session)."""
        return {
            "layout": self.layout.value,
            "packages": [list(pair) for pair in self.packages],
            "source_root": self.source_root,
            "tests_root": self.tests_root,
            "test_style": self.test_style.value,
            "test_name": self.test_name,
            "package_tests_dir": self.package_tests_dir,
            "test_file_patterns": list(self.test_file_patterns),
            "include_private": self.include_private,
            "generated": [list(pair) for pair in self.generated],
            "elixir_layout": self.elixir_layout.value if self.elixir_layout else None,
            "app": self.app,
            "packages_from": self.packages_from,
            "tests_from": self.tests_from,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LayoutProfile:
        """Rebuild a profile from :meth:`to_json`'s output."""
        elixir = data.get("elixir_layout")
        return cls(
            layout=Layout(data["layout"]),
            packages=tuple((str(a), str(b)) for a, b in data.get("packages", ())),
            source_root=str(data.get("source_root", "")),
            tests_root=str(data.get("tests_root", "tests")),
            test_style=TestStyle(data.get("test_style", TestStyle.MIRRORED)),
            test_name=str(data.get("test_name", "test_{}.py")),
            package_tests_dir=str(data.get("package_tests_dir", "tests")),
            test_file_patterns=tuple(
                str(p) for p in data.get("test_file_patterns", DEFAULT_TEST_FILES)
            ),
            include_private=bool(data.get("include_private", False)),
            generated=tuple((str(a), str(b)) for a, b in data.get("generated", ())),
            elixir_layout=ElixirLayout(elixir) if elixir else None,
            app=data.get("app"),
            packages_from=str(data.get("packages_from", "default")),
            tests_from=str(data.get("tests_from", "default")),
        )


def default_profile(layout: Layout) -> LayoutProfile:
    """The seed's layout, for a repository nothing was read from."""
    if layout is Layout.PHOENIX:
        return LayoutProfile(
            layout=layout,
            source_root="lib",
            tests_root="test",
            test_name=ELIXIR_TEST_NAME,
            elixir_layout=ElixirLayout.PHOENIX,
        )
    return LayoutProfile(layout=layout)


# -- paths --------------------------------------------------------------------------------


def package_folder(profile: LayoutProfile, package: str) -> str:
    """The folder of a dotted Python package, from its nearest known ancestor."""
    folders = profile.package_folders
    parts = package.split(".")
    for end in range(len(parts), 0, -1):
        known = folders.get(".".join(parts[:end]))
        if known is not None:
            return posixpath.join(known, *parts[end:]) if parts[end:] else known
    return posixpath.join(profile.source_root, *parts)


def source_path(
    profile: LayoutProfile, module_name: str, tree: RepositoryTree | None = None
) -> str:
    """The repository-relative path of a module's source file.

    Without a tree it is the path the module's name gives. With the commit's tree it is the
    file that really holds the module where that differs: a Python package's ``__init__.py``,
    or an Elixir file named by its segments rather than by ``Macro.underscore``
    (``EEx.Compiler`` in ``lib/eex/compiler.ex``, not ``lib/e_ex/compiler.ex``).
    """
    layouts.validate_module_name(profile.layout, module_name)
    if profile.layout is Layout.PHOENIX:
        module_name = layouts.import_name(module_name)  # a context module's own code: its file
        canonical = f"lib/{layouts.underscore(module_name)}.ex"
        if tree is None or tree.is_file(canonical):
            return canonical
        loose = tree.by_loose_path.get(_loose("lib/" + module_name.replace(".", "/") + ".ex"))
        return loose[0] if loose is not None and len(loose) == 1 else canonical
    package, _, last = module_name.rpartition(".")
    folder = package_folder(profile, package) if package else profile.source_root
    path = posixpath.join(folder, f"{last}.py")
    if tree is not None and not tree.is_file(path):
        package_init = posixpath.join(folder, last, "__init__.py")
        return package_init if tree.is_file(package_init) else path
    return path


def _loose(path: str) -> str:
    """A path compared without case or underscores (how Elixir file names vary)."""
    return path.replace("_", "").lower()


def test_path(profile: LayoutProfile, module_name: str, tree: RepositoryTree | None = None) -> str:
    """The repository-relative path of a module's test file under the profile's rule.

    Elixir's mirrors the module's source file under the tests root (``lib/eex/compiler.ex`` is
    tested in ``test/eex/compiler_test.exs``), so it takes the tree as :func:`source_path` does.
    """
    layouts.validate_module_name(profile.layout, module_name)
    if profile.layout is Layout.PHOENIX:
        source = source_path(profile, module_name, tree)
        mirrored = source.removeprefix("lib/").removesuffix(".ex")
        return posixpath.join(profile.tests_root, profile.test_name.format(mirrored))
    # A package's own code (``pkg.sub.__init__``) is tested where a module ``pkg.sub`` would be.
    *parents, last = layouts.import_name(module_name).split(".")
    name = profile.test_name.format(last)
    match profile.test_style:
        case TestStyle.FLAT:
            return posixpath.join(profile.tests_root, name)
        case TestStyle.IN_PACKAGE:
            folder = package_folder(profile, ".".join(parents)) if parents else profile.source_root
            return posixpath.join(folder, profile.package_tests_dir, name)
        case TestStyle.MIRRORED:
            return posixpath.join(profile.tests_root, *parents[1:], name)


# Not tests, despite their names: keep pytest from collecting them where a test imports them.
test_path.__test__ = False  # type: ignore[attr-defined]


def test_support_dir(profile: LayoutProfile, test_file: str) -> str:
    """The folder an agent may add support files to next to ``test_file`` (its tests folder)."""
    if profile.layout is Layout.PYTHON and profile.test_style is TestStyle.IN_PACKAGE:
        return posixpath.dirname(test_file)
    return profile.tests_root


test_support_dir.__test__ = False  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True, kw_only=True)
class ComponentPaths:
    """Where one component's source is, and its test file (already there, or to be written)."""

    source: str
    test: str
    #: Whether ``test`` is a file of the commit already (the agent extends it).
    test_exists: bool
    #: The folder the agent may add support files to.
    support_dir: str


def existing_test_file(
    profile: LayoutProfile, module_name: str, tree: RepositoryTree
) -> str | None:
    """The module's test file if the commit already has one at the profile's path."""
    path = test_path(profile, module_name, tree)
    return path if tree.is_file(path) else None


def component_paths(
    profile: LayoutProfile, module_name: str, tree: RepositoryTree
) -> ComponentPaths:
    """A component's source and test paths in a commit, checked.

    Raises:
        InvalidModuleName: not a module name of the layout.
        InvalidLayout: the source or test file is a symlink out of the repository, or the test
            path (or a folder on it) is something else in the commit.
    """
    source = source_path(profile, module_name, tree)
    test = test_path(profile, module_name, tree)
    tree.check_inside(source, "source file")
    tree.check_inside(test, "test file")
    if tree.is_dir(test):
        raise errors.InvalidLayout(f"test path {test} of {module_name} is a folder, not a file")
    parent = posixpath.dirname(test)
    while parent:
        if tree.is_file(parent):
            raise errors.InvalidLayout(
                f"test path {test} of {module_name} is under {parent}, which is a file"
            )
        parent = posixpath.dirname(parent)
    return ComponentPaths(
        source=source,
        test=test,
        test_exists=tree.is_file(test),
        support_dir=test_support_dir(profile, test),
    )


# -- settings -----------------------------------------------------------------------------
