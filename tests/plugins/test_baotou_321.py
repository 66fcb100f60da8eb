"""The 321 proposal method (baotou_321, Baotou ``003``: 三沟通、两见面、一公开) on a real city node: a proposal
taken through its steps by the proposals API is refused closing with exactly what it lacks, one line each, and
with less as contacts and the publication are recorded, nothing stored by a refusal; closed once all are there.
Disabled, the default closes it with nothing recorded. Bad settings stop the node by name; the settings change
what is required. The page and the command show what is missing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from shangliang.core.app import create_app
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import ConfigError
from shangliang.core.proposals.models import Proposal, ProposalContact

from ..conftest import invoke
from ..proposals.conftest import PASSWORD, ROAD, SATISFIED, basic, expect_error, ok

BAOTOU = "1502"
BEFORE = ("321 (三沟通): no communication with the proposers before handling (办理前沟通) is recorded — record a "
          "contact of phase before")
DURING = ("321 (三沟通): no communication with the proposers during handling (办理中沟通) is recorded — record a "
          "contact of phase during")
AFTER = ("321 (三沟通): no communication with the proposers after handling (办理后沟通) is recorded — record a "
         "contact of phase after")
PUBLISHED = "321 (一公开): the proposal is not published (公开) — the office publishes it"


def meetings(have: int, more: int) -> str:
    return (f"321 (两见面): {have} of the 2 face-to-face meetings with the proposers (见面) recorded — record {more} "
            f"more contact{'s' if more != 1 else ''} of kind face_to_face or meeting")


def city(make_node, runner, plugins=("baotou_321",), extra_toml=""):
    """Baotou's node: the office wang, member li (J001), 交通局 with its contact chen and 住建局 with zhou."""
    from shangliang.core.units import services as units

    node_dir = make_node(node_id=BAOTOU, name="包头市政协", plugins=list(plugins), extra_toml=extra_toml)
    result = invoke(runner, node_dir, "members", "add", "--name", "李强", "--sector", "农业界", "--member-no", "J001")
    assert result.exit_code == 0, result.output
    for user, role, member in (("wang", "office", None), ("li", "member", "J001"), ("chen", "handling_unit", None),
                               ("zhou", "handling_unit", None)):
        args = ["users", "add", user, "--role", role, "--name", user, "--password-stdin"]
        result = invoke(runner, node_dir, *(args + (["--member", member] if member else [])), input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
    app = create_app(node_dir, test_config={"WTF_CSRF_ENABLED": False})
    with app.app_context(), transaction("setup") as session:
        units.add_unit(session, "交通局", "government", contacts=["chen"])
        units.add_unit(session, "住建局", "government", contacts=["zhou"])
    return node_dir, app


@pytest.fixture
def baotou(make_node, runner):
    node_dir, app = city(make_node, runner)
    yield node_dir, app
    app.extensions["shangliang.db"].engine.dispose()


def post(client, path, body, user="wang"):
    return client.post(f"/api/v1/proposals{path}", json=body, headers=basic(user))


def rated(client, title=ROAD["title"]) -> str:
    """A proposal by li, filed, assigned to 交通局, replied and rated satisfied: its number."""
    p = ok(post(client, "", {**ROAD, "title": title}, "li"), 201)["proposal"]
    number = ok(post(client, f"/{p['id']}/review", {"decision": "filed"}))["proposal"]["number"]
    ok(post(client, f"/{number}/assignments", {"lead": "交通局"}))
    ok(post(client, f"/{number}/replies", {"classification": "solved_or_solving", "text": "已安排资金"}, "chen"), 201)
    assert ok(post(client, f"/{number}/ratings", SATISFIED, "li"), 201)["proposal"]["status"] == "rated"
    return number


def contact(client, number, phase, kind, user="chen"):
    ok(post(client, f"/{number}/contacts", {"phase": phase, "kind": kind, "note": "与提案人沟通"}, user), 201)


def state(app, number) -> tuple[str, int]:
    with app.app_context():
        session = get_session()
        status = session.scalar(select(Proposal.status).where(Proposal.number == number))
        return status, session.scalar(select(func.count()).select_from(ProposalContact))


def refused_close(client, app, number) -> list[str]:
    """Closing is refused (400, a named refusal) and nothing changes; the lines it gives."""
    before = state(app, number)
    error = expect_error(post(client, f"/{number}/close", {}), 400, "invalid_input", "refused (close): ")
    assert state(app, number) == before == ("rated", before[1])
    return error["message"].split("refused (close): ", 1)[1].split("; ")


# ---------------------------------------------------------------------------
# The rule


def test_a_proposal_closes_only_once_its_communications_meetings_and_publication_are_recorded(baotou):
    _, app = baotou
    client = app.test_client()
    number = rated(client)
    assert refused_close(client, app, number) == [BEFORE, DURING, AFTER, meetings(0, 2), PUBLISHED]
    contact(client, number, "before", "call")
    assert refused_close(client, app, number) == [DURING, AFTER, meetings(0, 2), PUBLISHED]
    contact(client, number, "during", "face_to_face")
    assert refused_close(client, app, number) == [AFTER, meetings(1, 1), PUBLISHED]
    contact(client, number, "after", "meeting", user="wang")  # the office records one for the unit
    assert refused_close(client, app, number) == [PUBLISHED]
    ok(post(client, f"/{number}/publication", {"proposal": True}))
    closed = ok(post(client, f"/{number}/close", {}))["proposal"]
    assert closed["status"] == "closed" and closed["closed_ms"]


def test_a_visit_or_call_is_not_a_face_to_face_meeting_and_every_phase_needs_its_own(baotou):
    _, app = baotou
    client = app.test_client()
    number = rated(client)
    for phase in ("before", "before", "during"):
        contact(client, number, phase, "visit")
    contact(client, number, "during", "call")
    assert refused_close(client, app, number) == [AFTER, meetings(0, 2), PUBLISHED]


def test_other_steps_are_not_refused(baotou):
    _, app = baotou
    client = app.test_client()
    number = rated(client)  # submitted, filed, assigned, replied and rated with nothing of the 321 recorded
    published = ok(post(client, f"/{number}/publication", {"proposal": True, "reply": True}))["proposal"]
    assert published["publication"] == {"proposal": True, "reply": True}  # the guard let it through, applied
    assert published["status"] == "rated"


def test_disabled_the_default_closes_a_proposal_with_nothing_recorded(make_node, runner):
    _, app = city(make_node, runner, plugins=())
    client = app.test_client()
    try:
        number = rated(client)
        assert ok(post(client, f"/{number}/close", {}))["proposal"]["status"] == "closed"
    finally:
        app.extensions["shangliang.db"].engine.dispose()


# ---------------------------------------------------------------------------
# Settings


@pytest.mark.parametrize("toml, setting, words", [
    ('phases = ["before", "later"]', "plugins.baotou_321.phases", "list of phases among before, during, after"),
    ('phases = ["before", "before"]', "plugins.baotou_321.phases", "each once"),
    ("phases = \"before\"", "plugins.baotou_321.phases", "must be a list"),
    ("face_to_face = -1", "plugins.baotou_321.face_to_face", "from 0 to 20"),
    ("face_to_face = 2.5", "plugins.baotou_321.face_to_face", "whole number"),
    ("face_to_face = true", "plugins.baotou_321.face_to_face", "whole number"),
    ("meeting_kinds = []", "plugins.baotou_321.meeting_kinds", "non-empty list of contact kinds"),
    ('meeting_kinds = ["dinner"]', "plugins.baotou_321.meeting_kinds", "call, visit, face_to_face, meeting"),
    ('publication = "yes"', "plugins.baotou_321.publication", "true or false"),
    ('publication_of = "minutes"', "plugins.baotou_321.publication_of", "one of proposal, reply"),
    ("meetings = 2", "plugins.baotou_321", "unknown setting(s) meetings"),
])
def test_bad_settings_stop_the_node_naming_the_setting(make_node, toml, setting, words):
    node_dir = make_node(node_id=BAOTOU, name="包头市政协", plugins=["baotou_321"],
                         extra_toml=f"\n[plugins.baotou_321]\n{toml}\n")
    with pytest.raises(ConfigError) as caught:
        create_app(node_dir)
    assert setting in str(caught.value) and words in str(caught.value)


def test_the_settings_say_what_is_required(make_node, runner):
    _, app = city(make_node, runner, extra_toml='\n[plugins.baotou_321]\nphases = ["after"]\nface_to_face = 1\n'
                                                'meeting_kinds = ["visit"]\npublication_of = "reply"\n')
    client = app.test_client()
    try:
        number = rated(client)
        assert refused_close(client, app, number) == [
            AFTER, ("321 (两见面): 0 of the 1 face-to-face meetings with the proposers (见面) recorded — record 1 more "
                    "contact of kind visit"),
            "321 (一公开): the proposal and its reply are not both published (公开) — the office publishes them"]
        contact(client, number, "after", "visit")
        ok(post(client, f"/{number}/publication", {"proposal": True}))
        assert refused_close(client, app, number) == [
            "321 (一公开): the proposal and its reply are not both published (公开) — the office publishes them"]
        ok(post(client, f"/{number}/publication", {"proposal": True, "reply": True}))
        assert ok(post(client, f"/{number}/close", {}))["proposal"]["status"] == "closed"
    finally:
        app.extensions["shangliang.db"].engine.dispose()


def test_nothing_required_closes_as_without_it(make_node, runner):
    _, app = city(make_node, runner, extra_toml="\n[plugins.baotou_321]\nphases = []\nface_to_face = 0\n"
                                                "publication = false\n")
    client = app.test_client()
    try:
        number = rated(client)
        assert ok(post(client, f"/{number}/close", {}))["proposal"]["status"] == "closed"
    finally:
        app.extensions["shangliang.db"].engine.dispose()


# ---------------------------------------------------------------------------
# The pages


def sign_in(client, user):
    assert client.post("/login", data={"username": user, "password": PASSWORD}).status_code == 302


def missing_keys(html: str) -> list[str]:
    import re

    return re.findall(r'data-missing="([a-z_]+)"', html)


def test_the_page_lists_open_proposals_with_what_each_lacks(baotou):
    _, app = baotou
    client = app.test_client()
    first, second = rated(client), rated(client, title="关于改善城区停车的建议")
    contact(client, second, "before", "face_to_face")
    contact(client, second, "during", "meeting")
    contact(client, second, "after", "call")
    ok(post(client, f"/{second}/publication", {"proposal": True}))
    browser = app.test_client()
    assert browser.get("/practices/baotou-321/").status_code == 302  # signed-in users only
    sign_in(browser, "wang")
    html = browser.get("/practices/baotou-321/?lang=en").get_data(as_text=True)
    row_one, row_two = html.split(f">{first}<")[1].split("</tr>")[0], html.split(f">{second}<")[1].split("</tr>")[0]
    assert missing_keys(row_one) == ["before", "during", "after", "face_to_face", "publication"]
    assert "0 of 2" in row_one and missing_keys(row_two) == [] and "it may be closed" in row_two
    ok(post(client, f"/{second}/close", {}))
    assert f">{second}<" not in browser.get("/practices/baotou-321/").get_data(as_text=True)  # closed: not listed

    one = browser.get(f"/practices/baotou-321/{first}?lang=en").get_data(as_text=True)
    assert missing_keys(one) == ["before", "during", "after", "face_to_face", "publication"]
    assert "cannot be closed until these are recorded" in one and 'href="/proposals/' + first + '"' in one
    assert "Record a contact with the proposers after handling (phase after)." in one
    assert "Record 2 more contact(s) of kind face_to_face / meeting." in one
    done = browser.get(f"/practices/baotou-321/{second}?lang=en").get_data(as_text=True)
    assert missing_keys(done) == [] and "lets this proposal be closed" in done


def test_a_user_sees_only_the_proposals_they_may_see(baotou):
    _, app = baotou
    client = app.test_client()
    number = rated(client)
    unit = app.test_client()
    sign_in(unit, "zhou")  # 住建局: not assigned
    assert f">{number}<" not in unit.get("/practices/baotou-321/").get_data(as_text=True)
    assert unit.get(f"/practices/baotou-321/{number}").status_code == 404
    assigned = app.test_client()
    sign_in(assigned, "chen")
    assert f">{number}<" in assigned.get("/practices/baotou-321/").get_data(as_text=True)
    assert assigned.get(f"/practices/baotou-321/{number}").status_code == 200


def test_the_proposal_page_flashes_what_is_missing_when_closing_is_refused(baotou):
    _, app = baotou
    client = app.test_client()
    number = rated(client)
    contact(client, number, "before", "face_to_face")
    browser = app.test_client()
    sign_in(browser, "wang")
    html = browser.post(f"/proposals/{number}/office", data={"action": "close"},
                        follow_redirects=True).get_data(as_text=True)
    assert "during handling" in html and "after handling" in html and "1 of the 2 face-to-face" in html
    assert "before handling" not in html and state(app, number)[0] == "rated"


# ---------------------------------------------------------------------------
# The command


def test_the_command_shows_what_a_proposal_lacks(baotou, runner):
    node_dir, app = baotou
    client = app.test_client()
    number = rated(client)
    contact(client, number, "during", "meeting")
    result = invoke(runner, node_dir, "baotou-321", "check", number)
    assert result.exit_code == 0, result.output
    assert "closing is refused while these are missing" in result.output
    assert BEFORE in result.output and AFTER in result.output and meetings(1, 1) in result.output
    assert DURING not in result.output
    data = json.loads(invoke(runner, node_dir, "baotou-321", "check", number, "--json").output)
    assert data["ref"] == number and not data["complete"]
    assert [(i["key"], i["need"], i["have"], i["done"]) for i in data["items"]] == [
        ("before", 1, 0, False), ("during", 1, 1, True), ("after", 1, 0, False), ("face_to_face", 2, 1, False),
        ("publication", 1, 0, False)]
    assert [i["reason"] for i in data["missing"]] == [BEFORE, AFTER, meetings(1, 1), PUBLISHED]
    listed = json.loads(invoke(runner, node_dir, "baotou-321", "list", "--json").output)
    assert [(r["ref"], [i["key"] for i in r["missing"]]) for r in listed] == [
        (number, ["before", "after", "face_to_face", "publication"])]
    text = invoke(runner, node_dir, "baotou-321", "list").output
    assert number in text and "face-to-face meetings 1" in text
    unknown = invoke(runner, node_dir, "baotou-321", "check", "2099-1-0001")
    assert unknown.exit_code == 2 and "no proposal '2099-1-0001'" in unknown.output


def test_the_command_says_when_nothing_is_missing(baotou, runner):
    node_dir, app = baotou
    client = app.test_client()
    number = rated(client)
    for phase, kind in (("before", "face_to_face"), ("during", "meeting"), ("after", "call")):
        contact(client, number, phase, kind)
    ok(post(client, f"/{number}/publication", {"proposal": True}))
    result = invoke(runner, node_dir, "baotou-321", "check", number)
    assert result.exit_code == 0 and "nothing missing: the 321 method lets it close" in result.output
