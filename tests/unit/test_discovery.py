"""Discovery, the pure part: file trees become contexts and components, and plans."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from ctworkflow.domain.model import Component
from ctworkflow.domain.repository import discovery, elixir_layout, layout_detection
from ctworkflow.domain.repository.layout_profile import LayoutProfile
from ctworkflow.domain.repository.layouts import Layout
from ctworkflow.domain.repository.repository_tree import RepositoryTree

NOW = datetime(2026, 1, 1, tzinfo=UTC)

PHOENIX_FILES = {
    "mix.exs": "defmodule MyApp.MixProject do\nend\n",
    "lib/my_app.ex": "defmodule MyApp do\nend\n",
    "lib/my_app/repo.ex": "defmodule MyApp.Repo do\nend\n",
    "lib/my_app/accounts.ex": "defmodule MyApp.Accounts do\n  defmodule Nested do\n  end\n",
    "lib/my_app/accounts/user.ex": "  defmodule MyApp.Accounts.User do\n",
    "lib/my_app/accounts/user_repository.ex": "defmodule MyApp.Accounts.UserRepository do\n",
    "lib/my_app/accounts/misplaced.ex": "defmodule MyApp.Accounts.Elsewhere do\n",
    "lib/my_app/accounts/user/token.ex": "defmodule MyApp.Accounts.User.Token do\n",
    "lib/my_app/billing/invoice.ex": "defmodule MyApp.Billing.Invoice do\n",
    "lib/my_app_web/router.ex": "defmodule MyAppWeb.Router do\n",
    "test/my_app/accounts/user_test.exs": "defmodule MyApp.Accounts.UserTest do\n",
}


def modules(scan: discovery.Scan) -> list[tuple[str, str, str | None]]:
    return [(f.module_name, f.type, f.parent_module) for f in scan.found]


def profile_of(layout: Layout, files: Iterable[str] | Mapping[str, str]) -> LayoutProfile:
    """The layout profile of these files (their texts, for a mapping)."""
    texts = files if isinstance(files, Mapping) else {}
    configs = {n: texts[n] for n in layout_detection.config_files(layout) if n in texts}
    return layout_detection.detect(layout, RepositoryTree.of(files), configs)


def scan_of(layout: Layout, files: Iterable[str] | Mapping[str, str]) -> discovery.Scan:
    """Discovery of these files (their texts, for a mapping), under their detected profile."""
    tree = RepositoryTree.of(files)
    profile = profile_of(layout, files)
    texts = files if isinstance(files, Mapping) else {}
    sources = {p: texts.get(p, "") for p in elixir_layout.candidates(profile, tree)}
    return discovery.scan(profile, tree, sources)


def test_a_phoenix_context_is_a_file_next_to_a_folder_of_its_components() -> None:
    scan = scan_of(Layout.PHOENIX, PHOENIX_FILES)

    assert modules(scan) == [
        ("MyApp.Accounts", "context", None),
        ("MyApp.Accounts.User", "module", "MyApp.Accounts"),
        ("MyApp.Accounts.UserRepository", "module", "MyApp.Accounts"),
    ]
    assert [f.name for f in scan.found] == ["Accounts", "User", "UserRepository"]
    # A file whose module belongs elsewhere is reported, not registered under a wrong path.
    assert [(s.path, s.reason) for s in scan.skipped] == [
        (
            "lib/my_app/accounts/misplaced.ex",
            "defines MyApp.Accounts.Elsewhere, whose source belongs in"
            " lib/my_app/accounts/elsewhere.ex",
        )
    ]


def test_phoenix_discovery_reads_only_the_candidate_files() -> None:
    profile = profile_of(Layout.PHOENIX, PHOENIX_FILES)

    assert elixir_layout.candidates(profile, RepositoryTree.of(PHOENIX_FILES)) == [
        "lib/my_app/accounts.ex",
        "lib/my_app/accounts/misplaced.ex",
        "lib/my_app/accounts/user.ex",
        "lib/my_app/accounts/user_repository.ex",
    ]


def test_a_phoenix_file_without_a_module_is_skipped() -> None:
    files = {"lib/app/ctx.ex": "defmodule App.Ctx do", "lib/app/ctx/empty.ex": ""}

    scan = scan_of(Layout.PHOENIX, files)

    assert scan.found == ()
    assert [s.reason for s in scan.skipped] == ["no defmodule found"]
    assert scan.nothing_found is not None
    assert scan.nothing_found.startswith("no Phoenix context")


def test_a_python_package_is_a_context_and_its_modules_are_components() -> None:
    paths = [
        "shop/__init__.py",
        "shop/accounts/__init__.py",
        "shop/accounts/user.py",
        "shop/accounts/__main__.py",
        "shop/accounts/notes.txt",
        "shop/accounts/user-old.py",
        "shop/orphans/stray.py",  # no __init__.py: not a package
        "tests/__init__.py",
        "tests/test_user.py",
        ".venv/lib/__init__.py",
        ".venv/lib/site.py",
        "setup.py",
    ]

    scan = scan_of(Layout.PYTHON, paths)

    assert modules(scan) == [
        ("shop.accounts", "context", None),
        ("shop.accounts.user", "module", "shop.accounts"),
    ]
    assert [(s.path, s.reason) for s in scan.skipped] == [
        ("shop/accounts/__main__.py", "__main__: the program's entry point, not a component"),
        ("shop/accounts/user-old.py", "'shop.accounts.user-old' is not a module name"),
    ]


def component(module: str, type: str = "module", removed: bool = False) -> Component:
    return Component(
        id=uuid.uuid4(),
        account_id=uuid.uuid4(),
        project_id=uuid.uuid4(),
        parent_id=None,
        name=module.rsplit(".", 1)[-1],
        module_name=module,
        type=type,
        priority=0,
        created_at=NOW,
        removed_at=NOW if removed else None,
    )


def test_a_plan_adds_renames_removes_and_keeps_by_module_name() -> None:
    paths = [
        "shop/__init__.py",
        "shop/accounts/__init__.py",
        "shop/accounts/user.py",
        "shop/accounts/member.py",
        "shop/accounts/audit.py",
        "shop/accounts/token.py",
    ]
    scan = scan_of(Layout.PYTHON, paths)
    ctx = component("shop.accounts", "context")
    user = component("shop.accounts.user")
    old = component("shop.accounts.customer")
    gone = component("shop.accounts.legacy")
    token = component("shop.accounts.token", removed=True)

    plan = discovery.plan(
        profile_of(Layout.PYTHON, paths),
        scan,
        [ctx, user, old, gone, token],
        {"shop/accounts/customer.py": "shop/accounts/member.py"},
    )

    assert [c.module_name for c, _ in plan.unchanged] == ["shop.accounts", "shop.accounts.user"]
    assert [(r.component.id, r.to.module_name) for r in plan.renamed] == [
        (old.id, "shop.accounts.member")
    ]
    assert [c.id for c in plan.removed] == [gone.id]
    # A removed module that came back is added again (its row is revived by the service).
    assert [f.module_name for f in plan.added] == ["shop.accounts.audit", "shop.accounts.token"]


def test_a_rename_onto_a_module_already_registered_is_a_removal() -> None:
    paths = ["p/__init__.py", "p/a.py", "p/b.py"]
    scan = scan_of(Layout.PYTHON, paths)
    a_old = component("p.old")
    b = component("p.b", removed=True)

    plan = discovery.plan(
        profile_of(Layout.PYTHON, paths), scan, [a_old, b], {"p/old.py": "p/b.py"}
    )

    assert plan.renamed == ()
    assert [c.id for c in plan.removed] == [a_old.id]
    assert sorted(f.module_name for f in plan.added) == ["p", "p.a", "p.b"]
