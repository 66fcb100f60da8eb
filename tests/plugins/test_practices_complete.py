"""Every local practice of the design (../shared/design/DOMAIN.md, "Local practices") is a plugin package in the
shipped shape (issue 14): the table is read from the design document, each practice mapped to its plugin's name,
and one test fails naming every practice whose package is missing or out of shape."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from .test_shape import REQUIRED, ROOT, entry_points, practices

DOMAIN = Path(__file__).resolve().parents[3] / "shared" / "design" / "DOMAIN.md"
SECTION = "## Local practices"

#: The first word of a practice's name in DOMAIN.md's table → the plugin that carries it.
PLUGIN_OF = {
    "六步议事": "six_step",
    "五级联动": "five_level",
    "领导包抓": "leader_follow_up",
    "协商民主之家": "consultation_home",
    "委员工作站": "work_station",
    "五个一": "five_ones",
    "四个一": "four_ones",
    "1246+X": "huzhou_1246",
    "选题-商题-定题": "topic_selection",
    "三个一起": "three_together",
    "321": "baotou_321",
    "年度协商计划": "plan_approval",
    "季协商座谈会": "quarterly_forum",
    "民主评议": "democratic_appraisal",
}


def design_practices() -> list[str]:
    """The practice column of DOMAIN.md's "Local practices" table, in its order."""
    text = DOMAIN.read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]
    return [row[0] for row in cells[2:] if row and row[0]]  # past the header and its rule


needs_design = pytest.mark.skipif(not DOMAIN.exists(), reason=f"the design documents are not at {DOMAIN} "
                                                               "(the shared directory sits beside the project)")


@needs_design
def test_the_design_lists_fourteen_practices_each_mapped_to_a_plugin():
    found = design_practices()
    assert len(found) == 14, found
    unmapped = [practice for practice in found if practice.split()[0] not in PLUGIN_OF]
    assert not unmapped, f"practices of DOMAIN.md with no plugin name in PLUGIN_OF: {unmapped}"
    assert sorted(practice.split()[0] for practice in found) == sorted(PLUGIN_OF)


def missing_plugins() -> list[str]:
    """Each practice of the design whose plugin is not a package in the shape, with what is missing."""
    shipped = {practice: level for level, practice in practices()}
    points = entry_points()
    missing = []
    for practice in design_practices():
        name = PLUGIN_OF.get(practice.split()[0])
        if name is None:
            missing.append(f"{practice}: no plugin name")
            continue
        level = shipped.get(name)
        if level is None:
            missing.append(f"{practice}: no package plugins/<level>/{name}/")
            continue
        folder = ROOT / "plugins" / level / name
        absent = [file for file in REQUIRED if not (folder / file).is_file()]
        if absent:
            missing.append(f"{practice}: plugins/{level}/{name}/ lacks {', '.join(absent)}")
            continue
        dotted = f"shangliang.plugins.{level}.{name}"
        if points.get(name) != dotted:
            missing.append(f"{practice}: no entry point {name} = {dotted!r} in pyproject.toml")
            continue
        package = importlib.import_module(dotted)
        if getattr(package, "NAME", None) != name or not isinstance(getattr(package, "CONFIG_DEFAULTS", None), dict):
            missing.append(f"{practice}: {dotted} does not declare NAME and CONFIG_DEFAULTS")
    return missing


@needs_design
def test_every_practice_of_the_design_is_a_plugin_in_the_shape():
    missing = missing_plugins()
    assert not missing, f"{len(missing)} of 14 practices are not plugins in the shape:\n" + "\n".join(missing)
