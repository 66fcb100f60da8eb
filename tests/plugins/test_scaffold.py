"""``shangliang plugins new``: a plugin distribution that passes its own test, installs with ``pip install -e`` into
an environment of its own (tests/plugins/venvs.py: never the suite's), shows in ``plugins list``, is enabled by
``plugins enable`` and runs on a node started from that environment. The end-to-end test runs the commands of
docs/plugins.md, "Writing a plugin, step by step", as they are written there."""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import tomlkit
from click.testing import CliRunner

from shangliang.core import scaffold
from shangliang.core.cli import cli
from ..nodes import Node, free_port

from .venvs import OFFLINE, PIP, layered_venv, run

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "plugins.md"
SECTION = "## Writing a plugin, step by step"


def documented_commands() -> list[list[str]]:
    """The lines of the first ``sh`` block of the section, each split as a shell would (comments dropped)."""
    text = DOCS.read_text(encoding="utf-8").split(SECTION, 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", text, flags=re.S).group(1)
    return [words for line in block.splitlines() if (words := shlex.split(line, comments=True))]


# -- bad input: a named error, nothing written -----------------------------------------------------------------


@pytest.mark.parametrize("name, level, error", [
    ("Village", "township", "BadPluginName"), ("village-greeting", "township", "BadPluginName"),
    ("1village", "township", "BadPluginName"), ("class", "township", "BadPluginName"),
    ("v" * 33, "township", "BadPluginName"), ("greeting_", "township", "BadPluginName"),
    ("village_greeting", "village", "UnknownLevel"), ("village_greeting", "", "UnknownLevel"),
    ("topics", "county", "NameTaken"), ("work_station", "township", "NameTaken"),  # built-in, installed
])
def test_a_bad_name_or_level_is_refused_and_nothing_is_written(tmp_path, name, level, error):
    with pytest.raises(getattr(scaffold, error)):
        scaffold.new_plugin(name, level, tmp_path)
    assert list(tmp_path.iterdir()) == []
    result = CliRunner().invoke(cli, ["plugins", "new", name, "--level", level, "--dir", str(tmp_path)])
    assert result.exit_code == 2 and "Error:" in result.output, result.output
    assert list(tmp_path.iterdir()) == []


def test_an_existing_target_is_refused_and_left_as_it_was(tmp_path):
    (tmp_path / "village_greeting").mkdir()
    (tmp_path / "village_greeting" / "mine.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(cli, ["plugins", "new", "village_greeting", "--level", "township",
                                      "--dir", str(tmp_path)])
    assert result.exit_code == 2 and "exists already" in result.output, result.output
    assert [p.name for p in (tmp_path / "village_greeting").iterdir()] == ["mine.txt"]
    with pytest.raises(scaffold.TargetExists):
        scaffold.new_plugin("village_greeting", "township", tmp_path)


def test_a_failure_half_way_leaves_nothing_behind(tmp_path, monkeypatch):
    written = []

    def write_text(self, text, encoding=None):
        if written:
            raise OSError(28, "No space left on device")
        written.append(self)
        return len(text)

    monkeypatch.setattr(Path, "write_text", write_text)
    with pytest.raises(OSError):
        scaffold.new_plugin("village_greeting", "township", tmp_path)
    assert written and list(tmp_path.iterdir()) == []


def test_the_distribution_has_the_entry_point_and_the_package_the_shipped_shape(tmp_path):
    target = scaffold.new_plugin("village_greeting", "county", tmp_path / "dev")
    assert target == tmp_path / "dev" / "village_greeting"
    pyproject = tomllib.loads((target / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["entry-points"]["shangliang.plugins"] == {"village_greeting": "shangliang_village_greeting"}
    assert pyproject["build-system"]["requires"] == ["setuptools>=70.1"]
    package = target / "shangliang_village_greeting"
    # the shape of tests/plugins/test_shape.py: __init__, services, hooks, README
    assert sorted(p.name for p in package.iterdir()) == ["README.md", "__init__.py", "hooks.py", "services.py"]
    assert (target / "tests" / "test_village_greeting.py").is_file()
    for path in [*package.glob("*.py"), target / "tests" / "test_village_greeting.py"]:
        ast.parse(path.read_text(encoding="utf-8"), str(path))
    init = ast.parse((package / "__init__.py").read_text(encoding="utf-8"))
    assert ast.get_docstring(init).startswith("village_greeting: a county-level practice")
    assert 'LEVEL = "county"' in (package / "services.py").read_text(encoding="utf-8")
    # the core versions it is made for: this core's, so that `plugins enable` takes it (docs/plugins.md, "Core versions")
    assert 'REQUIRES_CORE = ">=0.1,<1"' in (package / "__init__.py").read_text(encoding="utf-8")
    assert (package / "README.md").read_text(encoding="utf-8").startswith("# `village_greeting`")


# -- end to end: the documented commands, a node started from the environment ------------------------------------


def _translate(words: list[str], python: Path) -> list[str]:
    """A documented command as the test runs it: ``shangliang`` and ``python`` of the plugin's environment, pip
    pointed at it (offline)."""
    head, rest = words[0], words[1:]
    if head == "shangliang":
        return [str(python), "-m", "shangliang.core", *rest]
    if head == "python":
        return [str(python), *rest]
    if head == "pip" and rest[:1] == ["install"]:
        return [*PIP, "--python", str(python), "install", *OFFLINE, *rest[1:]]
    pytest.fail(f"docs/plugins.md ({SECTION}) runs {head!r}, which this test does not know how to run")


@pytest.mark.slow
def test_the_documented_steps_make_a_plugin_that_runs_on_a_node(tmp_path):
    python = layered_venv(tmp_path / "venv")
    work = tmp_path / "work"
    work.mkdir()
    outputs = []
    for words in documented_commands():
        result = subprocess.run(_translate(words, python), cwd=work, capture_output=True, text=True, timeout=300,
                                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        assert result.returncode == 0, f"{shlex.join(words)} exited {result.returncode}:\n{result.stdout}{result.stderr}"
        outputs.append((words, result.stdout))
    node_dir = work / "mynode"

    # `plugins list` (before the enable) shows the installed plugin, not enabled, the core versions it supports,
    # with its hook and setting
    listed = next(out for words, out in outputs if words[-2:] == ["plugins", "list"])
    line = next(line for line in listed.splitlines() if line.startswith("village_greeting "))
    assert line.split()[1:6] == ["installed", "township", "no", ">=0.1,<1", "node_configured"], line
    # `plugins enable` wrote node.toml; the generated test passed (3 tests)
    assert tomllib.loads((node_dir / "node.toml").read_text(encoding="utf-8"))["plugins"]["enabled"] == ["village_greeting"]
    assert re.search(r"\b3 passed\b", outputs[-1][1]), outputs[-1][1]
    # the suite's own environment does not have the plugin: it was installed into the layered one only
    assert subprocess.run([sys.executable, "-c", "import shangliang_village_greeting"], capture_output=True).returncode

    # the node runs it: started from that environment it answers; with a blank greeting it does not start,
    # the plugin's own check naming its setting
    document = tomlkit.parse((node_dir / "node.toml").read_text(encoding="utf-8"))
    document["url"] = f"http://127.0.0.1:{free_port()}"
    (node_dir / "node.toml").write_text(tomlkit.dumps(document), encoding="utf-8")
    node = Node(node_dir, python=python)
    node.start(with_worker=False)
    assert node.get("/healthz").json()["node"] == "620302001"
    node.stop()

    document["plugins"]["village_greeting"] = {"greeting": " "}
    (node_dir / "node.toml").write_text(tomlkit.dumps(document), encoding="utf-8")
    refused = run(python, "-m", "shangliang.core", "--node", str(node_dir), "serve", "--workers", "1", "--no-worker",
                  timeout=120)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "(setting: plugins.village_greeting.greeting)" in refused.stderr, refused.stderr
