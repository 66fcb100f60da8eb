"""``shangliang demo``: a local federation of five nodes on the embedded defaults, and a scenario played on it.

The nodes — province 62, city 6203, county 620302, townships 620302001 and 620302002 — are each
made with ``shangliang init``, paired with ``keys show`` / ``peers add`` and run with ``serve`` (its
own process, database and worker), exactly as people at five committee offices would. A sixth, the
village 620302001201, has no network: it is paired with its township by bundle files only
(``peers add --bundle``, docs/bundles.md) and not served. The scenario
then uses the same ``topics`` commands staff would type, printing each one, and checks every step
against what the nodes report: where the topic is, at which stage, with what result, and whether
every hop of its route verifies. ``--once`` stops after the scenario and exits 0 only if every step
checked out.
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
import signal
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

import click

DEMO_PASSWORD = "shangliang-demo"
#: The local practices each demo node runs (issue 11): Kailu's plan approval and quarterly forum on the county,
#: Putian's topic selection, Huzhou's 1246+X and Ma'anshan's 三个一起 on the city, Lianyungang's
#: consultation home on a township. ``_set_up`` enables them when it makes the node.
PRACTICES = {
    "620302": ("plan_approval", "quarterly_forum", "democratic_appraisal", "five_ones"),
    "6203": ("topic_selection", "huzhou_1246", "three_together"),
    "620302001": ("consultation_home",),
}
HOME = "宁远堡镇村民协商民主之家"
HOMES_TOML = f"""
[[plugins.consultation_home.homes]]
name = "{HOME}"
lead = "张建国"
members = ["张建国", "王志强", "李秀兰"]
"""
DEMO_MEMBERS = (
    "name,sector,special_committee,township_group,member_no\n"
    "张建国,农业界,农业和农村委员会,宁远堡镇,JC001\n"
    "李秀兰,经济界,经济委员会,双湾镇,JC002\n"
    "王志强,教育界,教科卫体委员会,宁远堡镇,JC003\n"
    "赵敏,医药卫生界,教科卫体委员会,双湾镇,JC004\n"
)
#: The county's handling units (承办单位, issue 12) that implement the road repair: name, kind, phone, and the
#: contact user (role handling_unit) who files the unit's reports.
UNITS = (
    ("金川区交通运输局", "government", "0935-8221001", "jtj", "区交通运输局联络员"),
    ("金川区财政局", "government", "0935-8221002", "czj", "区财政局联络员"),
)
LEAD_UNIT, PARTICIPATING_UNIT = UNITS[0][0], UNITS[1][0]
#: 领导包抓 (leader_follow_up) on the county: the committee's vice-chair follows the finance bureau, and is told
#: when its part of a result's implementation becomes overdue.
LEADER, LEADER_USER = "金川区政协副主席李明", "liming"
LEADERS_TOML = f"""
[[plugins.leader_follow_up.leaders]]
name = "{LEADER}"
user = "{LEADER_USER}"
units = ["{PARTICIPATING_UNIT}"]
"""
#: 提案 (issue 12) on the county: members' users linked to their member records (``users add --member``) — the
#: proposer, and another member whose rating of someone else's proposal is refused.
PROPOSER = ("lixiulan", "李秀兰", "JC002")
OTHER_MEMBER = ("wangzhiqiang", "王志强", "JC003")
WAIT_SECONDS = 60.0
#: The scenario's stories, in the order they are played (``shangliang demo --only`` names some of them).
STORIES = ("road_repair", "delegation", "returned", "the_year", "consultation_home", "city_plan", "proposal",
           "opinion", "drainage", "village_bundle", "subtree")


@dataclass
class DemoNode:
    id: str
    name: str
    level: str
    dir: Path
    url: str
    process: subprocess.Popen | None = field(default=None, repr=False)
    browser: Any = field(default=None, repr=False)  # a signed-in requests session (``_signed_in``)


NODES = (  # id, name, level as the interface says it
    ("62", "甘肃省政协", "省级 province"),
    ("6203", "金昌市政协", "市级 city"),
    ("620302", "金川区政协", "县级 county"),
    ("620302001", "宁远堡镇政协委员工作站", "乡镇 township"),
    ("620302002", "双湾镇政协委员工作站", "乡镇 township"),
    ("620302001201", "宁远堡村政协委员联络点", "村 village"),
)
#: Nodes with no network route to their neighbours (docs/bundles.md): made and paired with ``peers add --bundle``,
#: reached by bundle files carried by hand, and not served (their commands run on the node directory).
OFFLINE = frozenset({"620302001201"})


class StepFailed(Exception):
    """A step of the scenario did not happen as it should."""


def _shangliang_args(node: DemoNode | None, *args: str) -> list[str]:
    return [*(["--node", str(node.dir)] if node else []), *args]


def _invoke(argv: list[str], input: str | None = None) -> tuple[int, str, str]:
    """Run ``shangliang ARGV`` in this process: the same command line, parsing, rules, output and exit status as a
    shell's (click's runner, which gives each command its own standard input, output and error). A Python
    process per command spent ~1.5 s of CPU starting, some 300 times a demo, on a machine the nodes share."""
    import traceback

    from click.testing import CliRunner

    context = click.get_current_context(silent=True)  # ``shangliang demo``'s: its root is the command line itself
    if context is None:
        raise StepFailed("the demo runs its commands from within `shangliang demo`")
    result = CliRunner().invoke(context.find_root().command, argv, input=input, prog_name="shangliang")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        trace = "".join(traceback.format_exception(result.exception))
        return 1, result.stdout, (result.stderr or "") + trace
    return result.exit_code, result.stdout, result.stderr


def _run(node: DemoNode | None, *args: str, input: str | None = None, echo: bool = True,
         quiet: bool = False) -> str:
    """Run one ``shangliang`` command as a person would, print it, return its standard output."""
    argv = _shangliang_args(node, *args)
    if echo:
        click.echo(click.style("$ shangliang " + " ".join(shlex.quote(a) for a in argv), fg="cyan"))
    status, stdout, stderr = _invoke(argv, input)
    if status != 0:
        raise StepFailed(f"shangliang {' '.join(argv)} failed: {(stderr or stdout).strip()}")
    if echo and not quiet:
        for line in stdout.rstrip().splitlines():
            click.echo(f"    {line}")
    return stdout


def _json(node: DemoNode, *args: str, echo: bool = False, quiet: bool = False) -> Any:
    return json.loads(_run(node, *args, "--json", echo=echo, quiet=quiet))


def _refused(node: DemoNode, *args: str) -> str:
    """Run a command that must be refused; print it and the error; return the error (exit status 2)."""
    argv = _shangliang_args(node, *args)
    click.echo(click.style("$ shangliang " + " ".join(shlex.quote(a) for a in argv), fg="cyan"))
    status, stdout, stderr = _invoke(argv)
    error = (stderr or stdout).strip()
    click.echo(click.style(f"    {error}", fg="yellow"))
    if status != 2 or "Usage:" in error:  # a usage error is the demo's own mistake, not a refusal
        raise StepFailed(f"shangliang {' '.join(argv)} should have been refused (exit 2), exited {status}: "
                         f"{error}")
    return error


def _signed_in(node: DemoNode) -> Any:
    """A browser session signed in on ``node`` as the demo admin through the sign-in form (made once per node)."""
    import re

    import requests

    if node.browser is None:
        browser = requests.Session()
        form = browser.get(node.url + "/login", timeout=10).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', form)
        signed_in = browser.post(node.url + "/login", timeout=10, data={
            "csrf_token": token.group(1) if token else "", "username": "admin", "password": DEMO_PASSWORD})
        if signed_in.status_code >= 400:
            raise StepFailed(f"signing in on {node.id} answered {signed_in.status_code}")
        node.browser = browser
    return node.browser


def _get(node: DemoNode, path: str) -> Any:
    """``path`` on ``node`` as the signed-in demo admin (a page or the JSON API)."""
    answer = _signed_in(node).get(node.url + path, timeout=10)
    if answer.status_code == 401 or answer.url.split("?")[0].endswith("/login"):  # the session ended: sign in again
        node.browser = None
        answer = _signed_in(node).get(node.url + path, timeout=10)
    if answer.status_code != 200:
        raise StepFailed(f"{node.url}{path} answered {answer.status_code}")
    return answer


def _page(node: DemoNode, path: str) -> str:
    """A page as the office sees it: signed in as the demo admin through the form."""
    return _get(node, path).text


def _today() -> str:
    """Today here (UTC or east of it: never after today on the nodes' Asia/Shanghai calendar)."""
    import datetime as dt

    return dt.date.today().isoformat()


def _health(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            return json.loads(exc.read() or b"{}")
        except ValueError:
            return None
    except (OSError, ValueError):
        return None


# -- the federation ------------------------------------------------------------------------------------


def _nodes(base: Path, port: int) -> list[DemoNode]:
    return [DemoNode(node_id, name, level, base / node_id, f"http://127.0.0.1:{port + index}")
            for index, (node_id, name, level) in enumerate(NODES)]


def _set_up(nodes: list[DemoNode]) -> None:
    """Create and pair the nodes that do not exist yet (a second run reuses them)."""
    by_id = {n.id: n for n in nodes}
    made = []
    for node in nodes:
        toml = node.dir / "node.toml"
        if toml.exists():
            url = tomllib.loads(toml.read_text(encoding="utf-8")).get("url", "").rstrip("/")
            if url != node.url:
                raise StepFailed(f"{node.dir} serves {url}, not {node.url}: use --port as before, or remove "
                                 f"{node.dir.parent} to start afresh")
            continue
        click.echo(click.style(f"\n## {node.level} {node.id} {node.name}", bold=True))
        _run(None, "init", str(node.dir), "--id", node.id, "--name", node.name, "--url", node.url)
        _run(node, "users", "add", "admin", "--role", "admin", "--name", "办公室管理员", "--password-stdin",
             input=DEMO_PASSWORD + "\n")
        made.append(node)
    county = by_id["620302"]
    if county in made:
        members_csv = county.dir / "demo-members.csv"
        members_csv.write_text(DEMO_MEMBERS, encoding="utf-8")
        _run(county, "members", "import", str(members_csv))
        _run(county, "users", "add", "jumin", "--role", "public", "--name", "金川区居民", "--password-stdin",
             input=DEMO_PASSWORD + "\n")
    for node in nodes:  # a run stopped while a practice was disabled (``Scenario.without``) left it so: enable it
        if node not in made and PRACTICES.get(node.id):
            enabled = {p["name"] for p in json.loads(_run(node, "plugins", "list", "--json", echo=False)) if p["enabled"]}
            for practice in PRACTICES[node.id]:
                if practice not in enabled:
                    _run(node, "plugins", "enable", practice)
    for node in made:
        if node.id == "620302001":  # the consultation home's members and lead, as the office writes them in node.toml
            with open(node.dir / "node.toml", "a", encoding="utf-8") as toml:
                toml.write(HOMES_TOML)
        for practice in PRACTICES.get(node.id, ()):
            _run(node, "plugins", "enable", practice)
    _set_up_implementation(county)
    if not made:
        click.echo(f"reusing the demo nodes in {nodes[0].dir.parent} (remove it to start afresh)")
        return
    click.echo(click.style("\n## pairing neighbours: each reads the other's `keys show` line", bold=True))
    lines = {n.id: shlex.split(_run(n, "keys", "show", echo=False)) for n in nodes}
    from . import divisions

    for node in nodes:
        for other in nodes:
            related = divisions.parent_of(node.id) == other.id or divisions.parent_of(other.id) == node.id
            if related and (node in made or other in made):
                known = {p["id"] for p in json.loads(_run(node, "peers", "list", "--json", echo=False))}
                if other.id not in known:
                    by_bundle = ["--bundle"] if node.id in OFFLINE or other.id in OFFLINE else []
                    _run(node, "peers", "add", *by_bundle, *lines[other.id])


def _set_up_implementation(county: DemoNode) -> None:
    """The county's handling units, their contact users and the leader who follows one (领导包抓); whatever a
    node made by an earlier demo lacks is added, so a second run changes nothing."""
    users = {u["username"] for u in json.loads(_run(county, "users", "list", "--json", echo=False))}
    wanted = [(username, "handling_unit", name) for _unit, _kind, _phone, username, name in UNITS]
    wanted.append((LEADER_USER, "office", LEADER))
    for username, role, name in wanted:
        if username not in users:
            _run(county, "users", "add", username, "--role", role, "--name", name, "--password-stdin",
                 input=DEMO_PASSWORD + "\n")
    for username, name, member_no in (PROPOSER, OTHER_MEMBER):  # members' own users, for their proposals
        if username not in users:
            _run(county, "users", "add", username, "--role", "member", "--name", name, "--member", member_no,
                 "--password-stdin", input=DEMO_PASSWORD + "\n")
    units = {u["name"] for u in json.loads(_run(county, "units", "list", "--json", echo=False))}
    for unit, kind, phone, username, _name in UNITS:
        if unit not in units:
            _run(county, "units", "add", "--name", unit, "--kind", kind, "--phone", phone, "--contacts", username)
    toml = county.dir / "node.toml"
    if "plugins.leader_follow_up" not in toml.read_text(encoding="utf-8"):
        with open(toml, "a", encoding="utf-8") as out:  # the leader, as the office writes it in node.toml
            out.write(LEADERS_TOML)
    enabled = {p["name"] for p in json.loads(_run(county, "plugins", "list", "--json", echo=False)) if p["enabled"]}
    if "leader_follow_up" not in enabled:
        _run(county, "plugins", "enable", "leader_follow_up")
        _run(county, "leaders", "check")


def _start(nodes: list[DemoNode], log_dir: Path) -> None:
    nodes = [node for node in nodes if node.id not in OFFLINE]
    for node in nodes:
        port = node.url.rsplit(":", 1)[1]
        click.echo(click.style(f"$ shangliang --node {node.dir} serve --port {port} --workers 1 &", fg="cyan"))
        log = open(log_dir / f"{node.id}.log", "ab")
        node.process = subprocess.Popen(
            [sys.executable, "-m", "shangliang.core", "--node", str(node.dir), "serve", "--port", port,
             "--workers", "1"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + WAIT_SECONDS
    waiting = list(nodes)
    while waiting:
        for node in list(waiting):
            if node.process.poll() is not None:
                raise StepFailed(f"{node.id} exited with {node.process.returncode}; see {log_dir / (node.id + '.log')}")
            health = _health(node.url)
            if health and health.get("status") == "ok" and health.get("worker", {}).get("last_heartbeat_ms"):
                waiting.remove(node)
        if waiting and time.time() > deadline:
            raise StepFailed(f"not healthy within {WAIT_SECONDS:.0f} s: {', '.join(n.id for n in waiting)}")
        time.sleep(0.3)
    click.echo(f"all {len(nodes)} served nodes are up, each with its worker")


def _stop(nodes: list[DemoNode]) -> None:
    def stop(node: DemoNode) -> None:
        if node.process is None or node.process.poll() is not None:
            return
        import os

        try:
            os.killpg(node.process.pid, signal.SIGTERM)
            node.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(node.process.pid, signal.SIGKILL)
            node.process.wait(timeout=10)
        except ProcessLookupError:
            pass

    with ThreadPoolExecutor(len(nodes)) as pool:
        list(pool.map(stop, nodes))


# -- the scenario --------------------------------------------------------------------------------------


class Scenario:
    """The steps, each printed with its commands and checked against what the nodes show."""

    def __init__(self, nodes: list[DemoNode]):
        self.node = {n.id: n for n in nodes}
        self.checks: list[tuple[str, bool, str]] = []

    def check(self, what: str, ok: bool, detail: str = "") -> bool:
        self.checks.append((what, ok, detail))
        mark = click.style("✓", fg="green") if ok else click.style("✗", fg="red")
        click.echo(f"  {mark} {what}" + (f" — {detail}" if detail and not ok else ""))
        return ok

    def wait(self, node_id: str, uid: str, what: str, condition: Callable[[dict], bool]) -> dict:
        """Poll the topic on a node until ``condition`` holds (the workers deliver meanwhile). It reads
        ``GET /api/v1/topics/<uid>`` — what ``topics show --json`` prints — as the signed-in admin: a command
        per poll would start a Python process every half second on a machine the nodes share."""
        deadline = time.time() + WAIT_SECONDS
        data: dict = {}
        while time.time() < deadline:
            try:
                data = _get(self.node[node_id], f"/api/v1/topics/{uid}").json()
            except (StepFailed, OSError, ValueError):
                data = {}
            if data and condition(data):
                self.check(what, True)
                return data
            time.sleep(0.5)
        raise StepFailed(f"{what}: not seen within {WAIT_SECONDS:.0f} s (last: holder {data.get('holder')}, "
                         f"stage {data.get('stage')})")

    def verified_route(self, node_id: str, uid: str) -> None:
        data = _json(self.node[node_id], "topics", "show", uid)
        hops = sum(len(entry["hops"]) for entry in data["route"])
        self.check(f"{node_id} re-verifies the whole route: {len(data['route'])} envelopes, {hops} hops",
                   bool(data["route"]) and data["route_verified"],
                   "; ".join(f"{h['from']}→{h['to']}: {h['problem']}" for e in data["route"] for h in e["hops"]
                             if not h["verified"]))

    def add(self, node_id: str, title: str, areas: list[str], kind: str, name: str, category: str,
            description: str) -> str:
        args = ["topics", "add", "--title", title, "--description", description, "--category", category,
                "--raised-by-kind", kind, "--raised-by-name", name]
        for area in areas:
            args += ["--area", area]
        out = _run(self.node[node_id], *args)
        return out.split()[0]

    def do(self, node_id: str, *args: str) -> None:
        _run(self.node[node_id], *args)

    def refused(self, node_id: str, what: str, expect: str, *args: str) -> str:
        """A command that must be refused with an error holding ``expect``."""
        error = _refused(self.node[node_id], *args)
        self.check(what, expect in error, error)
        return error

    def without(self, node_id: str, practice: str, *args: str) -> None:
        """Disable ``practice``, show that the default accepts what it refused (``--dry-run``: checked in full,
        nothing stored), and enable it again."""
        self.do(node_id, "plugins", "disable", practice)
        try:
            _run(self.node[node_id], *args, "--dry-run", quiet=True)
            click.echo(click.style("    dry run: accepted; nothing was stored", fg="yellow"))
            accepted = True
        except StepFailed as exc:
            accepted = False
            click.echo(f"    {exc}")
        finally:
            self.do(node_id, "plugins", "enable", practice)
        self.check(f"{practice} disabled, the default accepts it; enabled again", accepted)

    def poll(self, what: str, read: Callable[[], Any], condition: Callable[[Any], bool]) -> Any:
        """Read until ``condition`` holds (the workers deliver meanwhile)."""
        deadline = time.time() + WAIT_SECONDS
        data: Any = None
        while time.time() < deadline:
            try:
                data = read()
            except StepFailed:
                data = None
            if data is not None and condition(data):
                self.check(what, True)
                return data
            time.sleep(0.5)
        raise StepFailed(f"{what}: not seen within {WAIT_SECONDS:.0f} s")

    # -- the three stories --

    def road_repair(self) -> str:
        click.echo(click.style("\n## 1. 两镇之间道路维修: raised in a township, consulted by the county, result fed back",
                               bold=True))
        click.echo("   (跨乡镇事项由共同的上一级协商 — a matter across two townships belongs to their county)")
        uid = self.add("620302001", "宁远堡镇至双湾镇连接道路维修", ["620302001", "620302002"], "public",
                       "宁远堡镇群众联名", "城乡建设", "两镇之间的连接道路破损严重,雨季通行困难,群众多次反映。")
        suggestion = _json(self.node["620302001"], "topics", "show", uid)["suggestion"]
        self.check("routing suggests escalating it to the county 620302",
                   suggestion["action"] == "escalate" and suggestion["to"] == "620302", suggestion["reason"])
        letter = self.node["620302001"].dir.parent / "宁远堡镇群众联名信.txt"
        letter.write_text("我们是宁远堡镇和双湾镇的村民。两镇之间的连接道路坑洼不平,雨季无法通行,"
                          "恳请政协帮助协调维修。\n联名人:62人\n", encoding="utf-8")
        self.do("620302001", "topics", "attach", uid, str(letter))
        self.do("620302001", "topics", "escalate", uid, "--note", "涉及两镇,提请区政协协商")
        self.wait("620302", uid, "the county received it, awaiting its acceptance",
                  lambda d: d["holder"] == "620302" and d["awaiting_acceptance"])
        self.check("the county sees the letter's name, size and SHA-256 (the file stays in the township)",
                   [a["name"] for a in _json(self.node["620302"], "topics", "show", uid)["attachments"]]
                   == [letter.name])
        self.do("620302", "topics", "accept", uid)
        self.wait("620302001", uid, "the township hears that the county accepted it (受理)",
                  lambda d: d["holder"] == "620302" and not d["awaiting_acceptance"])
        for stage, note in (("determined", "列入区政协年度协商计划"), ("researching", "组织委员实地调研"),
                            ("consulting", "召开专题协商会,两镇群众代表参加"), ("implementing", "协商意见交区政府有关部门办理")):
            self.do("620302", "topics", "advance", uid, "--to", stage, "--note", note)
        self.wait("620302001", uid, "each stage change reached the township", lambda d: d["stage"] == "implementing")
        self.implementation(uid)
        self.do("620302", "topics", "advance", uid, "--to", "feedback", "--note", "办理结果向群众反馈")
        self.do("620302", "topics", "result", uid, "--kind", "协商意见", "--title", "连接道路维修列入2027年区级计划",
                "--summary", "区政府同意将两镇连接道路维修列入2027年计划,先行修补坑洼路段。",
                "--measure", "2027年3月底前完成勘测设计", "--measure", "汛期前完成主要路段修复",
                "--handling-unit", "宁远堡镇人民政府", "--handling-unit", "双湾镇人民政府")
        home = self.wait("620302001", uid, "the county's result came home to the township that raised it",
                         lambda d: d["stage"] == "closed" and bool(d["result"]))
        units = home["result"]["handling_units"]
        self.check("the result is the county's, with its measures; its handling units are the assigned units (lead "
                   "first) and the two townships' governments",
                   home["result"]["title"] == "连接道路维修列入2027年区级计划"
                   and units == [LEAD_UNIT, PARTICIPATING_UNIT, "宁远堡镇人民政府", "双湾镇人民政府"], str(units))
        self.verified_route("620302001", uid)
        self.verified_route("620302", uid)
        _run(self.node["620302001"], "topics", "show", uid)
        return uid

    def implementation(self, uid: str) -> None:
        """办理实施 (issue 12): two handling units with deadlines, a leader's instruction, one unit overdue and the
        leader who follows it told (领导包抓), the units' final reports accepted and sent home to the township."""
        click.echo(click.style("\n   办理实施: the county's handling units carry out the measures, with deadlines",
                               bold=True))
        county = self.node["620302"]
        shown = _json(county, "topics", "implement", uid, "--lead", f"{LEAD_UNIT}=20",
                      "--participating", f"{PARTICIPATING_UNIT}=2", echo=True, quiet=True)
        due = {a["unit"]: a for a in shown["assignments"]}
        for a in shown["assignments"]:
            click.echo(f"    {a['role']:<13} {a['unit']}  {a['working_days']} working days, {a['state']}")
        self.check("a lead unit (20 working days) and a participating unit (2 working days) are assigned",
                   [(a["unit"], a["role"]) for a in shown["assignments"]]
                   == [(LEAD_UNIT, "lead"), (PARTICIPATING_UNIT, "participating")], str(shown["assignments"]))
        self.refused("620302", "feedback waits for the lead unit's final report", "lead unit",
                     "topics", "advance", uid, "--to", "feedback")
        self.do("620302", "topics", "instruct", uid, "--leader", "金川区人民政府区长",
                "--body", "请区交通运输局牵头、区财政局配合,汛期前完成主要路段修复。")
        # The deadline is the end of its day in the node's time zone: the day after it, there, is the first overdue.
        zone = ZoneInfo(tomllib.loads((county.dir / "node.toml").read_text(encoding="utf-8")).get(
            "timezone", "Asia/Shanghai"))
        deadline = dt.datetime.fromtimestamp(due[PARTICIPATING_UNIT]["due_ms"] / 1000, zone).date()
        after = deadline + dt.timedelta(days=1)
        click.echo(f"   督办: as of {after.isoformat()}, the day after the finance bureau's deadline")
        marked = _json(county, "topics", "supervise", "--as-of", after.isoformat(), echo=True)
        self.check(f"supervision as of {after.isoformat()} marks the participating unit overdue, not the lead unit",
                   [(a["topic"], a["unit"]) for a in marked["assignments"] if a["topic"] == uid]
                   == [(uid, PARTICIPATING_UNIT)], str(marked["assignments"]))
        rows = {r["unit"]: r for r in _json(county, "topics", "assignments", echo=True) if r["topic"] == uid}
        self.check("the assignments list shows the finance bureau overdue",
                   rows[PARTICIPATING_UNIT]["overdue"] and not rows[LEAD_UNIT]["overdue"], str(rows))
        leader_id = next(u["id"] for u in _json(county, "users", "list") if u["username"] == LEADER_USER)
        audit = _json(county, "audit", "list", "--limit", "300")
        told = [e["data"] for e in audit if e["entity"] == "notifications" and e["data"].get("recipient_user_id")
                == leader_id and e["data"].get("source") == "leader_follow_up" and uid in e["data"].get("body", "")]
        for notice in told:
            click.echo(f"    notice to {LEADER_USER}: {notice.get('subject')}")
        self.check(f"领导包抓: the leader who follows {PARTICIPATING_UNIT} ({LEADER}, user {LEADER_USER}) is notified "
                   "once (the notice, in the audit log)", len(told) == 1, str(told))
        for username, unit, body in (
                ("czj", PARTICIPATING_UNIT, "已落实道路维修资金320万元,列入2027年区级预算。"),
                ("jtj", LEAD_UNIT, "已完成勘测设计,坑洼路段修补完工,两镇连接道路恢复通行;全线维修列入2027年区级计划。")):
            report = _json(county, "topics", "report", uid, "--as", username, "--kind", "final", "--body", body,
                           echo=True)
            self.do("620302", "topics", "review-report", uid, str(report["id"]), "--decision", "accept",
                    "--comment", "同意")
        rows = {r["unit"]: r for r in _json(county, "topics", "assignments") if r["topic"] == uid}
        self.check("both units' final reports are accepted; the overdue mark is cleared",
                   all(r["state"] == "accepted" and not r["overdue"] for r in rows.values()), str(rows))
        self.wait("620302001", uid, "the township that raised it sees the lead unit's final implementation report",
                  lambda d: any(e["action"] == "implementation_report" and LEAD_UNIT in (e["note"] or "")
                                and "最终办理报告" in (e["note"] or "") for e in d["events"]))

    def delegation(self) -> str:
        click.echo(click.style("\n## 2. 指定下放: the city delegates a matter to the county, which delegates it to a township",
                               bold=True))
        uid = self.add("6203", "双湾镇农村人居环境整治", ["620302002"], "party_committee", "中共金昌市委办公室",
                       "农业农村", "市委交办:推进双湾镇农村人居环境整治,听取群众意见。")
        suggestion = _json(self.node["6203"], "topics", "show", uid)["suggestion"]
        self.check("routing suggests delegating it to the county 620302",
                   suggestion["action"] == "delegate" and suggestion["to"] == "620302", suggestion["reason"])
        self.do("6203", "topics", "delegate", uid, "--to", "620302", "--instructions", "请金川区政协组织协商,按期反馈",
                "--due", "+20")
        self.wait("620302", uid, "the county received the delegation", lambda d: d["holder"] == "620302")
        self.do("620302", "topics", "delegate", uid, "--to", "620302002", "--instructions",
                "请双湾镇政协委员工作站组织群众议事", "--due", "+10")
        self.wait("620302002", uid, "the township received it with the county's instructions and due date",
                  lambda d: d["holder"] == "620302002" and d["instructions"] and d["due_ms"])
        self.do("620302002", "topics", "accept", uid)
        self.wait("6203", uid, "the city hears, through the county, that the township accepted it",
                  lambda d: d["holder"] == "620302002" and not d["awaiting_acceptance"])
        self.verified_route("6203", uid)
        self.verified_route("620302002", uid)
        return uid

    def returned(self) -> str:
        click.echo(click.style("\n## 3. 退回: a matter escalated without need goes back with the reason", bold=True))
        uid = self.add("620302001", "村委会门前路灯维修", ["620302001"], "member", "张建国", "城乡建设",
                       "村委会门前路灯损坏,夜间出行不便。")
        suggestion = _json(self.node["620302001"], "topics", "show", uid)["suggestion"]
        self.check("routing suggests keeping it in the township", suggestion["action"] == "keep", suggestion["reason"])
        self.do("620302001", "topics", "escalate", uid, "--note", "请区政协协调")
        self.wait("620302", uid, "the county received it", lambda d: d["holder"] == "620302")
        self.do("620302", "topics", "return", uid, "--reason", "属本镇范围内事项,请镇政协委员工作站协商解决")
        back = self.wait("620302001", uid, "the township holds it again, with the county's reason",
                         lambda d: d["holder"] == "620302001" and d["events"][-1]["action"] == "returned")
        self.check("the reason is shown", "属本镇范围内事项" in back["events"][-1]["note"])
        self.verified_route("620302001", uid)
        return uid


    # -- the year's consultation (issue 11) --

    def plan_year(self) -> int:
        """The first year from 2027 the county has no plan for (a second run plans the next year)."""
        years = {p["year"] for p in _json(self.node["620302"], "plans", "list")}
        year = 2027
        while year in years:
            year += 1
        return year

    def county_plan(self) -> tuple[int, list[str]]:
        year = self.plan_year()
        click.echo(click.style(f"\n## 4. 年度协商计划: the county drafts its {year} plan from collected topics, takes it "
                               "through the approval steps and publishes it", bold=True))
        county = "620302"
        topics = [self.add(county, title, ["620302"], kind, name, category, text) for title, kind, name, category, text in (
            ("城区老旧小区改造", "member", "王志强", "城乡建设", "老旧小区管网老化、缺少电梯,居民改造意愿强烈。"),
            ("乡村学校冬季供暖", "sector", "教育界", "教育", "部分乡村学校供暖不足,冬季教学受影响。"),
            ("农产品冷链物流体系建设", "special_committee", "农业和农村委员会", "农业农村", "冷链设施不足,农产品损耗大。"),
        )]
        self.do(county, "plans", "create", "--year", str(year))
        lead = {0: "经济委员会", 1: "教科卫体委员会", 2: "农业和农村委员会"}
        forms = {0: ("forum", "3"), 1: ("special", "6"), 2: ("counterpart", "9")}
        for index, uid in enumerate(topics):
            form, month = forms[index]
            self.do(county, "plans", "add-item", str(year), "--topic", uid, "--form", form, "--month", month,
                    "--lead", lead[index], "--department", ("区住建局", "区教育局", "区农业农村局")[index],
                    "--member", ("JC003", "JC004", "JC001")[index])
        self.do(county, "plans", "add-item", str(year), "--title", "金川区营商环境优化", "--description",
                "由计划提出的议题:优化审批流程,减轻企业负担。", "--category", "经济", "--area", "620302",
                "--raised-by-kind", "party_committee", "--raised-by-name", "中共金川区委", "--form", "standing_committee",
                "--month", "11", "--lead", "经济委员会", "--department", "区发改局")
        error = _refused(self.node[county], "plans", "step", str(year), "--step", "standing_committee", "--approver",
                         "中共金川区委常委会", "--decision", "approved")
        self.check("a step out of order is refused, nothing stored", "out of order" in error, error)
        error = _refused(self.node[county], "plans", "publish", str(year))
        self.check("the plan is not published before its approval steps", "Error:" in error, error)
        self.do(county, "plans", "step", str(year), "--step", "chair_meeting", "--approver", "金川区政协主席会议",
                "--decision", "approved", "--reference", f"主席会议纪要〔{year}〕1号", "--opinion", "同意提交区委常委会")
        hasty = ("plans", "step", str(year), "--step", "standing_committee", "--approver", "区委办公室",
                 "--decision", "approved", "--reference", "区委办便函")
        self.refused(county, "plan_approval (开鲁): the plan is decided by the party standing committee (常委会), "
                     "not another body", "常委会", *hasty)
        self.without(county, "plan_approval", *hasty)
        self.do(county, "plans", "step", str(year), "--step", "standing_committee", "--approver", "中共金川区委常委会",
                "--decision", "approved", "--reference", f"区委常委会会议纪要〔{year}〕2号", "--opinion", "同意印发")
        published = _json(self.node[county], "plans", "publish", str(year), echo=True)
        self.check("published: the plan's collected topics are now determined (确定议题)",
                   published["status"] == "published" and len(published["determined"]) == 4
                   and set(topics) <= set(published["determined"]), str(published))
        error = _refused(self.node[county], "plans", "amend", str(year), "--kind", "move", "--item",
                         str(_json(self.node[county], "plans", "show", str(year))["items"][0]["id"]), "--month", "4")
        self.check("a published plan changes only by an approved amendment", "Error:" in error, error)
        shown = _json(self.node[county], "plans", "show", str(year))
        self.check("the plan shows each item's progress: none consulted yet",
                   len(shown["progress"]) == 4 and not any(p["consulted"] for p in shown["progress"]), str(shown["progress"]))
        return year, topics

    def quarterly_forum(self, year: int, topic: str) -> str:
        click.echo(click.style("\n## 5. 季协商座谈会: a forum on a planned topic, with invitations, research, attendance, "
                               "opinions (online too) and minutes", bold=True))
        county = self.node["620302"]
        unplanned = self.add("620302", "社区停车难问题", ["620302"], "public", "金川区居民", "城乡建设",
                             "老旧社区停车位不足,占道停车严重。")
        self.do("620302", "topics", "advance", unplanned, "--to", "determined", "--note", "列入议题库")
        off_plan = ("activities", "create", "--form", "forum", "--title", "协商座谈会:社区停车难", "--topic", unplanned,
                    "--starts", f"{year}-04-10 09:00", "--ends", f"{year}-04-10 11:00", "--place", "区政协会议室",
                    "--organiser", "金川区政协经济委员会")
        self.refused("620302", "quarterly_forum (开鲁): a forum consults a topic of the published plan (or one the party "
                     "committee or government raised)", "季协商座谈会", *off_plan)
        self.without("620302", "quarterly_forum", *off_plan)
        uid = _run(county, "activities", "create", "--form", "forum", "--title", "第一季度协商座谈会:城区老旧小区改造",
                   "--topic", topic, "--starts", f"{year}-03-20 09:00", "--ends", f"{year}-03-20 11:30",
                   "--place", "金川区政协三楼会议室", "--organiser", "金川区政协经济委员会").split()[0]
        invited = {}
        for kind, who in (("member", "JC003"), ("member", "JC002"), ("department", "区住建局"), ("public", "居民代表刘桂芳")):
            data = _json(county, "activities", "invite", uid, "--kind", kind,
                         *(("--member", who) if kind == "member" else ("--name", who)), echo=True)
            invited[who] = data["activity"]["invitations"][-1]["id"]
        self.do("620302", "activities", "reply", uid, "--invitation", str(invited["JC003"]), "--reply", "attend")
        self.do("620302", "activities", "reply", uid, "--invitation", str(invited["JC002"]), "--reply", "leave",
                "--reason", "参加市政协培训")
        self.do("620302", "activities", "reply", uid, "--invitation", str(invited["区住建局"]), "--reply", "attend")
        self.refused("620302", "quarterly_forum: no attendance before a special committee's research (会前调研)",
                     "research", "activities", "attend", uid, "王志强")
        self.do("620302", "activities", "research", uid, "--who", "金川区政协经济委员会", "--place", "金川区12个老旧小区",
                "--date", f"{year}-02-25", "--findings", "管网老化占七成,加装电梯需求集中在六层住宅。")
        self.wait("620302", topic, "research moved the topic to researching (调研)", lambda d: d["stage"] == "researching")
        error = _refused(county, "activities", "attend", uid, "王志强", "未受邀的人")
        self.check("attendance for a person not invited is refused, nothing stored", "not invited" in error, error)
        shown = _json(county, "activities", "show", uid)
        names = {i["id"]: i["name"] for i in shown["invitations"]}
        self.do("620302", "activities", "attend", uid, names[invited["JC003"]], "区住建局", "居民代表刘桂芳")
        self.do("620302", "activities", "opinion", uid, "--speaker", names[invited["JC003"]], "--member", "JC003",
                "--text", "建议分批改造,先管网后电梯,居民出资比例分档。")
        self.do("620302", "activities", "opinion", uid, "--speaker", "区住建局", "--kind", "written",
                "--text", "今年拟改造5个小区,争取中央补助资金。")
        self.do("620302", "activities", "window", uid, "open", "--closes", f"{year}-03-31 18:00")
        posted = []
        for text in ("希望加装电梯时照顾低楼层住户的意见。", "希望加装电梯时照顾低楼层住户意见!"):
            request = urllib.request.Request(
                f"{county.url}/api/v1/activities/{uid}/opinions", method="POST",
                data=json.dumps({"text": text}, ensure_ascii=False).encode(),
                headers={"Content-Type": "application/json", "Authorization": "Basic " + __import__("base64").b64encode(
                    f"jumin:{DEMO_PASSWORD}".encode()).decode()})
            click.echo(click.style(f"$ curl -u jumin:… -X POST {county.url}/api/v1/activities/{uid}/opinions "
                                   f"-d '{{\"text\": \"{text}\"}}'", fg="cyan"))
            with urllib.request.urlopen(request, timeout=10) as response:
                posted.append(json.loads(response.read()))
        self.check("a resident signed in with the public role posted online opinions (网络协商)", len(posted) == 2)
        shown = _json(county, "activities", "show", uid)
        online = [o for o in shown["opinions"] if o["kind"] == "online"]
        self.do("620302", "activities", "moderate", uid, "--opinion", str(online[1]["id"]), "--merge-into",
                str(online[0]["id"]), "--reason", "内容重复,合并")
        self.do("620302", "activities", "window", uid, "close")
        self.do("620302", "activities", "consensus", uid, "--text",
                "分批推进老旧小区改造,先管网后电梯;加装电梯兼顾低楼层住户意见。")
        error = _refused(county, "activities", "close", uid)
        self.check("an activity is not closed before its minutes are approved", "minutes" in error, error)
        self.do("620302", "activities", "minutes", uid, "--approved-by", "金川区政协主席会议", "--text",
                "会议听取区住建局情况通报,委员和群众代表发言,形成协商意见三条,报区委区政府。")
        closed = _json(county, "activities", "close", uid, echo=True)
        self.check("closed: the opinions were counted (4 in all, 1 merged)",
                   closed["activity"]["counts"]["total"] == 4 and closed["activity"]["counts"]["merged"] == 1,
                   str(closed["activity"]["counts"]))
        self.wait("620302", topic, "the topic's loop records the consultation (协商)",
                  lambda d: d["stage"] == "consulting" and any(e["action"] == "consulted" for e in d["events"]))
        progress = {p["topic_uid"]: p for p in _json(county, "plans", "show", str(year))["progress"]}
        self.check("the plan shows the item consulted", progress[topic]["consulted"], str(progress.get(topic)))
        page = _page(county, f"/plans/{year}")
        self.check(f"the plan page {county.url}/plans/{year} shows its progress per item (已协商 / 尚未)",
                   "城区老旧小区改造" in page and "已协商" in page and "尚未" in page)
        calendar = _run(county, "activities", "ics", echo=True, quiet=True)
        self.check("the county's activities export as iCalendar", "BEGIN:VCALENDAR" in calendar
                   and "SUMMARY:第一季度协商座谈会" in calendar.replace("\r\n ", ""))
        return uid


    def consultation_home(self) -> str:
        click.echo(click.style("\n## 6. 协商民主之家: a township's consultation home holds a consultation that the city joins "
                               "(through the county)", bold=True))
        town, city = self.node["620302001"], self.node["6203"]
        topic = self.add("620302001", "宁远堡镇集贸市场搬迁改造", ["620302001"], "public", "宁远堡村村民", "城乡建设",
                         "集贸市场占道经营,交通拥堵,村民希望搬迁改造。")
        self.do("620302001", "topics", "advance", topic, "--to", "determined", "--note", "列入协商民主之家议题")
        when = time.strftime("%Y-%m-%d", time.localtime(time.time() + 14 * 86400))
        create = ("activities", "create", "--form", "consultation_home", "--title", "集贸市场搬迁改造协商议事",
                  "--topic", topic, "--starts", f"{when} 15:00", "--ends", f"{when} 17:00", "--place", "宁远堡村村委会")
        self.refused("620302001", "consultation_home (连云港): a consultation is held by one of the node's homes",
                     "协商民主之家", *create, "--organiser", "宁远堡镇人民政府")
        uid = _run(town, *create, "--organiser", HOME).split()[0]
        self.refused("620302001", "consultation_home: public participants come from the listed groups "
                     "(村民, 居民, 退休人员, 党员代表, 信访人)", "public_groups",
                     "activities", "invite", uid, "--kind", "public", "--name", "马某")
        self.without("620302001", "consultation_home", "activities", "invite", uid, "--kind", "public", "--name", "马某")
        for name in ("村民代表马福林", "退休人员赵建华", "党员代表孙立新"):
            self.do("620302001", "activities", "invite", uid, "--kind", "public", "--name", name)
        self.do("620302001", "activities", "invite", uid, "--kind", "department", "--name", "宁远堡镇人民政府")
        self.refused("620302001", "only a level above may be invited to join, nothing sent", "Error:",
                     "activities", "invite-level", uid, "--to", "620302002")
        self.do("620302001", "activities", "invite-level", uid, "--to", "6203", "--note",
                "市场搬迁涉及市级规划,请市政协组织市自然资源局、市商务局参加")
        self.poll("the city sees the invitation, relayed by the county", lambda: _json(city, "activities", "joined"),
                  lambda rows: any(r["uid"] == uid and r["invitation"] for r in rows))
        self.do("6203", "activities", "join", uid, "--department", "金昌市自然资源局", "--department", "金昌市商务局",
                "--member", "市政协委员陈立", "--note", "市政协派员参加")
        self.poll("the city's participants appear on the township's activity (from node 6203)",
                  lambda: _json(town, "activities", "show", uid),
                  lambda d: len([i for i in d["invitations"] if i["node_id"] == "6203"]) == 3)
        self.do("6203", "activities", "send-opinions", uid, "--opinion", "金昌市商务局", "新市场纳入市级商贸网点规划,给予建设补助。",
                "--opinion", "市政协委员陈立", "搬迁过渡期设临时摊位,保障商户生计。")
        self.poll("the city's opinions are recorded at the township with their origin 6203",
                  lambda: _json(town, "activities", "show", uid),
                  lambda d: len([o for o in d["opinions"] if o["node_id"] == "6203"]) == 2)
        self.do("620302001", "activities", "attend", uid, "村民代表马福林", "退休人员赵建华", "党员代表孙立新",
                "宁远堡镇人民政府", "金昌市自然资源局", "金昌市商务局", "市政协委员陈立")
        self.do("620302001", "activities", "opinion", uid, "--speaker", "村民代表马福林", "--text", "新址要方便老人赶集。")
        self.do("620302001", "activities", "consensus", uid, "--text", "集贸市场迁至镇区北侧,市级补助,过渡期设临时摊位。")
        self.do("620302001", "activities", "minutes", uid, "--approved-by", HOME, "--text",
                "协商民主之家召开议事会,村民代表、镇政府及市自然资源局、市商务局参加,形成搬迁改造共识。")
        self.do("620302001", "activities", "close", uid)
        self.poll("the city sees the activity closed with its minutes", lambda: _json(city, "activities", "joined", uid),
                  lambda d: d["status"] == "closed" and bool(d["minutes"]))
        page = _page(town, "/practices/consultation-homes/")
        self.check(f"the township's page {town.url}/practices/consultation-homes/ lists the home", HOME in page)
        return uid

    def city_plan(self) -> int:
        click.echo(click.style("\n## 7. 选题-商题-定题, 1246+X, 三个一起: the city's plan under its three practices", bold=True))
        city = "6203"
        years = {p["year"] for p in _json(self.node[city], "plans", "list")}
        year = 2027
        while year in years:
            year += 1
        topics = [self.add(city, title, ["6203"], kind, name, category, text) for title, kind, name, category, text in (
            ("金昌市新能源产业链培育", "party_committee", "中共金昌市委", "经济", "延链补链,培育新能源产业集群。"),
            ("城市供热管网改造", "government", "金昌市人民政府", "城乡建设", "供热管网老化,冬季热损大。"),
            ("职业教育产教融合", "sector", "教育界", "教育", "职业院校与企业合作不深。"),
        )]
        self.do(city, "plans", "create", "--year", str(year))
        steps = [s["key"] for s in _json(self.node[city], "plans", "show", str(year))["approval"]["steps"]]
        self.check("选题-商题-定题 (莆田): the plan is approved by selection, a joint meeting and the party standing "
                   "committee", steps == ["selection", "joint_meeting", "standing_committee"], str(steps))
        self.do(city, "plugins", "disable", "topic_selection")
        default = [s["key"] for s in _json(self.node[city], "plans", "show", str(year))["approval"]["steps"]]
        self.do(city, "plugins", "enable", "topic_selection")
        self.check("topic_selection disabled, the default steps apply; enabled again",
                   default == ["chair_meeting", "standing_committee"], str(default))
        alone = ("plans", "add-item", str(year), "--topic", topics[0], "--form", "plenary", "--month", "3",
                 "--lead", "经济委员会", "--department", "市工信局")
        self.refused(city, "三个一起 (马鞍山): an item is planned together with the party committee and the government",
                     "三个一起", *alone)
        self.without(city, "three_together", *alone)
        for uid, form, month in ((topics[0], "plenary", "3"), (topics[1], "face_to_face", "6"),
                                 (topics[2], "standing_committee", "9")):
            self.do(city, "plans", "add-item", str(year), "--topic", uid, "--form", form, "--month", month,
                    "--lead", "市政协办公室", "--department", "中共金昌市委办公室", "--department", "金昌市发展改革委")
        self.do(city, "plans", "step", str(year), "--step", "selection", "--approver", "金昌市政协主席会议",
                "--decision", "approved", "--opinion", "初选议题3个")
        self.refused(city, "商题: the joint meeting names the party committee and the government", "joint meeting",
                     "plans", "step", str(year), "--step", "joint_meeting", "--approver", "金昌市政协", "--decision",
                     "approved", "--reference", "联席会议纪要1号")
        self.do(city, "plans", "step", str(year), "--step", "joint_meeting", "--approver", "市委、市政府、市政协联席会议",
                "--decision", "approved", "--reference", f"联席会议纪要〔{year}〕1号")
        self.do(city, "plans", "step", str(year), "--step", "standing_committee", "--approver", "中共金昌市委常委会",
                "--decision", "approved", "--reference", f"市委常委会会议纪要〔{year}〕5号")
        self.refused(city, "1246+X (湖州): a plan short of 1 plenary, 2 face-to-face, 4 standing committee sessions and "
                     "6 bi-monthly forums is not published", "short", "plans", "publish", str(year))
        self.without(city, "huzhou_1246", "plans", "publish", str(year))
        shown = _json(self.node[city], "plans", "show", str(year))
        short = [c["detail"] for c in shown["checks"] if c["blocks"] and not c["met"]]
        self.check("the plan shows what is short for 1246+X", len(short) == 3, "; ".join(short))
        page = _page(self.node[city], f"/plans/{year}")
        self.check(f"the plan page {self.node[city].url}/plans/{year} shows it too", "1246" in page and "short" in page)
        report = _json(self.node[city], "together", "report", "--year", str(year), echo=True)
        counted = {row["key"]: row["count"] for row in report["rows"]}
        self.check("三个一起: the year's topics made together are counted toward the annual target",
                   counted.get("topics") == 3, str(report["rows"]))
        return year

    # -- proposals (issue 12) --

    def proposal(self) -> str:
        click.echo(click.style("\n## 8. 提案: a member's proposal filed with its number, handled by two units, rated "
                               "unsatisfied, handled again, rated satisfied, published and closed", bold=True))
        county = self.node["620302"]
        proposer, proposer_name, proposer_no = PROPOSER
        as_proposer = ("--as", proposer)

        def show(number: str) -> dict:
            return _json(county, "proposals", "show", number)

        submitted = _json(county, "proposals", "submit", "--title", "关于加快农村公路养护的建议", "--reasons",
                          "部分农村公路建成后缺少日常养护,路面破损后修复不及时,群众出行不便。", "--suggestions",
                          "建立区、镇、村三级农村公路养护机制,养护资金列入区级预算。", "--category", "城乡建设",
                          "--term", "12", "--session", "1", *as_proposer, echo=True, quiet=True)
        self.check(f"{proposer_name} ({proposer_no}) submits as her own user {proposer}: submitted, no number yet",
                   submitted["status"] == "submitted" and submitted["number"] is None
                   and [(s["member_no"], s["role"]) for s in submitted["signers"]] == [(proposer_no, "lead")],
                   str(submitted))
        prefix = f"{submitted['year']}-{submitted['session']}-"
        taken = [int(p["number"][len(prefix):]) for p in _json(county, "proposals", "list")
                 if (p["number"] or "").startswith(prefix)]
        expected = f"{prefix}{max(taken, default=0) + 1:04d}"
        filed = _json(county, "proposals", "review", submitted["ref"], "--decision", "filed", echo=True, quiet=True)
        number = filed["number"] or ""
        click.echo(f"    filed (立案): {number}")
        self.check(f"the office files it (立案) as {expected}: year-session-serial, next after the node's earlier "
                   "filings", filed["status"] == "filed" and number == expected, f"got {number!r}")
        assigned = _json(county, "proposals", "assign", number, "--lead", LEAD_UNIT, "--co", PARTICIPATING_UNIT,
                         echo=True, quiet=True)
        self.check(f"assigned: {LEAD_UNIT} leads, {PARTICIPATING_UNIT} co-handles (会办), each with a deadline",
                   assigned["status"] == "assigned"
                   and [(a["unit"], a["role"]) for a in assigned["assignments"]]
                   == [(LEAD_UNIT, "lead"), (PARTICIPATING_UNIT, "co")]
                   and all(a["deadline_ms"] for a in assigned["assignments"]), str(assigned["assignments"]))
        self.do("620302", "proposals", "contact", number, "--phase", "before", "--kind", "visit", "--note",
                "办理前上门走访提案人,了解诉求", "--as", "jtj")
        self.do("620302", "proposals", "reply", number, "--classification", "solved_or_solving", "--text",
                "已会同财政局安排农村公路养护资金,正在制定养护办法。", "--as", "czj")
        self.do("620302", "proposals", "reply", number, "--classification", "planned", "--text",
                "农村公路养护机制列入明年工作计划。", "--as", "jtj")
        replied = show(number)
        self.check("both units reply in round 1, the contact before replying (面商) is recorded; the lead unit's "
                   "reply makes it replied",
                   replied["status"] == "replied" and replied["round"] == 1
                   and sorted(r["unit"] for r in replied["replies"]) == sorted([LEAD_UNIT, PARTICIPATING_UNIT])
                   and [(c["phase"], c["kind"]) for c in replied["contacts"]] == [("before", "visit")],
                   str(replied))
        levels = ("--contact", "--attitude", "--measures", "--pertinence", "--leader-attention", "--result")
        other = OTHER_MEMBER[0]
        self.refused("620302", f"only the proposer rates the handling: {other} ({OTHER_MEMBER[1]}) is refused",
                     "only the proposer", "proposals", "rate", number, *(a for o in levels for a in (o, "satisfied")),
                     "--overall", "satisfied", "--as", other)
        after = show(number)
        self.check("nothing stored: no rating, still replied in round 1",
                   not after["ratings"] and after["status"] == "replied" and after["round"] == 1, str(after["ratings"]))
        rated = _json(county, "proposals", "rate", number, "--contact", "satisfied", "--attitude", "satisfied",
                      "--measures", "unsatisfied", "--pertinence", "basically", "--leader-attention", "basically",
                      "--result", "unsatisfied", "--overall", "unsatisfied", "--comment", "只列入计划,没有具体措施和时限",
                      *as_proposer, echo=True, quiet=True)
        self.check("the proposer rates it unsatisfied on six dimensions and overall: round 2, back to the units "
                   "(重新办理)", rated["status"] == "assigned" and rated["round"] == 2
                   and [r["overall"] for r in rated["ratings"]] == ["unsatisfied"], str(rated))
        self.do("620302", "proposals", "contact", number, "--phase", "during", "--kind", "face_to_face", "--note",
                "与提案人面商养护措施和时限", "--as", "jtj")
        again = _json(county, "proposals", "reply", number, "--classification", "solved_or_solving", "--text",
                      "已出台农村公路养护办法,明确区镇村责任,养护资金320万元列入今年预算,6月底前完成首轮养护。",
                      "--as", "jtj", echo=True, quiet=True)
        self.check("the lead unit replies again in round 2: replied",
                   again["status"] == "replied" and again["round"] == 2
                   and [(r["unit"], r["round"]) for r in again["replies"] if r["round"] == 2] == [(LEAD_UNIT, 2)],
                   str(again["replies"]))
        rated = _json(county, "proposals", "rate", number, *(a for o in levels for a in (o, "satisfied")),
                      "--overall", "satisfied", *as_proposer, echo=True, quiet=True)
        self.check("the proposer rates round 2 satisfied: rated",
                   rated["status"] == "rated" and [r["overall"] for r in rated["ratings"]] == ["unsatisfied", "satisfied"],
                   str(rated["ratings"]))
        published = _json(county, "proposals", "publish", number, "--reply", echo=True, quiet=True)
        self.check("the office publishes it with its replies",
                   published["publication"] == {"proposal": True, "reply": True}, str(published["publication"]))
        public = {p["number"]: p for p in _json(county, "proposals", "public", echo=True, quiet=True)}
        listed = public.get(number)
        self.check(f"the public list (`proposals public`) holds {number} with its replies, the proposer's name "
                   "hidden (public_anonymous)", listed is not None and listed["proposers"] is None
                   and len(listed["replies"] or []) == 3, str(listed))
        page = _page(county, "/proposals/public")
        self.check(f"the public page {county.url}/proposals/public lists it, without {proposer_name}",
                   number in page and proposer_name not in page)
        closed = _json(county, "proposals", "close", number, "--note", "提案人满意,办结", echo=True, quiet=True)
        self.check("the office closes it (办结)", closed["status"] == "closed" and bool(closed["closed_ms"]),
                   str(closed["status"]))
        _run(county, "proposals", "show", number)
        return number

    def opinion(self) -> str:
        """社情民意信息 (issue 13): a county member's report written through her township's work station goes up
        level by level to the province; the province adopts it and its leader instructs on it; both come back
        down to the township, and count at the county for the member."""
        click.echo(click.style("\n## 9. 社情民意信息: a county member's report from the township work station, forwarded "
                               "township → county → city → province, adopted there with an instruction that comes "
                               "back down", bold=True))
        _, name, number = PROPOSER
        title = "关于乡村学校校车运力不足的情况反映"
        chain = ("620302001", "620302", "6203", "62")
        written = _json(self.node[chain[0]], "opinions", "write", "--title", title, "--sentiment",
                        "多名家长反映,镇中心小学上下学时段校车超载,部分学生步行往返。", "--analysis",
                        "撤点并校后学生集中,校车班次未相应增加。", "--suggestion", "增开早晚校车班次,校车运营补助列入区级预算。",
                        "--category", "教育", "--member-no", number, "--author-name", name, "--author-node", chain[1],
                        echo=True, quiet=True)
        ref = str(written["id"])
        self.check(f"the township work station writes {name}'s report ({number}, home committee {chain[1]})",
                   written["author"] == {"kind": "member", "name": name, "member_no": number, "node": chain[1]},
                   str(written["author"]))
        refs = {chain[0]: ref}
        for lower, upper in zip(chain, chain[1:]):
            if lower == "620302":
                self.do(lower, "opinions", "decide", refs[lower], "--decision", "used", "--text", "编入区政协社情民意专报")
            self.do(lower, "opinions", "decide", refs[lower], "--decision", "forwarded", "--text", "请上级政协审阅")
            received = self.opinion_arrives(upper, title, lower, refs[lower])
            refs[upper] = str(received["id"])
            self.check(f"{upper} receives it from {lower}, the author kept",
                       received["author"] == written["author"] and received["written"]["node"] == chain[0],
                       str(received["author"]))
        top = chain[-1]
        self.do(top, "opinions", "decide", refs[top], "--decision", "adopted", "--body", "甘肃省委办公厅")
        self.do(top, "opinions", "decide", refs[top], "--decision", "instruction", "--leader", "省委副书记",
                "--text", "请省教育厅会同交通运输厅研究解决乡村校车运力问题", "--date",
                _json(self.node[top], "opinions", "show", refs[top])["events"][-1]["date"])
        home = self.opinion_events(chain[0], ref, 6)
        self.check("back at the township: the county's use and every forward, the province's adoption and "
                   "instruction, each with the level that decided",
                   [(e["kind"], e["level"]) for e in home["events"]][-3:]
                   == [("forwarded", "city"), ("adopted", "province"), ("instruction", "province")]
                   and home["events"][-1]["leader"] == "省委副书记", str([e["kind"] for e in home["events"]]))
        stats = _json(self.node[chain[1]], "opinions", "statistics", echo=True)
        mine = [r for r in stats["by_member"] if r["member_no"] == number]
        self.check(f"counted at the county for {name}: adopted at the county and at the province, instructed",
                   bool(mine) and mine[0]["adopted_by_level"].get("province", 0) >= 1
                   and mine[0]["adopted_by_level"].get("county", 0) >= 1 and mine[0]["instructions"] >= 1, str(mine))
        _run(self.node[chain[0]], "opinions", "show", ref)
        self.duty_at_the_county(chain[1], number, name)
        return ref

    def duty_at_the_county(self, county: str, number: str, name: str) -> None:
        """委员履职档案 and 五个一 (issue 13): the member's record at her committee is built from what the county
        knows — the report and its adoptions at every level among it — and the five-ones assessment says who
        meets it and what each member still lacks."""
        click.echo(click.style(f"\n   {name}'s duty record at the county, and the five-ones assessment (开鲁 五个一)",
                               bold=True))
        record = _json(self.node[county], "duty", "record", number, echo=True, quiet=True)
        adopted = sorted({i["level"] for i in record["items"] if i["kind"] == "adoption"})
        self.check(f"{name}'s duty record at the county holds her social-opinion report and its adoption at the "
                   "province, not typed again",
                   any(i["kind"] == "social_opinion" for i in record["items"]) and "province" in adopted,
                   f"adoptions by level: {adopted}")
        _run(self.node[county], "duty", "assessment")
        table = _json(self.node[county], "duty", "assessment")
        rows = {r["member"]["member_no"]: r for r in table["members"]}
        mine = rows.get(number)
        self.check("five_ones on the county: each member's standing under its five rules, with what is missing",
                   len(table["rules"]) == 5 and all(r["source"] == "five_ones" for r in table["rules"])
                   and mine is not None and not any(m.startswith("1 more social-opinion") for m in mine["missing"])
                   and all(r["standing"] == "met" or r["missing"] for r in table["members"]),
                   str(mine and mine["missing"]))

    def opinion_arrives(self, node_id: str, title: str, sender: str, sender_ref: str) -> dict:
        """Poll ``opinions list`` on a node until the report ``sender`` forwarded arrives."""
        deadline = time.time() + WAIT_SECONDS
        while time.time() < deadline:
            for row in _json(self.node[node_id], "opinions", "list"):
                if row["title"] == title and row["origin"] == sender:
                    found = _json(self.node[node_id], "opinions", "show", str(row["id"]))
                    if found["origin"] == {"node": sender, "ref": sender_ref}:
                        return found
            time.sleep(0.5)
        raise StepFailed(f"the report forwarded by {sender} did not arrive at {node_id} within {WAIT_SECONDS:.0f} s")

    def opinion_events(self, node_id: str, ref: str, count: int) -> dict:
        """Poll ``opinions show`` until the report holds ``count`` decisions (those from above come down)."""
        deadline = time.time() + WAIT_SECONDS
        data: dict = {}
        while time.time() < deadline:
            data = _json(self.node[node_id], "opinions", "show", ref)
            if len(data["events"]) >= count:
                return data
            time.sleep(0.5)
        raise StepFailed(f"report {ref} at {node_id}: {len(data.get('events', []))} decisions, not {count}, "
                         f"within {WAIT_SECONDS:.0f} s")

    def the_year(self) -> None:
        year, topics = self.county_plan()
        self.quarterly_forum(year, topics[0])
        self.appraisal(year, topics[0])

    def appraisal(self, year: int, topic: str) -> int:
        """民主评议 (county ``000``): the consulted key topic reaches its result; the next year's appraisal takes it
        as its subject (democratic_appraisal proposes it, the office confirms), a group visits and rates, the
        report goes to the party committee and government, and the unit's rectification is assigned."""
        click.echo(click.style(f"\n## 6. 民主评议: {year}'s key topic reaches its result and becomes a subject of the "
                               f"{year + 1} appraisal", bold=True))
        county, unit = "620302", PARTICIPATING_UNIT
        for stage in ("implementing", "feedback"):
            self.do(county, "topics", "advance", topic, "--to", stage)
        self.do(county, "topics", "result", topic, "--title", "分批推进老旧小区改造", "--summary",
                "先管网后电梯,区财政安排改造资金。", "--measure", "年内完成三个小区管网改造", "--handling-unit", unit)
        candidates = _json(self.node[county], "appraisal", "candidates", str(year + 1), echo=True)
        self.check(f"last year's key topics ({year}'s published plan, with a result) are the candidates",
                   [c["topic"] for c in candidates] == [topic], str(candidates))
        made = _json(self.node[county], "appraisal", "create", "--year", str(year + 1), "--kind", "key_topics",
                     "--title", f"{year + 1}年度重点协商议题落实情况民主评议", echo=True, quiet=True)
        proposed = [s for s in made["subjects"] if s["topic"] == topic]
        self.check("democratic_appraisal (000): the key topic is proposed as the appraisal's subject, awaiting the "
                   "office", len(proposed) == 1 and proposed[0]["status"] == "proposed", str(made["subjects"]))
        aid, subject = str(made["id"]), str(proposed[0]["id"]) if proposed else "0"
        self.refused(county, "the report waits until every subject is confirmed and rated", "await the office",
                     "appraisal", "report", aid, "--body", "评议报告", "--to", "区委,区政府")
        self.do(county, "appraisal", "decide", aid, subject, "confirm")
        group = _json(self.node[county], "appraisal", "group", aid, "--name", "第一评议小组", "--leader", "JC001",
                      "--members", "JC002,JC003", "--subjects", subject, echo=True)
        self.do(county, "appraisal", "visit", aid, "--group", str(group["id"]), "--subject", subject, "--date",
                _today(), "--place", "金川区住建局、桂林路小区",
                "--findings", "管网改造已完成两个小区,电梯加装进度滞后。")
        for member, rating in (("JC001", "satisfied"), ("JC002", "basically_satisfied"), ("JC003", "unsatisfied")):
            self.do(county, "appraisal", "rate", aid, "--subject", subject, "--member", member, "--rating", rating)
        reported = _json(self.node[county], "appraisal", "report", aid, "--body", "评议认为老旧小区改造总体推进有力,"
                         "电梯加装滞后,建议加快。", "--to", "中共金川区委,金川区人民政府", echo=True)
        self.check("the report is recorded as sent to the party committee and government",
                   reported["status"] == "reported", str(reported.get("report")))
        rect = _json(self.node[county], "appraisal", "rectify", aid, "--subject", subject, "--unit", unit,
                     "--requirements", "加快电梯加装,按季度报送进展。", "--working-days", "30", echo=True)
        self.check(f"the rectification goes to {unit}, due in 30 working days",
                   rect["unit"] == unit and rect["state"] == "assigned", str(rect))
        page = _page(self.node[county], f"/appraisal/{aid}")
        self.check(f"the appraisal page {self.node[county].url}/appraisal/{aid} shows the subject and its ratings",
                   "城区老旧小区改造" in page and "第一评议小组" in page)
        return int(aid)

    def village_bundle(self) -> str:
        click.echo(click.style("\n## 11. 山区村没有网络: a village's topic goes to its township and its result comes back "
                               "in bundle files carried by hand", bold=True))
        village, township = "620302001201", "620302001"
        carried = self.node[village].dir.parent / "bundles"
        carried.mkdir(exist_ok=True)
        uid = self.add(village, "两村之间灌溉水渠维修", [village, "620302001202"], "public", "宁远堡村村民代表", "农业农村",
                       "两村共用的灌溉水渠渗漏严重,春灌前需要维修。")
        self.do(village, "topics", "escalate", uid, "--note", "涉及两村,提请镇政协委员工作站协调")
        waiting = [r for r in _json(self.node[village], "outbox", "list") if r["to"] == township]
        health = {r["id"]: r for r in _json(self.node[village], "peers", "health")}[township]
        self.check("the escalation waits in the village's outbox, never tried over the network",
                   any(r["topic"] == uid and r["status"] == "pending" for r in waiting) and health["failures"] == 0,
                   str(health))
        up = carried / f"{uid.replace(':', '_')}-up.bundle"
        self.do(village, "bundle", "export", "--to", township, str(up))
        report = _json(self.node[township], "bundle", "import", str(up), echo=True, quiet=True)
        click.echo(f"    {report['accepted']} accepted, {report['duplicate']} duplicate, {report['refused']} refused")
        self.check("the township imports the bundle: the escalation is accepted",
                   any(m["topic"] == uid and m["status"] == "accepted" for m in report["messages"]), str(report))
        self.refused(township, "the same bundle imported again is recognised, nothing applied twice", "bundle_replayed",
                     "bundle", "import", str(up))
        self.refused(village, "a bundle meant for another node is refused", "bundle_for_another_node",
                     "bundle", "import", str(up))
        self.do(township, "topics", "accept", uid)
        for stage in ("determined", "researching", "consulting", "implementing", "feedback"):
            self.do(township, "topics", "advance", uid, "--to", stage, "--note", "工作站组织两村协商")
        self.do(township, "topics", "result", uid, "--kind", "协商意见", "--title", "水渠维修春灌前完成",
                "--summary", "两村按受益面积分摊,镇政府补助材料费,春灌前完成维修。", "--handling-unit", "宁远堡镇人民政府")
        down = carried / f"{uid.replace(':', '_')}-down.bundle"
        self.do(township, "bundle", "export", "--to", village, str(down))
        answers = _json(self.node[village], "bundle", "import", str(down), echo=True, quiet=True)
        click.echo(f"    {answers['accepted']} accepted, {answers['duplicate']} duplicate, {answers['refused']} refused")
        mine = [m for m in answers["messages"] if m["topic"] == uid]
        self.check("the village imports the answers: acceptance, five stage changes and the result",
                   len(mine) == 7 and all(m["status"] == "accepted" for m in mine), str(mine))
        home = _json(self.node[village], "topics", "show", uid)
        self.check("the topic is closed in the village with the township's result",
                   home["stage"] == "closed" and (home["result"] or {}).get("title") == "水渠维修春灌前完成",
                   f"{home['stage']} {home['result']}")
        self.verified_route(village, uid)
        return uid

    def subtree(self) -> None:
        """一级看全辖 (issue 15, part 3): each node sends its summary to its parent, bottom-up, each level waiting for
        its children's to arrive — the village, with no network, in a bundle file to its township; the province's
        page and API then show the figures of the whole demo tree."""
        click.echo(click.style("\n## 12. 一级看全辖: each node sends its summary up; the province sees its whole tree",
                               bold=True))
        tree_nodes = dict(self.node)  # the five served nodes and the village
        served = {node_id: node for node_id, node in self.node.items() if node_id not in OFFLINE}
        own = {node_id: _json(tree_nodes[node_id], "summaries", "show")["nodes"][0] for node_id in tree_nodes}

        sent_ms: dict[str, int] = {}

        def arrived(parent: str, expected: set[str]) -> Callable[[], Any]:
            def read():  # each node's figures as it counted them when it sent (not re-dated on the way up)
                rows = {n["node"]: n for n in _get(served[parent], "/api/v1/summaries").json()["nodes"]}
                fresh = {n for n in expected if n in rows and rows[n]["as_of_ms"] >= sent_ms[n]}
                return rows if fresh == expected else None
            return read

        def parent_of(node_id: str) -> str | None:
            return max((p for p in tree_nodes if node_id.startswith(p) and p != node_id), key=len, default=None)

        below: dict[str, set[str]] = {node_id: set() for node_id in tree_nodes}
        for node_id in sorted(tree_nodes, key=len, reverse=True):  # the village, townships, the county, the city
            parent = parent_of(node_id)
            if parent is not None:
                below[parent] |= {node_id} | below[node_id]
        for village in sorted(set(tree_nodes) & OFFLINE):  # no network: its summary travels in a bundle file
            township = parent_of(village)
            carried = tree_nodes[village].dir.parent / "bundles"
            carried.mkdir(exist_ok=True)
            sent_ms[village] = int(time.time() * 1000) - 1000
            self.do(village, "summaries", "send")
            path = carried / f"{village}-summary.bundle"
            self.do(village, "bundle", "export", "--to", township, str(path))
            self.do(township, "bundle", "import", str(path))
        for level in (9, 6, 4):
            senders = [n for n in served if len(n) == level]
            for node_id in senders:
                sent_ms[node_id] = int(time.time() * 1000) - 1000
                self.do(node_id, "summaries", "send")
            for parent in {parent_of(n) for n in senders}:
                self.poll(f"{parent} holds the summaries of the {len(below[parent])} nodes under it",
                          arrived(parent, below[parent]), lambda rows: rows is not None)
        tree = _get(served["62"], "/api/v1/summaries").json()
        shown = {n["node"]: n for n in tree["nodes"]}
        self.check(f"the province's API shows all {len(tree_nodes)} nodes of the tree, the village's too, none stale",
                   set(shown) == set(tree_nodes) and not tree["stale"], f"{sorted(shown)}; stale {tree['stale']}")
        mismatched = [n for n in tree_nodes
                      if n in shown and shown[n]["figures"]["topics"] != own[n]["figures"]["topics"]]
        self.check("each node's topic figures at the province are the ones it counted itself", not mismatched,
                   str(mismatched))
        self.check("the province's totals are the sum of every node's topics",
                   tree["totals"]["topics"]["total"] == sum(own[n]["figures"]["topics"]["total"] for n in tree_nodes)
                   and tree["totals"]["topics"]["total"] > 0, str(tree["totals"].get("topics")))
        page = _page(served["62"], "/summaries")
        self.check(f"the page {served['62'].url}/summaries shows every node in the tree view",
                   all(f'data-node="{n}"' in page and tree_nodes[n].name in page for n in tree_nodes))
        _run(served["62"], "summaries", "show")

    def drainage(self) -> str:
        click.echo(click.style("\n## 10. 集中的问题: two townships raise the same drainage complaint in different words; the "
                               "county merges them into one matter and its result reaches both", bold=True))
        county, t1, t2 = "620302", "620302001", "620302002"
        a = self.add(t1, "东街村排水沟堵塞，雨天积水严重", [t1], "public", "东街村村民", "城乡建设",
                     "村里排水沟常年堵塞没人清理，每逢下雨路面积水，群众出行困难，希望尽快疏通排水沟。")
        b = self.add(t2, "雨天道路积水，排水沟淤堵无人疏通", [t2], "public", "西村村民", "城乡建设",
                     "西村主干道两侧的排水沟被淤泥堵死，一下雨道路积水严重，村民出行很不方便，请求清淤疏通。")
        self.do(t1, "topics", "escalate", a, "--note", "汛期将至,排水问题请区政协协调")
        self.do(t2, "topics", "escalate", b, "--note", "排水沟清淤需区里统筹,提请区政协协商")
        for uid in (a, b):
            self.wait(county, uid, f"the county received {uid}", lambda d: d["holder"] == county)
        rows = self.poll("the county is offered one matter grouping the two complaints",
                         lambda: _json(self.node[county], "similar", "list"),
                         lambda rows: any({a, b} <= {t["uid"] for t in r["topics"]} for r in rows))
        offered = next(r for r in rows if {a, b} <= {t["uid"] for t in r["topics"]})
        _run(self.node[county], "similar", "list")
        second = next(t for t in offered["topics"] if t["matched"])
        self.check("with the reasons: which topics, from which townships, how similar, the keywords they share",
                   {t["from"] for t in offered["topics"]} >= {t1, t2} and second["score"] >= 55
                   and "排水沟" in second["shared"], json.dumps(offered, ensure_ascii=False)[:300])
        merged = _json(self.node[county], "similar", "merge", str(offered["id"]), "--primary", a, "--topic", a,
                       "--topic", b, "--note",
                       "两镇反映的是同一排水问题,合并协商", echo=True)
        self.check("merged: one matter held by the county, the other linked into it",
                   merged["state"] == "merged" and merged["primary"] == a)
        self.wait(t2, b, "the second township hears that the county accepted its topic (受理)",
                  lambda d: d["holder"] == county and not d["awaiting_acceptance"])
        for stage, note in (("determined", "列入协商议题"), ("researching", "实地查看两镇排水沟"),
                            ("consulting", "召开排水问题专题协商会"), ("implementing", "交区住建局办理"),
                            ("feedback", "办理结果向两镇群众反馈")):
            self.do(county, "topics", "advance", a, "--to", stage, "--note", note)
        title = "两镇排水沟汛前清淤疏通"
        self.do(county, "topics", "result", a, "--kind", "协商意见", "--title", title,
                "--summary", "区住建局会同两镇政府汛前完成主干道两侧排水沟清淤疏通。",
                "--measure", "5月底前完成清淤", "--handling-unit", "金川区住房和城乡建设局")
        for node_id, uid in ((t1, a), (t2, b)):
            self.wait(node_id, uid, f"the merged matter's result reached {node_id}, which raised {uid}",
                      lambda d: d["stage"] == "closed" and (d["result"] or {}).get("title") == title)
        page = _page(self.node[county], f"/topics/{b}")
        self.check(f"the topic page {self.node[county].url}/topics/{b} shows the matter it was merged into",
                   'id="merged-matter"' in page and a in page)
        return a

    def play(self, only: tuple[str, ...] = ()) -> bool:
        """Play every story, in order (``only``: just those named, for development)."""
        for story in (getattr(self, name) for name in STORIES if not only or name in only):
            try:
                story()
            except StepFailed as exc:
                self.check(f"{story.__name__}", False, str(exc))
        failed = [c for c in self.checks if not c[1]]
        click.echo("")
        if failed:
            click.echo(click.style(f"{len(failed)} of {len(self.checks)} checks failed", fg="red", bold=True))
        else:
            click.echo(click.style(f"all {len(self.checks)} checks passed: every step verified", fg="green", bold=True))
        return not failed


def _interrupt(signum, frame) -> None:
    # The first Ctrl-C or ``kill`` stops the demo; any further one (a process group receives a signal once
    # per member, a person presses Ctrl-C twice) must not cut short the stopping of the nodes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def _all_serving(nodes: list[DemoNode]) -> bool:
    """Every served node's process still runs (the village, reached by bundle files only, has none)."""
    return all(n.process.poll() is None for n in nodes if n.process is not None)


def run_demo(base: Path, port: int, once: bool, only: tuple[str, ...] = ()) -> int:
    nodes = _nodes(base, port)
    base.mkdir(parents=True, exist_ok=True)
    # The servers run in sessions of their own: Ctrl-C (even where a shell started us ignoring it) and a
    # plain ``kill`` both end in _stop, so no node is left serving.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        _set_up(nodes)
        click.echo(click.style("\n## starting the nodes (logs in " + str(base) + "/*.log)", bold=True))
        _start(nodes, base)
    except StepFailed as exc:
        click.echo(f"the demo could not start: {exc}", err=True)
        _stop(nodes)
        return 1
    except KeyboardInterrupt:  # Ctrl-C or kill while starting: the servers run in their own sessions, stop them
        _stop(nodes)
        click.echo("stopped: every node is stopped", err=True)
        return 130
    except BaseException:
        _stop(nodes)
        raise
    try:
        ok = Scenario(nodes).play(only)
        click.echo("")
        for node in nodes:
            where = "(offline: bundle files only)" if node.id in OFFLINE else f"{node.url}/"
            click.echo(f"  {node.level:<16} {node.id:<12} {node.name:<12} {where}")
        click.echo(f"  sign in on any node: admin / {DEMO_PASSWORD}")
        if once:
            return 0 if ok else 1
        click.echo("\nserving until Ctrl-C")
        while _all_serving(nodes):
            time.sleep(1)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(nodes)
