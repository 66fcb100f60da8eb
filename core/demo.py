"""``shangliang demo``: a local federation of five nodes on the embedded defaults, and a scenario played on it.

The nodes — province 62, city 6203, county 620302, townships 620302001 and 620302002 — are each
made with ``shangliang init``, paired with ``keys show`` / ``peers add`` and run with ``serve`` (its
own process, database and worker), exactly as people at five committee offices would. The scenario
then uses the same ``topics`` commands staff would type, printing each one, and checks every step
against what the nodes report: where the topic is, at which stage, with what result, and whether
every hop of its route verifies. ``--once`` stops after the scenario and exits 0 only if every step
checked out.
"""

from __future__ import annotations

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

import click

DEMO_PASSWORD = "shangliang-demo"
DEMO_MEMBERS = (
    "name,sector,special_committee,township_group,member_no\n"
    "张建国,农业界,农业和农村委员会,宁远堡镇,JC001\n"
    "李秀兰,经济界,经济委员会,双湾镇,JC002\n"
    "王志强,教育界,教科卫体委员会,宁远堡镇,JC003\n"
    "赵敏,医药卫生界,教科卫体委员会,双湾镇,JC004\n"
)
WAIT_SECONDS = 60.0


@dataclass
class DemoNode:
    id: str
    name: str
    level: str
    dir: Path
    url: str
    process: subprocess.Popen | None = field(default=None, repr=False)


NODES = (  # id, name, level as the interface says it
    ("62", "甘肃省政协", "省级 province"),
    ("6203", "金昌市政协", "市级 city"),
    ("620302", "金川区政协", "县级 county"),
    ("620302001", "宁远堡镇政协委员工作站", "乡镇 township"),
    ("620302002", "双湾镇政协委员工作站", "乡镇 township"),
)


class StepFailed(Exception):
    """A step of the scenario did not happen as it should."""


def _shangliang_args(node: DemoNode | None, *args: str) -> list[str]:
    return [*(["--node", str(node.dir)] if node else []), *args]


def _run(node: DemoNode | None, *args: str, input: str | None = None, echo: bool = True,
         quiet: bool = False) -> str:
    """Run one ``shangliang`` command as a person would, print it, return its standard output."""
    argv = _shangliang_args(node, *args)
    if echo:
        click.echo(click.style("$ shangliang " + " ".join(shlex.quote(a) for a in argv), fg="cyan"))
    result = subprocess.run([sys.executable, "-m", "shangliang.core", *argv], input=input, text=True,
                            capture_output=True)
    if result.returncode != 0:
        raise StepFailed(f"shangliang {' '.join(argv)} failed: {(result.stderr or result.stdout).strip()}")
    if echo and not quiet:
        for line in result.stdout.rstrip().splitlines():
            click.echo(f"    {line}")
    return result.stdout


def _json(node: DemoNode, *args: str, echo: bool = False) -> Any:
    return json.loads(_run(node, *args, "--json", echo=echo))


def _refused(node: DemoNode, *args: str) -> str:
    """Run a command that must be refused; print it and the error; return the error (exit status 2)."""
    argv = _shangliang_args(node, *args)
    click.echo(click.style("$ shangliang " + " ".join(shlex.quote(a) for a in argv), fg="cyan"))
    result = subprocess.run([sys.executable, "-m", "shangliang.core", *argv], text=True, capture_output=True)
    error = (result.stderr or result.stdout).strip()
    click.echo(click.style(f"    {error}", fg="yellow"))
    if result.returncode != 2:
        raise StepFailed(f"shangliang {' '.join(argv)} should have been refused (exit 2), exited {result.returncode}")
    return error


def _page(node: DemoNode, path: str) -> str:
    """A page as the office sees it: sign in as the demo admin through the form, then GET ``path``."""
    import re

    import requests

    with requests.Session() as browser:
        form = browser.get(node.url + "/login", timeout=10).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', form)
        signed_in = browser.post(node.url + "/login", timeout=10, data={
            "csrf_token": token.group(1) if token else "", "username": "admin", "password": DEMO_PASSWORD})
        if signed_in.status_code >= 400:
            raise StepFailed(f"signing in on {node.id} answered {signed_in.status_code}")
        answer = browser.get(node.url + path, timeout=10)
        if answer.status_code != 200:
            raise StepFailed(f"{node.url}{path} answered {answer.status_code}")
        return answer.text


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
    if not made:
        click.echo(f"reusing the demo nodes in {nodes[0].dir.parent} (remove it to start afresh)")
        return
    click.echo(click.style("\n## pairing neighbours: each reads the other's `keys show` line", bold=True))
    lines = {n.id: _run(n, "keys", "show", echo=False).split() for n in nodes}
    from . import divisions

    for node in nodes:
        for other in nodes:
            related = divisions.parent_of(node.id) == other.id or divisions.parent_of(other.id) == node.id
            if related and (node in made or other in made):
                known = {p["id"] for p in json.loads(_run(node, "peers", "list", "--json", echo=False))}
                if other.id not in known:
                    _run(node, "peers", "add", *lines[other.id])


def _start(nodes: list[DemoNode], log_dir: Path) -> None:
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
    click.echo("all five nodes are up, each with its worker")


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
        """Poll ``topics show`` on a node until ``condition`` holds (the workers deliver meanwhile)."""
        deadline = time.time() + WAIT_SECONDS
        data: dict = {}
        while time.time() < deadline:
            try:
                data = _json(self.node[node_id], "topics", "show", uid)
            except StepFailed:
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
                            ("consulting", "召开专题协商会,两镇群众代表参加"), ("implementing", "区政府交通部门办理"),
                            ("feedback", "办理结果向群众反馈")):
            self.do("620302", "topics", "advance", uid, "--to", stage, "--note", note)
        self.wait("620302001", uid, "each stage change reached the township", lambda d: d["stage"] == "feedback")
        self.do("620302", "topics", "result", uid, "--kind", "协商意见", "--title", "连接道路维修列入2027年区级计划",
                "--summary", "区政府同意将两镇连接道路维修列入2027年计划,先行修补坑洼路段。",
                "--measure", "2027年3月底前完成勘测设计", "--measure", "汛期前完成主要路段修复",
                "--handling-unit", "金川区交通运输局", "--handling-unit", "宁远堡镇人民政府",
                "--handling-unit", "双湾镇人民政府")
        home = self.wait("620302001", uid, "the county's result came home to the township that raised it",
                         lambda d: d["stage"] == "closed" and bool(d["result"]))
        self.check("the result is the county's, with its measures and handling units",
                   home["result"]["title"] == "连接道路维修列入2027年区级计划" and len(home["result"]["handling_units"]) == 3)
        self.verified_route("620302001", uid)
        self.verified_route("620302", uid)
        _run(self.node["620302001"], "topics", "show", uid)
        return uid

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

    def the_year(self) -> None:
        year, topics = self.county_plan()
        self.quarterly_forum(year, topics[0])

    def play(self) -> bool:
        for story in (self.road_repair, self.delegation, self.returned, self.the_year):
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


def run_demo(base: Path, port: int, once: bool) -> int:
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
        ok = Scenario(nodes).play()
        click.echo("")
        for node in nodes:
            click.echo(f"  {node.level:<16} {node.id:<10} {node.name:<12} {node.url}/")
        click.echo(f"  sign in on any node: admin / {DEMO_PASSWORD}")
        if once:
            return 0 if ok else 1
        click.echo("\nserving until Ctrl-C")
        while all(n.process.poll() is None for n in nodes):
            time.sleep(1)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(nodes)
