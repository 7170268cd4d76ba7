"""Discovery of a Python repository: its packages are contexts, their modules components.

The packages are the profile's (found the way the project's build finds them). A package is a
context when it holds at least one module that is a component. Left out, each with its reason:

- test packages (a package named ``tests`` or ``test``, and everything in it) and test files
  (``test_*.py``, ``*_test.py``, the project's pytest ``python_files``, ``conftest.py``);
- ``__main__.py`` and other dunder modules (``__init__.py`` is the package: a component of its
  own only when it defines a public function or class, see :func:`scan`);
- files the build writes (setuptools-scm, hatch-vcs, versioneer ``_version.py``);
- private modules and packages (``_x``), unless the project setting ``include_private`` is on;
- files whose name is no module name (``user-old.py``).
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Mapping
from typing import Final

from ctworkflow import errors
from ctworkflow.domain.repository import layout_profile, layouts
from ctworkflow.domain.repository.layout_profile import LayoutProfile
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.repository.repository_tree import RepositoryTree
from ctworkflow.domain.repository.scan_result import (
    CONTEXT,
    MODULE,
    Found,
    Scan,
    Skipped,
    summarize_skipped,
)

TEST_PACKAGES: Final = frozenset({"tests", "test"})
PRIVATE_HINT: Final = "the project setting include_private brings it back"


def module_skip_reason(profile: LayoutProfile, path: str) -> str | None:
    """Why the module file ``path`` of a package is not a component, or None if it is one."""
    name = posixpath.basename(path)
    stem = name.removesuffix(".py")
    generated = dict(profile.generated).get(path)
    if generated is not None:
        return f"generated: {generated}"
    patterns = (*profile.test_file_patterns, *layout_profile.DEFAULT_TEST_FILES, "conftest.py")
    if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns):
        return "test file"
    if stem == "__main__":
        return "__main__: the program's entry point, not a component"
    if stem.startswith("__") and stem.endswith("__"):
        return "dunder module"
    if stem.startswith("_") and not profile.include_private:
        return f"private module ({PRIVATE_HINT})"
    return None


def _package_skip_reason(profile: LayoutProfile, package: str) -> str | None:
    parts = package.split(".")
    if any(part in TEST_PACKAGES for part in parts):
        return "test package"
    if any(part.startswith("_") for part in parts) and not profile.include_private:
        return f"private package ({PRIVATE_HINT})"
    return None


#: Extended regex (``git grep -E``) of the lines of an ``__init__.py`` that define code of the
#: package's own: a public top-level function or class (re-exports, ``__all__`` and constants
#: are not).
OWN_CODE_LINE: Final = r"^(async[[:space:]]+)?(def|class)[[:space:]]+[A-Za-z]"


def own_code_candidates(profile: LayoutProfile, tree: RepositoryTree) -> list[str]:
    """The ``__init__.py`` files whose :data:`OWN_CODE_LINE` lines discovery reads."""
    folders = profile.package_folders.values()
    return sorted(p for f in folders if tree.is_file(p := f"{f}/__init__.py"))


def scan(
    profile: LayoutProfile, tree: RepositoryTree, own_code: Mapping[str, str] | None = None
) -> Scan:
    """The contexts and components of a Python repository under its profile.

    ``own_code`` holds, by path, the :data:`OWN_CODE_LINE` lines of the packages'
    ``__init__.py`` files: a package whose ``__init__.py`` defines a public function or class is
    a component of its own context too, named ``<package>.__init__``
    (:data:`ctworkflow.domain.repository.layouts.PACKAGE_OWN`), tested where a module named like the
    package would be.

    Raises:
        InvalidLayout: a module or its test file is a symlink out of the repository, or its
            test path is a folder or lies under a file.
    """
    folders = profile.package_folders
    contexts: list[Found] = []
    members: list[Found] = []
    skipped: list[Skipped] = []
    left_out: list[str] = []  # packages skipped whole: their subpackages are not reported
    for package in sorted(folders):
        folder = folders[package]
        if any(package.startswith(f"{p}.") for p in left_out):
            continue
        reason = _package_skip_reason(profile, package)
        if reason is not None:
            left_out.append(package)
            skipped.append(Skipped(path=f"{folder}/", reason=reason))
            continue
        modules = _modules(profile, tree, package, folder, skipped)
        if (own_code or {}).get(f"{folder}/__init__.py", "").strip():
            modules.insert(0, _own(profile, tree, package, folder))
        if modules:
            contexts.append(
                Found(
                    module_name=package,
                    name=package.rsplit(".", 1)[-1],
                    type=CONTEXT,
                    path=f"{folder}/__init__.py",
                )
            )
            members.extend(modules)
    nothing = None
    if not contexts:
        nothing = _nothing_found(profile, folders, skipped)
    return Scan(found=(*contexts, *members), skipped=tuple(skipped), nothing_found=nothing)


def _own(profile: LayoutProfile, tree: RepositoryTree, package: str, folder: str) -> Found:
    """The component of a package's own code (its ``__init__.py``)."""
    module = f"{package}.{layouts.PACKAGE_OWN}"
    paths = layout_profile.component_paths(profile, module, tree)
    return Found(
        module_name=module,
        name=package.rsplit(".", 1)[-1],
        type=MODULE,
        path=f"{folder}/__init__.py",
        parent_module=package,
        test_path=paths.test,
        test_exists=paths.test_exists,
    )


def _modules(
    profile: LayoutProfile,
    tree: RepositoryTree,
    package: str,
    folder: str,
    skipped: list[Skipped],
) -> list[Found]:
    modules: list[Found] = []
    for path in tree.children(folder):
        if not path.endswith(".py") or posixpath.basename(path) == "__init__.py":
            continue
        reason = module_skip_reason(profile, path)
        if reason is not None:
            skipped.append(Skipped(path=path, reason=reason))
            continue
        module = f"{package}.{posixpath.basename(path).removesuffix('.py')}"
        try:
            layouts.validate_module_name(Layout.PYTHON, module)
        except errors.InvalidModuleName:
            skipped.append(Skipped(path=path, reason=f"{module!r} is not a module name"))
            continue
        paths = layout_profile.component_paths(profile, module, tree)
        modules.append(
            Found(
                module_name=module,
                name=module.rsplit(".", 1)[-1],
                type=MODULE,
                path=path,
                parent_module=package,
                test_path=paths.test,
                test_exists=paths.test_exists,
            )
        )
    return modules


def _nothing_found(profile: LayoutProfile, folders: dict[str, str], skipped: list[Skipped]) -> str:
    if not folders:
        return profile.packages_from
    tops = ", ".join(sorted({name.split(".")[0] for name in folders}))
    return (
        f"no module to test in the packages {tops} ({profile.packages_from}):"
        f" {summarize_skipped(skipped)}"
    )
