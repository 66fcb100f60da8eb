"""``shangliang activities``: plan, list, show consultation activities and act on them; each command calls
one service, and every command prints JSON with ``--json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from shangliang.core.clitools import _os_user, emit, rehearsable, table, with_appcontext
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import InputError
from shangliang.core.i18n import N_

from . import federation, schemas, services
from .models import INVITEE_KINDS, STATUSES

JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _actor() -> str:
    return f"cli:{_os_user()}"


def _when(ms: int | None) -> str:
    moment = services.local(ms, node_context().config)
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


def _text(d: dict[str, Any]) -> str:
    lines = [f"{d['uid']}  {d['title']}",
             f"form: {d['form']}   status: {d['status']}   {_when(d['starts_ms'])} – {_when(d['ends_ms'])}",
             f"place: {d['place']}   organiser: {d['organiser']}", f"topics: {', '.join(d['topics'])}"]
    if d["window"]["opens_ms"]:
        lines.append(f"online window: {_when(d['window']['opens_ms'])} – {_when(d['window']['closes_ms'])}"
                     + (" (open)" if d.get("window_open") else ""))
    for i in d.get("invitations", []):
        lines.append(f"  invitation {i['id']}: {i['kind']} {i['name']}" + (f" ({i['node_id']})" if i["node_id"] else "")
                     + f" — {i['reply']}" + (f": {i['reason']}" if i["reason"] else "")
                     + ("" if i["attended"] is None else (" — present" if i["attended"] else " — absent")))
    levels = d.get("levels") or {}
    for i in levels.get("invited", []):
        lines.append(f"  level invited: {i['node_id']} via {i['via']} ({i['delivery']})" + (f": {i['note']}" if i["note"] else ""))
    for j in levels.get("joined", []):
        lines.append(f"  level joined: {j['node_id']} ({j['mode']}): {', '.join(j['participants'])}")
    for m in d.get("materials", []):
        lines.append(f"  material: {m['name']} ({m['size']} bytes, sha256 {m['sha256']})")
    for r in d.get("research", []):
        lines.append(f"  research: {r['who']} at {r['place']}: {r['findings']}")
    for o in d.get("opinions", []):
        mark = " [hidden]" if o["hidden"] else f" [merged into {o['merged_into']}]" if o["merged_into"] else ""
        lines.append(f"  opinion {o['id']} ({o['kind']}) {o['speaker']}: {o['text']}{mark}")
    c = d["counts"]
    lines.append(f"opinions: {c['total']} in all, {c['shown']} shown, {c['hidden']} hidden, {c['merged']} merged")
    if d["consensus"]:
        lines.append(f"consensus: {d['consensus']['text']}")
    if d["minutes"]:
        lines.append(f"minutes approved by {d['minutes']['approved_by']}: {d['minutes']['text']}")
    return "\n".join(lines)


def _act(uid: str, action: Any, as_json: bool) -> None:
    """Run one action in one transaction (the same service as the pages and the API) and print the activity."""
    node = node_context()
    with transaction(_actor()) as session:
        data = services.act(session, node, uid, action, _actor()).as_dict(node)
    emit(data, as_json, lambda d: _text(d["activity"]) + ("" if d["participation"] is None else "\nparticipation:\n"
         + "\n".join(f"  {p['name']}: {p['reply'] or 'not invited'}, "
                     + ("present" if p["attended"] else "absent" if p["attended"] is False else "attendance not taken")
                     + f", {p['opinions']} opinions" for p in d["participation"])))


@click.group()
def activities() -> None:
    """Consultation activities (协商活动) and online consultation (网络协商)."""


@activities.command("list")
@click.option("--status", type=click.Choice(STATUSES))
@JSON
@with_appcontext
def activities_list(status, as_json) -> None:
    """Activities held here, the latest start first."""
    rows = [a.as_dict(full=False) for a in services.list_activities(get_session(), status).items]
    emit(rows, as_json, lambda rs: table([[r["uid"], r["title"], r["form"], _when(r["starts_ms"]), r["status"]]
                                          for r in rs], ["uid", "title", "form", "starts", "status"]))


@activities.command("create")
@click.option("--form", "form", required=True, help="The consultation form's key (forum, special, online, …).")
@click.option("--title", required=True)
@click.option("--description", default="")
@click.option("--topic", "topics", multiple=True, required=True, help="A topic uid held here (repeatable).")
@click.option("--starts", required=True, help="YYYY-MM-DD HH:MM (the node's time zone).")
@click.option("--ends", required=True, help="YYYY-MM-DD HH:MM.")
@click.option("--place", required=True)
@click.option("--organiser", required=True)
@JSON
@rehearsable
@with_appcontext
def activities_create(form, title, description, topics, starts, ends, place, organiser, as_json) -> None:
    """Plan an activity on topics held here; prints its uid."""
    node = node_context()
    fields = schemas.ActivityIn(form=form, title=title, description=description, topics=list(topics), starts=starts,
                                ends=ends, place=place, organiser=organiser)
    with transaction(_actor()) as session:
        data = services.show(node, services.create(session, node, fields, _actor()))
    emit(data, as_json, lambda d: d["uid"])


@activities.command("show")
@click.argument("uid")
@JSON
@with_appcontext
def activities_show(uid, as_json) -> None:
    """An activity with everything recorded on it."""
    emit(services.show(node_context(), services.get_activity(get_session(), uid)), as_json, _text)


@activities.command("invite")
@click.argument("uid")
@click.option("--kind", required=True, type=click.Choice(INVITEE_KINDS))
@click.option("--name", default="", help="The invitee's name (not for a member).")
@click.option("--member", "member_no", help="A member's number (kind member).")
@click.option("--node-id", help="The node a participant comes from (kind node).")
@JSON
@rehearsable
@with_appcontext
def activities_invite(uid, kind, name, member_no, node_id, as_json) -> None:
    """Invite a member, a department, a person of the public or a participant from another node."""
    _act(uid, schemas.ActivityInviteAction(action="invite", kind=kind, name=name, member_no=member_no,
                                           node_id=node_id), as_json)


@activities.command("reply")
@click.argument("uid")
@click.option("--invitation", required=True, type=int, help="The invitation's id (see show).")
@click.option("--reply", "answer", required=True, type=click.Choice(["attend", "decline", "leave"]))
@click.option("--reason", default="", help="Why leave is asked (required for leave).")
@JSON
@rehearsable
@with_appcontext
def activities_reply(uid, invitation, answer, reason, as_json) -> None:
    """Record an invitee's reply: attend, decline, or leave with a reason."""
    _act(uid, schemas.ActivityReplyAction(action="reply", invitation=invitation, reply=answer, reason=reason), as_json)


@activities.command("attend")
@click.argument("uid")
@click.argument("present", nargs=-1)
@JSON
@rehearsable
@with_appcontext
def activities_attend(uid, present, as_json) -> None:
    """Take attendance: the invitees present (names or member numbers); the others are absent."""
    _act(uid, schemas.ActivityAttendAction(action="attend", present=list(present)), as_json)


@activities.command("research")
@click.argument("uid")
@click.option("--who", required=True)
@click.option("--place", required=True)
@click.option("--date", required=True, help="YYYY-MM-DD.")
@click.option("--findings", required=True)
@JSON
@rehearsable
@with_appcontext
def activities_research(uid, who, place, date, findings, as_json) -> None:
    """Record research before consulting (议前调研); determined topics move to researching."""
    _act(uid, schemas.ActivityResearchAction(action="research", who=who, place=place, date=date, findings=findings),
         as_json)


@activities.command("opinion")
@click.argument("uid")
@click.option("--speaker", required=True)
@click.option("--kind", type=click.Choice(["speech", "written"]), default="speech", show_default=True)
@click.option("--text", "body", required=True)
@click.option("--member", "member_no", help="The speaker's member number, when a member.")
@JSON
@rehearsable
@with_appcontext
def activities_opinion(uid, speaker, kind, body, member_no, as_json) -> None:
    """Record a speech or a written opinion."""
    _act(uid, schemas.ActivityOpinionAction(action="opinion", speaker=speaker, kind=kind, text=body,
                                            member_no=member_no), as_json)


@activities.command("window")
@click.argument("uid")
@click.argument("what", type=click.Choice(["open", "close"]))
@click.option("--closes", help="When the window closes (open): YYYY-MM-DD HH:MM.")
@click.option("--opens", default="", help="When it opens (default: now).")
@JSON
@rehearsable
@with_appcontext
def activities_window(uid, what, closes, opens, as_json) -> None:
    """Open or close the online window (网络协商)."""
    if what == "open":
        if not closes:
            raise InputError(N_("--closes is needed to open a window"))
        action: Any = schemas.ActivityOpenWindowAction(action="open_window", closes=closes, opens=opens)
    else:
        action = schemas.ActivityCloseWindowAction(action="close_window")
    _act(uid, action, as_json)


@activities.command("moderate")
@click.argument("uid")
@click.option("--opinion", required=True, type=int)
@click.option("--hide", "decision", flag_value="hide", help="Hide the opinion.")
@click.option("--merge-into", "into", type=int, help="Merge the opinion into this one.")
@click.option("--reason", required=True)
@JSON
@rehearsable
@with_appcontext
def activities_moderate(uid, opinion, decision, into, reason, as_json) -> None:
    """Hide an opinion or merge it into another, with the reason."""
    if (decision == "hide") == (into is not None):
        raise InputError(N_("give either --hide or --merge-into"))
    _act(uid, schemas.ActivityModerateAction(action="moderate", opinion=opinion, decision="merge" if into else "hide",
                                             into=into, reason=reason), as_json)


@activities.command("consensus")
@click.argument("uid")
@click.option("--text", "body", required=True)
@JSON
@rehearsable
@with_appcontext
def activities_consensus(uid, body, as_json) -> None:
    """Record the consensus reached, with the opinion counts."""
    _act(uid, schemas.ActivityConsensusAction(action="consensus", text=body), as_json)


@activities.command("minutes")
@click.argument("uid")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read the minutes from this UTF-8 file.")
@click.option("--text", "body", help="The minutes.")
@click.option("--approved-by", required=True)
@JSON
@rehearsable
@with_appcontext
def activities_minutes(uid, path, body, approved_by, as_json) -> None:
    """Approve and publish the minutes."""
    if (path is None) == (body is None):
        raise InputError(N_("give either --text or --file"))
    body = path.read_text(encoding="utf-8") if path is not None else body
    _act(uid, schemas.ActivityMinutesAction(action="minutes", text=body, approved_by=approved_by), as_json)


@activities.command("close")
@click.argument("uid")
@JSON
@rehearsable
@with_appcontext
def activities_close(uid, as_json) -> None:
    """Close the activity; its topics record the consultation; prints each member's participation."""
    _act(uid, schemas.ActivityCloseAction(action="close"), as_json)


@activities.command("cancel")
@click.argument("uid")
@click.option("--reason", required=True)
@JSON
@rehearsable
@with_appcontext
def activities_cancel(uid, reason, as_json) -> None:
    """Cancel an activity that has not closed."""
    _act(uid, schemas.ActivityCancelAction(action="cancel", reason=reason), as_json)


@activities.command("material")
@click.argument("uid")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@JSON
@with_appcontext
def activities_material(uid, files, as_json) -> None:
    """Send materials beforehand: all the files, or (on any error) none."""
    node = node_context()
    limit = services.topics.attachment_limit(node.config)
    contents = []
    for path in files:
        if path.stat().st_size > limit:
            raise InputError(N_("%(name)s is %(st_size)s bytes; a file may have at most %(limit)s", name=path.name,
                                st_size=path.stat().st_size, limit=limit))
        contents.append((path.name, path.read_bytes()))
    with transaction(_actor()) as session:
        rows = [m.as_dict() for m in services.add_materials(session, node, uid, contents, _actor())]
    emit(rows, as_json, lambda rs: "\n".join(f"added {r['name']} ({r['size']} bytes, sha256 {r['sha256']})"
                                             for r in rs))


@activities.command("ics")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file.")
@JSON
@with_appcontext
def activities_ics(output, as_json) -> None:
    """The node's activities as iCalendar (RFC 5545), to standard output or a file."""
    data = services.calendar(get_session(), node_context())
    if output is not None:
        output.write_bytes(data)
        emit({"written": str(output), "bytes": len(data)}, as_json, lambda d: f"wrote {d['written']}")
    else:
        emit({"ics": data.decode("utf-8")}, as_json, lambda d: d["ics"].rstrip("\r\n"))


@activities.command("invite-level")
@click.argument("uid")
@click.option("--to", "node_id", required=True, help="The higher level: this node's parent or an ancestor.")
@click.option("--note", default="", help="A note to the level invited.")
@JSON
@rehearsable
@with_appcontext
def activities_invite_level(uid, node_id, note, as_json) -> None:
    """Invite a higher level to the activity (signed, relayed by the nodes between)."""
    _act(uid, schemas.ActivityInviteLevelAction(action="invite_level", node_id=node_id, note=note), as_json)


def _remote_text(r: dict[str, Any]) -> str:
    a = r["activity"] or {}
    lines = [f"{r['uid']}  {a.get('title', '(not known yet)')}",
             f"host: {r['host']}   state: {r['state']}   status: {r['status'] or '-'}"]
    if a:
        lines.append(f"form: {a['form']}   {_when(a['starts_ms'])} – {_when(a['ends_ms'])}   place: {a['place']}")
        lines.append(f"topics: {'; '.join(a['topics'])}")
    if r["invitation"]:
        lines.append(f"invited by {r['invitation']['by']}" + (f": {r['invitation']['note']}" if r["invitation"]["note"]
                                                               else ""))
    for j in r["joins"]:
        lines.append(f"  join ({j['mode']}, {j['delivery']}): " + ", ".join(p["name"] for p in j["participants"]))
    for p in r["participants"]:
        lines.append(f"  participant recorded: {p['name']} — {p['reply']}"
                     + ("" if p["attended"] is None else (" — present" if p["attended"] else " — absent")))
    for o in r["opinions_sent"]:
        lines.append(f"  opinion sent ({o['delivery']}) {o['speaker']}: {o['text']}")
    if r["opinions_sent"]:
        lines.append(f"opinions recorded at the host: {r['opinions_recorded']}")
    if r["consensus"]:
        lines.append(f"consensus: {r['consensus']}")
    if r["minutes"]:
        lines.append(f"minutes approved by {r['minutes']['approved_by']}: {r['minutes']['text']}")
    return "\n".join(lines)


@activities.command("joined")
@click.argument("uid", required=False)
@JSON
@with_appcontext
def activities_joined(uid, as_json) -> None:
    """Lower nodes' activities this level was invited to, joined or asked to join (one, given its uid)."""
    node = node_context()
    if uid:
        emit(federation.remote(get_session(), node, uid), as_json, _remote_text)
        return
    rows = federation.remote_list(get_session(), node)
    emit(rows, as_json, lambda rs: table([[r["uid"], (r["activity"] or {}).get("title", "-"), r["host"], r["state"],
                                           r["status"] or "-"] for r in rs], ["uid", "title", "host", "state", "status"]))


@activities.command("join")
@click.argument("uid")
@click.option("--ask", is_flag=True, help="Ask to join (no invitation reached this node).")
@click.option("--member", "members", multiple=True, help="A member taking part (repeatable).")
@click.option("--department", "departments", multiple=True, help="A department taking part (repeatable).")
@click.option("--note", default="", help="A note to the host.")
@JSON
@rehearsable
@with_appcontext
def activities_join(uid, ask, members, departments, note, as_json) -> None:
    """Accept a lower node's invitation (or ask to join) with this level's participants."""
    node = node_context()
    people = [{"name": n, "kind": "member"} for n in members] + [{"name": n, "kind": "department"} for n in departments]
    with transaction(_actor()) as session:
        sent = federation.join(session, node, uid, "ask" if ask else "accept", people, note, _actor())
        data = {"sent": sent, "activity": federation.remote(session, node, uid)}
    emit(data, as_json, lambda d: f"sent {d['sent']['kind']} to {d['sent']['to']} (host {d['sent']['host']})\n"
         + _remote_text(d["activity"]))


@activities.command("send-opinions")
@click.argument("uid")
@click.option("--opinion", "opinions", nargs=2, multiple=True, required=True, metavar="SPEAKER TEXT",
              help="An opinion: who, and what (repeatable).")
@click.option("--kind", type=click.Choice(["written", "speech"]), default="written", show_default=True)
@JSON
@rehearsable
@with_appcontext
def activities_send_opinions(uid, opinions, kind, as_json) -> None:
    """Send this level's opinions to the host of an activity it joined."""
    node = node_context()
    items = [{"speaker": speaker, "text": body, "kind": kind} for speaker, body in opinions]
    with transaction(_actor()) as session:
        sent = federation.send_opinions(session, node, uid, items, _actor())
        data = {"sent": sent, "activity": federation.remote(session, node, uid)}
    emit(data, as_json, lambda d: f"sent {d['sent']['kind']} to {d['sent']['to']} (host {d['sent']['host']})\n"
         + _remote_text(d["activity"]))
