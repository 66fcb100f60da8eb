"""Browser tests: Debian's Chromium driven by Selenium against a live node (a real ``shangliang serve`` process
on loopback), one node and one browser per module (CI time). Skipped, saying why, where Selenium, chromium or
chromedriver is missing (install: ``apt-get install -y chromium chromium-driver fonts-wqy-zenhei``).

Screenshots are test artefacts: ``<pytest basetemp>/screenshots-*/<name>.png``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from ..nodes import Node, NodeFactory, make_federation, stop_all

CHROMIUM = os.environ.get("SHANGLIANG_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SHANGLIANG_CHROMEDRIVER", "/usr/bin/chromedriver")
PASSWORD = "correct-horse-battery"
DESKTOP, PHONE = (1280, 900), (375, 812)
COUNTY, TOWNSHIP = "620302", "620302001"
UNIT = "区交通运输局"
#: user name → (role, display name, extra `users add` options)
USERS = {
    "admin": ("admin", "管理员", []),
    "wang": ("office", "王主任", []),
    "zhao": ("member", "赵委员", ["--member", "J007"]),
    "jt": ("handling_unit", "交通局联络员", []),
    "cun": ("public", "村民张三", []),
}
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars", "--lang=zh-CN")


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return f"{path} is absent: apt-get install -y {package} (see README, Testing)"
    return None


def start_browser(profile: Path, size: tuple[int, int] = DESKTOP):
    """A headless Chromium with a fresh profile in ``profile``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={size[0]},{size[1]}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


@dataclass
class Live:
    """The live county node, its paired (never started) township, and the users seeded on the county."""

    county: Node
    township: Node
    shots: Path
    seeded: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.county.url

    def api(self, method: str, path: str, user: str = "wang", **kwargs) -> requests.Response:
        answer = requests.request(method, self.url + "/api/v1" + path, auth=(user, PASSWORD), timeout=20, **kwargs)
        assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text[:500]}"
        return answer


def seed_users(node: Node) -> None:
    """The county's members, handling unit and users of every role, added with the real commands."""
    node.run("members", "add", "--name", "赵委员", "--sector", "农业界", "--member-no", "J007")
    for username, (role, display, extra) in USERS.items():
        node.run("users", "add", username, "--role", role, "--name", display, "--password-stdin", *extra,
                 input=PASSWORD + "\n")
    node.run("units", "add", "--name", UNIT, "--kind", "government", "--contacts", "jt")


def escalate_from_township(live: Live, title: str) -> str:
    """A topic the township escalates to the county: written and signed with the township's key, as the
    township would, and posted to the county's federation inbox. Returns its uid."""
    from shangliang.federation import canonical, envelope, hops
    from shangliang.federation.ids import now_ms, ulid

    key = live.township.key()
    topic = {"uid": f"{TOWNSHIP}:{ulid()}", "title": title, "description": "两镇交界处道路损坏，群众出行不便",
             "category": "交通", "areas": [TOWNSHIP, "620302002"], "raised_by": {"kind": "public", "name": "村民代表"},
             "raised_ms": now_ms() - 3600_000, "stage": "collected"}
    env = envelope.create(key, TOWNSHIP, "topic.escalate", {"topic": topic, "reason": "跨乡镇事项，提请区政协协调"},
                          topic=topic["uid"])
    env = hops.append(env, key, TOWNSHIP, COUNTY, "escalate", note="请区政协协调")
    answer = live.county.post("/federation/v1/inbox", canonical.dumps(env))
    assert answer.status_code in (200, 201, 202), answer.text
    return topic["uid"]


def assigned_topic(live: Live, title: str) -> str:
    """A topic raised on the county and taken to implementing, its lead unit 区交通运输局 (jt's)."""
    raised = live.api("POST", "/topics", json={"title": title, "category": "交通", "areas": [COUNTY],
                                               "raised_by_kind": "government", "raised_by_name": "区政府"})
    uid = raised.json()["topic"]["uid"]
    for stage in ("determined", "researching", "consulting", "implementing"):
        live.api("POST", f"/topics/{uid}/actions", json={"action": "advance", "to_stage": stage})
    live.api("POST", f"/topics/{uid}/implementation/assignments",
             json={"assignments": [{"unit": UNIT, "role": "lead", "working_days": 20}]})
    return uid


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Live:
    reason = missing()
    if reason:
        pytest.skip(f"browser tests skipped: {reason}")
    factory = NodeFactory(tmp_path_factory.mktemp("browser-nodes"))
    nodes = make_federation(factory, [COUNTY, TOWNSHIP], in_process=True)
    county = nodes[COUNTY]
    seed_users(county)
    county.start(with_worker=False)
    made = Live(county, nodes[TOWNSHIP], tmp_path_factory.mktemp("screenshots"))
    try:
        yield made
    finally:
        stop_all([county], timeout=0.5)
        factory.close()


@pytest.fixture(scope="module")
def browser(live, tmp_path_factory):
    from .pages import Browser

    driver = start_browser(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield Browser(driver, live.url, live.shots)
    finally:
        driver.quit()
