"""`pip install .` (not editable) gives a working mpscan, migrations and templates included."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        timeout=300,
    )
    [built] = out.glob("mpscan-*.whl")
    return built


def test_wheel_carries_migrations_and_templates(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "scanner/_data/migrations/env.py" in names
    assert any(n.startswith("scanner/_data/migrations/versions/0001") for n in names)
    assert any(n.startswith("scanner/_data/templates/") for n in names)
    assert any(n.endswith("entry_points.txt") for n in names)


def test_wheel_ships_the_demo_standin_without_fault_injection(wheel):
    wheel_zip = zipfile.ZipFile(wheel)
    names = wheel_zip.namelist()
    standin = {n.rsplit("/", 1)[1] for n in names if n.startswith("scanner/standin/")}
    assert {"server.py", "moto_ext.py", "accounts.py", "seed.py"} <= standin
    assert not {"faults.py", "middleware.py", "__main__.py"} & standin
    assert not any(n.startswith("tests/") for n in names)
    for name in names:
        if name.endswith(".py"):
            assert b"/_standin" not in wheel_zip.read(name), name


def test_installed_wheel_migrates_a_database_outside_the_checkout(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("MPSCAN_DATABASE_URL", None)
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import scanner, sys; print(scanner.__file__); "
            "from scanner.cli import main; sys.argv = ['mpscan', 'db', 'upgrade']; main()",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0].startswith(str(target))
    newest = max(p.name.split("_")[0] for p in (ROOT / "migrations" / "versions").glob("0*.py"))
    assert f"is at revision {newest}" in run.stdout
    assert (elsewhere / "mpscan.db").exists()
