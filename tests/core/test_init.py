"""``shangliang init`` makes a whole node directory, or nothing at all."""

import os
import stat

import pytest
import tomllib

from shangliang.core.app import create_app
from shangliang.core.cli import cli
from shangliang.core.errors import ConfigError

from ..conftest import invoke


def test_init_creates_config_secret_and_migrated_database(node_dir, runner):
    config = tomllib.loads((node_dir / "node.toml").read_text(encoding="utf-8"))
    assert config["id"] == "620302" and config["name"] == "金川区政协"
    secret = (node_dir / "secret_key").read_text().strip()
    assert len(secret) >= 32 and secret not in (node_dir / "node.toml").read_text(encoding="utf-8")
    assert stat.S_IMODE((node_dir / "secret_key").stat().st_mode) == 0o600
    result = invoke(runner, node_dir, "db", "current")
    assert result.exit_code == 0
    current, head = [line.split()[-1] for line in result.output.splitlines()[:2]]
    assert current == head != "none"


def test_init_derives_level_and_parent(node_dir):
    app = create_app(node_dir)
    assert app.config["NODE_LEVEL"] == "county"
    assert app.config["NODE_PARENT"] == "6203"
    assert app.config["LOCALE"] == "zh_CN"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--id", "6203021"], "7 digits"),
        (["--id", "62a"], "malformed division code"),
        (["--id", "620302-Zone"], "malformed node id"),
        (["--id", "620302-kfq"], "its level must be configured"),
        (["--url", "ftp://x"], "setting: url"),
        (["--plugin", "no_such_plugin"], "unknown plugin 'no_such_plugin'"),
        (["--database-url", "postgresql://127.0.0.1:1/nowhere"], "database unreachable"),
        (["--broker-url", "redis://127.0.0.1:1/0"], "broker unreachable"),
    ],
)
def test_refused_init_says_why_in_one_line_and_leaves_nothing(tmp_path, runner, args, message):
    base = {"--id": "620302", "--name": "x", "--url": "http://127.0.0.1:5999"}
    argv = ["init", str(tmp_path / "node")]
    for key, value in base.items():
        if key not in args:
            argv += [key, value]
    argv += args
    result = runner.invoke(cli, argv)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert os.listdir(tmp_path) == []


def test_init_refuses_an_existing_directory(node_dir, runner):
    before = (node_dir / "node.toml").read_bytes()
    result = invoke(runner, None, "init", str(node_dir), "--id", "62", "--name", "x", "--url", "http://x")
    assert result.exit_code == 2
    assert "already exists" in result.output
    assert (node_dir / "node.toml").read_bytes() == before


def test_non_standard_id_needs_level_and_parent(tmp_path, runner):
    node = tmp_path / "zone"
    result = invoke(runner, None, "init", str(node), "--id", "620302-kfq", "--name", "经开区", "--url",
                    "http://127.0.0.1:5998", "--level", "township", "--parent", "620302")
    assert result.exit_code == 0, result.output
    app = create_app(node)
    assert (app.config["NODE_LEVEL"], app.config["NODE_PARENT"]) == ("township", "620302")


def test_secrets_in_node_toml_are_refused(node_dir):
    text = (node_dir / "node.toml").read_text(encoding="utf-8")
    (node_dir / "node.toml").write_text('secret_key = "abc"\n' + text, encoding="utf-8")
    with pytest.raises(ConfigError, match="secrets do not belong in node.toml"):
        create_app(node_dir)


def test_a_secret_file_readable_by_others_is_refused(node_dir):
    os.chmod(node_dir / "secret_key", 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        create_app(node_dir)
