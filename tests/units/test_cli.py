"""``shangliang units add|list|show|update|import``: text and ``--json``, refusals with exit status 2 and
nothing stored."""

from __future__ import annotations

import json

from ..conftest import invoke


def ok(runner, node, *args):
    result = invoke(runner, node, "units", *args)
    assert result.exit_code == 0, result.output
    return result.output


def test_add_list_show_and_update_with_json(runner, county):
    added = json.loads(ok(runner, county, "add", "--name", "区交通局", "--kind", "government", "--phone", "1",
                          "--contacts", "jtj", "--json"))
    assert added["name"] == "区交通局" and added["contacts"] == ["jtj"]
    assert "区交通局" in ok(runner, county, "list") and "jtj" in ok(runner, county, "list")
    shown = json.loads(ok(runner, county, "show", str(added["id"]), "--json"))
    assert shown == json.loads(ok(runner, county, "show", "区交通局", "--json"))
    changed = json.loads(ok(runner, county, "update", "区交通局", "--inactive", "--contacts", "zjj", "--phone", "",
                            "--json"))
    assert (changed["active"], changed["contacts"], changed["phone"]) == (False, ["zjj"], None)
    assert json.loads(ok(runner, county, "list", "--active", "--json")) == []
    assert "unit changed: 区交通局" in ok(runner, county, "update", "区交通局", "--active")


def test_refusals_exit_2_with_the_reason_and_store_nothing(runner, county):
    for args, words in ((("add", "--name", "123", "--kind", "party"), "only digits"),
                        (("add", "--name", "局", "--kind", "party", "--contacts", "li"), "not handling_unit"),
                        (("show", "9" * 30), "no handling unit"),
                        (("show", "²"), "no handling unit"),
                        (("update", "无此局", "--phone", "1"), "no handling unit")):
        result = invoke(runner, county, "units", *args)
        assert result.exit_code == 2, result.output
        assert words in result.output
    assert json.loads(ok(runner, county, "list", "--json")) == []
    assert "no handling units" in ok(runner, county, "list")


def test_import_all_or_nothing_and_dry_run(runner, county, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,kind\n交通局,government\n住建局,ministry\n123,party\n", encoding="utf-8")
    result = invoke(runner, county, "units", "import", str(bad))
    assert result.exit_code == 2 and "line 3" in result.output and "line 4" in result.output
    assert "nothing was imported" in result.output
    good = tmp_path / "good.csv"
    good.write_text("name,kind,contacts\n交通局,government,jtj\n住建局,government,zjj\n", encoding="utf-8")
    assert invoke(runner, county, "units", "import", str(good), "--dry-run").exit_code == 0
    assert json.loads(ok(runner, county, "list", "--json")) == []
    done = json.loads(ok(runner, county, "import", str(good), "--json"))
    assert done["imported"] == 2 and [u["name"] for u in done["units"]] == ["交通局", "住建局"]
    missing = invoke(runner, county, "units", "import", str(tmp_path / "none.csv"))
    assert missing.exit_code == 2 and "no such file" in missing.output
