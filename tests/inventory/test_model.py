"""Merging findings into an inventory: deterministic, evidence-preserving, round-trippable."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest
from aibom_sample import sample_findings, sample_inventory

from tutela.inventory.interface import (
    Confidence,
    DiscoveryError,
    Finding,
    ItemKind,
    Location,
    Problem,
)
from tutela.inventory.model import Inventory, Item, is_pinned

T = datetime(2026, 1, 1, tzinfo=UTC)


def _f(
    identity: str,
    path: str,
    line: int | None = None,
    *,
    kind: ItemKind = ItemKind.PACKAGE,
    confidence: Confidence = Confidence.INFERRED,
    version: str | None = None,
    detector: str = "d",
    **props: object,
) -> Finding:
    return Finding(
        kind=kind,
        identity=identity,
        name=identity.rsplit("/", 1)[-1],
        confidence=confidence,
        location=Location(path, line),
        detector=detector,
        version=version,
        properties=dict(props),
    )


def _merge(*findings: Finding) -> Inventory:
    return Inventory.merge(findings, root="r", generated_at=T, tool_version="1")


def test_findings_with_same_kind_and_identity_become_one_item() -> None:
    """Two findings of pypi/x merge; the same identity under another kind stays apart."""
    inv = _merge(
        _f("pypi/x", "a.py", 1), _f("pypi/x", "b.py", 2), _f("pypi/x", "c", kind=ItemKind.FRAMEWORK)
    )
    assert [i.key() for i in inv.items] == ["framework:pypi/x", "package:pypi/x"]
    (package,) = inv.by_kind(ItemKind.PACKAGE)
    assert [str(loc) for loc in package.locations] == ["a.py:1", "b.py:2"]


def test_merge_does_not_depend_on_finding_order() -> None:
    """Shuffling the findings gives the same inventory, item for item."""
    findings = sample_findings()
    expected = sample_inventory().to_dict()
    for seed in range(5):
        shuffled = findings[:]
        random.Random(seed).shuffle(shuffled)
        inv = Inventory.merge(
            shuffled, root="/src/demo-app", generated_at=expected_time(), tool_version="0.1.0"
        )
        assert inv.to_dict() == expected


def expected_time() -> datetime:
    return datetime.fromisoformat(sample_inventory().to_dict()["generated_at"])


def test_items_sorted_by_kind_then_identity() -> None:
    """Kinds in ItemKind order (models first), identities alphabetical within a kind."""
    inv = sample_inventory()
    order = list(ItemKind)
    keys = [(order.index(i.kind), i.identity) for i in inv.items]
    assert keys == sorted(keys)
    assert inv.items[0].kind is ItemKind.MODEL


def test_confidence_is_declared_when_any_finding_is() -> None:
    """One declared finding among inferred ones makes the item declared; none keeps it inferred."""
    inv = _merge(
        _f("pypi/a", "x.py"),
        _f("pypi/a", "req.txt", 1, confidence=Confidence.DECLARED),
        _f("pypi/b", "y.py"),
    )
    a, b = inv.items
    assert a.confidence is Confidence.DECLARED
    assert b.confidence is Confidence.INFERRED


def test_locations_sorted_and_deduplicated_detectors_unique() -> None:
    """The same place seen by two detectors is one location; the detectors are both kept."""
    inv = _merge(
        _f("pypi/a", "z.py", 3, detector="two"),
        _f("pypi/a", "z.py", 3, detector="one"),
        _f("pypi/a", "a.py", 10),
        _f("pypi/a", "z.py", None),
        _f("pypi/a", "z.py", 2, detector="one"),
    )
    (item,) = inv.items
    assert item.locations == [
        Location("a.py", 10),
        Location("z.py", None),
        Location("z.py", 2),
        Location("z.py", 3),
    ]
    assert item.detectors == ["d", "one", "two"]


def test_properties_first_value_wins_and_lists_are_unioned() -> None:
    """Scalars: the value from the first location wins; lists: union in order of appearance."""
    inv = _merge(
        _f("pypi/a", "b.py", task="second", tags=["y", "z"]),
        _f("pypi/a", "a.py", task="first", tags=["x", "y"], only_here=1),
    )
    (item,) = inv.items
    assert item.properties == {"task": "first", "tags": ["x", "y", "z"], "only_here": 1}


def test_declared_pinned_version_wins() -> None:
    """Declared beats inferred, then a pin beats a range, whatever the order of arrival."""
    inv = _merge(
        _f("pypi/a", "a.py", version="9.9.9"),  # inferred
        _f("pypi/a", "b.txt", confidence=Confidence.DECLARED, version=">=1.0"),
        _f("pypi/a", "c.lock", confidence=Confidence.DECLARED, version="1.2.3"),
        _f("pypi/a", "d.py"),  # no version
    )
    assert inv.items[0].version == "1.2.3"
    only_range = _merge(_f("pypi/b", "b.txt", confidence=Confidence.DECLARED, version=">=1.0"))
    assert only_range.items[0].version == ">=1.0"
    none = _merge(_f("pypi/c", "c.py"))
    assert none.items[0].version is None


def test_declared_name_is_preferred() -> None:
    """An item is named as its declaration names it, not as code spelt it."""
    inv = sample_inventory()
    (te,) = [i for i in inv.items if i.identity == "pypi/typing-extensions"]
    assert te.name == "typing-extensions"
    assert te.version == "4.12.2"


@pytest.mark.parametrize(
    ("version", "pinned"),
    [
        ("1.2.3", True),
        ("==1.2.3", True),
        ("===1.0", True),
        ("sha256:" + "a" * 64, True),
        (">=1.0", False),
        ("~=1.2", False),
        ("^1.2", False),
        ("1.*", False),
        (">=1,<2", False),
        ("", False),
        (None, False),
    ],
)
def test_is_pinned(version: str | None, pinned: bool) -> None:
    """A pin names exactly one release; a range or wildcard does not."""
    assert is_pinned(version) is pinned


def test_inventory_round_trips_through_json() -> None:
    """to_dict -> JSON -> from_dict gives back an equal inventory."""
    inv = Inventory.merge(
        sample_findings(),
        [Problem("b.json", "bad"), Problem("a.yaml", "too deep"), Problem("b.json", "bad")],
        root="/src/demo-app",
        generated_at=T,
        tool_version="0.1.0",
    )
    assert [p.path for p in inv.problems] == ["a.yaml", "b.json"]
    again = Inventory.from_dict(json.loads(json.dumps(inv.to_dict())))
    assert again == inv
    assert again.to_dict() == inv.to_dict()


@pytest.mark.parametrize(
    "data",
    [
        {"schema": "other/1"},
        [],
        {"schema": "tutela.inventory/1", "root": "r"},
        {
            "schema": "tutela.inventory/1",
            "root": "r",
            "generated_at": "2026-01-01T00:00:00+00:00",
            "tool_version": "1",
            "problems": [],
            "items": [{"kind": "nonsense", "identity": "x"}],
        },
    ],
)
def test_from_dict_rejects_malformed_data_with_one_line(data: object) -> None:
    """Malformed stored data is a DiscoveryError with a one-line diagnostic, not a traceback."""
    with pytest.raises(DiscoveryError) as caught:
        Inventory.from_dict(data)  # type: ignore[arg-type]
    assert "\n" not in caught.value.diagnostics()


def test_empty_merge_and_item_key() -> None:
    """No findings give an empty inventory; a key is kind:identity."""
    assert _merge().items == []
    item = Item.from_findings([_f("hf/org/m", "a.py", kind=ItemKind.MODEL)])
    assert item.key() == "model:hf/org/m"
    with pytest.raises(DiscoveryError):
        Item.from_findings([])


def test_merge_defaults_fill_time_and_version() -> None:
    """Without explicit values, the time is now (UTC) and the tool version is known."""
    inv = Inventory.merge([_f("pypi/a", "a.py")])
    assert inv.generated_at.tzinfo is not None
    assert inv.tool_version
