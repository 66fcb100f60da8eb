"""What the units tests share: a county node with an office user, a member, two handling-unit users, and
helpers to count units."""

from __future__ import annotations

import pytest
from shangliang.core.app import create_app
from shangliang.core.db import get_session
from shangliang.core.units.models import HandlingUnit
from sqlalchemy import func, select

from ..topics.conftest import PASSWORD, basic, expect_error, expect_user_added  # noqa: F401


def _county(make_node):
    from click.testing import CliRunner

    runner = CliRunner()
    node_dir = make_node(node_id="620302", name="金川区政协")
    expect_user_added(runner, node_dir, "wang", "office", "王主任")
    expect_user_added(runner, node_dir, "li", "member", "李委员")
    expect_user_added(runner, node_dir, "jtj", "handling_unit", "交通局联络员")
    expect_user_added(runner, node_dir, "zjj", "handling_unit", "住建局联络员")
    return node_dir


@pytest.fixture
def county(make_node):
    """Set up once per test process and copied for each test (NodeFactory.snapshot)."""
    return make_node.snapshot("units.county", _county)


@pytest.fixture
def app(county):
    app = create_app(county, test_config={"WTF_CSRF_ENABLED": False})
    yield app
    app.extensions["shangliang.db"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def unit_count(app) -> int:
    with app.app_context():
        return get_session().execute(select(func.count()).select_from(HandlingUnit)).scalar_one()
