"""Users with roles, from the command line."""

import json

import pytest

from ..conftest import invoke


def test_users_with_roles(runner, node_dir):
    invoke(runner, node_dir, "members", "add", "--name", "张三", "--sector", "农业界", "--member-no", "M1")
    result = invoke(runner, node_dir, "users", "add", "zhang", "--role", "member", "--member", "M1",
                    "--name", "张三", "--password-stdin", input="long-enough-pw\n")
    assert result.exit_code == 0, result.output
    users = json.loads(invoke(runner, node_dir, "users", "list", "--json").output)
    assert users == [{"id": 1, "username": "zhang", "display_name": "张三", "role": "member", "member_no": "M1", "active": True}]


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (["zhang", "--role", "admin", "--password-stdin"], "short\n", "at least 8 characters"),
        (["zhang", "--role", "admin", "--member", "M9", "--no-password"], None, "no member with number 'M9'"),
        (["a b", "--role", "admin", "--no-password"], None, "must be 2-80 letters"),
        (["zhang\n", "--role", "admin", "--no-password"], None, "must be 2-80 letters"),  # `$` alone lets "\n" in
    ],
)
def test_bad_user_input_is_refused(runner, node_dir, args, stdin, message):
    result = invoke(runner, node_dir, "users", "add", *args, input=stdin)
    assert result.exit_code == 2 and message in result.output
    assert json.loads(invoke(runner, node_dir, "users", "list", "--json").output) == []


def test_duplicate_user_is_refused(runner, node_dir):
    assert invoke(runner, node_dir, "users", "add", "wang", "--role", "office", "--no-password").exit_code == 0
    result = invoke(runner, node_dir, "users", "add", "wang", "--role", "admin", "--no-password")
    assert result.exit_code == 2 and "already exists" in result.output
