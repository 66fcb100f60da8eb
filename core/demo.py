"""``shangliang demo``: a local node on the embedded defaults, set up with the same commands a person would use.

Until topics travel between nodes, the demo is one county node (金川区政协, 620302) with an
administrator and a few members; ``--once`` starts it, checks its health and its worker, and stops.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import click

DEMO_MEMBERS = (
    "name,sector,special_committee,township_group,member_no\n"
    "张建国,农业界,农业和农村委员会,宁远堡镇,JC001\n"
    "李秀兰,经济界,经济委员会,双湾镇,JC002\n"
    "王志强,教育界,教科卫体委员会,宁远堡镇,JC003\n"
    "赵敏,医药卫生界,教科卫体委员会,双湾镇,JC004\n"
)
DEMO_PASSWORD = "shangliang-demo"


def _shangliang(*args: str, input: str | None = None) -> None:
    result = subprocess.run([sys.executable, "-m", "shangliang.core", *args], input=input, text=True,
                            capture_output=True)
    if result.returncode != 0:
        raise click.ClickException(f"shangliang {' '.join(args)} failed: {(result.stderr or result.stdout).strip()}")
    for line in result.stdout.strip().splitlines():
        click.echo(f"    {line}")


def _health(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read() or b"{}")
    except (OSError, ValueError):
        return None


def run_demo(base: Path, port: int, once: bool) -> int:
    node_dir = base / "620302"
    url = f"http://127.0.0.1:{port}"
    if not (node_dir / "node.toml").exists():
        click.echo(f"$ shangliang init {node_dir} --id 620302 --name 金川区政协 --url {url}")
        _shangliang("init", str(node_dir), "--id", "620302", "--name", "金川区政协", "--url", url)
        click.echo("$ shangliang users add admin --role admin --password-stdin")
        _shangliang("--node", str(node_dir), "users", "add", "admin", "--role", "admin", "--name", "办公室管理员",
                    "--password-stdin", input=DEMO_PASSWORD + "\n")
        members_csv = node_dir / "demo-members.csv"
        members_csv.write_text(DEMO_MEMBERS, encoding="utf-8")
        click.echo(f"$ shangliang members import {members_csv}")
        _shangliang("--node", str(node_dir), "members", "import", str(members_csv))
    else:
        click.echo(f"reusing the demo node in {node_dir} (remove {base} to start afresh)")

    click.echo(f"$ shangliang --node {node_dir} serve --port {port}")
    server = subprocess.Popen([sys.executable, "-m", "shangliang.core", "--node", str(node_dir), "serve",
                               "--port", str(port), "--workers", "2"],
                              stdout=subprocess.DEVNULL if once else None, stderr=subprocess.STDOUT if once else None)
    try:
        deadline = time.time() + 60
        health = None
        while time.time() < deadline and server.poll() is None:
            health = _health(url)
            if health and health.get("status") == "ok" and (not once or health["worker"]["last_heartbeat_ms"]):
                break
            time.sleep(0.3)
        if not health or health.get("status") != "ok":
            click.echo(f"the node did not become healthy: {health}", err=True)
            return 1
        click.echo("")
        click.echo(f"  县级 county node 620302 金川区政协  {url}/")
        click.echo(f"  health: {url}/healthz   sign in: admin / {DEMO_PASSWORD}")
        if once:
            click.echo(f"  worker heartbeat seen {health['worker']['age_seconds']} s ago; database and broker ok")
            return 0
        click.echo("\nserving until Ctrl-C")
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
