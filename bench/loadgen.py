"""P2's and P5's load generator: POST each JSON body of a file once on loopback, ``--concurrency`` at a time.

Each request opens its own connection (``Connection: close``), as ``delivery.py`` does with
``requests.post``; it also spreads the load evenly over gunicorn's worker processes. The path is
the inbox's unless ``--path`` names another (P5: ``/api/v1/topics``); ``--header`` adds a header
to every request (P5: the session cookie and the CSRF token). It stops starting requests after
``--seconds`` and reports one JSON line: requests, answers by status, elapsed seconds, accepted
answers (status ``--accept``, 202 by default; P5 201) per second, latency percentiles and its own
CPU time.

    python bench/loadgen.py --port P --file BODIES.ndjson [--concurrency 8] [--seconds 20]
                            [--path /api/v1/topics] [--header "Name: value"]... [--accept 201]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from collections import Counter


async def post(port: int, body: bytes, path: bytes = b"/federation/v1/inbox", headers: bytes = b"") -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n%s"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (path, port, headers, len(body), body))
        status_line = await reader.readline()
        await reader.read()  # the rest, until the server closes
        return int(status_line.split()[1]) if status_line else 0
    finally:
        writer.close()


async def run(port: int, bodies: list[bytes], concurrency: int, seconds: float, path: str = "/federation/v1/inbox",
              headers: tuple[str, ...] | list[str] = (), accept: int = 202) -> dict:
    raw_path = path.encode("ascii")
    raw_headers = b"".join(header.encode("latin-1") + b"\r\n" for header in headers)
    statuses: Counter = Counter()
    latencies: list[float] = []
    queue = iter(bodies)
    start = time.perf_counter()
    deadline = start + seconds

    async def client() -> None:
        for body in queue:
            if time.perf_counter() > deadline:
                return
            began = time.perf_counter()
            try:
                status = await post(port, body, raw_path, raw_headers)
            except OSError:
                status = 0
            latencies.append(time.perf_counter() - began)
            statuses[status] += 1

    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 2) if latencies else None

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"requests": sum(statuses.values()), "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "elapsed_s": round(elapsed, 3), "accepted_per_s": round(statuses[accept] / elapsed, 1),
            "latency_ms": {"p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99)},
            "loadgen_cpu_s": round(usage.ru_utime + usage.ru_stime, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--path", default="/federation/v1/inbox")
    parser.add_argument("--header", action="append", default=[], help='"Name: value", repeatable')
    parser.add_argument("--accept", type=int, default=202, help="the status counted as accepted")
    args = parser.parse_args()
    with open(args.file, "rb") as handle:
        bodies = [line.rstrip(b"\n") for line in handle if line.strip()]
    report = asyncio.run(run(args.port, bodies, args.concurrency, args.seconds, args.path, args.header, args.accept))
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
