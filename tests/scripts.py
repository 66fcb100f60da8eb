"""Loading the project's scripts (``bench/*.py``, ``tests/federation/make_vectors.py``), which are files, not
packages, as modules for the tests that check them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[1] / "bench"


def load_script(path: Path, name: str) -> ModuleType:
    """The script at ``path`` as the module ``name``; its folder first on ``sys.path`` (bench scripts import
    their neighbours, such as ``common``)."""
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
