"""Four processes appending at once lose no entry and leave a valid chain."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

from tutela.ledger.log import iter_entries
from tutela.workspace import Workspace

WRITERS = 4
TRANSACTIONS = 15
PER_TRANSACTION = 3


def _writer(root: str, writer: int) -> None:
    with Workspace.open(Path(root)) as ws:
        for t in range(TRANSACTIONS):
            with ws.transaction(actor=f"writer-{writer}") as tx:
                for k in range(PER_TRANSACTION):
                    tx.record("test.concurrent", f"model:w{writer}", {"t": t, "k": k})


def test_four_writers_lose_nothing(workspace: Workspace) -> None:
    """Every append from four concurrent processes is present once, in a verifiable chain."""
    root = str(workspace.layout.root)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(root, w)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
        assert p.exitcode == 0
    report = workspace.verify()
    assert report.ok, report.summary()
    assert report.entries == 1 + WRITERS * TRANSACTIONS * PER_TRANSACTION
    with workspace.reader() as session:
        seen = [
            (e.data()["actor"], e.data()["data"]["t"], e.data()["data"]["k"])
            for e in iter_entries(session, start=2)
        ]
    assert len(set(seen)) == len(seen) == WRITERS * TRANSACTIONS * PER_TRANSACTION
    # Entries of one transaction are contiguous: transactions never interleave.
    for start in range(0, len(seen), PER_TRANSACTION):
        chunk = seen[start : start + PER_TRANSACTION]
        assert len({(a, t) for a, t, _ in chunk}) == 1
