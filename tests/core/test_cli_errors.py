"""A command whose database goes away says so in one line (exit 2), not with a traceback."""

from __future__ import annotations

from ..conftest import invoke
from ..nodes import free_port


def test_a_command_without_its_database_says_so_in_one_line(runner, node_dir, monkeypatch):
    monkeypatch.setenv("SHANGLIANG_DATABASE_URL", f"postgresql://nobody@127.0.0.1:{free_port()}/gone")
    result = invoke(runner, node_dir, "topics", "list")
    assert result.exit_code == 2, result.output
    assert "the database is unavailable" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
