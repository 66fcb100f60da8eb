"""P1: verified 3-hop envelopes per second on one core, against raw Ed25519 verifications ÷ 4.

The subject is ``shangliang.federation.verify.verify(data_bytes, receiver, peers, kinds)`` on the
bytes of a ``topic.escalate`` envelope township → county → city → province, received by the
province, with the peers in memory. The baseline is the fastest of libsodium's
``crypto_sign_verify_detached`` (called exactly as ``signing.verify_bytes`` calls it), PyNaCl
(``nacl.signing.VerifyKey.verify``) and ``cryptography`` (``Ed25519PublicKey.verify``) checking the
very four (key, signing input, signature) triples the verifier checks, divided by 4. Short rounds
alternate subject and baselines so that load from other processes hits them alike; the ratio is the
median of the rounds' ratios, the absolute rates the best rounds. It runs in one thread, so on one
core at a time; it is not pinned, so that the scheduler can move it off a core another process
keeps busy.

Then, where the time goes: each stage of ``verify`` timed on its own, and a cProfile of the
verifier with the crypto calls set apart.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    CITY,
    PROVINCE,
    MemoryPeers,
    bench_keys,
    log,
    result_line,
    signing_inputs,
    three_hop_envelope,
)


def rate(fn, seconds: float) -> float:
    """Calls of ``fn`` per second, over at least ``seconds`` (in batches of 50)."""
    batch, done, start = 50, 0, time.perf_counter()
    while True:
        for _ in range(batch):
            fn()
        done += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def per_call_us(functions: dict, passes: int = 8, seconds: float = 0.04) -> dict:
    """Microseconds per call of each function: passes over all of them in turn, each one's fastest window kept
    (the least disturbed by other load on the machine)."""
    best = dict.fromkeys(functions, 0.0)
    for _ in range(passes):
        for name, fn in functions.items():
            best[name] = max(best[name], rate(fn, seconds))
    return {name: 1e6 / value for name, value in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=0.25, help="per measurement per round")
    args = parser.parse_args()


    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from nacl.signing import VerifyKey
    from shangliang.core.plugins import create_plugin_manager
    from shangliang.federation import canonical
    from shangliang.federation import verify as verify_mod
    from shangliang.federation.kinds import registry
    from shangliang.federation.signing import _detached

    CORE_KINDS = registry(create_plugin_manager())

    keys = bench_keys()
    peers = MemoryPeers(keys)
    env = three_hop_envelope(keys)
    data = canonical.dumps(env)
    triples = signing_inputs(env)
    triples[0] = (keys[CITY].public, *triples[0][1:])  # the last hop: the province's pinned key for the city
    verify_mod.verify(data, PROVINCE, peers, CORE_KINDS)  # it verifies, and warms the caches

    nacl_keys = [(VerifyKey(pk), msg, sig) for pk, msg, sig in triples]
    ossl_keys = [(Ed25519PublicKey.from_public_bytes(pk), msg, sig) for pk, msg, sig in triples]

    def detached_four() -> None:
        for public, msg, sig in triples:
            if _detached(sig, msg, len(msg), public) != 0:
                raise AssertionError("a baseline signature does not verify")

    def nacl_four() -> None:
        for key, msg, sig in nacl_keys:
            key.verify(msg, sig)

    def ossl_four() -> None:
        for key, msg, sig in ossl_keys:
            key.verify(sig, msg)

    def subject() -> None:
        verify_mod.verify(data, PROVINCE, peers, CORE_KINDS)

    baselines = {"nacl": nacl_four, "cryptography": ossl_four}
    if _detached is not None:
        baselines["detached"] = detached_four
    for fn in (subject, *baselines.values()):  # warm up (caches, branch predictors, CPU clock)
        rate(fn, 0.3)
    best = {"verify": 0.0} | dict.fromkeys(baselines, 0.0)
    rounds = []
    for index in range(args.rounds):
        this = {"verify": rate(subject, args.seconds)}
        for name, fn in baselines.items():
            this[name] = 4 * rate(fn, args.seconds)
        rounds.append({k: round(v, 1) for k, v in this.items()})
        for key, value in this.items():
            best[key] = max(best[key], value)
    # The fastest call, in every round the same one: the one whose best round is fastest.
    baseline = max(baselines, key=lambda name: best[name])
    raw = best[baseline]
    # The ratio of each round (subject and baseline measured side by side), then their median: a
    # machine whose load drifts moves both halves of a round together.
    ratios = sorted(r["verify"] / (r[baseline] / 4) for r in rounds)
    ratio = statistics.median(ratios)
    log(f"P1: verify {best['verify']:.0f}/s, raw Ed25519 "
        + ", ".join(f"{name} {best[name]:.0f}/s" for name in baselines)
        + f" (best rounds; baseline {baseline}); ratio per round {ratios[0]:.3f}..{ratios[-1]:.3f}, median {ratio:.3f}")

    # Where the time goes, stage by stage, each timed alone, on the fast path verify() takes for
    # these canonical bytes: orjson's round trip, the shape checks, the profile check of the body,
    # the signed inputs cut out of the received bytes, the route, the four signatures.
    doc = canonical.roundtrip(data)
    four = baselines.get("detached", nacl_four)
    timed = per_call_us({
        "whole verify()": subject,
        "roundtrip": lambda: canonical.roundtrip(data),
        "parse_canonical": lambda: verify_mod.parse_canonical(data),
        "in_profile": lambda: canonical.in_profile(doc["body"], 2),
        "cut": lambda: verify_mod.Sliced.cut(data, doc),
        "route check (§4)": lambda: verify_mod.check_route(doc, CORE_KINDS["topic.escalate"], peers),
        "4 Ed25519 verifications": four,
        # The general path, for comparison: what the same bytes cost when they are not canonical.
        "general path: canonical.loads": lambda: canonical.loads(data),
    })
    whole = timed.pop("whole verify()")
    general_loads = timed.pop("general path: canonical.loads")
    stages = {
        "parse: orjson loads, re-encode, compare": timed["roundtrip"],
        "parse: envelope and hop shape checks": timed["parse_canonical"] - timed["roundtrip"] - timed["in_profile"]
        - timed["cut"],
        "parse: profile check of the body": timed["in_profile"],
        "parse: locate the signed inputs in the received bytes": timed["cut"],
        "route check (§4)": timed["route check (§4)"],
        f"4 Ed25519 verifications ({'libsodium detached' if four is not nacl_four else 'PyNaCl'})":
            timed["4 Ed25519 verifications"],
    }
    stages["rest: slices, base64url, SHA-256, compare_digest, freshness, key look-ups, calls"] = whole - sum(stages.values())
    stages["whole verify()"] = whole
    stages = {k: round(v, 1) for k, v in stages.items()}

    profile = cProfile.Profile()
    profile.enable()
    for _ in range(1500):
        subject()
    profile.disable()
    stats = pstats.Stats(profile)
    crypto_names = ("crypto_sign_open", "nacl/signing.py", "nacl/bindings/crypto_sign.py", "signing.py:verify_bytes")
    rows, total, crypto = [], stats.total_tt, 0.0
    for (filename, line, name), (_cc, ncalls, tottime, _ct, _callers) in stats.stats.items():
        where = f"{Path(filename).name}:{line}({name})" if line else name
        if any(c in f"{filename}:{name}" for c in crypto_names):
            crypto += tottime
            continue
        rows.append((tottime, ncalls, where))
    rows.sort(reverse=True)
    profile_top = [{"function": where, "calls_per_envelope": round(n / 1500, 1),
                    "share_of_non_crypto": round(t / (total - crypto), 3)} for t, n, where in rows[:12]]

    result_line({
        "p1_verify_ratio": round(ratio, 3),
        "verify_per_s": round(best["verify"], 1),
        "raw_nacl_verify_per_s": round(best["nacl"], 1),
        "raw_cryptography_verify_per_s": round(best["cryptography"], 1),
        "raw_detached_verify_per_s": round(best["detached"], 1) if "detached" in best else None,
        "baseline": baseline,
        "baseline_envelopes_per_s": round(raw / 4, 1),
        "ratio_of_best_rounds": round(best["verify"] / (raw / 4), 3),
        "ratio_range": [round(ratios[0], 3), round(ratios[-1], 3)],
        "envelope_bytes": len(data),
        "signing_input_bytes": [len(m) for _, m, _ in triples],
        "rounds": rounds,
        "stages_us": stages,
        "general_path_canonical_loads_us": round(general_loads, 1),
        "overhead_us_per_envelope": round(1e6 / best["verify"] - 4e6 / raw, 1),
        "crypto_share_of_profile": round(crypto / total, 3),
        "profile_top_non_crypto": profile_top,
    })


if __name__ == "__main__":
    main()
