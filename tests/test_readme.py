"""The README is a front door: what ctworkflow is, the demo and test commands, a tour, and links.

The reference it used to hold lives in ``docs/``, one page per subject; every setting is in the
configuration page, and every link of the README and the docs leads to a page and a heading that
exist.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ctworkflow.config import Settings

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"
PAGES = sorted([ROOT / "README.md", *DOCS.glob("*.md")])

#: Where each subject of the reference lives: a page and the headings it must have.
REFERENCE = {
    "cli.md": ["The `ctw` command", "The demo"],
    "configuration.md": ["Configuration"],
    "api.md": ["Tokens", "The web view", "From Celery only", "Starting with the broker down"],
    "webhooks.md": ["Webhooks"],
    "metrics-and-logging.md": ["Metrics", "Monitor", "Logging"],
    "repositories.md": [
        "Layouts",
        "Per-project settings, overridable per session",
        "The target's environment",
        "Tried on real packages",
        "What is detected and where tests go",
        "What happens to existing tests",
        "Testing a context again",
    ],
    "command-agent.md": ["Your own coding agent (`command`)"],
    "deployment.md": ["With docker compose", "By hand", "Scale workers"],
    "concepts.md": ["Routing", "Naming and paths"],
    "development.md": ["Development", "Examples that run"],
    "security.md": ["The sandbox (`CTW_SANDBOX=bubblewrap`, the default)"],
    "reliability.md": ["The fault test"],
    "performance.md": ["How it is measured"],
    "architecture.md": ["The layers", "The packages at a glance"],
    "container-smoke.md": ["Running it"],
    "finalize.md": ["When `passing` lands"],
}


def slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    kept = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return kept.replace(" ", "-")


def headings(text: str) -> list[str]:
    return re.findall(r"^#{1,6} (.+)$", without_code(text), re.M)


def without_code(text: str) -> str:
    return re.sub(r"```.*?```", "", text, flags=re.S)


def test_the_first_two_commands_are_the_demo_and_the_tests() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    assert [b.strip() for b in blocks[:2]] == ["make demo", "make test"]
    assert README.index("make demo") < README.index("## ")


def test_the_readme_opens_by_saying_what_the_project_is() -> None:
    opening = README[README.index("\n") : README.index("```sh")]
    assert "ctworkflow is a Python service on Celery, Redis and PostgreSQL" in opening


def test_the_readme_is_a_front_door_of_at_most_200_lines() -> None:
    assert len(README.splitlines()) <= 200
    assert [h for h in headings(README) if not h.startswith("ctworkflow")] == [
        "What it does",
        "A five-minute tour",
        "Run it distributed",
        "Documentation",
    ]


def test_every_setting_is_in_the_configuration_reference() -> None:
    reference = (DOCS / "configuration.md").read_text()
    missing = [
        f"CTW_{name.upper()}"
        for name in Settings.model_fields
        if f"`CTW_{name.upper()}`" not in reference
    ]
    assert missing == []


@pytest.mark.parametrize("page", sorted(REFERENCE))
def test_each_subject_of_the_reference_has_its_page_linked_from_the_readme(page: str) -> None:
    assert f"(docs/{page})" in README
    assert set(REFERENCE[page]) <= set(headings((DOCS / page).read_text()))


def test_every_page_of_the_docs_is_reached_from_the_readme() -> None:
    linked = {target for _, target, _ in links(ROOT / "README.md")}
    assert sorted(p.name for p in DOCS.glob("*.md") if p not in linked) == []


def links(page: Path) -> list[tuple[Path, Path, str]]:
    """Each relative link of a page: (the page, the file it names, its anchor)."""
    found = []
    for target in re.findall(r"\]\(([^)\s]+)\)", without_code(page.read_text())):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        found.append((page, (page.parent / path).resolve() if path else page, anchor))
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_leads_to_a_page_and_heading_that_exist(page: Path) -> None:
    broken = [
        f"{target.name}#{anchor}"
        for _, target, anchor in links(page)
        if not target.exists()
        or (anchor and anchor not in {slug(h) for h in headings(target.read_text())})
    ]
    assert broken == []


def test_the_worker_commands_are_the_top_level_apps() -> None:
    assert "celery -A workers.orchestration worker -Q ctw.orchestration" in README
    assert "celery -A workers.components worker -Q ctw.components" in README
    assert "celery -A workers.control beat" in README
    stale = [p.name for p in PAGES if "-A ctworkflow.workers" in p.read_text()]
    assert stale == []
