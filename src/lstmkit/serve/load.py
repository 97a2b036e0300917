"""A bounded load test of a running ``lstmkit serve``, on loopback only.

``python -m lstmkit.serve.load URL --body FILE [--requests 1000] [--max-seconds 60]
[--concurrency 1]`` POSTs the JSON in FILE to URL (``http://127.0.0.1:PORT/predict`` or
``/stream``) ``--requests`` times, each client thread on one kept-alive connection, after
``--warmup`` requests that are not counted, and stops early at ``--max-seconds``. It prints one
summary line to stderr and one JSON object to stdout: requests, errors (non-2xx answers),
seconds, requests_per_s, p50_ms, p90_ms, p99_ms, max_ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import numpy as np

from lstmkit.errors import ConfigError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def run_load(
    url: str,
    body: bytes,
    *,
    requests: int = 1000,
    max_seconds: float = 60.0,
    concurrency: int = 1,
    warmup: int = 10,
) -> dict[str, Any]:
    """POST ``body`` to ``url`` ``requests`` times (loopback only); the summary as a dict."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK or parts.port is None:
        raise ConfigError(
            f"the load test runs on loopback only: expected http://127.0.0.1:PORT/PATH, got {url!r}"
        )
    for name, value in (("requests", requests), ("concurrency", concurrency)):
        if value < 1:
            raise ConfigError(f"{name} must be >= 1, got {value}")
    if not max_seconds > 0:
        raise ConfigError(f"max_seconds must be > 0, got {max_seconds}")
    host, port, path = parts.hostname, parts.port, parts.path or "/"
    headers = {"Content-Type": "application/json"}
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    remaining = [requests]
    deadline = [0.0]

    def one(conn: http.client.HTTPConnection) -> int:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status

    def client() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            while True:
                with lock:
                    if remaining[0] <= 0 or time.monotonic() > deadline[0]:
                        return
                    remaining[0] -= 1
                start = time.perf_counter()
                status = one(conn)
                took = time.perf_counter() - start
                with lock:
                    latencies.append(took)
                    if not 200 <= status < 300:
                        errors[0] += 1
        finally:
            conn.close()

    warm = http.client.HTTPConnection(host, port, timeout=30)
    try:
        for _ in range(warmup):
            one(warm)
    finally:
        warm.close()
    deadline[0] = time.monotonic() + max_seconds
    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    ms = np.array(latencies) * 1000.0
    return {
        "url": url,
        "requests": len(latencies),
        "errors": errors[0],
        "concurrency": concurrency,
        "seconds": round(seconds, 3),
        "requests_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p90_ms": round(float(np.percentile(ms, 90)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "max_ms": round(float(ms.max()), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lstmkit.serve.load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("url", help="http://127.0.0.1:PORT/predict or .../stream")
    parser.add_argument("--body", required=True, help="file holding the JSON body to POST")
    parser.add_argument("--requests", type=int, default=1000, help="requests (default 1000)")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time cap (default 60)")
    parser.add_argument("--concurrency", type=int, default=1, help="client threads (default 1)")
    parser.add_argument("--warmup", type=int, default=10, help="uncounted requests (default 10)")
    args = parser.parse_args(argv)
    try:
        report = run_load(
            args.url,
            Path(args.body).read_bytes(),
            requests=args.requests,
            max_seconds=args.max_seconds,
            concurrency=args.concurrency,
            warmup=args.warmup,
        )
    except (ConfigError, OSError) as err:
        print(f"lstmkit.serve.load: error: {err}", file=sys.stderr)
        return 2 if isinstance(err, ConfigError) else 1
    print(
        f"{report['requests']} requests in {report['seconds']} s: {report['requests_per_s']} "
        f"requests/s, p50 {report['p50_ms']} ms, p99 {report['p99_ms']} ms, "
        f"{report['errors']} errors",
        file=sys.stderr,
    )
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
