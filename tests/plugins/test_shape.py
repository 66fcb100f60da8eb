"""Every shipped practice is one package ``plugins/<level>/<practice>/`` of one shape (docs/plugins.md,
"Shape of a shipped practice"): the same file names in each, registered by its package's dotted name."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

from shangliang.core.plugins import check_core_version, hook_names

ROOT = Path(__file__).resolve().parents[2]
LEVELS = ("province", "city", "county", "township")
REQUIRED = ("__init__.py", "services.py", "hooks.py", "README.md")
# The modules a practice may have; a new kind of module is added here and to docs/plugins.md together.
SHAPE = {"__init__", "services", "hooks", "tasks", "cli", "views", "models"}
#: The sub-folders a practice may have: its templates, and its Alembic revisions when it owns tables.
FOLDERS = {"templates", "migrations", "__pycache__"}


def practices() -> list[tuple[str, str]]:
    """(level, practice) for every folder under plugins/<level>/."""
    return [(level, path.name) for level in LEVELS for path in sorted((ROOT / "plugins" / level).iterdir())
            if path.is_dir() and path.name != "__pycache__"]


def entry_points() -> dict[str, str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return pyproject["project"]["entry-points"]["shangliang.plugins"]


def test_the_four_shipped_practices_are_found():
    assert set(practices()) >= {("province", "leader_follow_up"), ("county", "quarterly_forum"),
                                ("township", "consultation_home"), ("township", "work_station")}


@pytest.mark.parametrize("level", LEVELS)
def test_every_practice_is_a_package_no_module_sits_directly_under_a_level(level):
    folder = ROOT / "plugins" / level
    assert (folder / "__init__.py").is_file()
    assert sorted(p.name for p in folder.glob("*.py")) == ["__init__.py"], \
        f"plugins/{level}/ holds a module: each practice is a package plugins/{level}/<practice>/"
    assert not (folder / "templates").exists(), f"templates belong in plugins/{level}/<practice>/templates/<practice>/"


@pytest.mark.parametrize("level, practice", practices())
def test_practice_has_the_shape(level, practice):
    folder = ROOT / "plugins" / level / practice
    for name in REQUIRED:
        assert (folder / name).is_file(), f"plugins/{level}/{practice}/{name} is missing"
    extra = sorted(p.stem for p in folder.glob("*.py") if p.stem not in SHAPE)
    assert not extra, f"plugins/{level}/{practice}: module(s) {extra} are not in the shape {sorted(SHAPE)}"
    assert not [p for p in folder.iterdir() if p.is_dir() and p.name not in FOLDERS], \
        f"plugins/{level}/{practice} has a sub-folder other than templates/ and migrations/"
    migrations = folder / "migrations"
    if migrations.exists():
        assert (migrations / "__init__.py").is_file(), f"plugins/{level}/{practice}/migrations/ needs an __init__.py"
        revisions = [p for p in migrations.glob("*.py") if p.name != "__init__.py"]
        assert revisions and all(p.name.startswith(f"{practice}_") for p in revisions), \
            f"plugins/{level}/{practice}/migrations/ holds its revisions, each named {practice}_NNNN_<what>.py"
        assert (folder / "models.py").is_file(), f"plugins/{level}/{practice} has migrations but no models.py"
    templates = folder / "templates"
    if templates.exists():
        assert sorted(p.name for p in templates.iterdir()) == [practice], \
            f"plugins/{level}/{practice}/templates/ holds only {practice}/"
        assert list((templates / practice).glob("*.html")), f"plugins/{level}/{practice}/templates/{practice}/ is empty"


@pytest.mark.parametrize("level, practice", practices())
def test_practice_package_names_itself_declares_its_settings_and_carries_its_hooks(level, practice):
    dotted = f"shangliang.plugins.{level}.{practice}"
    package = importlib.import_module(dotted)
    summary = (package.__doc__ or "").strip()
    assert summary and summary.splitlines()[0].strip(), f"{dotted} has no docstring (what `plugins list` shows)"
    assert getattr(package, "NAME", None) == practice, f"{dotted}.NAME must be {practice!r}"
    assert isinstance(getattr(package, "CONFIG_DEFAULTS", None), dict), f"{dotted}.CONFIG_DEFAULTS must be a dict"
    # The core versions it is made for, a PEP 440 specifier that admits this core (docs/plugins.md, "Core versions").
    check_core_version(practice, package)
    assert getattr(package, "REQUIRES_CORE", None), f'{dotted}.REQUIRES_CORE must state the core versions (">=0.1,<1")'
    # pluggy registers the package: every @hookimpl of hooks.py must be one of its attributes.
    hooks = importlib.import_module(f"{dotted}.hooks")
    assert hook_names(hooks), f"{dotted}.hooks implements no hook"
    assert hook_names(package) == hook_names(hooks), f"{dotted}/__init__.py must import every hook of hooks.py"
    assert entry_points().get(practice) == dotted, \
        f'pyproject.toml: [project.entry-points."shangliang.plugins"] {practice} = "{dotted}"'


def test_every_shipped_entry_point_names_a_practice_package():
    shipped = {f"shangliang.plugins.{level}.{practice}" for level, practice in practices()}
    for name, target in entry_points().items():
        if target.startswith("shangliang.plugins."):
            assert target in shipped, f"entry point {name} = {target} is not a package plugins/<level>/<practice>/"


@pytest.mark.parametrize("level, practice", practices())
def test_practice_readme_names_the_practice_and_its_seed(level, practice):
    text = (ROOT / "plugins" / level / practice / "README.md").read_text(encoding="utf-8")
    assert text.startswith(f"# `{practice}`"), f"plugins/{level}/{practice}/README.md starts with its name"
    assert "seed `" in text and "**Settings**" in text and "**Enable.**" in text
