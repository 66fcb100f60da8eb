"""What the duty tests share: a county node with an office user wang, member users li (J001) and fang (J002), a
third member 张伟 (J003) without an account, the admin; helpers that put a plenary attendance, a speech and a
proposal in the node's own tables (as the activities and proposals features keep them) and run services."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select

from shangliang.core.app import create_app
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction

from ..conftest import invoke

COUNTY = "620302"
PASSWORD = "correct-horse"
YEAR = 2026
DAY = 86_400_000
JUNE = 1_780_300_800_000  # 2026-06-01T08:00Z


def basic(user: str, password: str = PASSWORD) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def setup_members(runner, node_dir) -> None:
    for name, number in (("李强", "J001"), ("王芳", "J002"), ("张伟", "J003")):
        result = invoke(runner, node_dir, "members", "add", "--name", name, "--sector", "农业界", "--member-no", number)
        assert result.exit_code == 0, result.output
    for user, role, display, member in (("wang", "office", "王主任", None), ("li", "member", "李强", "J001"),
                                        ("fang", "member", "王芳", "J002"), ("zhang", "public", "张群众", None),
                                        ("admin", "admin", "管理员", None)):
        args = ["users", "add", user, "--role", role, "--name", display, "--password-stdin"]
        if member:
            args += ["--member", member]
        result = invoke(runner, node_dir, *args, input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output


def _county(make_node):
    from click.testing import CliRunner

    node_dir = make_node(node_id=COUNTY, name="金川区政协")
    setup_members(CliRunner(), node_dir)
    return node_dir


@pytest.fixture
def county(make_node):
    """Set up once per test process and copied for each test (NodeFactory.snapshot)."""
    return make_node.snapshot("duty.county", _county)


def make_app(node_dir):
    return create_app(node_dir, test_config={"WTF_CSRF_ENABLED": False})


@pytest.fixture
def app(county):
    app = make_app(county)
    yield app
    app.extensions["shangliang.db"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def run(app, work):
    """``work(session, node)`` in one write transaction of ``app``."""
    with app.app_context():
        with transaction("test") as session:
            return work(session, node_context())


def read(app, work):
    with app.app_context():
        return work(get_session(), node_context())


def member_id(app, number: str) -> int:
    from shangliang.core.members.models import Member

    return read(app, lambda s, n: s.execute(select(Member.id).where(Member.member_no == number)).scalar_one())


def duty_rows(app) -> int:
    from shangliang.core.duty.models import DutyItem

    return read(app, lambda s, n: s.scalar(select(func.count()).select_from(DutyItem)))


def plenary_and_speech(app, number: str = "J001", at: int = JUNE, form: str = "plenary") -> None:
    """An activity of ``form`` the member attended and spoke at (rows as the activities feature keeps them)."""
    from shangliang.core.activities.models import Activity, Invitation, Opinion

    mid = member_id(app, number)

    def work(session, node):
        a = Activity(uid=f"{COUNTY}:a{at}{form}", form=form, title="全体会议" if form == "plenary" else "专题协商会",
                     description="", starts_ms=at, ends_ms=at + 3_600_000, place="会堂", organiser="办公室",
                     held_by=COUNTY, status="closed", created_ms=at, updated_ms=at)
        session.add(a)
        session.flush()
        session.add(Invitation(activity_id=a.id, kind="member", name=number, member_id=mid, invited_ms=at,
                               reply="attend", attended=True))
        session.add(Opinion(activity_id=a.id, speaker=number, member_id=mid, kind="speech", text="关于道路的发言",
                            at_ms=at, posted_by="test", node_id=COUNTY))

    run(app, work)


def proposal(app, number: str = "J001", role: str = "lead", status: str = "filed", year: int = YEAR) -> None:
    from shangliang.core.proposals.models import Proposal, ProposalSigner

    mid = member_id(app, number)

    def work(session, node):
        p = Proposal(year=year, term=12, session_no=1, title="关于农村公路养护的建议", reasons="破损", suggestions="养护",
                     category="城乡建设", kind="member", submitted_by="test", status=status, created_ms=JUNE,
                     updated_ms=JUNE)
        session.add(p)
        session.flush()
        session.add(ProposalSigner(proposal_id=p.id, member_id=mid, name=number, role=role, confirmed_ms=JUNE))

    run(app, work)
