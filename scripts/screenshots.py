"""Screenshots for the README (docs/screenshots/): the demo federation in a real browser.

Usage: .venv/bin/python scripts/screenshots.py [--port 5200] [--out docs/screenshots] [--dir DIR]

Starts ``shangliang demo`` (five nodes on ports PORT…PORT+4, the scenario played on them), signs in on
the county and the city as ``admin`` / ``shangliang-demo`` with Debian's Chromium (Selenium; see
docs/browser-tests.md) and saves, at desktop width (1280 px), in Chinese:

- ``workbench.png``: the county's workbench, with a topic a township has just escalated waiting for acceptance;
- ``topic-route.png``: on the city, the topic it delegated through the county to a township (the demo's
  second story): the topic's head and its route picture (the sections between are hidden);
- ``statistics.png``: the county's topic statistics with their charts (/topics/statistics).

Each PNG is reduced to a palette of 256 colours when Pillow is installed (``pip install pillow``), which
keeps it small. The demo is stopped (Ctrl-C, as a person would) when done.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from base64 import b64encode
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "shangliang-demo"
CHROMIUM = os.environ.get("SHANGLIANG_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SHANGLIANG_CHROMEDRIVER", "/usr/bin/chromedriver")
WIDTH = 1280
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
         "--hide-scrollbars", "--lang=zh-CN", "--force-device-scale-factor=1")
DELEGATED = "双湾镇农村人居环境整治"  # the city's topic delegated through the county to a township (the demo's story 2)


def start_demo(base: Path, port: int) -> subprocess.Popen:
    """``shangliang demo`` serving until stopped; returns once the scenario has been played."""
    log = open(base / "demo.out", "w+", encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "shangliang.core", "demo", "--dir", str(base / "nodes"),
                                "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                               cwd=ROOT)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        text = (base / "demo.out").read_text(encoding="utf-8", errors="replace")
        if "serving until Ctrl-C" in text:
            return process
        if process.poll() is not None:
            raise SystemExit(f"the demo stopped before serving:\n{text[-3000:]}")
        time.sleep(1)
    stop_demo(process)
    raise SystemExit("the demo did not finish its scenario in 10 minutes")


def stop_demo(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # the demo stops its nodes itself
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def api(url: str, path: str, body: dict | None = None):
    """GET (or, with ``body``, POST) ``/api/v1/path`` on ``url`` as the demo's admin."""
    token = b64encode(f"admin:{PASSWORD}".encode()).decode()
    headers = {"Authorization": f"Basic {token}"}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    request = urllib.request.Request(url + "/api/v1" + path, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def something_waiting(township: str, county: str) -> None:
    """A matter the township escalates to the county, so that the county's workbench has a topic to accept."""
    raised = api(township, "/topics", {"title": "宁远堡镇中心小学周边交通安全整治", "category": "教育",
                                       "areas": ["620302001", "620302002"], "raised_by_kind": "member",
                                       "raised_by_name": "张建国（JC001）",
                                       "description": "上下学时段车辆拥堵，学生过马路存在安全隐患。"})
    uid = raised["topic"]["uid"]
    api(township, f"/topics/{uid}/actions", {"action": "escalate", "note": "涉及两镇，提请区政协协调"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if api(county, f"/topics/{uid}")["holder"] == "620302":
                return
        except urllib.error.HTTPError:
            pass
        time.sleep(1)
    raise SystemExit("the county did not receive the escalated topic within a minute")


def only_route(driver) -> None:
    """Keep the topic's head (title, stages) and its route on the page; hide the sections between."""
    driver.execute_script("""
        const cards = [...document.querySelectorAll('main section.card')];
        for (const card of cards.slice(1)) if (card.id !== 'route') card.style.display = 'none';""")


def browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={WIDTH},900")
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def sign_in(driver, url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(url + "/lang/zh_CN")
    driver.get(url + "/login")
    driver.find_element(By.ID, "username").send_keys("admin")
    driver.find_element(By.ID, "password").send_keys(PASSWORD, Keys.ENTER)
    time.sleep(0.5)
    if "/login" in driver.current_url:
        raise SystemExit(f"could not sign in on {url}")


def shoot(driver, url: str, path: Path, height: int | None = None, settle: float = 0.5, prepare=None,
          until: str | None = None) -> None:
    """The page at ``url``, as tall as its content (or ``height`` px, or down to the end of the element
    ``until``), saved to ``path`` and made small."""
    driver.set_window_size(WIDTH, 900)
    driver.get(url)
    time.sleep(settle)  # charts draw after the page has loaded
    if prepare is not None:
        prepare(driver)
    full = driver.execute_script("return document.documentElement.scrollHeight")
    if until is not None:  # measured at the full height: charts may lay out again when the window changes
        driver.set_window_size(WIDTH, min(full, 4000))
        time.sleep(settle)
        height = int(driver.execute_script("const r = document.querySelector(arguments[0]).getBoundingClientRect();"
                                           "return r.bottom + window.scrollY + 24", until))
    chrome = driver.execute_script("return window.outerHeight - window.innerHeight")  # the window's own frame
    driver.set_window_size(WIDTH, min(height or full, full, 4000) + chrome)
    time.sleep(0.3)
    driver.save_screenshot(str(path))
    shrink(path)
    print(f"{path} ({path.stat().st_size // 1024} KiB) ← {url}")


def shrink(path: Path) -> None:
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5200)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--dir", type=Path, default=None, help="where the demo's nodes go (default: a temporary one)")
    args = parser.parse_args(argv)
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            raise SystemExit(f"{path} is absent: apt-get install -y chromium chromium-driver fonts-wqy-zenhei")
    args.out.mkdir(parents=True, exist_ok=True)
    base = args.dir or Path(tempfile.mkdtemp(prefix="shangliang-screenshots-"))
    base.mkdir(parents=True, exist_ok=True)
    # the demo's nodes, one port each: province, city, county, two townships
    city, county, township = (f"http://127.0.0.1:{args.port + i}" for i in (1, 2, 3))
    demo = start_demo(base, args.port)
    driver = None
    try:
        driver = browser(base / "profile")
        something_waiting(township, county)
        sign_in(driver, county)
        shoot(driver, county + "/", args.out / "workbench.png", height=1000)
        shoot(driver, county + "/topics/statistics", args.out / "statistics.png", settle=1.5,
              until="main section.card:nth-of-type(2)")  # the head and the topics' charts
        topics = api(city, "/topics")["topics"]
        delegated = next(t for t in topics if t["uid"].startswith("6203:") and t["title"] == DELEGATED)
        sign_in(driver, city)
        shoot(driver, f"{city}/topics/{delegated['uid']}", args.out / "topic-route.png", prepare=only_route)
    finally:
        if driver is not None:
            driver.quit()
        stop_demo(demo)
    return 0


if __name__ == "__main__":
    sys.exit(main())
