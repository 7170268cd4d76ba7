"""The environment recipe a repository's own files call for, and a project's override of it."""

from __future__ import annotations

import pytest

from ctworkflow import errors
from ctworkflow.domain.repository import environment_settings, environments
from ctworkflow.domain.repository.environments import Installer, Recipe
from ctworkflow.domain.repository.layouts import Layout

PYPROJECT = """
[project]
name = "shop"
dependencies = ["attrs"]

[project.optional-dependencies]
docs = ["sphinx"]
dev = ["tox", "pytest"]
tests = ["pytest", "freezegun"]
"""


def detect(files: dict[str, str]) -> Recipe:
    return environments.detect(Layout.PYTHON, files)


def test_a_pyproject_project_is_installed_with_its_test_extra_not_its_dev_extra() -> None:
    recipe = detect({"pyproject.toml": PYPROJECT, "requirements-dev.txt": "tox\n"})

    assert recipe.install_project
    assert recipe.extras == ("tests",)
    assert recipe.requirements == ()  # the extra says it all
    assert recipe.packages == ("pytest", "pytest-randomly", "coverage")
    assert recipe.describe() == "auto: the project[tests], pytest, pytest-randomly, coverage"


def test_the_dev_extra_is_taken_only_when_there_is_no_test_extra() -> None:
    pyproject = PYPROJECT.replace('tests = ["pytest", "freezegun"]', "")

    assert detect({"pyproject.toml": pyproject}).extras == ("dev",)


def test_a_dependency_group_of_tests_is_installed_with_its_includes() -> None:
    pyproject = """
[project]
name = "shop"

[dependency-groups]
lint = ["ruff"]
base = ["hypothesis"]
test = ["pytest", {include-group = "base"}]
"""
    recipe = detect({"pyproject.toml": pyproject})

    assert recipe.groups == ("test",)
    assert environments.group_requirements(pyproject, recipe.groups) == ("pytest", "hypothesis")


def test_a_group_that_includes_itself_is_refused() -> None:
    pyproject = '[dependency-groups]\ntest = [{include-group = "test"}]\n'

    with pytest.raises(errors.InvalidLayout, match="includes itself"):
        environments.group_requirements(pyproject, ("test",))


def test_setup_py_without_extras_falls_back_to_the_test_requirement_file() -> None:
    recipe = detect(
        {
            "setup.py": "from setuptools import setup\nsetup()\n",
            "requirements-dev.txt": "freezegun\n",
            "requirements.txt": "six\n",
        }
    )

    assert recipe.install_project
    assert recipe.requirements == ("requirements-dev.txt",)


def test_setup_cfg_extras_are_read() -> None:
    setup_cfg = "[metadata]\nname = shop\n\n[options.extras_require]\ntesting = pytest\n"

    assert detect({"setup.cfg": setup_cfg}).extras == ("testing",)


def test_a_repository_without_packaging_metadata_gets_its_requirements_and_pytest() -> None:
    recipe = detect({"requirements.txt": "pyyaml\n", "requirements/test.txt": "freezegun\n"})

    assert not recipe.install_project
    assert recipe.requirements == ("requirements.txt", "requirements/test.txt")
    assert detect({}).source == "no packaging metadata: pytest, pytest-randomly and coverage only"


def test_an_elixir_project_is_built_by_mix() -> None:
    recipe = environments.detect(Layout.PHOENIX, {})

    assert recipe.installer is Installer.MIX
    assert recipe.files == ("mix.exs", "mix.lock")


def test_a_pyproject_that_does_not_parse_is_an_invalid_layout() -> None:
    with pytest.raises(errors.InvalidLayout, match=r"pyproject\.toml is not valid TOML"):
        detect({"pyproject.toml": "[project\n"})


def test_the_project_setting_replaces_only_what_it_names() -> None:
    detected = detect({"pyproject.toml": PYPROJECT})

    chosen = environment_settings.with_setting(
        detected, {"installer": "pip", "extras": ["tests", "docs"], "packages": ["pytest<9"]}
    )

    assert chosen.installer is Installer.PIP
    assert chosen.extras == ("tests", "docs")
    assert chosen.packages == ("pytest<9",)
    assert chosen.install_project  # kept from what was detected


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("uv", "setting environment must be a mapping"),
        ({"installers": "uv"}, "unknown environment setting 'installers'"),
        ({"installer": "conda"}, "installer must be one of auto, uv, pip, none"),
        ({"install_project": "yes"}, "install_project must be true or false"),
        ({"extras": "tests"}, "extras must be a list of extra names"),
        ({"extras": ["te sts"]}, "extras must be a list of extra names"),
        ({"requirements": ["../outside.txt"]}, "outside the repository"),
        ({"packages": ["--index-url=https://evil.example"]}, "not options"),
    ],
)
def test_a_bad_setting_is_refused_with_one_line_naming_it(setting: object, message: str) -> None:
    with pytest.raises(errors.InvalidInput, match=message) as caught:
        environment_settings.check_setting(setting)

    assert "\n" not in str(caught.value)


def test_the_key_changes_with_the_dependency_files_and_the_recipe_only() -> None:
    recipe = detect({"pyproject.toml": PYPROJECT})
    files = {"pyproject.toml": PYPROJECT}
    first = environments.key("p1", recipe, files, "cpython-3.11.7")

    assert environments.key("p1", recipe, dict(files), "cpython-3.11.7") == first
    assert (
        environments.key("p1", recipe, {"pyproject.toml": PYPROJECT + "\n"}, "cpython-3.11.7")
        != first
    )
    assert environments.key("p2", recipe, files, "cpython-3.11.7") != first
    assert environments.key("p1", recipe, files, "cpython-3.12.1") != first
    other = environment_settings.with_setting(recipe, {"extras": ["dev"]})
    assert environments.key("p1", other, files, "cpython-3.11.7") != first
    assert first.startswith("p1-") and len(first) == len("p1-") + 16


def test_a_recipe_survives_the_session_state() -> None:
    recipe = environment_settings.with_setting(
        detect({"pyproject.toml": PYPROJECT}), {"requirements": ["ci/reqs.txt"]}
    )

    assert Recipe.from_json(recipe.to_json()) == recipe


def test_of_a_mix_recipe_only_installer_none_applies() -> None:
    mix = environments.detect(Layout.PHOENIX, {})

    assert environment_settings.with_setting(mix, {"extras": ["tests"]}) == mix
    assert environment_settings.with_setting(mix, {"installer": "none"}).installer is Installer.NONE
