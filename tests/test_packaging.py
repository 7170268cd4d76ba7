"""What a user installs: ``pip install .`` puts the ``ctworkflow`` package in place, and nothing
else: no test kits, no benchmark, no top-level modules of ours."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

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
    assert (package / "celeryconfig.py").is_file() and (package / "workers").is_dir()
    assert (package / "py.typed").is_file()
    assert list((package / "persistence" / "migrations" / "versions").glob("0001_*.py"))
    assert not [p for p in package.rglob("*") if p.name in ("servers.py", "samples.py", "bench")]
