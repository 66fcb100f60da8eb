"""Refusals in the reader's language (core/i18n.py): the English text programs read is unchanged, a page in
Chinese shows the catalogue's Chinese, and a refusal's parameters survive pickling and nesting."""

import pickle

import pytest
from flask import render_template_string

from shangliang.core.errors import ConfigError, InputError, NotFound
from shangliang.core.i18n import N_, Text, localized, reason

from .conftest import signed_in


def test_a_text_is_the_english_an_f_string_wrote():
    due, uid = "2020-01-01", "620302:01JX"
    text = N_("due date %(due)s has passed; %(uid)s is 100%% done", due=due, uid=repr(uid))
    assert text == f"due date {due} has passed; {uid!r} is 100% done"
    assert isinstance(text, str) and text.template.startswith("due date %(due)s") and text.params["due"] == due
    assert N_("50% of nothing") == "50% of nothing"  # no parameters: no formatting
    copy = pickle.loads(pickle.dumps(text))
    assert isinstance(copy, Text) and copy == text and copy.params == text.params


def test_a_refusal_is_shown_in_the_page_language(app):
    exc = NotFound(N_("no topic %(uid)s on this node", uid="'x'"))
    assert str(exc) == "no topic 'x' on this node"
    with app.test_request_context("/?lang=zh_CN"):
        assert reason(exc) == "本节点没有议题 'x'" or ("议题" in reason(exc) and "on this node" not in reason(exc))
    with app.test_request_context("/?lang=en"):
        assert reason(exc) == "no topic 'x' on this node"
    plain = InputError("a plugin's own words")
    with app.test_request_context("/?lang=zh_CN"):
        assert reason(plain) == "a plugin's own words"


def test_a_setting_and_a_nested_text_are_translated_too(app):
    exc = ConfigError(N_("%(name)s is empty", name="greeting"), "plugins.x.greeting")
    assert str(exc) == "greeting is empty (setting: plugins.x.greeting)"
    assert exc.message == "greeting is empty"
    with app.test_request_context("/?lang=zh_CN"):
        shown = reason(exc)
    assert "greeting" in shown and "plugins.x.greeting" in shown
    assert "is empty" not in shown and "setting:" not in shown


@pytest.mark.parametrize("lang, expected, absent", [("zh_CN", "议题", "on this node"), ("en", "on this node", "议题")])
def test_a_template_writes_an_exception_in_the_page_language(app, lang, expected, absent):
    exc = NotFound(N_("no topic %(uid)s on this node", uid="'x'"))
    with app.test_request_context(f"/?lang={lang}"):
        shown = render_template_string("<p>{{ error }}</p><p>{{ text }}</p><p>{{ 3 }}</p>", error=exc,
                                       text=exc.args[0])
    assert shown.count(expected) == 2 and absent not in shown and "<p>3</p>" in shown


def test_localized_outside_a_request_is_english():
    assert localized(N_("no topic %(uid)s on this node", uid="x")) == "no topic x on this node"
    assert localized(7) == "7"


def test_a_refused_form_on_a_chinese_page_says_why_in_chinese(app):
    """The topics page, refusing a topic whose area is not a division code: the reason is in Chinese."""
    client = signed_in(app, "wang")
    page = client.post("/topics", data={"title": "修路", "description": "村道破损", "category": "交通",
                                        "areas": "6203021", "raised_by_kind": "member", "raised_by_name": "张三"},
                       headers={"Accept-Language": "zh-CN"})
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "6203021" in html and "malformed division code" not in html and "expected 2, 4, 6, 9 or 12" not in html
    english = signed_in(app, "wang")
    english.get("/lang/en")
    html = english.post("/topics", data={"title": "修路", "description": "村道破损", "category": "交通",
                                         "areas": "6203021", "raised_by_kind": "member",
                                         "raised_by_name": "张三"}).get_data(as_text=True)
    assert "malformed division code" in html
