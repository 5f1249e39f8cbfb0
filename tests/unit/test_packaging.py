"""The example force config ships inside the package (so an installed ``lookout`` finds it from any directory)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from runtime.examples import EXAMPLE_AREAS, EXAMPLE_FORCE_CONFIG

ROOT = Path(__file__).resolve().parents[2]


def test_the_built_package_carries_the_example_force_and_its_areas(tmp_path: Path) -> None:
    # setuptools' build_py copies exactly what a wheel would hold: the packages and their package data.
    build = "import setuptools, sys; sys.argv = ['setup.py', '-q', 'build_py', '--build-lib', sys.argv[1]]; setuptools.setup()"
    done = subprocess.run(
        [sys.executable, "-c", build, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    shipped = tmp_path / "runtime" / "examples"
    for example in (EXAMPLE_FORCE_CONFIG, EXAMPLE_AREAS):
        assert (shipped / example.name).read_bytes() == example.read_bytes()
