"""The README starts with the demo and test commands, and documents every setting."""

from __future__ import annotations

import re
from pathlib import Path

from ctworkflow.config import Settings

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_the_first_two_commands_are_the_demo_and_the_tests() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    assert [b.strip() for b in blocks[:2]] == ["make demo", "make test"]
    assert README.index("make demo") < README.index("## ")


def test_the_readme_opens_by_saying_what_the_project_is() -> None:
    opening = README[README.index("\n") : README.index("```sh")]
    assert "ctworkflow is a Python service on Celery, Redis and PostgreSQL" in opening


def test_every_setting_is_in_the_configuration_reference() -> None:
    reference = README[README.index("## Configuration") :]
    missing = [
        f"CTW_{name.upper()}"
        for name in Settings.model_fields
        if f"`CTW_{name.upper()}`" not in reference
    ]
    assert missing == []
