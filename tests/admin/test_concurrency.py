"""Two administrators turning off the last two admins at the same moment: the write lock of
``core.db.transaction`` (SQLite's ``BEGIN IMMEDIATE``, PostgreSQL's row locks) makes the second decide on what the
first wrote, so exactly one is turned off and the node keeps an administrator."""

from __future__ import annotations

import threading
import time

from shangliang.core.db import get_session, transaction
from shangliang.core.users import services as users
from shangliang.core.users.models import User
from sqlalchemy import select

from .conftest import add_user


def test_two_disables_of_the_last_two_admins_at_once_leave_one(app, county, runner, monkeypatch):
    add_user(runner, county, "root2", "admin")
    read = users._active_admins

    def slow_read(session):
        found = read(session)
        time.sleep(0.3)  # both requests read before either writes, unless the lock keeps them apart
        return found

    monkeypatch.setattr(users, "_active_admins", slow_read)
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def disable(name: str) -> None:
        with app.app_context():
            start.wait()
            try:
                with transaction(f"web:{name}") as session:
                    users.set_active(session, name, False)
                outcomes[name] = "disabled"
            except users.LastAdmin:
                outcomes[name] = "refused"

    threads = [threading.Thread(target=disable, args=(name,)) for name in ("root", "root2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes.values()) == ["disabled", "refused"], outcomes
    with app.app_context():
        admins = get_session().execute(select(User.username).where(User.role == "admin", User.active.is_(True)))
        assert [name for (name,) in admins] == [name for name, outcome in outcomes.items() if outcome == "refused"]

