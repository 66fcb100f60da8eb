"""Every page is usable at 375 px wide (issue 16, phones): the base layout has the viewport meta and the
narrow-width rules — the nav wraps, wide tables scroll inside their own box and not the page, forms stack
full-width, long words wrap. (Real browsers at phone width are driven by the browser tests.)"""

from __future__ import annotations

import re

import pytest

from shangliang.core.app import create_app


@pytest.fixture
def page(make_node, runner):
    from ..conftest import invoke

    node_dir = make_node()
    result = invoke(runner, node_dir, "users", "add", "wang", "--role", "office", "--password-stdin",
                    input="correct-horse\n")
    assert result.exit_code == 0, result.output
    app = create_app(node_dir, test_config={"WTF_CSRF_ENABLED": False})
    client = app.test_client()
    assert client.post("/login", data={"username": "wang", "password": "correct-horse"}).status_code == 302
    yield client.get("/topics").get_data(as_text=True)
    app.extensions["shangliang.db"].engine.dispose()


def _narrow(html: str) -> str:
    found = re.search(r"@media \(max-width: (\d+)px\) \{(.*?)\n    \}", html, re.DOTALL)
    assert found, "no narrow-width rules in the base layout"
    assert 375 <= int(found.group(1)) <= 768
    return re.sub(r"\s+", " ", found.group(2))


def test_the_viewport_meta_is_there(page):
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page


def test_the_narrow_rules(page):
    rules = _narrow(page)
    assert "header { flex-wrap: wrap;" in rules  # the name above, the nav below
    assert re.search(r"header nav \{[^}]*width: 100%", rules)
    # a wide table scrolls in its own box; a title cell keeps a readable width
    assert re.search(r"main table \{ display: block; max-width: 100%; overflow-x: auto;", rules)
    assert re.search(r"main table td:first-child[^{]*\{ min-width: \d+em; \}", rules)
    # forms stack full width
    assert re.search(r"select, form:not\(\.inline\) textarea \{ display: block; width: 100%; max-width: none;", rules)
    assert "dl { grid-template-columns: 1fr;" in rules


def test_long_words_wrap_and_the_nav_wraps_at_every_width(page):
    style = re.sub(r"\s+", " ", page.split("<style>", 1)[1].split("</style>", 1)[0])
    assert "body { overflow-wrap: break-word;" in style
    assert re.search(r"h1, h2, h3, h4,[^{]*\{ overflow-wrap: anywhere; \}", style)
    assert re.search(r"header nav \{ display: flex; flex-wrap: wrap;", style)
    assert ".table-scroll { max-width: 100%; overflow-x: auto;" in style
