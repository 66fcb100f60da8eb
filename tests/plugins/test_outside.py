"""A plugin from outside the repository: ``examples/talk_relay``, its own distribution, installed with pip — from its
folder into one environment, as a wheel into another (tests/plugins/venvs.py: never the suite's own) — and found
through the ``shangliang.plugins`` entry point. Three real nodes run from those environments: the township and
the county enable it, the city has it installed and does not. A talk (``x-talk_relay.talk``) travels from the
township to the county and is kept there; the county's talk to the city is refused with ``unknown_kind``."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ..nodes import Federation, NodeFactory, wait_for

from .venvs import OFFLINE, layered_venv, pip, pip_install, run

# What this module tests — a distribution outside the repository, its wheel, its entry point, its kind refused
# where it is not installed — is the same whatever the database; the plugin's tables on PostgreSQL are
# tests/plugins/test_plugin_tables.py's. It is one of the PostgreSQL run's longest modules (about a minute of
# venvs and three nodes), the run that sets CI's time.
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("SHANGLIANG_TEST_DATABASE_URL") or os.environ.get("SHANGLIANG_TEST_BROKER_URL")),
    reason="a plugin packaged outside the repository, the same on any database: tested in the embedded run")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "talk_relay"
CITY, COUNTY, TOWNSHIP = "6203", "620302", "620302001"
DOCS = ROOT / "docs" / "plugins.md"
SECTION = "### A plugin from outside: `examples/talk_relay`"


def documented_commands() -> dict[str, list[str]]:
    """The ``sh`` block of docs/plugins.md's section on the example, by what each line does (``pip install``,
    ``plugins enable``, ``talk-relay send``, ``talk-relay received``): the test runs these lines, so they stay true."""
    text = DOCS.read_text(encoding="utf-8").split(SECTION, 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", text, flags=re.DOTALL).group(1)
    found = {}
    for line in block.splitlines():
        words = shlex.split(line, comments=True)
        if words[:2] == ["pip", "install"]:
            found["install"] = words
        elif words[:2] == ["shangliang", "--node"]:
            assert words[2] == "DIR", line
            found[" ".join(words[3:5])] = words[3:]
    assert set(found) == {"install", "plugins enable", "talk-relay send", "talk-relay received"}, found
    return found


def kinds_received(node) -> list[str]:
    """The kinds in ``inbox list``, run by the node's own interpreter (the plugin is not installed in this one)."""
    result = node.cli("inbox", "list", "--json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line)["kind"] for line in result.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``{"folder": python, "wheel": python}``: an environment with the example installed from (a copy of) its
    folder, and one with the wheel built from it once; and the wheel's path."""
    base = tmp_path_factory.mktemp("outside")
    source = base / "talk_relay"  # a copy: building writes build/ and *.egg-info beside the sources
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    pip("wheel", *OFFLINE, "-w", str(base / "dist"), str(source))
    (wheel,) = (base / "dist").glob("shangliang_talk_relay-*.whl")
    from_folder, from_wheel = layered_venv(base / "venv-folder"), layered_venv(base / "venv-wheel")
    pip_install(from_folder, str(source))
    pip_install(from_wheel, str(wheel))
    return {"folder": from_folder, "wheel": from_wheel, "wheel_path": wheel, "source": source}


def test_the_documented_install_is_the_one_this_module_does():
    # pip install ./examples/talk_relay from the repository's root; the fixture installs a copy of that folder
    assert documented_commands()["install"] == ["pip", "install", "./examples/talk_relay"]
    assert (ROOT / documented_commands()["install"][2] / "pyproject.toml").is_file()


def test_the_example_is_not_part_of_the_shangliang_package():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = pyproject["tool"]["setuptools"]
    assert not [p for p in setuptools["packages"] if "talk_relay" in p or p.startswith("shangliang.examples")]
    assert "talk_relay" not in pyproject["project"]["entry-points"]["shangliang.plugins"]
    assert pyproject["tool"]["pytest"]["ini_options"]["testpaths"] == ["tests"]  # examples/ is not collected
    assert run(Path(sys.executable), "-c", "import shangliang_talk_relay").returncode != 0


def test_the_wheel_holds_the_package_and_the_entry_point(installed):
    import zipfile

    with zipfile.ZipFile(installed["wheel_path"]) as wheel:
        names = wheel.namelist()
        entry_points = wheel.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert {"shangliang_talk_relay/__init__.py", "shangliang_talk_relay/services.py", "shangliang_talk_relay/hooks.py",
            "shangliang_talk_relay/cli.py", "shangliang_talk_relay/README.md"} <= set(names)
    assert "[shangliang.plugins]\ntalk_relay = shangliang_talk_relay" in entry_points


def test_the_examples_own_tests_pass_on_the_installed_wheel(installed):
    # run from a folder holding only its tests: the package imported is the installed one, not the sources
    tests = installed["source"].parent / "own-tests"
    shutil.copytree(installed["source"] / "tests", tests / "tests")
    result = run(installed["wheel"], "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", cwd=tests)
    assert result.returncode == 0 and re.search(r"\b7 passed\b", result.stdout), result.stdout + result.stderr


@pytest.mark.slow
def test_a_talk_travels_to_a_neighbour_that_has_the_plugin_and_is_refused_by_one_that_has_not(
        installed, tmp_path_factory):
    documented = documented_commands()
    factory = NodeFactory(tmp_path_factory.mktemp("nodes"))
    try:
        with Federation(factory) as federation:
            nodes = federation(CITY, COUNTY, TOWNSHIP, in_process=True)
            city, county, township = nodes[CITY], nodes[COUNTY], nodes[TOWNSHIP]
            city.python = county.python = installed["folder"]   # installed from the folder
            township.python = installed["wheel"]                # installed from the wheel

            def enable(node):
                result = node.cli(*documented["plugins enable"])  # plugins enable talk_relay
                assert result.returncode == 0, result.stderr
                return result

            with ThreadPoolExecutor(2) as pool:
                list(pool.map(enable, [county, township]))
            listed = {p["name"]: p for p in json.loads(city.cli("plugins", "list", "--json").stdout)}
            assert listed["talk_relay"]["enabled"] is False and listed["talk_relay"]["level"] == "township"
            assert "federation_kinds" in listed["talk_relay"]["hooks"]
            with ThreadPoolExecutor(3) as pool:
                # the city only answers (its inbox is the web process): no worker for it
                list(pool.map(lambda node: node.start(with_worker=node is not city), nodes.values()))

            # township → county: both enable it; the talk is accepted and kept (a notification for the office)
            send = documented["talk-relay send"]
            assert send[send.index("--to") + 1] == COUNTY
            sent = township.cli(*send, "--point", "农村医保报销慢")  # and a second point
            assert sent.returncode == 0, sent.stderr
            assert "x-talk_relay.talk" in sent.stdout

            def kept():
                result = county.cli(*documented["talk-relay received"], "--json")
                assert result.returncode == 0, result.stderr
                return json.loads(result.stdout)

            (talk,) = wait_for(kept, what="the county keeping the township's talk")
            assert talk == {"subject": f"民情恳谈 from {TOWNSHIP}: 双山村民情恳谈会 (2026-12-01)",
                            "body": "- 村道路灯不亮\n- 农村医保报销慢", "role": "office"}
            assert kinds_received(county).count("x-talk_relay.talk") == 1

            # county → city: the city has it installed, not enabled; it refuses the kind (422 unknown_kind) and
            # the county's outbox dead-letters the message with that answer
            sent = county.cli("talk-relay", "send", "--to", CITY, "--title", "金川区民情恳谈汇总",
                              "--held-on", "2026-12-02", "--point", "村道路灯不亮")
            assert sent.returncode == 0, sent.stderr

            def refused():
                rows = json.loads(county.cli("outbox", "list", "--json").stdout)
                return [m for m in rows if m["to"] == CITY and m["kind"] == "x-talk_relay.talk"
                        and m["status"] != "pending"]

            (message,) = wait_for(refused, what="the city answering the county's talk")
            assert (message["status"], message["last_status"]) == ("dead", 422), message
            assert message["last_error"].startswith("unknown_kind:"), message
            # (the city does not enable it: its commands run in this process too, where it is not installed)
            assert "x-talk_relay.talk" not in {t["kind"] for t in city.inbox()}
    finally:
        factory.close()
