"""Virtual environments for plugins installed the way an administrator installs them (``pip install``), without
touching the suite's own environment (two test runs share it at once).

:func:`layered_venv` makes an environment without pip whose site-packages hold a ``.pth`` that adds this
environment's site-packages after its own (``site.addsitedir``, so the editable install of Shangliang works
there too): it sees ``shangliang`` and every dependency, and what :func:`pip_install` puts in it is its own.
pip is this environment's, pointed at the other interpreter (``pip --python``); nothing is fetched
(``--no-index``, ``--no-deps``, ``--no-build-isolation``: the build uses the setuptools installed here), and
nothing is shared with the other CI run (``--no-cache-dir``)."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

PIP = [sys.executable, "-m", "pip"]
OFFLINE = ["--no-deps", "--no-build-isolation", "--no-index", "--no-cache-dir", "--quiet"]


def layered_venv(folder: Path) -> Path:
    """Make the environment at ``folder``; return its ``python``."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    python = folder / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    base = sysconfig.get_paths()["purelib"]
    Path(purelib, "_shangliang_base.pth").write_text(f"import site; site.addsitedir({base!r})\n", encoding="utf-8")
    return python


def pip(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``pip ARGS…`` (this environment's pip), failing the test with its output when it fails."""
    result = subprocess.run([*PIP, *args], capture_output=True, text=True, cwd=cwd, timeout=300)
    assert result.returncode == 0, f"pip {' '.join(args)} failed:\n{result.stdout[-2000:]}{result.stderr[-3000:]}"
    return result


def pip_install(python: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``pip install ARGS…`` into the environment of ``python``, offline."""
    return pip("--python", str(python), "install", *OFFLINE, *args, cwd=cwd)


def run(python: Path, *args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python ARGS…`` of that environment (text in and out; the caller checks the status)."""
    return subprocess.run([str(python), *args], capture_output=True, text=True, cwd=cwd, timeout=timeout)
