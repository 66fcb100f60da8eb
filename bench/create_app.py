"""The CPU of building a node's app (``create_app``) in one process: the first app, then each app after it.

A process that builds many apps — the test suite, whose in-process commands each build one — pays the
second figure again and again; ``core/web/rules.py`` keeps what later apps can reuse (each URL rule's parsed
text). One node made with ``shangliang init`` on the embedded defaults; ``--apps`` apps after the first, each
built and its database engine disposed; the median of ``--rounds`` rounds of CPU per app is printed as one
JSON line. Not part of ``make bench``'s figures; docs/architecture.md quotes it.

    python bench/create_app.py [--apps 40] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import clean_env, median, shangliang  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=40, help="apps per round, after the first")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from shangliang.core.app import create_app

    with tempfile.TemporaryDirectory(prefix="shangliang-bench-create-app-") as work:
        node_dir = Path(work) / "620302"
        subprocess.run(shangliang("init", str(node_dir), "--id", "620302", "--name", "金川区政协", "--url",
                                  "http://127.0.0.1:5999"), check=True, env=clean_env(), capture_output=True)

        def build() -> float:
            started = time.process_time()
            app = create_app(node_dir)
            spent = time.process_time() - started
            app.extensions["shangliang.db"].engine.dispose()
            return spent

        first = build()
        rounds = []
        for _ in range(args.rounds):
            rounds.append(sum(build() for _ in range(args.apps)) / args.apps)
    print(json.dumps({"first_app_cpu_ms": round(first * 1000, 1),
                      "later_app_cpu_ms": round(median(rounds) * 1000, 1),
                      "later_app_cpu_ms_rounds": [round(r * 1000, 1) for r in rounds],
                      "apps_per_round": args.apps}))


if __name__ == "__main__":
    main()
