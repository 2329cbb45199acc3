"""The ledger detects every kind of tampering, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tutela.ledger.canonical import canonical_json
from tutela.ledger.merkle import CompactRange, leaf_hash
from tutela.ledger.verify import GENESIS, next_chain
from tutela.workspace import Workspace

ENTRIES = 12  # 1 init entry + 11 appended in three transactions

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def filled(workspace: Workspace) -> Iterator[Workspace]:
    for batch in ([1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]):
        with workspace.transaction(actor="tester") as tx:
            for i in batch:
                tx.record("test.append", f"model:m{i}", {"i": i, "note": "é" * i})
    assert workspace.verify().ok
    yield workspace


def _rows(ws: Workspace) -> list[tuple[int, bytes, bytes]]:
    with ws.db.writer.connect() as conn:
        rows = conn.execute(text("SELECT seq, body, chain FROM ledger_entries ORDER BY seq"))
        return [(int(s), bytes(b), bytes(c)) for s, b, c in rows]


def _exec(ws: Workspace, sql: str, **params: object) -> None:
    with ws.db.writer.begin() as conn:
        conn.execute(text(sql), params)


def _restore(ws: Workspace, rows: list[tuple[int, bytes, bytes]]) -> None:
    _exec(ws, "DELETE FROM ledger_entries")
    with ws.db.writer.begin() as conn:
        for seq, body, chain in rows:
            conn.execute(
                text("INSERT INTO ledger_entries (seq, body, chain) VALUES (:s, :b, :c)"),
                {"s": seq, "b": body, "c": chain},
            )


@SETTINGS
@given(data=st.data())
def test_any_single_byte_change_is_detected(filled: Workspace, data: st.DataObject) -> None:
    """Changing one byte of any entry's body or chain hash is caught and names that entry."""
    rows = _rows(filled)
    index = data.draw(st.integers(0, len(rows) - 1), label="entry")
    column = data.draw(st.sampled_from(["body", "chain"]), label="column")
    seq, body, chain = rows[index]
    target = body if column == "body" else chain
    pos = data.draw(st.integers(0, len(target) - 1), label="byte")
    delta = data.draw(st.integers(1, 255), label="xor")
    changed = bytearray(target)
    changed[pos] ^= delta
    _exec(
        filled, f"UPDATE ledger_entries SET {column} = :v WHERE seq = :s", v=bytes(changed), s=seq
    )
    try:
        report = filled.verify()
        assert not report.ok
        assert report.first_bad_seq == seq
    finally:
        _restore(filled, rows)
    assert filled.verify().ok


@SETTINGS
@given(data=st.data())
def test_sequence_number_change_is_detected(filled: Workspace, data: st.DataObject) -> None:
    """Renumbering an entry (a change to its stored seq) is caught."""
    rows = _rows(filled)
    seq = data.draw(st.integers(1, len(rows)), label="entry")
    new = data.draw(st.integers(len(rows) + 1, 10**6), label="new seq")
    _exec(filled, "UPDATE ledger_entries SET seq = :n WHERE seq = :s", n=new, s=seq)
    try:
        report = filled.verify()
        assert not report.ok
        assert report.first_bad_seq == seq
    finally:
        _restore(filled, rows)


@SETTINGS
@given(data=st.data())
def test_deleted_entry_is_detected(filled: Workspace, data: st.DataObject) -> None:
    """Deleting any entry is caught; a deletion inside the log names the missing entry."""
    rows = _rows(filled)
    seq = data.draw(st.integers(1, len(rows)), label="entry")
    _exec(filled, "DELETE FROM ledger_entries WHERE seq = :s", s=seq)
    try:
        report = filled.verify()
        assert not report.ok
        assert report.first_bad_seq == seq
    finally:
        _restore(filled, rows)


@SETTINGS
@given(data=st.data())
def test_swapped_entries_are_detected(filled: Workspace, data: st.DataObject) -> None:
    """Swapping two entries' contents is caught at the earlier of the two."""
    rows = _rows(filled)
    i = data.draw(st.integers(1, len(rows) - 1), label="first")
    j = data.draw(st.integers(i + 1, len(rows)), label="second")
    (_, bi, ci), (_, bj, cj) = rows[i - 1], rows[j - 1]
    _exec(filled, "UPDATE ledger_entries SET body = :b, chain = :c WHERE seq = :s", b=bj, c=cj, s=i)
    _exec(filled, "UPDATE ledger_entries SET body = :b, chain = :c WHERE seq = :s", b=bi, c=ci, s=j)
    try:
        report = filled.verify()
        assert not report.ok
        assert report.first_bad_seq == i
    finally:
        _restore(filled, rows)


def _rewrite_head(ws: Workspace, rows: list[tuple[int, bytes, bytes]]) -> None:
    """What a careful attacker does: make the head row agree with the rows left."""
    frontier, chain = CompactRange(), GENESIS
    for _seq, body, _chain in rows:
        leaf = leaf_hash(body)
        frontier.append(leaf)
        chain = next_chain(chain, leaf)
    _exec(
        ws,
        "UPDATE ledger_head SET size = :n, chain = :c, frontier = :f WHERE id = 1",
        n=len(rows),
        c=chain,
        f=canonical_json(frontier.to_state()).decode(),
    )


@SETTINGS
@given(data=st.data())
def test_truncation_is_detected_even_with_a_consistent_head(
    filled: Workspace, data: st.DataObject
) -> None:
    """Removing the newest entries and fixing up the head row is caught by the checkpoints."""
    rows = _rows(filled)
    keep = data.draw(st.integers(0, len(rows) - 1), label="entries kept")
    with filled.db.writer.connect() as conn:
        head = conn.execute(text("SELECT size, chain, frontier FROM ledger_head")).one()
    _exec(filled, "DELETE FROM ledger_entries WHERE seq > :k", k=keep)
    _rewrite_head(filled, rows[:keep])
    try:
        report = filled.verify()
        assert not report.ok
        assert any(p.kind == "truncated" for p in report.problems)
        assert report.first_bad_seq == keep + 1
    finally:
        _restore(filled, rows)
        _exec(
            filled,
            "UPDATE ledger_head SET size = :n, chain = :c, frontier = :f WHERE id = 1",
            n=head[0],
            c=bytes(head[1]),
            f=head[2] if isinstance(head[2], str) else canonical_json(head[2]).decode(),
        )
    assert filled.verify().ok


def test_truncation_with_checkpoints_deleted_is_caught_by_the_witness(filled: Workspace) -> None:
    """Deleting entries, the head's evidence and every stored checkpoint still fails."""
    rows = _rows(filled)
    _exec(filled, "DELETE FROM ledger_entries WHERE seq > 5")
    _exec(filled, "DELETE FROM ledger_checkpoints")
    _rewrite_head(filled, rows[:5])
    report = filled.verify()
    assert not report.ok
    assert any(p.kind == "truncated" for p in report.problems)


def test_rewritten_history_with_recomputed_chain_is_detected(filled: Workspace) -> None:
    """An edit with every later chain hash recomputed is caught by the signed roots."""
    rows = _rows(filled)
    seq, body, _ = rows[4]
    forged = body.replace(b'"test.append"', b'"test.forged"')
    assert forged != body
    chain = GENESIS if seq == 1 else rows[seq - 2][2]
    new_rows = list(rows[: seq - 1])
    for s, b, _c in rows[seq - 1 :]:
        b = forged if s == seq else b
        chain = next_chain(chain, leaf_hash(b))
        new_rows.append((s, b, chain))
    _restore(filled, new_rows)
    _rewrite_head(filled, new_rows)
    report = filled.verify()
    assert not report.ok
    assert {p.kind for p in report.problems} == {"checkpoint"}


def test_forged_checkpoint_signature_is_detected(filled: Workspace) -> None:
    """A checkpoint whose signature was altered is reported."""
    _exec(filled, "UPDATE ledger_checkpoints SET signature = :s WHERE id = 1", s=bytes(64))
    report = filled.verify()
    assert not report.ok
    assert any(p.kind == "signature" for p in report.problems)
