"""What a user installs: ``pip install .`` puts the ``ctworkflow`` package in place, and nothing
else: no test kits, no benchmark, no top-level modules of ours."""

from __future__ import annotations

import importlib
import subprocess
import sys
import venv
from pathlib import Path

from celery import Celery

ROOT = Path(__file__).resolve().parents[1]


def test_pip_install_puts_only_the_ctworkflow_package_in_a_new_environment(
    tmp_path: Path,
) -> None:
    # Given a new virtual environment
    venv.EnvBuilder(with_pip=False).create(tmp_path / "venv")
    site = next((tmp_path / "venv" / "lib").glob("python*/site-packages"))
    before = {p.name for p in site.iterdir()}

    # When the checkout is installed into it (its dependencies are not what is checked)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(tmp_path / "venv" / "bin" / "python"),
            "install",
            "--quiet",
            "--no-deps",
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    # Then the package and its metadata are all that was added
    assert done.returncode == 0, done.stderr
    added = {p.name for p in site.iterdir()} - before
    assert {name for name in added if not name.endswith(".dist-info")} == {"ctworkflow"}
    package = site / "ctworkflow"
    # The package's own Celery defaults and worker apps: it runs without the top-level ones.
    assert (package / "celery_defaults.py").is_file() and (package / "workers").is_dir()
    assert (package / "py.typed").is_file()
    assert list((package / "persistence" / "migrations" / "versions").glob("0001_*.py"))
    assert not [p for p in package.rglob("*") if p.name in ("servers.py", "samples.py", "bench")]


#: The repository's top level as the user's design card fixes it.
DESIGN_CARD = {
    "pyproject.toml",
    "ctworkflow",
    "workers",
    "tests",
    "docker-compose.yml",
    "celeryconfig.py",
    "README.md",
}
#: What stands beside it, each for one purpose: the make targets, the image, the reference
#: pages, the deployment's secrets and manifests, the image's pinned set.
SUPPORT = {"Makefile", "Dockerfile", "docs", "deploy", "requirements.lock"}


def test_the_repository_top_level_is_the_design_cards() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    top = {path.split("/")[0] for path in tracked if not path.startswith(".")}
    assert top >= DESIGN_CARD, f"missing from the top level: {sorted(DESIGN_CARD - top)}"
    assert top - DESIGN_CARD <= SUPPORT, f"not in the design card: {sorted(top - DESIGN_CARD)}"


def test_the_top_level_celery_apps_are_the_packages_with_the_deployments_config() -> None:
    import celeryconfig
    from ctworkflow import celery_defaults

    # celeryconfig starts from every default the package derives from its settings (every
    # Celery setting the module defines is exported) ...
    settings = set(vars(celery_defaults)) & set(Celery().conf.keys())
    assert settings <= set(celery_defaults.__all__), settings - set(celery_defaults.__all__)
    for name in celery_defaults.__all__:
        assert getattr(celeryconfig, name) == getattr(celery_defaults, name), name
    # ... and each top-level app is the package's app, loading it by name.
    for kind in ("orchestration", "components", "control"):
        entry = importlib.import_module(f"workers.{kind}")
        assert entry.app is importlib.import_module(f"ctworkflow.workers.{kind}").app
        assert entry.app._config_source == "celeryconfig"
