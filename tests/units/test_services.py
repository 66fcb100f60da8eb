"""Handling units at the service: adding, contacts, resolving, and the all-or-nothing CSV import."""

from __future__ import annotations

import pytest
from shangliang.core.app import create_app
from shangliang.core.db import transaction
from shangliang.core.errors import ImportRowError, InputError, NotFound
from shangliang.core.units import services
from shangliang.core.units.models import HandlingUnit
from shangliang.core.users.services import add_user
from sqlalchemy import func, select


@pytest.fixture()
def db(node_dir):
    """A bare node (no users): each test adds the users it needs."""
    app = create_app(node_dir, test_config={"WTF_CSRF_ENABLED": False})
    with app.app_context():
        yield
    app.extensions["shangliang.db"].engine.dispose()


def _count(session) -> int:
    return session.execute(select(func.count()).select_from(HandlingUnit)).scalar_one()


def test_add_unit_with_contacts_and_find_it_by_name_or_id(db):
    with transaction() as session:
        add_user(session, "jtj", "handling_unit", "secret-pass-1")
        unit = services.add_unit(session, " 金川区交通运输局 ", "government", "0935-1", ["jtj"])
    with transaction() as session:
        found = services.get_unit(session, "金川区交通运输局")
        assert found.as_dict() == {"id": unit.id, "name": "金川区交通运输局", "kind": "government",
                                   "phone": "0935-1", "active": True, "contacts": ["jtj"]}
        assert services.get_unit(session, str(unit.id)).id == unit.id
        user_id = found.contacts[0].user_id
        assert services.unit_of_user(session, user_id).name == "金川区交通运输局"
        assert services.unit_of_user(session, None) is None


@pytest.mark.parametrize("kwargs, words", [
    ({"name": "", "kind": "government"}, "name is empty"),
    ({"name": "x" * 101, "kind": "government"}, "longer than 100"),
    ({"name": "局", "kind": "ministry"}, "unknown unit kind"),
    ({"name": "局", "kind": "party", "contacts": ["nobody"]}, "no user 'nobody'"),
    ({"name": "局", "kind": "party", "contacts": ["clerk"]}, "role office, not handling_unit"),
])
def test_bad_units_are_refused_and_nothing_is_stored(db, kwargs, words):
    with transaction() as session:
        add_user(session, "clerk", "office", "secret-pass-1")
    with pytest.raises(InputError, match=words):
        with transaction() as session:
            services.add_unit(session, **kwargs)
    with transaction() as session:
        assert _count(session) == 0


def test_a_name_is_taken_once_and_a_user_acts_for_one_unit(db):
    with transaction() as session:
        add_user(session, "jtj", "handling_unit", "secret-pass-1")
        services.add_unit(session, "交通局", "government", contacts=["jtj"])
    with pytest.raises(InputError, match="exists already"):
        with transaction() as session:
            services.add_unit(session, "交通局", "party")
    with pytest.raises(InputError, match="already acts for 交通局"):
        with transaction() as session:
            services.add_unit(session, "住建局", "government", contacts=["jtj"])
    with transaction() as session:
        assert _count(session) == 1


def test_resolve_names_the_unknown_and_the_inactive(db):
    with transaction() as session:
        services.add_unit(session, "交通局", "government")
        services.add_unit(session, "旧局", "government")
        services.update_unit(session, "旧局", active=False)
    with transaction() as session:
        assert [u.name for u in services.resolve(session, ["交通局", "交通局"])] == ["交通局"]
        with pytest.raises(InputError, match="no handling unit '水务局'"):
            services.resolve(session, ["交通局", "水务局"])
        with pytest.raises(InputError, match="inactive"):
            services.resolve(session, ["旧局"])
        with pytest.raises(NotFound):
            services.get_unit(session, "999")


def test_import_is_all_or_nothing_and_names_the_line(db, tmp_path):
    good = tmp_path / "units.csv"
    good.write_text("name,kind,phone,contacts\n交通局,government,1,\n宣传部,party,,\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,kind\n水务局,government\n水务局,government\n", encoding="utf-8")
    with pytest.raises(ImportRowError, match="line 3.*repeats line 2"):
        with transaction() as session:
            services.import_units(session, bad)
    with transaction() as session:
        assert _count(session) == 0
    with transaction() as session:
        assert [u.name for u in services.import_units(session, good)] == ["交通局", "宣传部"]
    worse = tmp_path / "worse.csv"
    worse.write_text("name,kind,boss\n", encoding="utf-8")
    with pytest.raises(ImportRowError, match="unknown column 'boss'"):
        with transaction() as session:
            services.import_units(session, worse)


@pytest.mark.parametrize("name", ["2027", "０１２", "١٢", "²"])
def test_a_name_of_only_digits_is_refused_because_a_number_means_an_id(db, name):
    with pytest.raises(InputError, match="only digits") as caught:
        with transaction() as session:
            services.add_unit(session, name, "party")
    assert caught.value.field == "name"
    with transaction() as session:
        services.add_unit(session, "交通局", "party")
    with pytest.raises(InputError, match="only digits"):
        with transaction() as session:
            services.update_unit(session, "交通局", name=name)
    with transaction() as session:
        assert [u.name for u in services.list_units(session)] == ["交通局"]


@pytest.mark.parametrize("ref", ["9" * 40, "2147483648", "0", "-3", -3, "²", "١", "x" * 101, "\ud800", " ", ""])
def test_refs_that_cannot_be_a_unit_are_not_found_rather_than_a_crash(db, ref):
    with pytest.raises(NotFound):
        with transaction() as session:
            services.get_unit(session, ref)


def test_a_ref_that_is_neither_id_nor_name_is_an_input_error(db):
    for ref in (None, True, 1.5, ["交通局"]):
        with pytest.raises(InputError, match="by its id or its name"):
            with transaction() as session:
                services.get_unit(session, ref)


def test_a_contact_moves_only_by_leaving_its_unit_first(db):
    with transaction() as session:
        add_user(session, "jtj", "handling_unit", "secret-pass-1")
        services.add_unit(session, "交通局", "government", contacts=["jtj"])
        services.add_unit(session, "住建局", "government")
    with pytest.raises(InputError, match="already acts for 交通局"):
        with transaction() as session:
            services.update_unit(session, "住建局", contacts=["jtj"])
    with transaction() as session:
        services.update_unit(session, "交通局", contacts=["jtj"])  # keeping its own contact is fine
        services.update_unit(session, "交通局", contacts=[])
        services.update_unit(session, "住建局", contacts=["jtj"])
    with transaction() as session:
        assert services.unit_of_user(session, services.get_unit(session, "住建局").contacts[0].user_id).name == "住建局"


def test_import_lists_every_bad_line_and_imports_nothing(db):
    with transaction() as session:
        add_user(session, "jtj", "handling_unit", "secret-pass-1")
    text = ("name,kind,contacts\n交通局,government,jtj\n,party,\n住建局,ministry,\n水务局,other,jtj\n"
            "宣传部,party,,extra\n")
    with pytest.raises(services.UnitImportError) as caught:
        with transaction() as session:
            services.import_units_text(session, text.encode(), "u.csv")
    lines = [line for line, _ in caught.value.problems]
    assert lines == [3, 4, 5, 6]
    assert "already acts for 交通局" in caught.value.problems[2][1]
    assert str(caught.value).startswith("u.csv, line 3: a unit's name is empty")
    assert str(caught.value).endswith("nothing was imported")
    with transaction() as session:
        assert _count(session) == 0


def test_import_refuses_what_is_not_utf8_csv(db):
    for data, words in ((b"name,kind\n\xff,party\n", "not UTF-8"), (b"name,kind\n\x00,party\n", "NUL"),
                        (b"name,kind\n", "no unit rows"), (b"", "lacks the column 'name'")):
        with pytest.raises(InputError, match=words):
            with transaction() as session:
                services.import_units_text(session, data, "u.csv")


def test_a_deactivated_user_cannot_become_a_contact(db):
    from shangliang.core.users.services import set_active

    with transaction() as session:
        add_user(session, "jtj", "handling_unit", "secret-pass-1")
        set_active(session, "jtj", False)
    with pytest.raises(InputError, match="deactivated") as caught:
        with transaction() as session:
            services.add_unit(session, "交通局", "government", contacts=["jtj"])
    assert caught.value.field == "contacts"
    with transaction() as session:
        assert _count(session) == 0
