"""Ledger throughput on SQLite: batched appends, one-per-transaction appends, verification.

Not a test. Run: .venv/bin/python bench/ledger.py [--entries 1000000]
Goals (issue 2): >= 10,000 batched appends/s and >= 200,000 verified entries/s.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from tutela.ledger.log import LedgerWriter
from tutela.workspace import Workspace


def _payload(i: int) -> dict[str, object]:
    # Shaped like a real evidence summary: a few keys, a digest, a short list.
    return {
        "asset": f"model:m{i % 97}",
        "digest": f"sha256:{i:064x}",
        "severity": ["info", "low", "medium", "high"][i % 4],
        "findings": [{"rule": "pickle.unknown-import", "offset": i}],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--single", type=int, default=2_000, help="one-per-transaction appends")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, Workspace.init(Path(tmp)) as ws:
        key = ws.signing_key()
        # Batched: many appends per transaction, one checkpoint per transaction, as a
        # bulk import or a large scan records them.
        start = time.perf_counter()
        done = 0
        while done < args.entries:
            n = min(args.batch, args.entries - done)
            with ws.db.write() as session:
                writer = LedgerWriter(session, actor="bench")
                for i in range(done, done + n):
                    writer.append("bench.append", "model:bench", _payload(i))
                writer.checkpoint(key)
            done += n
        batched = time.perf_counter() - start

        # One entry per transaction, through the same path every CLI command uses
        # (transaction + ledger entry + signed checkpoint + witness line).
        start = time.perf_counter()
        for i in range(args.single):
            with ws.transaction(actor="bench") as tx:
                tx.record("bench.single", "model:bench", _payload(i))
        single = time.perf_counter() - start

        start = time.perf_counter()
        report = ws.verify()
        verify = time.perf_counter() - start
        assert report.ok, report.summary()

        db_size = ws.layout.sqlite.stat().st_size
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = report.entries
    print(f"entries in ledger            {total:,}")
    print(
        f"batched appends ({args.batch}/tx)   {args.entries / batched:,.0f} entries/s "
        f"({batched:.1f} s for {args.entries:,})"
    )
    print(
        f"one-per-transaction appends  {args.single / single:,.0f} entries/s "
        f"({single:.1f} s for {args.single:,}; includes a signed checkpoint each)"
    )
    print(f"verify                       {total / verify:,.0f} entries/s ({verify:.2f} s)")
    print(f"database size                {db_size / 1e6:,.0f} MB; peak RSS {rss:,.0f} MB")


if __name__ == "__main__":
    main()
