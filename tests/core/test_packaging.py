"""The folders are installed as the ``shangliang`` namespace; the built wheel carries every module and data file."""

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOP_FOLDERS = ("core", "federation", "plugins", "tests")
REQUIRED = ("core", "federation", "plugins", "plugins/province", "plugins/city", "plugins/county", "plugins/township", "tests")


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _package_folders() -> dict[str, str]:
    """Every folder holding Python modules, as its dotted name in the shangliang namespace."""
    folders = {}
    for top in TOP_FOLDERS:
        for path in [ROOT / top, *sorted((ROOT / top).rglob("*"))]:
            if path.is_dir() and "__pycache__" not in path.parts and any(path.glob("*.py")):
                relative = path.relative_to(ROOT).as_posix()
                folders["shangliang." + relative.replace("/", ".")] = relative
    return folders


def test_required_folders_exist_with_init():
    for folder in REQUIRED:
        assert (ROOT / folder / "__init__.py").is_file(), f"{folder}/__init__.py is missing"


def test_every_package_folder_is_listed_in_pyproject():
    setuptools = _pyproject()["tool"]["setuptools"]
    for name, folder in _package_folders().items():
        assert (ROOT / folder / "__init__.py").is_file(), f"{folder} has modules but no __init__.py"
        assert name in setuptools["packages"], f"{name} ({folder}) is missing from [tool.setuptools] packages"
        assert setuptools["package-dir"].get(name) == folder, f"{name} is not mapped to {folder} in package-dir"


def test_setuptools_is_new_enough_for_package_dir_mapping():
    assert "setuptools>=70.1" in _pyproject()["build-system"]["requires"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (path,) = out.glob("shangliang-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_holds_every_module_and_data_file(wheel):
    names = set(wheel.namelist())
    for name, folder in _package_folders().items():
        for module in (ROOT / folder).glob("*.py"):
            expected = "shangliang/" + module.relative_to(ROOT).as_posix()
            assert expected in names, f"the wheel lacks {expected}"
    for data in [*ROOT.glob("core/**/templates/**/*.html"), *ROOT.glob("plugins/**/templates/**/*.html"),
                 *ROOT.glob("plugins/*/*/README.md"),
                 *(p for p in ROOT.glob("core/web/static/**/*") if p.is_file()),  # vendored ECharts, charts.js
                 *ROOT.glob("core/translations/*/LC_MESSAGES/messages.mo"), ROOT / "core/migrations/script.py.mako"]:
        expected = "shangliang/" + data.relative_to(ROOT).as_posix()
        assert expected in names, f"the wheel lacks {expected}"
    assert not any(n.startswith("shangliang/__init__") for n in names), "shangliang must stay a namespace"


def test_wheel_declares_the_console_script_and_the_plugins(wheel):
    entry_points = next(n for n in wheel.namelist() if n.endswith("entry_points.txt"))
    text = wheel.read(entry_points).decode()
    assert "shangliang = shangliang.core.cli:main" in text
    assert "[shangliang.plugins]" in text
    for plugin in ("leader_follow_up", "consultation_home", "quarterly_forum", "work_station"):
        assert plugin in text
