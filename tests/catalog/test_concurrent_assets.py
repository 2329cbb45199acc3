"""First-writer-wins registration under real concurrency, on both databases.

Sixteen workspaces (one per thread, as sixteen server workers or processes would have)
record evidence on the same new asset at the same instant. Every write must succeed,
the asset must be registered exactly once, and the ledger must still verify.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tutela.catalog.assets import add_asset
from tutela.catalog.evidence import record_on_asset
from tutela.ledger.log import iter_entries
from tutela.store.models import Asset, Evidence, Version
from tutela.workspace import Workspace

WRITERS = 16
ASSET = "model:race/new-model"
DIGEST = "sha256:" + "ab" * 32


def _race(root: Path, *, version_digest: str | None) -> list[BaseException]:
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        ws = Workspace.open(root)
        try:
            barrier.wait(timeout=60)
            record_on_asset(
                ws,
                asset_id=ASSET,
                description="met by a producer",
                tags=["race"],
                kind="scan",
                producer="test.race",
                payload={"writer": n},
                version_digest=version_digest,
            )
        except BaseException as exc:  # collected: a thread's failure must fail the test
            with lock:
                errors.append(exc)
        finally:
            ws.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return errors


def _actions(ws: Workspace) -> list[tuple[str, str]]:
    with ws.reader() as session:
        out = []
        for entry in iter_entries(session):
            body = json.loads(entry.body)
            out.append((body["action"], body["subject"]))
        return out


@pytest.mark.parametrize(
    ("version_digest", "asset_exists"),
    [(None, False), (DIGEST, False), (DIGEST, True)],
    ids=["new-asset", "new-asset+version", "new-version"],
)
def test_concurrent_first_writers_register_once(
    tmp_path: Path, db_url: str | None, version_digest: str | None, asset_exists: bool
) -> None:
    with Workspace.init(tmp_path, database_url=db_url) as ws:
        if asset_exists:
            add_asset(ws, ASSET)

    errors = _race(tmp_path, version_digest=version_digest)

    assert errors == [], [f"{type(e).__name__}: {e} {getattr(e, 'found', '')}" for e in errors]
    with Workspace.open(tmp_path) as ws:
        with ws.reader() as session:
            assert session.execute(select(func.count()).select_from(Asset)).scalar_one() == 1
            evidence = session.execute(select(func.count()).select_from(Evidence)).scalar_one()
            assert evidence == WRITERS
            versions = session.execute(select(func.count()).select_from(Version)).scalar_one()
            assert versions == (1 if version_digest else 0)
        actions = _actions(ws)
        assert actions.count(("asset.add", ASSET)) == 1
        assert sum(a == "version.add" for a, _ in actions) == (1 if version_digest else 0)
        assert sum(a.startswith("evidence.") for a, _ in actions) == WRITERS
        report = ws.verify()
        assert report.ok, report.problems
