"""Load check of the public report path (issue 16): 1,000 residents' reports from 50 clients within one
minute through HTTP (``POST /public/v1/reports`` of a running ``trygghetskarta serve-api``), with the rate
limits holding and nothing lost from legitimate clients.

    .venv/bin/python benchmarks/bench_public.py [--db URL] [--requests 1000] [--clients 50] [--pace 0]

The clients are real TCP clients, each bound to its own loopback address, so the server sees 50 different
client addresses (nothing leaves 127.0.0.0/8):

- legitimate: 45 clients, each in its own /24, each sending fewer reports than the per-client limit
  (``public_rate_client_hour``, default 10): every one must be stored, and its receipt found in the database;
- flooding: 5 clients in one /24 send the rest (about 120 each, in Somali): each may store at most the
  per-client limit and the five together at most the range limit (``public_rate_range_hour``, default 40);
  every other request must be answered 429 with the reason in Somali.

Prints the duration, requests per second, latency percentiles and what was stored per group; exits 1 if an
invariant does not hold or the run took longer than a minute. ``--pace S`` spreads each client's requests
over S seconds instead of sending them as fast as the server answers.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from trygghetskarta import public_texts, settings  # noqa: E402
from trygghetskarta.store import open_store  # noqa: E402

BRO = (17.6405, 59.5252)


@dataclass
class Client:
    address: str
    legit: bool
    count: int
    lang: str
    statuses: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    receipts: list[str] = field(default_factory=list)
    messages: set[str] = field(default_factory=set)


def _clients(total: int, n: int, limit: int) -> list[Client]:
    flooders = 5
    legit = n - flooders
    per_legit = max(limit - 1, 1)
    clients = [Client(f"127.0.{i + 1}.1", True, per_legit, ("sv", "en", "ar", "so")[i % 4]) for i in range(legit)]
    rest = total - legit * per_legit
    for j in range(flooders):
        clients.append(Client(f"127.200.0.{j + 1}", False, rest // flooders + (1 if j < rest % flooders else 0), "so"))
    return clients


def _run(client: Client, host: str, port: int, pace: float, start: threading.Event) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=60, source_address=(client.address, 0))
    gap = pace / client.count if pace else 0.0
    start.wait()
    for i in range(client.count):
        body = json.dumps({"category": "belysning_trasig", "lon": BRO[0] + 0.0001 * (i % 50), "lat": BRO[1],
                           "text": f"Lampan är släckt ({client.address} #{i})", "lang": client.lang,
                           "client_id": str(uuid.uuid4()), "website": ""})
        t0 = time.perf_counter()
        try:
            conn.request("POST", "/public/v1/reports", body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = json.loads(resp.read() or b"{}")
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=60, source_address=(client.address, 0))
            client.statuses.append(0)
            continue
        client.latencies.append(time.perf_counter() - t0)
        client.statuses.append(resp.status)
        if resp.status == 201:
            client.receipts.append(data["receipt_code"])
        else:
            client.messages.add(str(data.get("error")))
        if gap:
            time.sleep(gap)
    conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--pace", type=float, default=0.0, help="spread each client's requests over S seconds")
    args = parser.parse_args()
    from public_support import cli, running_api

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        url = args.db or f"sqlite:///{data / 'bench.sqlite'}"
        cli(data, "init", db_url=url)
        limit = int(settings.get("public_rate_client_hour"))
        range_limit = int(settings.get("public_rate_range_hour"))
        clients = _clients(args.requests, args.clients, limit)
        with running_api(data, url) as api:
            host, port = api.url.removeprefix("http://").split(":")
            start = threading.Event()
            threads = [threading.Thread(target=_run, args=(c, host, int(port), args.pace, start)) for c in clients]
            for th in threads:
                th.start()
            t0 = time.perf_counter()
            start.set()
            for th in threads:
                th.join(300)
            took = time.perf_counter() - t0
        store = open_store(url)
        stored = store.count("finding")
        legit = [c for c in clients if c.legit]
        flood = [c for c in clients if not c.legit]
        lost = [code for c in legit for code in c.receipts if store.public_report(receipt_code=code) is None]
        store.dispose()

    sent = sum(len(c.statuses) for c in clients)
    latencies = np.array([x for c in clients for x in c.latencies]) * 1000
    legit_sent = sum(c.count for c in legit)
    legit_ok = sum(s == 201 for c in legit for s in c.statuses)
    flood_ok = [sum(s == 201 for s in c.statuses) for c in flood]
    flood_429 = sum(s == 429 for c in flood for s in c.statuses)
    failed = sum(s == 0 for c in clients for s in c.statuses)
    somali = public_texts.text("rate_limited", "so")
    print(f"public report path: {sent} requests from {len(clients)} clients in {took:.1f} s "
          f"({sent / took:.0f} requests/s); latency p50 {np.percentile(latencies, 50):.0f} ms, "
          f"p95 {np.percentile(latencies, 95):.0f} ms, max {latencies.max():.0f} ms; connection errors {failed}")
    print(f"legitimate: {len(legit)} clients sent {legit_sent}, stored {legit_ok}, receipts missing from the "
          f"database {len(lost)}")
    print(f"flooding: {len(flood)} clients in one /24 sent {sum(c.count for c in flood)}, stored {sum(flood_ok)} "
          f"(per client {flood_ok}; limits {limit}/client, {range_limit}/range), refused 429: {flood_429}")
    print(f"stored in the database: {stored} (= {legit_ok} + {sum(flood_ok)} accepted)")
    problems = []
    if legit_ok != legit_sent or lost:
        problems.append("a legitimate report was lost")
    if any(n > limit for n in flood_ok) or sum(flood_ok) > range_limit:
        problems.append("a rate limit did not hold")
    if flood_429 + sum(flood_ok) != sum(c.count for c in flood) or {m for c in flood for m in c.messages} != {somali}:
        problems.append("a refused sender was not told why in their language")
    if stored != legit_ok + sum(flood_ok):
        problems.append("the database holds a different number of reports than were accepted")
    if took > 60:
        problems.append(f"the run took {took:.0f} s, more than a minute")
    for p in problems:
        print(f"FAIL: {p}")
    if not problems:
        print("OK: rate limits held, nothing lost from legitimate clients, every refusal said why (in Somali)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
