"""P4's national simulation (``bench/national.py``): it runs, its figures come out, repeats are refused.

The quick run carries 2,000 topics (1,000 in the worst case) through the 41,813-node tree in real
processes; the inbox's idempotency rule (``inbox.judge_repeat``) is checked on its own and on the
simulation's digest store with real verified envelopes.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from shangliang.core.plugins import create_plugin_manager
from shangliang.federation import canonical, envelope as env_mod, hops as hop_mod
from shangliang.federation.inbox import judge_repeat
from shangliang.federation.kinds import registry
from shangliang.federation.verify import verify

from ..scripts import BENCH, load_script

national = load_script(BENCH / "national.py", "shangliang_bench_national")


def test_judge_repeat_names_duplicates_and_conflicts():
    assert judge_repeat(False, None, "aa") is None
    assert judge_repeat(False, "aa", "aa") is None  # the same message again with a longer chain
    assert judge_repeat(True, None, "aa") == "duplicate"
    assert judge_repeat(False, "bb", "aa") == "conflict"
    assert judge_repeat(False, b"\x01" * 16, b"\x02" * 16) == "conflict"


def test_the_division_tree_has_the_national_counts_and_well_formed_codes():
    children = national.division_tree()
    codes = [code for group in children.values() for code in group]
    assert len(codes) == len(set(codes)) == 41_813
    by_length = {length: sum(1 for c in codes if len(c) == length) for length in (2, 4, 6, 9)}
    assert by_length == {2: 34, 4: 333, 6: 2844, 9: 38602}
    shares = national.split_provinces(children, 2)
    assert sorted(p for share in shares for p in share) == sorted(children[""])


def test_the_digest_store_accepts_once_and_refuses_repeats_and_conflicts():
    from shangliang.federation.ids import now_ms

    children = national.division_tree()
    region = national.Region(children, ["11"], seed=7)
    region.reset()
    township = children[children[children["11"][0]][0]][0]
    county = township[:6]
    kinds = registry(create_plugin_manager())
    now = now_ms()

    def transfer(reason: str) -> bytes:
        body = national.topic_body(f"{township}:T1", now - 1000)
        body["reason"] = reason
        body["topic"]["areas"] = [township]
        env = env_mod.create(region.keys[township], township, "topic.escalate", body, topic=f"{township}:T1",
                             message_id="M1", created_ms=now)
        return canonical.dumps(hop_mod.append(env, region.keys[township], township, county, "escalate", at_ms=now))

    store = region.stores[county]
    assert store.accept(verify(transfer("first"), county, region.peers[county], kinds)) is None
    assert len(store.records) == national.DigestInbox.RECORD
    # The same transfer again (a retry sends the same bytes): a repeat, nothing recorded.
    assert store.accept(verify(transfer("first"), county, region.peers[county], kinds)) == "duplicate"
    # The same (origin, id) with another core: refused.
    assert store.accept(verify(transfer("changed"), county, region.peers[county], kinds)) == "conflict"
    assert len(store.records) == national.DigestInbox.RECORD
    # Another message is new.
    body = national.topic_body(f"{township}:T2", now)
    body["topic"]["areas"] = [township]
    env = env_mod.create(region.keys[township], township, "topic.escalate", body, topic=f"{township}:T2", message_id="M2")
    data = canonical.dumps(hop_mod.append(env, region.keys[township], township, county, "escalate"))
    assert store.accept(verify(data, county, region.peers[county], kinds)) is None
    assert len(store.records) == 2 * national.DigestInbox.RECORD


@pytest.mark.slow
def test_a_quick_national_run_reports_its_figures_and_refuses_every_repeat():
    done = subprocess.run([sys.executable, str(BENCH / "national.py"), "--quick", "--duplicates", "0.05"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for name in ("p4_national_topics_per_s", "p4_national_ceiling_ratio", "p4_national_worst_topics_per_s",
                 "p4_busiest_node_state_kb"):
        assert isinstance(result[name], (int, float)) and result[name] > 0, name
    assert result["nodes"]["total"] == 41_813
    for case, topics in (("stated_mix", 2_000), ("worst_case", 1_000)):
        figures = result[case]
        assert figures["topics"] == topics
        assert figures["kept_where_expected"] == topics  # each topic ended at its areas' common parent
        assert figures["duplicates_sent"] > 0
        assert figures["duplicates_refused"] == figures["duplicates_sent"]
        assert 0 < figures["ceiling_ratio"] <= 1.5
    assert result["worst_case"]["transfers"] == 3 * 1_000  # township → county → city → province
    assert result["worst_case"]["verifications_per_topic"] == 9  # 2 + 3 + 4 signatures checked on the way
    assert 1_000 < result["stated_mix"]["transfers"] < 3 * 2_000
