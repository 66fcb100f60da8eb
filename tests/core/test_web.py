"""The node's web pages: Chinese first, English on request; a health check operators can script."""


from shangliang.core.app import create_app

from ..conftest import invoke


def test_home_page_is_chinese_by_default(client):
    page = client.get("/").get_data(as_text=True)
    assert "金川区政协" in page and "620302" in page
    assert "县级" in page and "行政区划代码" in page
    assert 'lang="zh-CN"' in page


def test_english_on_request_and_remembered(client):
    page = client.get("/?lang=en").get_data(as_text=True)
    assert "County" in page and "Division code" in page and 'lang="en"' in page
    response = client.get("/lang/en")
    assert response.status_code == 302
    assert "Division code" in client.get("/").get_data(as_text=True)
    unknown = client.get("/lang/fr")
    assert unknown.status_code == 404 and unknown.mimetype == "text/html"


def test_home_page_lists_enabled_plugins(make_node, runner):
    node_dir = make_node(node_id="6203", name="金昌市政协")
    assert invoke(runner, node_dir, "plugins", "enable", "quarterly_forum").exit_code == 0
    page = create_app(node_dir).test_client().get("/").get_data(as_text=True)
    assert "quarterly_forum" in page


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["node"] == "620302"
    assert body["database"]["ok"] and body["broker"]["ok"]
    assert body["worker"] == {"last_heartbeat_ms": None, "age_seconds": None}


def test_healthz_is_503_when_the_broker_is_unreachable(node_dir):
    app = create_app(node_dir, test_config={"BROKER_URL": "redis://127.0.0.1:1/0"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable" and not body["broker"]["ok"]
    assert "broker unreachable at redis://127.0.0.1:1/0" in body["broker"]["error"]


def test_sign_in_with_the_right_password_only(client, runner, node_dir):
    invoke(runner, node_dir, "users", "add", "wang", "--role", "office", "--name", "王主任", "--password-stdin",
           input="correct-horse\n")
    refused = client.post("/login", data={"username": "wang", "password": "wrong-horse"})
    assert refused.status_code == 401 and "用户名或密码错误" in refused.get_data(as_text=True)
    accepted = client.post("/login", data={"username": "wang", "password": "correct-horse"})
    assert accepted.status_code == 302
    assert "王主任" in client.get("/").get_data(as_text=True)


def test_forms_need_a_csrf_token(node_dir):
    app = create_app(node_dir)  # CSRF protection on, as in production
    response = app.test_client().post("/login", data={"username": "wang", "password": "x"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "表单已失效" in page and "CSRF" not in page and 'lang="zh-CN"' in page


def test_error_pages_are_the_nodes_own_in_the_persons_language(client):
    """Flask's English default pages never reach a person: 404, 405 and the sign-in request are Chinese
    (English with the English interface); the API keeps answering JSON."""
    missing = client.get("/no-such-page")
    page = missing.get_data(as_text=True)
    assert missing.status_code == 404 and "页面不存在" in page and "Not Found" not in page
    assert "金川区政协" in page  # the node's own frame, with its navigation
    wrong_method = client.post("/healthz")
    assert wrong_method.status_code == 405 and "不支持此操作方式" in wrong_method.get_data(as_text=True)
    assert "GET" in wrong_method.headers["Allow"]
    english = client.get("/no-such-page?lang=en").get_data(as_text=True)
    assert "Page not found" in english
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"


def test_sign_in_returns_to_the_page_that_asked_for_it_never_elsewhere(client, runner, node_dir):
    invoke(runner, node_dir, "users", "add", "wang", "--role", "office", "--name", "王主任", "--password-stdin",
           input="correct-horse\n")
    asked = client.get("/topics")
    assert asked.status_code == 302 and "/login?next=" in asked.headers["Location"]
    login_page = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert "请先登录再查看此页面" in login_page and "Please log in" not in login_page
    back = client.post("/login?next=%2Ftopics", data={"username": "wang", "password": "correct-horse"})
    assert back.status_code == 302 and back.headers["Location"] == "/topics"
    client.post("/logout")
    away = client.post("/login?next=https%3A%2F%2Fevil.example%2F", data={"username": "wang", "password": "correct-horse"})
    assert away.status_code == 302 and away.headers["Location"] == "/"


def test_lazy_url_rules_build_every_url_as_werkzeug_does(app):
    """core/web/rules.py defers each rule's URL builders to first use; every rule of a node builds the same URL,
    with and without a query string of unknown arguments, as werkzeug's own rule does."""
    from werkzeug.routing import Map, Rule

    from shangliang.core.web.rules import LazyRule

    samples = {"IntegerConverter": 7, "BoundedIntegerConverter": 7, "PathConverter": "a/b",
               "UnicodeConverter": "620302:01JX 议题"}
    lazy_rules = [r for r in app.url_map.iter_rules()]
    assert lazy_rules and all(isinstance(r, LazyRule) for r in lazy_rules)
    plain = Map([Rule(r.rule, endpoint=r.endpoint, methods=r.methods) for r in lazy_rules]).bind("node.test")
    lazy = app.url_map.bind("node.test")
    built = 0
    for rule in lazy_rules:
        values = {name: samples.get(type(conv).__name__, "x") for name, conv in rule._converters.items()}
        for extra in ({}, {"next": "/topics?a=1", "n": 2}):
            method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
            assert lazy.build(rule.endpoint, {**values, **extra}, method=method) == plain.build(
                rule.endpoint, {**values, **extra}, method=method), rule.rule
            built += 1
    assert built == 2 * len(lazy_rules)


def test_rules_parsed_once_are_replayed_as_werkzeug_parses_them(node_dir):
    """core/web/rules.py parses each rule text once per process: in an app made after another (every rule
    replayed), every rule has werkzeug's own parts, trace, arguments and converters (bound to its own map), and
    the map matches each rule's URLs as werkzeug's own map does."""
    from werkzeug.routing import Rule

    from shangliang.core.web import rules
    from shangliang.core.web.rules import NodeMap

    first = create_app(node_dir)
    replayed = create_app(node_dir)
    try:
        samples = {"BoundedIntegerConverter": "7", "PathConverter": "a/b", "UnicodeConverter": "620302:01JX"}
        lazy_rules = list(replayed.url_map.iter_rules())
        assert len(rules._parsed) >= len({r.rule for r in lazy_rules})  # every text was kept, then replayed
        plain_map = NodeMap([Rule(r.rule, endpoint=r.endpoint, methods=r.methods) for r in lazy_rules])
        plain = {(r.rule, r.endpoint): r for r in plain_map.iter_rules()}
        lazy_adapter, plain_adapter = replayed.url_map.bind("node.test"), plain_map.bind("node.test")
        for rule in lazy_rules:
            own = plain[(rule.rule, rule.endpoint)]
            assert rule._parts == own._parts and rule._trace == own._trace, rule.rule
            assert rule.arguments == own.arguments, rule.rule
            assert [(name, type(c), c.regex, c.weight) for name, c in rule._converters.items()] == \
                [(name, type(c), c.regex, c.weight) for name, c in own._converters.items()], rule.rule
            assert all(c.map is replayed.url_map for c in rule._converters.values()), rule.rule
            path = "".join(samples.get(type(rule._converters[name]).__name__, "x") if dynamic else name
                           for dynamic, name in rule._trace if name != "|")
            method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
            assert lazy_adapter.match(path, method=method) == plain_adapter.match(path, method=method), path
    finally:
        for made in (first, replayed):
            made.extensions["shangliang.db"].engine.dispose()


def test_an_int_in_a_url_beyond_what_a_database_integer_holds_is_not_found(app, client):
    """Every ``<int:…>`` rule is bounded to PostgreSQL's ``integer``: 2 ** 31 matches no rule (404), where it
    reached the database and ended in a server error."""
    from shangliang.core.db import ROW_ID_MAX
    from shangliang.core.web.rules import BoundedIntegerConverter

    int_rules = [r for r in app.url_map.iter_rules() if "int:" in r.rule]
    assert int_rules and all(isinstance(c, BoundedIntegerConverter) for r in int_rules
                             for c in r._converters.values() if "Integer" in type(c).__name__)
    adapter = app.url_map.bind("node.test")
    assert adapter.match(f"/api/v1/outbox/{ROW_ID_MAX}")[1] == {"outbox_id": ROW_ID_MAX}
    for path in (f"/api/v1/outbox/{ROW_ID_MAX + 1}", "/api/v1/outbox/6589777117", "/admin/outbox/6589777117"):
        assert client.get(path).status_code == 404, path
