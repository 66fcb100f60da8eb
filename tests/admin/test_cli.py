"""The commands the administration pages stand beside: ``users role`` (the last active admin kept, exit 2) and
``users disable`` under the same rule."""

from __future__ import annotations

import json

from ..conftest import invoke


def test_users_role_changes_a_role_and_keeps_the_last_admin(county, runner):
    changed = invoke(runner, county, "users", "role", "li", "office")
    assert changed.exit_code == 0 and "li is now office" in changed.output
    unknown = invoke(runner, county, "users", "role", "li", "chair")
    assert unknown.exit_code == 2 and "unknown role 'chair'" in unknown.output
    for args in (("users", "role", "root", "member"), ("users", "disable", "root")):
        refused = invoke(runner, county, *args)
        assert refused.exit_code == 2 and "last active admin" in refused.output, refused.output
    listed = {u["username"]: u for u in json.loads(invoke(runner, county, "users", "list", "--json").output)}
    assert (listed["root"]["role"], listed["root"]["active"]) == ("admin", True)
    assert listed["li"]["role"] == "office"
