"""The package's PEP 517 build backend: maturin's, with cargo's target
directory outside the source tree.

``pip install ./bindings-python`` builds in place, and maturin would leave
cargo's target directory (``target/`` at the workspace root, about 200 MB)
behind. Here each build uses a temporary directory, removed when the build
ends, unless ``CARGO_TARGET_DIR`` is set: then that one is used and kept
(set it to reuse one build across installs). ``make build-python`` calls
maturin itself and keeps the workspace's ``target/`` as its cache.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import Any, Dict, Iterator, List, Optional

import maturin

ConfigSettings = Optional[Dict[str, Any]]


@contextlib.contextmanager
def target_directory() -> Iterator[str]:
    """Sets ``CARGO_TARGET_DIR`` to a new temporary directory for the duration
    (maturin's cargo inherits the environment), then removes it; a
    ``CARGO_TARGET_DIR`` already set is kept. Yields the directory cargo uses."""
    given = os.environ.get("CARGO_TARGET_DIR")
    if given:
        yield given
        return
    folder = tempfile.mkdtemp(prefix="tessera-build-")
    os.environ["CARGO_TARGET_DIR"] = folder
    try:
        yield folder
    finally:
        os.environ.pop("CARGO_TARGET_DIR", None)
        shutil.rmtree(folder, ignore_errors=True)


def build_wheel(wheel_directory: str, config_settings: ConfigSettings = None, metadata_directory: Optional[str] = None) -> str:
    with target_directory():
        return str(maturin.build_wheel(wheel_directory, config_settings, metadata_directory))


def build_editable(wheel_directory: str, config_settings: ConfigSettings = None, metadata_directory: Optional[str] = None) -> str:
    with target_directory():
        return str(maturin.build_editable(wheel_directory, config_settings, metadata_directory))


def build_sdist(sdist_directory: str, config_settings: ConfigSettings = None) -> str:
    with target_directory():
        return str(maturin.build_sdist(sdist_directory, config_settings))


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: ConfigSettings = None) -> str:
    with target_directory():
        return str(maturin.prepare_metadata_for_build_wheel(metadata_directory, config_settings))


def prepare_metadata_for_build_editable(metadata_directory: str, config_settings: ConfigSettings = None) -> str:
    with target_directory():
        return str(maturin.prepare_metadata_for_build_editable(metadata_directory, config_settings))


def get_requires_for_build_wheel(config_settings: ConfigSettings = None) -> List[str]:
    return list(maturin.get_requires_for_build_wheel(config_settings))


def get_requires_for_build_editable(config_settings: ConfigSettings = None) -> List[str]:
    return list(maturin.get_requires_for_build_editable(config_settings))


def get_requires_for_build_sdist(config_settings: ConfigSettings = None) -> List[str]:
    return list(maturin.get_requires_for_build_sdist(config_settings))
