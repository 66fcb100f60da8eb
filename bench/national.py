"""P4: a simulated national federation — 41,813 nodes, topics raised at townships and routed to where they belong.

34 provinces, 333 cities, 2,844 counties and 38,602 townships with synthetic but well-formed
division codes (2, 4, 6 and 9 digits, each the prefix of its children, as ``core/divisions.py``
reads them). Every node has its own Ed25519 key and pins its parent's and children's keys.

A topic is raised at a township about two areas: another township of its county (50 %), of
another county of its city (30 %) or of another city of its province (20 %), so that the project's
own routing (``core/topics/routing.suggest``) sends it to their common parent. Every transfer is
what a node really does: ``envelope.create`` and ``hops.append`` sign it (each relay attesting the
key it verified its predecessor with), ``canonical.dumps`` writes the bytes sent, and the receiver
runs ``verify.verify`` on those bytes with its pinned peers, the inbox's body checks
(``inbox.check_body``) and the inbox's idempotency rule (``inbox.judge_repeat``) against an
in-memory store of compact digests (``DigestInbox``: 48 bytes per accepted transfer), then asks
``suggest`` whether to keep the topic or pass it on. A share of transfers (``--duplicates``) is
delivered twice, as a retry would be; the second must be refused as a repeat and change nothing.

Topics never leave their province, so provinces are split between processes, one per core, each
holding the keys, pins and stores of its provinces. Reported: topics per second over all processes
(wall time of the slowest), the crypto-only ceiling measured in the same run (every signature and
verification of a sample of the same kind of topics, recorded, then replayed alone with the same
libsodium calls, in all processes at once), their ratio, the state per node (average and busiest,
KB), and the worst case where every topic goes to its province.

    python bench/national.py [--topics N] [--worst-topics N] [--processes N] [--quick]
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import log, result_line, topic_body  # noqa: E402

COUNTS = {"province": 34, "city": 333, "county": 2844, "township": 38602}
MIX = (("county", 0.5), ("city", 0.3), ("province", 0.2))
KEY_ID = "ed25519:k1"


# -- the division tree ---------------------------------------------------------------------------------


def spread(total: int, parents: int) -> list[int]:
    """``total`` children over ``parents`` as evenly as whole numbers allow."""
    base, extra = divmod(total, parents)
    return [base + (1 if index < extra else 0) for index in range(parents)]


def division_tree() -> dict[str, list[str]]:
    """Children of every node, provinces under the key ``""``: codes 11.., 1101.., 110101.., 110101001.."""
    from shangliang.core import divisions

    children: dict[str, list[str]] = {"": [f"{11 + index:02d}" for index in range(COUNTS["province"])]}
    levels = [("province", "city", 2), ("city", "county", 2), ("county", "township", 3)]
    parents = children[""]
    for parent_level, level, digits in levels:
        below: list[str] = []
        for parent, count in zip(parents, spread(COUNTS[level], len(parents))):
            codes = [f"{parent}{index + 1:0{digits}d}" for index in range(count)]
            children[parent] = codes
            below.extend(codes)
        parents = below
    for parent, codes in children.items():
        for code in codes:
            divisions.validate_code(code)
            if parent:
                assert divisions.parent_of(code) == parent, code
    return children


def nodes_under(children: dict[str, list[str]], code: str) -> list[str]:
    found, stack = [], [code]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(children.get(node, ()))
    return found


def split_provinces(children: dict[str, list[str]], processes: int) -> list[list[str]]:
    """Provinces to processes, biggest first to the least loaded (by townships)."""
    sizes = {p: sum(1 for n in nodes_under(children, p) if len(n) == 9) for p in children[""]}
    shares: list[list[str]] = [[] for _ in range(processes)]
    load = [0] * processes
    for province in sorted(sizes, key=lambda p: (-sizes[p], p)):
        index = load.index(min(load))
        shares[index].append(province)
        load[index] += sizes[province]
    return shares


# -- a node's inbox records, as compact digests ------------------------------------------------------


class DigestInbox:
    """What one node keeps to answer repeats (§5.5): per accepted transfer 48 bytes in one bytearray —
    16 of SHA-256 over (origin, id), 16 of the core hash, 16 of the transfer id (the last hop's hash).
    Look-ups are aligned scans of the array, in C; the rule itself is the inbox's ``judge_repeat``."""

    RECORD = 48

    def __init__(self) -> None:
        self.records = bytearray()

    def _find(self, needle: bytes, field: int) -> int:
        records, offset = self.records, 16 * field
        at = records.find(needle)
        while at >= 0 and at % self.RECORD != offset:
            at = records.find(needle, at + 1)
        return at

    def accept(self, verified: Any) -> str | None:
        """None when the transfer is new (and now recorded), else ``duplicate`` or ``conflict``."""
        from shangliang.federation.inbox import judge_repeat

        envelope = verified.envelope
        transfer = bytes.fromhex(verified.transfer_id)[:16]
        core = bytes.fromhex(verified.core_hash)[:16]
        message = hashlib.sha256(f"{envelope['origin']}\x00{envelope['id']}".encode()).digest()[:16]
        seen = self._find(transfer, 2) >= 0
        known = None
        if not seen:
            at = self._find(message, 0)
            known = bytes(self.records[at + 16:at + 32]) if at >= 0 else None
        verdict = judge_repeat(seen, known, core)
        if verdict is None:
            self.records += message + core + transfer
        return verdict

    def size(self) -> int:
        """Bytes this store holds in memory (the array with its allocation, not Python's dict of stores)."""
        return sys.getsizeof(self.records)


# -- one process: some provinces ----------------------------------------------------------------------


class Peers:
    """A receiver's pinned neighbours (``verify.Peers``): its parent and children, by their codes."""

    def __init__(self, receiver: str, publics: dict[str, bytes]):
        from shangliang.core import divisions

        self.receiver, self.parent, self.publics = receiver, divisions.parent_of(receiver), publics
        self.parent_of = divisions.parent_of

    def relation(self, node: str) -> str | None:
        if node == self.parent:
            return "parent"
        if node in self.publics and self.parent_of(node) == self.receiver:
            return "child"
        return None

    def key(self, node: str, key_id: str, at_ms: int) -> bytes | None:
        if key_id != KEY_ID or self.relation(node) is None:
            return None
        return self.publics[node]


class Region:
    """The nodes of some provinces: keys, pins, inbox stores, and the topics raised there."""

    def __init__(self, children: dict[str, list[str]], provinces: list[str], seed: int):
        from shangliang.core.plugins import create_plugin_manager
        from shangliang.federation.kinds import registry
        from shangliang.federation.signing import NodeKey

        self.children = children
        self.nodes = [n for p in provinces for n in nodes_under(children, p)]
        self.keys = {n: NodeKey(KEY_ID, hashlib.sha256(f"shangliang national {n}".encode()).digest())
                     for n in self.nodes}
        self.publics = {n: key.public for n, key in self.keys.items()}
        self.publics_b64 = {n: key.public_b64 for n, key in self.keys.items()}
        self.peers = {n: Peers(n, self.publics) for n in self.nodes if len(n) < 9}
        self.kinds = registry(create_plugin_manager())
        self.townships = [n for n in self.nodes if len(n) == 9]
        self.random = random.Random(seed)
        self.stores: dict[str, DigestInbox] = {}

    def reset(self) -> None:
        self.stores = {n: DigestInbox() for n in self.peers}

    def areas(self, township: str, level: str) -> list[str]:
        """The township and a second area chosen so that their common parent is at ``level``."""
        pick = self.random.choice
        county, city, province = township[:6], township[:4], township[:2]
        if level == "county":
            other = pick([t for t in self.children[county] if t != township])
        elif level == "city":
            other_county = pick([c for c in self.children[city] if c != county])
            other = pick(self.children[other_county])
        else:
            other_city = pick([c for c in self.children[province] if c != city])
            other = pick(self.children[pick(self.children[other_city])])
        return sorted([township, other])

    def topics(self, count: int, mix: tuple[tuple[str, float], ...]) -> list[tuple[str, list[str], str]]:
        """``count`` topics (township, areas, level where they belong), drawn before anything is timed."""
        levels, weights = zip(*mix)
        chosen = self.random.choices(levels, weights, k=count)
        out = []
        for level in chosen:
            township = self.random.choice(self.townships)
            out.append((township, self.areas(township, level), level))
        return out

    def run(self, topics: list[tuple[str, list[str], str]], duplicate_share: float) -> dict[str, int]:
        """Raise every topic at its township and carry it, transfer by transfer, to where it belongs."""
        from shangliang.core.topics.routing import suggest
        from shangliang.federation import canonical, envelope as env_mod, hops as hop_mod, inbox
        from shangliang.federation.ids import now_ms, ulid
        from shangliang.federation.verify import verify

        counts = {"topics": 0, "transfers": 0, "duplicates_sent": 0, "duplicates_refused": 0, "kept_where_expected": 0}
        repeat = self.random.random
        for township, areas, level in topics:
            now = now_ms()
            uid = f"{township}:{ulid(now)}"
            body = topic_body(uid, now - 86_400_000)
            body["topic"]["areas"] = areas
            route = suggest(township, areas)
            key = self.keys[township]
            envelope = env_mod.create(key, township, "topic.escalate", body, topic=uid, created_ms=now)
            envelope = hop_mod.append(envelope, key, township, route.to, "escalate", at_ms=now)
            data, receiver = canonical.dumps(envelope), route.to
            while True:
                verified = verify(data, receiver, self.peers[receiver], self.kinds)
                inbox.check_body(verified)
                if self.stores[receiver].accept(verified) is not None:
                    raise AssertionError(f"a new transfer to {receiver} was taken for a repeat")
                counts["transfers"] += 1
                if repeat() < duplicate_share:  # the sender retries: the same bytes again
                    counts["duplicates_sent"] += 1
                    again = verify(data, receiver, self.peers[receiver], self.kinds)
                    if self.stores[receiver].accept(again) == "duplicate":
                        counts["duplicates_refused"] += 1
                route = suggest(receiver, verified.envelope["body"]["topic"]["areas"])
                if route.action == "keep":
                    counts["kept_where_expected"] += len(receiver) == {"county": 6, "city": 4, "province": 2}[level]
                    break
                last = verified.envelope["hops"][-1]
                prev_key = {"node": verified.sender, "id": last["key"], "public": self.publics_b64[verified.sender]}
                envelope = hop_mod.append(verified.envelope, self.keys[receiver], receiver, route.to, route.action,
                                          prev_key=prev_key)
                data, receiver = canonical.dumps(envelope), route.to
            counts["topics"] += 1
        return counts

    def record_crypto(self, topics: list[tuple[str, list[str], str]]) -> tuple[list, list]:
        """Every signature and verification ``run`` makes for ``topics``, as (key, message) and
        (public, message, signature), captured at the calls the project makes (on throw-away stores)."""
        from shangliang.federation import verify as verify_mod
        from shangliang.federation.signing import NodeKey

        signs: list[tuple[Any, bytes]] = []
        verifies: list[tuple[bytes, bytes, bytes]] = []
        real_verify, real_sign = verify_mod.verify_bytes, NodeKey.sign_input

        def recording_verify(public: bytes, message: bytes, signature: bytes) -> bool:
            verifies.append((public, message, signature))
            return real_verify(public, message, signature)

        def recording_sign(key: Any, message: bytes) -> str:
            signs.append((key, message))
            return real_sign(key, message)

        verify_mod.verify_bytes, NodeKey.sign_input = recording_verify, recording_sign
        try:
            self.reset()
            self.run(topics, 0.0)
        finally:
            verify_mod.verify_bytes, NodeKey.sign_input = real_verify, real_sign
        return signs, verifies


def replay(signs: list, verifies: list) -> float:
    """Seconds for the recorded signatures and verifications alone, with the calls the node makes."""
    from shangliang.federation.signing import verify_bytes

    started = time.perf_counter()
    for key, message in signs:
        key.sign_raw(message)
    for public, message, signature in verifies:
        if not verify_bytes(public, message, signature):
            raise AssertionError("a recorded signature does not verify")
    return time.perf_counter() - started


def worker(index: int, provinces: list[str], plan: dict, barrier: Any, results: Any) -> None:
    try:
        children = division_tree()
        region = Region(children, provinces, seed=1000 + index)
        share = plan["shares"][index]
        out: dict[str, Any] = {"process": index, "provinces": provinces, "nodes": len(region.nodes)}
        for case, mix, count in (("mix", MIX, plan["topics"]), ("worst", (("province", 1.0),), plan["worst_topics"])):
            mine = max(1, round(count * share))
            sample = region.topics(max(1, round(plan["sample"] * share)), mix)
            signs, verifies = region.record_crypto(sample)
            topics = region.topics(mine, mix)
            barrier.wait()
            ceiling_s = replay(signs, verifies)
            barrier.wait()
            region.reset()
            started = time.perf_counter()
            counts = region.run(topics, plan["duplicates"])
            elapsed = time.perf_counter() - started
            sizes = {node: store.size() for node, store in region.stores.items()}
            busiest = max(sizes, key=sizes.get)
            out[case] = counts | {
                "elapsed_s": elapsed, "ceiling_sample_topics": len(sample), "ceiling_sample_s": ceiling_s,
                "signatures_per_topic": len(signs) / len(sample), "verifications_per_topic": len(verifies) / len(sample),
                "state_bytes_total": sum(sizes.values()), "busiest_node": busiest, "busiest_node_bytes": sizes[busiest],
                "records_at_busiest": len(region.stores[busiest].records) // DigestInbox.RECORD,
                "state_bytes_by_level": {level: sum(v for n, v in sizes.items() if len(n) == length)
                                         for level, length in (("province", 2), ("city", 4), ("county", 6))},
            }
        results.put(out)
    except BaseException as exc:  # the parent reports it; a broken barrier releases the others
        barrier.abort()
        results.put({"process": index, "error": f"{type(exc).__name__}: {exc}"})
        raise


def summarise(parts: list[dict], case: str, total_nodes: int) -> dict[str, Any]:
    rows = [p[case] for p in parts]
    wall = max(r["elapsed_s"] for r in rows)
    topics = sum(r["topics"] for r in rows)
    rate = topics / wall
    # The ceiling: each process's sample replayed alone, all at once; the processes' rates add up.
    ceiling = sum(r["ceiling_sample_topics"] / r["ceiling_sample_s"] for r in rows)
    busiest = max(rows, key=lambda r: r["busiest_node_bytes"])
    by_level = {level: sum(r["state_bytes_by_level"][level] for r in rows) for level in ("province", "city", "county")}
    return {
        "topics": topics, "wall_s": round(wall, 2), "topics_per_s": round(rate, 1),
        "ceiling_topics_per_s": round(ceiling, 1), "ceiling_ratio": round(rate / ceiling, 3),
        "transfers": sum(r["transfers"] for r in rows),
        "kept_where_expected": sum(r["kept_where_expected"] for r in rows),
        "duplicates_sent": sum(r["duplicates_sent"] for r in rows),
        "duplicates_refused": sum(r["duplicates_refused"] for r in rows),
        "signatures_per_topic": round(sum(r["signatures_per_topic"] for r in rows) / len(rows), 2),
        "verifications_per_topic": round(sum(r["verifications_per_topic"] for r in rows) / len(rows), 2),
        "busiest_node": busiest["busiest_node"], "busiest_node_state_kb": round(busiest["busiest_node_bytes"] / 1024, 1),
        "records_at_busiest_node": busiest["records_at_busiest"],
        "average_node_state_kb": round(sum(r["state_bytes_total"] for r in rows) / total_nodes / 1024, 3),
        "average_state_kb_by_level": {level: round(by_level[level] / COUNTS[level] / 1024, 2) for level in by_level},
        "per_process_topics_per_s": [round(r["topics"] / r["elapsed_s"], 1) for r in rows],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=100_000)
    parser.add_argument("--worst-topics", type=int, default=50_000, help="topics that all go to their province")
    parser.add_argument("--sample", type=int, default=4_000, help="topics whose crypto is replayed for the ceiling")
    parser.add_argument("--duplicates", type=float, default=0.01, help="share of transfers delivered twice")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quick", action="store_true", help="2,000 topics (1,000 worst case), for tests")
    args = parser.parse_args()
    if args.quick:
        args.topics, args.worst_topics, args.sample = 2_000, 1_000, 400
    load_before = os.getloadavg()
    started = time.time()
    children = division_tree()
    total_nodes = sum(len(codes) for codes in children.values())
    assert total_nodes == sum(COUNTS.values()) == 41_813, total_nodes
    shares = split_provinces(children, args.processes)
    townships = {p: sum(1 for n in nodes_under(children, p) if len(n) == 9) for p in children[""]}
    plan = {"topics": args.topics, "worst_topics": args.worst_topics, "sample": args.sample,
            "duplicates": args.duplicates,
            "shares": [sum(townships[p] for p in share) / COUNTS["township"] for share in shares]}
    log(f"P4: {total_nodes} nodes, {args.processes} processes, {args.topics} topics (worst case {args.worst_topics})")
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(args.processes), context.Queue()
    procs = [context.Process(target=worker, args=(i, share, plan, barrier, results), daemon=True)
             for i, share in enumerate(shares)]
    for proc in procs:
        proc.start()
    parts = [results.get() for _ in procs]
    for proc in procs:
        proc.join()
    errors = [p["error"] for p in parts if "error" in p]
    if errors:
        log(f"P4 failed: {errors}")
        sys.exit(1)
    parts.sort(key=lambda p: p["process"])
    mix, worst = summarise(parts, "mix", total_nodes), summarise(parts, "worst", total_nodes)
    log(f"P4: {mix['topics_per_s']} topics/s, ceiling {mix['ceiling_topics_per_s']}/s, ratio {mix['ceiling_ratio']}; "
        f"worst case {worst['topics_per_s']}/s; busiest node {mix['busiest_node']} {mix['busiest_node_state_kb']} KB")
    result_line({
        "p4_national_topics_per_s": mix["topics_per_s"],
        "p4_national_ceiling_ratio": mix["ceiling_ratio"],
        "p4_national_worst_topics_per_s": worst["topics_per_s"],
        "p4_busiest_node_state_kb": mix["busiest_node_state_kb"],
        "nodes": {level: count for level, count in COUNTS.items()} | {"total": total_nodes},
        "processes": args.processes, "provinces_per_process": [len(s) for s in shares],
        "mix": {level: share for level, share in MIX},
        "duration_s": round(time.time() - started, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "stated_mix": mix, "worst_case": worst,
    })


if __name__ == "__main__":
    main()
