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


def test_typed_usage_file_is_pyright_strict_clean() -> None:
    """pyright in strict mode (tests/pyrightconfig.json) over the same usage file."""
    pyright = pathlib.Path(sys.executable).parent / "pyright"
    if not pyright.exists():
        pytest.skip("pyright is in requirements-dev.txt")
    proc = subprocess.run(
        [str(pyright), "--pythonpath", sys.executable, "typed_usage.py"],
        cwd=HERE, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0 and "0 errors" in proc.stdout, proc.stdout + proc.stderr


def test_native_callables_show_signatures() -> None:
    """help() shows a signature for every public native callable (__text_signature__)."""
    import inspect

    import tessera
    from tessera import _native

    missing = []
    for cls in (_native.Engine, _native.Realm, _native.PreparedPrincipal, _native.Decision):
        for name, member in vars(cls).items():
            if name.startswith("_") or not callable(member):
                continue
            if getattr(member, "__text_signature__", None) is None:
                missing.append(f"{cls.__name__}.{name}")
    for fn in (tessera.parse_label, tessera.format_label, tessera.parse_authorization, tessera.crypto_backend):
        if getattr(fn, "__text_signature__", None) is None:
            missing.append(fn.__name__)
    assert not missing, missing
    assert str(inspect.signature(tessera.Decision)) == "(allowed, reason, rule=None, source=None, message=None)"
    assert "now=None" in str(inspect.signature(_native.Engine.verify_jwt))
