"""Members from the command line: one identity, three channels; CSV import refuses a bad file whole."""

import json

import pytest

from ..conftest import invoke

GOOD_CSV = "name,sector,special_committee,township_group,member_no\n张三,农业界,农业和农村委员会,宁远堡镇,M001\n李四,经济界,,双湾镇,M002\n"


def _members(runner, node_dir):
    return json.loads(invoke(runner, node_dir, "members", "list", "--json").output)


def test_import_gives_each_member_three_channels(tmp_path, runner, node_dir):
    path = tmp_path / "members.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    result = invoke(runner, node_dir, "members", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "imported 2 members" in result.output
    members = _members(runner, node_dir)
    assert [(m["name"], m["sector"], m["special_committee"], m["township_group"]) for m in members] == [
        ("张三", "农业界", "农业和农村委员会", "宁远堡镇"),
        ("李四", "经济界", None, "双湾镇"),
    ]


def test_excel_bom_is_accepted(tmp_path, runner, node_dir):
    path = tmp_path / "members.csv"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD_CSV.encode("utf-8"))
    assert invoke(runner, node_dir, "members", "import", str(path)).exit_code == 0
    assert len(_members(runner, node_dir)) == 2


@pytest.mark.parametrize(
    "content, line, message",
    [
        (GOOD_CSV + "王五,,,,M003\n", 4, "sector is empty"),
        (GOOD_CSV + "王五,农业界,,,M001\n", 4, "member number 'M001' repeats line 2"),
        (GOOD_CSV + "王五,农业界,,,M003,extra\n", 4, "more fields than"),
        ("name,sector,colour\n王五,农业界,红\n", 1, "unknown column 'colour'"),
        ("name,special_committee\n王五,x\n", 1, "the header lacks the column 'sector'"),
        ("name,sector\n", 2, "no member rows"),
    ],
)
def test_a_bad_row_names_its_line_and_imports_nothing(tmp_path, runner, node_dir, content, line, message):
    path = tmp_path / "members.csv"
    path.write_text(content, encoding="utf-8")
    audit_before = invoke(runner, node_dir, "audit", "verify", "--json").output
    result = invoke(runner, node_dir, "members", "import", str(path))
    assert result.exit_code == 2
    assert f"line {line}: {message}" in result.output
    assert "nothing was imported" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert _members(runner, node_dir) == []
    assert invoke(runner, node_dir, "audit", "verify", "--json").output == audit_before


def test_a_member_number_already_on_the_node_is_refused(tmp_path, runner, node_dir):
    assert invoke(runner, node_dir, "members", "add", "--name", "甲", "--sector", "农业界", "--member-no", "M002").exit_code == 0
    path = tmp_path / "members.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    result = invoke(runner, node_dir, "members", "import", str(path))
    assert result.exit_code == 2 and "line 3: member number 'M002' is already taken" in result.output
    assert [m["name"] for m in _members(runner, node_dir)] == ["甲"]


def test_non_utf8_file_is_refused(tmp_path, runner, node_dir):
    path = tmp_path / "members.csv"
    path.write_bytes("name,sector\n张三,农业界\n".encode("gbk"))
    result = invoke(runner, node_dir, "members", "import", str(path))
    assert result.exit_code == 2 and "is not UTF-8" in result.output
