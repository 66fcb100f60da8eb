"""Federation commands: ``keys``, ``peers``, ``inbox``, ``outbox``, ``bundle``."""

from __future__ import annotations

import json
import sys

import click
from flask import current_app

from shangliang.core.clitools import emit, table, with_appcontext
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import InputError

from . import canonical, inbox as node_inbox, keys as node_keys, outbox as node_outbox, peers as node_peers


def _ms(value) -> str:
    if value is None:
        return "-"
    import datetime as dt

    return dt.datetime.fromtimestamp(value / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


# -- keys ----------------------------------------------------------------------------------------------


@click.group()
def keys() -> None:
    """This node's signing keys."""


@keys.command("show")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def keys_show(as_json: bool) -> None:
    """Print the pairing line to give a neighbour: id, URL, current public key and the committee's name
    (quoted as a shell word when it holds a space)."""
    data = node_keys.pairing(get_session(), node_context())
    emit(data, as_json, node_keys.pairing_line)


@keys.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """Make a new current key and tell every peer (node.key_rotated); the old key keeps verifying what it signed."""
    from .rotation import rotate_and_announce

    with transaction() as session:
        old, new, told = rotate_and_announce(session, node_context())
    click.echo(f"rotated {old.key_id} -> {new.key_id}; node.key_rotated queued for {', '.join(told) or 'no peer'}")


# -- peers ---------------------------------------------------------------------------------------------


@click.group()
def peers() -> None:
    """Pinned neighbours: the parent and the children."""


@peers.command("add")
@click.argument("node_id")
@click.argument("url")
@click.argument("public_key")
@click.argument("name", required=False)
@click.option("--parent", "relation", flag_value="parent", help="For a non-standard id: it is our parent.")
@click.option("--child", "relation", flag_value="child", help="For a non-standard id: it is our child.")
@click.option("--bundle", "by_bundle", is_flag=True,
              help="No network route: reach it by bundle files only (`bundle export`), never over HTTP.")
@with_appcontext
def peers_add(node_id: str, url: str, public_key: str, name: str | None, relation: str | None,
              by_bundle: bool) -> None:
    """Pin a neighbour: ID URL PUBLIC_KEY [NAME], as the neighbour's `keys show` prints them (NAME, its
    committee's name, is what this node's pages show beside its id)."""
    with transaction() as session:
        peer = node_peers.add_peer(session, node_context().id, node_id, url, public_key, relation, name,
                                   "bundle" if by_bundle else "http")
    where = "reached by bundle files" if peer.delivery == "bundle" else f"pinned at {peer.url}"
    click.echo(f"peer {peer.node_id}{f' ({peer.name})' if peer.name else ''} ({peer.relation}) {where}")


@peers.command("delivery")
@click.argument("node_id")
@click.argument("mode", type=click.Choice(node_peers.DELIVERY_MODES))
@with_appcontext
def peers_delivery(node_id: str, mode: str) -> None:
    """How messages reach a pinned neighbour: http (the worker POSTs them to its URL) or bundle (files carried
    by hand: `bundle export`; never tried over HTTP)."""
    with transaction() as session:
        peer = node_peers.set_delivery(session, node_id, mode)
    click.echo(f"peer {peer.node_id} is reached " + ("by bundle files" if mode == "bundle" else f"at {peer.url}"))


@peers.command("name")
@click.argument("node_id")
@click.argument("name", required=False)
@with_appcontext
def peers_name(node_id: str, name: str | None) -> None:
    """Give a pinned neighbour its committee's name (none: forget it)."""
    with transaction() as session:
        peer = node_peers.set_name(session, node_id, name)
    click.echo(f"peer {peer.node_id} is named {peer.name}" if peer.name else f"peer {peer.node_id} has no name")


@peers.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def peers_list(as_json: bool) -> None:
    """Peers with their pinned key and delivery health."""
    rows = [node_peers.peer_dict(p) for p in node_peers.list_peers(get_session())]
    emit(rows, as_json, lambda rs: table(
        [[r["id"], r["name"] or "-", r["relation"], r["url"] if r["delivery"] == "http" else "(bundle files)",
          _ms(r["last_success_ms"]), r["failures"], _ms(r["held_until_ms"])] for r in rs],
        ["id", "name", "relation", "url", "last success", "failures", "held until"]))


def _age(ms) -> str:
    if ms is None:
        return "-"
    days, rest = divmod(int(ms) // 1000, 86400)
    return f"{days}d" if days else f"{rest // 3600}h{rest % 3600 // 60:02d}m"


def _skew(skew) -> str:
    if skew["latest_ms"] is None:
        return "-"
    return f"{skew['latest_ms'] / 1000:+.1f}s (max {skew['max_abs_ms'] / 1000:.1f}s){' !' if skew['warn'] else ''}"


@peers.command("health")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def peers_health(as_json: bool) -> None:
    """Each neighbour's health: last contact, messages pending and dead-lettered, delivery held back, the age
    of its pinned key and the clock skew its hops show (exit 0 even when one is unwell; read `ok`)."""
    from .health import health
    from .ids import now_ms

    rows = health(get_session(), now_ms())
    emit(rows, as_json, lambda rs: table(
        [[r["id"], r["name"] or "-", r["relation"], _ms(r["last_contact_ms"]), r["pending"], r["dead"],
          _ms(r["held_until_ms"]), _age(r["key_age_ms"]), _skew(r["clock_skew"]),
          "ok" if r["ok"] else ",".join(r["problems"])] for r in rs],
        ["id", "name", "relation", "last contact", "pending", "dead", "held until", "key age", "clock skew",
         "health"]) if rs else "no peers pinned")


@peers.command("remove")
@click.argument("node_id")
@with_appcontext
def peers_remove(node_id: str) -> None:
    """Unpin a neighbour."""
    with transaction() as session:
        node_peers.remove_peer(session, node_id)
    click.echo(f"peer {node_id} removed")


# -- inbox ---------------------------------------------------------------------------------------------


@click.group()
def inbox() -> None:
    """Accepted transfers."""


@inbox.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--limit", type=click.IntRange(1, 100000), default=100, show_default=True)
@with_appcontext
def inbox_list(as_json: bool, limit: int) -> None:
    """Accepted transfers, newest first."""
    data = [node_inbox.transfer_dict(r) for r in node_inbox.latest_transfers(get_session(), limit)]
    if as_json:
        for item in data:
            click.echo(json.dumps(item, ensure_ascii=False))
    else:
        click.echo(table([[d["origin"], d["id"], d["kind"], d["topic"] or "-", d["from"], _ms(d["received_ms"])] for d in data],
                         ["origin", "id", "kind", "topic", "from", "received"]))


# -- outbox --------------------------------------------------------------------------------------------


@click.group()
def outbox() -> None:
    """Messages to deliver, delivered, or dead-lettered."""


@outbox.command("list")
@click.option("--dead", is_flag=True, help="Only dead letters.")
@click.option("--limit", type=click.IntRange(1, 100000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def outbox_list(dead: bool, limit: int, as_json: bool) -> None:
    """Messages written here, newest first."""
    rows = [node_outbox.message_dict(r) for r in node_outbox.list_messages(get_session(), dead, limit)]
    emit(rows, as_json, lambda rs: table(
        [[r["id"], r["kind"], r["to"], r["status"], r["attempts"], r["last_error"] or ""] for r in rs],
        ["id", "kind", "to", "status", "attempts", "last error"]))


@outbox.command("retry")
@click.argument("outbox_id", type=int)
@with_appcontext
def outbox_retry(outbox_id: int) -> None:
    """Re-drive a dead letter."""
    with transaction() as session:
        node_outbox.retry(session, outbox_id)
    click.echo(f"outbox message {outbox_id} queued again")


@outbox.command("send")
@click.argument("kind")
@click.option("--to", "destination", required=True, help="The peer to send to.")
@click.option("--body", "body_json", required=True, help="The body as JSON ('-' reads standard input).")
@click.option("--topic", help="The topic uid the message is about.")
@click.option("--note", help="A note on the hop.")
@with_appcontext
def outbox_send(kind: str, destination: str, body_json: str, topic: str | None, note: str | None) -> None:
    """Write a message of KIND from this node and queue it (operators' and tests' tool; topics use their own commands)."""
    from .errors import ProtocolError
    from .kinds import registry
    from shangliang.core.plugins import get_plugin_manager

    kinds = registry(get_plugin_manager())
    if kind not in kinds:
        raise InputError(f"unknown kind {kind!r}; kinds: {', '.join(sorted(kinds))}")
    try:
        # The protocol's own profile: no floats, integers within ±(2^53-1), no duplicate keys, no lone surrogates.
        body = canonical.loads(sys.stdin.read() if body_json == "-" else body_json)
        if not isinstance(body, dict):
            raise InputError("--body must be a JSON object")
        kinds[kind].validate(body)
    except ProtocolError as exc:
        raise InputError(f"--body: {exc}") from None
    with transaction() as session:
        envelope, row = node_outbox.originate(session, node_context(), kind, body, destination, kinds[kind].action,
                                              topic=topic, note=note)
    click.echo(f"queued {envelope['origin']}/{envelope['id']} for {destination} (outbox {row.id})")


# -- bundle files (docs/bundles.md) ----------------------------------------------------------------------------


@click.group()
def bundle() -> None:
    """Bundle files: messages for a neighbour with no network route, carried by hand."""


@bundle.command("export")
@click.option("--to", "destination", required=True, help="The neighbour the bundle is for.")
@click.option("--again", is_flag=True, help="Also the messages already handed over in an earlier bundle.")
@click.option("--json", "as_json", is_flag=True)
@click.argument("file", type=click.Path(dir_okay=False, writable=True, allow_dash=True))
@with_appcontext
def bundle_export(destination: str, again: bool, as_json: bool, file: str) -> None:
    """Write the messages waiting for neighbour --to into FILE ('-': standard output), signed by this node;
    they are marked handed over."""
    import contextlib
    import os
    import tempfile

    from . import bundles

    with transaction() as session:
        exported = bundles.export(session, node_context(), destination, again)
        if not exported.empty:
            # Written (whole, then renamed into place) before the rows are committed as handed over.
            if file == "-":
                click.get_binary_stream("stdout").write(exported.data)
            else:
                folder = os.path.dirname(os.path.abspath(file))
                handle, temporary = tempfile.mkstemp(prefix=".bundle-", dir=folder)
                try:
                    with os.fdopen(handle, "wb") as out:
                        out.write(exported.data)
                    os.replace(temporary, file)
                except BaseException:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(temporary)
                    raise
    if exported.empty:
        raise exported.nothing_waits(again)
    summary = exported.summary()
    if file == "-":
        click.echo(f"bundle {summary['bundle']}: {summary['messages']} message(s) for {destination}", err=True)
        return
    emit({**summary, "file": file}, as_json, lambda d: (
        f"bundle {d['bundle']}: {d['messages']} message(s) for {d['to']} written to {d['file']}"
        + (f"; {len(d['expired'])} expired, dead-lettered" if d["expired"] else "")
        + ("; more wait for the next bundle" if d["more_waiting"] else "")))


def _report_text(report: dict) -> str:
    lines = [f"bundle {report['bundle']} from {report['from']}: {report['accepted']} accepted, "
             f"{report['duplicate']} duplicate, {report['refused']} refused"]
    for item in report["messages"]:
        line = f"  {item['status']:<9} {item['kind']} {item['origin']}/{item['id']}"
        if item["topic"]:
            line += f" ({item['topic']})"
        if item["status"] == "refused":
            line += f": {item['code']}: {item['message']}"
        lines.append(line)
    return "\n".join(lines)


@bundle.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def bundle_import(file, as_json: bool) -> None:
    """Import a bundle FILE ('-': standard input) from a neighbour: every message goes through the inbox's
    checks, and is reported accepted, duplicate or refused with its code. A bundle for another node, not from a
    neighbour, with a broken signature or altered is refused whole (exit 2); one imported before, too."""
    from . import bundles
    from .errors import BundleRefused

    data = file.read(bundles.MAX_BYTES + 1)
    try:
        report = bundles.import_bundle(current_app._get_current_object(), get_session(), data)
    except BundleRefused as exc:
        if as_json:
            click.echo(json.dumps(exc.as_body(), ensure_ascii=False, indent=2))
        elif exc.report is not None:
            click.echo(_report_text(exc.report))
        raise InputError(f"{exc.code}: {exc.message}") from None
    emit(report, as_json, _report_text)


# -- audit anchors (shangliang audit anchor / children) --------------------------------------------------


@click.command("anchor")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def audit_anchor(as_json: bool) -> None:
    """Sign the audit log's head now and send it to the parent, which keeps it (also done daily)."""
    from . import anchors

    with transaction("cli:audit anchor") as session:
        body = anchors.send(session, node_context())
    parent = node_context().parent
    emit({**body, "parent": parent}, as_json, lambda d: f"anchored row {d['seq']} ({d['hash'][:16]}…) with {parent}")


@click.command("children")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def audit_children(as_json: bool) -> None:
    """Each child's last audit anchor kept here, and how old it is."""
    from . import anchors

    rows = anchors.children(get_session(), node_context())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        click.echo("no children paired")
    for row in rows:
        if row["seq"] is None:
            click.echo(f"{row['child']}  no anchor yet")
        else:
            click.echo(f"{row['child']}  row {row['seq']}  {row['hash'][:16]}…  {row['age_hours']} h ago  "
                       f"({row['anchors']} kept)")
