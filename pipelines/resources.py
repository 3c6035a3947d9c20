"""Locate the project's data folders (config/, sql/, expectations/) in a checkout or a wheel."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def resource_dir(name: str) -> Path:
    """Return the folder `name` (config, sql, expectations, data).

    In a source checkout or an editable install these are top-level folders beside the package;
    a built wheel carries them inside the package as `_<name>`.
    """
    for candidate in (_PACKAGE / name, _PACKAGE / f"_{name}", _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"resource folder {name!r} not found beside {_PACKAGE}")
