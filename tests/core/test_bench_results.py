"""``bench/run.py --only …`` rewrites ``bench/results/latest.json``: the benchmarks not run keep their figures
(marked ``carried_from`` their run), their details and their absolute figures; those run replace theirs."""

from __future__ import annotations

import json

from ..scripts import BENCH, load_script


def test_a_partial_run_keeps_the_details_and_absolute_figures_of_the_benchmarks_it_did_not_run(tmp_path):
    run = load_script(BENCH / "run.py", "shangliang_bench_run")
    before = {"date": "2026-12-07T19:49:14+00:00", "run_id": "c0708553", "machine": {"git": "4e1fe95"},
              "details": {"p1": {"verify_per_s": 1200}, "p3": {"p50_ms": 65.5},
                          "p4": {"carried_from": {"date": "2026-12-01", "run_id": "old", "git": "abc"}, "n": 1}},
              "absolute": {"verify_envelopes_per_s": 1200, "p3_samples_redis": 100, "p3e_samples_embedded": 100,
                           "node_api_topics_per_s": 70.5, "p4_average_node_state_kb": 3.1}}
    path = tmp_path / "latest.json"
    path.write_text(json.dumps(before), encoding="utf-8")

    details, absolute = run.carried_details(path, {"p3", "p3e"})

    origin = {"date": "2026-12-07T19:49:14+00:00", "run_id": "c0708553", "git": "4e1fe95"}
    assert details == {"p1": {"carried_from": origin, "verify_per_s": 1200},
                       "p4": {"carried_from": {"date": "2026-12-01", "run_id": "old", "git": "abc"}, "n": 1}}
    assert absolute == {"verify_envelopes_per_s": 1200, "node_api_topics_per_s": 70.5, "p4_average_node_state_kb": 3.1}
    assert run.carried_details(tmp_path / "absent.json", {"p3"}) == ({}, {})
