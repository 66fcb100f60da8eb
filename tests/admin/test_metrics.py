"""``/metrics``: the Prometheus text format, with values read from the node's rows at scrape time (a neighbour's
outbox by status, its health), and who may read it (a bearer token, or a direct request from an allowed
address)."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families
from shangliang.core.app import create_app
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import ConfigError

from .conftest import CHILD, COUNTY, dead_letter, pin_child

TOKEN = "s3cret-metrics-token-0123456789"


def scrape(client, **kwargs) -> dict[str, dict[tuple, float]]:
    """The samples of ``/metrics`` by name, each a map of its labels (sorted pairs) to its value."""
    answer = client.get("/metrics", **kwargs)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.headers["Content-Type"].startswith("text/plain; version=")
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def pending_message(app) -> int:
    from shangliang.federation import outbox

    with app.app_context():
        with transaction("test") as session:
            _envelope, row = outbox.originate(session, node_context(), "x-test.note", {"text": "测试"}, CHILD,
                                              "forward", note="a note")
            outbox_id = row.id
        get_session().close()
    return outbox_id


def test_metrics_follow_the_outbox_and_the_neighbours_health(app, client, child_line):
    before = scrape(client)
    assert before["shangliang_node_info"] == {
        (("level", "county"), ("node", COUNTY), ("version", before_version(before))): 1.0}
    assert "shangliang_outbox_messages" not in before  # no neighbour, no message: no sample
    # an app not run by serve counts no requests: without the multiprocess directory, one process's share would lie
    assert not [name for name in before if name.startswith("shangliang_http_")]

    pin_child(app, child_line)
    pinned = scrape(client)
    outbox = pinned["shangliang_outbox_messages"]
    assert outbox == {(("destination", CHILD), ("status", s)): 0.0 for s in ("dead", "pending", "sent")}
    assert pinned["shangliang_peer_ok"] == {(("peer", CHILD),): 1.0}
    assert pinned["shangliang_peer_key_age_seconds"][(("peer", CHILD),)] >= 0
    assert "shangliang_peer_last_contact_age_seconds" not in pinned  # never heard from, never reached
    assert pinned["shangliang_peer_held_until_timestamp_seconds"] == {(("peer", CHILD),): 0.0}

    pending_message(app)
    after = scrape(client)["shangliang_outbox_messages"]
    assert after[(("destination", CHILD), ("status", "pending"))] == 1.0
    assert after[(("destination", CHILD), ("status", "dead"))] == 0.0

    dead_letter(app)
    dead = scrape(client)
    assert dead["shangliang_outbox_messages"][(("destination", CHILD), ("status", "dead"))] == 1.0
    assert dead["shangliang_outbox_messages"][(("destination", CHILD), ("status", "pending"))] == 1.0
    assert dead["shangliang_peer_ok"] == {(("peer", CHILD),): 0.0}  # a dead letter is a problem
    openmetrics = client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert openmetrics.headers["Content-Type"].startswith("application/openmetrics-text")
    assert openmetrics.get_data(as_text=True).rstrip().endswith("# EOF")


def before_version(samples) -> str:
    (labels,) = samples["shangliang_node_info"]
    version = dict(labels)["version"]
    assert version
    return version


def test_topics_by_stage_are_counted(app, client):
    from shangliang.core.topics.models import Topic

    with app.app_context():
        with transaction("test") as session:
            for n, stage in enumerate(("collected", "collected", "consulting")):
                session.add(Topic(uid=f"{COUNTY}:metrics-{n}", title="题目", category="其他", areas="[]",
                                  raised_by_kind="public", raised_by_name="村民", raised_ms=1, stage=stage,
                                  holder=COUNTY, updated_ms=1))
        get_session().close()
    topics = scrape(client)["shangliang_topics"]
    assert topics[(("stage", "collected"),)] == 2.0 and topics[(("stage", "consulting"),)] == 1.0


def test_from_an_address_not_allowed_or_through_a_proxy_metrics_are_refused(client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 403
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    # neither a sign-in page nor a CSRF check stands in the way, and the security headers still apply
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["X-Content-Type-Options"] == "nosniff"


def test_an_allow_list_of_networks_lets_them_in(county):
    app = create_app(county, test_config={"METRICS_ALLOW": ["10.0.0.0/8"]})
    try:
        client = app.test_client()
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
        assert client.get("/metrics").status_code == 403  # loopback is no longer listed
    finally:
        app.extensions["shangliang.db"].engine.dispose()


def test_with_a_token_only_the_bearer_of_it_may_scrape(county):
    app = create_app(county, test_config={"METRICS_TOKEN": TOKEN})
    try:
        client = app.test_client()
        refused = client.get("/metrics")  # even from loopback
        assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert b"shangliang_" not in refused.data
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong-token"}).status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Basic " + TOKEN}).status_code == 401
        samples = scrape(client, headers={"Authorization": f"Bearer {TOKEN}",
                                          "X-Forwarded-For": "203.0.113.9"},
                         environ_base={"REMOTE_ADDR": "10.9.9.9"})
        assert "shangliang_node_info" in samples
    finally:
        app.extensions["shangliang.db"].engine.dispose()


@pytest.mark.parametrize("config, setting", [
    ({"METRICS_TOKEN": "short"}, "SHANGLIANG_METRICS_TOKEN"),
    ({"METRICS_ALLOW": ["not-an-address"]}, "metrics.allow"),
    ({"METRICS_ALLOW": "127.0.0.1"}, "metrics.allow"),
    ({"LOG_FORMAT": "xml"}, "log_format"),
])
def test_bad_metrics_and_log_settings_are_refused_by_name(county, config, setting):
    with pytest.raises(ConfigError) as refused:
        create_app(county, test_config=config)
    assert setting in str(refused.value)


def test_a_token_in_node_toml_is_refused_as_a_secret(make_node):
    with pytest.raises(ConfigError) as refused:
        create_app(make_node(extra_toml='\n[metrics]\ntoken = "0123456789abcdef0123"\n'))
    assert "secrets do not belong in node.toml" in str(refused.value) and "metrics.token" in str(refused.value)
