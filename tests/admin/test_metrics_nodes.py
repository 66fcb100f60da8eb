"""Request metrics across gunicorn's worker processes (``shangliang serve --workers 2``): every scrape, whichever
worker answers it, counts every request, whichever worker answered that; a new start counts from zero."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from ..nodes import Node, free_port

pytestmark = pytest.mark.slow

REQUESTS = 40


def request_samples(node) -> dict[tuple, float]:
    answer = requests.get(node.url + "/metrics", timeout=10)
    assert answer.status_code == 200, answer.text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.text) for s in family.samples
            if s.name.startswith("shangliang_http_")}


DESCRIPTOR = ("shangliang_http_requests_total", (("endpoint", "federation.node"), ("method", "GET"), ("status", "200")))
COUNT = ("shangliang_http_request_duration_seconds_count", (("endpoint", "federation.node"), ("method", "GET")))


def answered_by(path) -> float:
    """The descriptor requests one worker's file (``counter_<pid>.db``) counts."""
    return sum(value for key, value, *_ in MmapedDict.read_all_values_from_file(str(path))
               if json.loads(key)[2] == {"endpoint": "federation.node", "method": "GET", "status": "200"})


def test_request_metrics_sum_every_gunicorn_worker(make_node):
    node = Node(make_node(url=f"http://127.0.0.1:{free_port()}"))
    node.start(with_worker=False, workers=2)
    with ThreadPoolExecutor(8) as pool:  # a new connection each, eight at a time: both workers answer some
        statuses = list(pool.map(lambda _: requests.get(node.url + "/federation/v1/node", timeout=10).status_code,
                                 range(REQUESTS)))
    assert statuses == [200] * REQUESTS
    assert requests.get(node.url + "/no/such/page", timeout=10).status_code == 404
    per_worker = [answered_by(path) for path in (node.dir / "metrics").glob("counter_*.db")]
    assert sum(per_worker) == REQUESTS and len([n for n in per_worker if n]) == 2, per_worker
    for _ in range(6):  # scrapes, answered by either worker
        found = request_samples(node)
        assert found[DESCRIPTOR] == REQUESTS and found[COUNT] == REQUESTS
        assert found[("shangliang_http_requests_total", (("endpoint", "none"), ("method", "GET"), ("status", "404")))] == 1
    node.stop()
    node.start(with_worker=False, workers=2)
    assert DESCRIPTOR not in request_samples(node)  # counted since this start
    node.stop()
