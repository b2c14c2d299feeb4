"""The hand-written stubs match the compiled module (mypy.stubtest), the
package type-checks under `mypy --strict`, and so does a typed usage file
that is also run, so that what type-checks also works."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent

pytest.importorskip("mypy", reason="mypy is in requirements-dev.txt")


def run(*args: str, cwd: pathlib.Path = HERE) -> str:
    env = dict(os.environ, MYPY_CACHE_DIR=str(HERE.parent / ".mypy_cache"))
    proc = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_stubs_match_the_compiled_module() -> None:
    out = run("-m", "mypy.stubtest", "tessera._native")
    assert "Success" in out


def test_package_is_strictly_typed() -> None:
    assert "Success" in run("-m", "mypy", "--strict", "-p", "tessera")


def test_typed_usage_file_type_checks() -> None:
    assert "Success" in run("-m", "mypy", "--strict", "typed_usage.py")


def test_typed_usage_file_runs() -> None:
    assert "typed_usage: ok" in run("typed_usage.py")


def test_wrong_usage_is_caught(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "bad_usage.py"
    bad.write_text(
        "import tessera\n"
        "e = tessera.Engine({'version': 1})\n"
        "e.authorize({'roles': 'admin'}, 'read', {'type': 'device'})\n"
        "e.authorize({}, 'read', {'id': 'x'})\n"
        "fast = e.prepare({})\n"
        "fast.is_allowed('read', 3)\n"
        "d: str = e.authorize({}, 'read', {'type': 'device'}).allowed\n"
    )
    env = dict(os.environ, MYPY_CACHE_DIR=str(HERE.parent / ".mypy_cache"))
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", str(bad)], capture_output=True, text=True, env=env, timeout=600
    )
    assert proc.returncode == 1
    assert proc.stdout.count("error:") == 4, proc.stdout
