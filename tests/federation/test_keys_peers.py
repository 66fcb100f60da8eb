"""Keys and peers from the command line: pairing lines, passphrase-protected keys, what peers add refuses."""

import json
import shlex
import stat

import pytest

from ..conftest import invoke


def test_init_makes_a_0600_key_file_and_keys_show_prints_the_pairing_line(node_dir, runner):
    files = list((node_dir / "keys").glob("*.pem"))
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert b"BEGIN PRIVATE KEY" in files[0].read_bytes()
    line = shlex.split(invoke(runner, node_dir, "keys", "show").output)
    assert line[:2] == ["620302", "http://127.0.0.1:5999"] and line[3] == "金川区政协"
    key_id, _, public = line[2].rpartition(":")
    assert key_id == "ed25519:" + files[0].stem and len(public) == 43


def test_a_passphrase_encrypts_the_key_file(make_node, runner, monkeypatch):
    monkeypatch.setenv("SHANGLIANG_KEY_PASSPHRASE", "correct horse battery staple")
    node_dir = make_node()
    (key_file,) = (node_dir / "keys").glob("*.pem")
    assert b"BEGIN ENCRYPTED PRIVATE KEY" in key_file.read_bytes()
    assert invoke(runner, node_dir, "keys", "show").exit_code == 0
    monkeypatch.setenv("SHANGLIANG_KEY_PASSPHRASE", "wrong")
    result = invoke(runner, node_dir, "keys", "show")
    assert result.exit_code == 2 and "SHANGLIANG_KEY_PASSPHRASE" in result.output
    monkeypatch.delenv("SHANGLIANG_KEY_PASSPHRASE")
    assert invoke(runner, node_dir, "keys", "show").exit_code == 2


def test_rotation_keeps_the_old_key_for_verification(node_dir, runner):
    before = json.loads(invoke(runner, node_dir, "keys", "show", "--json").output)
    result = invoke(runner, node_dir, "keys", "rotate")
    assert result.exit_code == 0 and "no peer" in result.output
    after = json.loads(invoke(runner, node_dir, "keys", "show", "--json").output)
    assert after["key"] != before["key"]
    assert [k["id"] for k in after["old"]] == [before["key"].rpartition(":")[0]]
    assert len(list((node_dir / "keys").glob("*.pem"))) == 2


def _line(runner, node_dir):
    return shlex.split(invoke(runner, node_dir, "keys", "show").output)


@pytest.mark.parametrize(
    "args, message",
    [
        (["6204", "http://127.0.0.1:1", None], "but not parent and child"),
        (["620303", "http://127.0.0.1:1", None], "neither the parent nor a child"),
        (["62", "http://127.0.0.1:1", None], "neither the parent nor a child"),
        (["6203", "ftp://x", None], "must be an http"),
        (["6203", "http://127.0.0.1:1", "ed25519:k1:not-base64!"], "base64url"),
        (["6203", "http://127.0.0.1:1", "rsa:abc"], "must look like ed25519"),
        (["620302", "http://127.0.0.1:1", None], "not its own peer"),
        (["6203x", "http://127.0.0.1:1", None], "malformed"),
    ],
)
def test_peers_add_refuses_what_is_not_a_neighbour_or_not_a_key(node_dir, make_node, runner, args, message):
    other = _line(runner, make_node(node_id="6203", name="金昌市政协"))[2]
    node_id, url, key = args
    if node_id == "6204":
        result = invoke(runner, node_dir, "peers", "add", node_id, url, other, "--child")
    else:
        result = invoke(runner, node_dir, "peers", "add", node_id, url, key or other)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert json.loads(invoke(runner, node_dir, "peers", "list", "--json").output) == []


def test_peers_add_list_remove(node_dir, make_node, runner):
    city = make_node(node_id="6203", name="金昌市政协")
    assert invoke(runner, node_dir, "peers", "add", *_line(runner, city)).exit_code == 0
    again = invoke(runner, node_dir, "peers", "add", *_line(runner, city))
    assert again.exit_code == 2 and "already a peer" in again.output
    (peer,) = json.loads(invoke(runner, node_dir, "peers", "list", "--json").output)
    assert (peer["id"], peer["relation"], peer["failures"], peer["held_until_ms"]) == ("6203", "parent", 0, None)
    assert invoke(runner, node_dir, "peers", "remove", "6203").exit_code == 0
    assert invoke(runner, node_dir, "peers", "remove", "6203").exit_code == 2


def test_a_neighbour_is_pinned_with_its_committee_s_name_from_its_pairing_line(node_dir, make_node, runner):
    import shlex

    city = make_node(node_id="6203", name="金昌市 政协")  # a name with a space: the line quotes it
    line = invoke(runner, city, "keys", "show").output.strip()
    assert line.endswith("'金昌市 政协'")
    assert invoke(runner, node_dir, "peers", "add", *shlex.split(line)).exit_code == 0
    (peer,) = json.loads(invoke(runner, node_dir, "peers", "list", "--json").output)
    assert peer["name"] == "金昌市 政协"
    assert "金昌市 政协" in invoke(runner, node_dir, "peers", "list").output
    bad = invoke(runner, node_dir, "peers", "name", "6203", "金昌\x00市")
    assert bad.exit_code == 2 and "printable" in bad.output
    assert invoke(runner, node_dir, "peers", "name", "6203", "金昌市政协").exit_code == 0
    assert json.loads(invoke(runner, node_dir, "peers", "list", "--json").output)[0]["name"] == "金昌市政协"
    assert invoke(runner, node_dir, "peers", "name", "6203").output.strip() == "peer 6203 has no name"
    assert json.loads(invoke(runner, node_dir, "peers", "list", "--json").output)[0]["name"] is None
    assert invoke(runner, node_dir, "peers", "name", "6204", "x").exit_code == 2
    # a line without a name (an older node's) still pins
    assert invoke(runner, node_dir, "peers", "remove", "6203").exit_code == 0
    assert invoke(runner, node_dir, "peers", "add", *shlex.split(line)[:3]).exit_code == 0


def test_outbox_send_checks_the_kind_and_the_body_before_writing(node_dir, make_node, runner):
    city = make_node(node_id="6203", name="金昌市政协")
    invoke(runner, node_dir, "peers", "add", *_line(runner, city))
    unknown = invoke(runner, node_dir, "outbox", "send", "topic.nonsense", "--to", "6203", "--body", "{}")
    assert unknown.exit_code == 2 and "unknown kind" in unknown.output
    invalid = invoke(runner, node_dir, "outbox", "send", "topic.accept", "--to", "6203", "--body", '{"decision": "x"}')
    assert invalid.exit_code == 2 and "decision" in invalid.output
    stranger = invoke(runner, node_dir, "outbox", "send", "topic.accept", "--to", "62", "--body", '{"decision": "consult"}',
                      "--topic", "620302:abc")
    assert stranger.exit_code == 2 and "not a peer" in stranger.output
    assert json.loads(invoke(runner, node_dir, "outbox", "list", "--json").output) == []
