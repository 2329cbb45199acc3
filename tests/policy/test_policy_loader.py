"""Loading policies: the default is valid, and each malformed file is rejected with
file:line and a reason before anything is evaluated."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

from tutela.errors import LimitExceeded
from tutela.facts.collect import fact_catalogue
from tutela.facts.interface import FactSpec
from tutela.policy.loader import MAX_FILE_BYTES, PolicyError, load_policy
from tutela.workspace import Workspace

DEFAULT = Path(str(files("tutela.policy").joinpath("default_policy.yaml")))


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FactSpec]:
    """The real catalogue of the installed fact providers."""
    ws = Workspace.init(tmp_path_factory.mktemp("catalogue"))
    try:
        return fact_catalogue(ws)
    finally:
        ws.close()


def _problems(tmp_path: Path, text: str, catalogue: dict[str, FactSpec]) -> list[str]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(text)
    with pytest.raises(PolicyError) as caught:
        load_policy(policy, catalogue)
    prefix = f"{policy}:"
    assert caught.value.diagnostics().startswith(prefix)
    return [str(p).removeprefix(prefix) for p in caught.value.problems]


def test_default_policy_is_valid(catalogue: dict[str, FactSpec]) -> None:
    policy = load_policy(DEFAULT, catalogue)
    ids = [r.id for r in policy.rules]
    assert ids == [
        "tier.not-prohibited",
        "scan.no-high-findings",
        "arena.evaluated",
        "arena.prompt-injection",
        "lineage.complete",
        "data.no-high-findings",
        "drift.monitored",
        "services.canary",
        "approvals.two-roles",
    ]
    assert all(r.rule.controls for r in policy.rules)
    assert next(iter(policy.digests().values())).startswith("sha256:")
    assert policy.rules[2].references() == {"arena.evaluated", "arena_ml.evaluated"}
    arena = policy.rules[3]
    assert arena.references() == {"arena.asr", "arena.evaluated", "asset.tags"}
    assert arena.location() == f"{DEFAULT}:{arena.line}"


RULE = "rules:\n  - id: r1\n    message: m\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("    expr: [scan.scanned\n", "5: bad YAML: expected ',' or ']'"),
        ("    expr: scan.scaned\n", "4: unknown fact 'scan.scaned' (did you mean scan.scanned?)"),
        ("    expr: secrets.leaked\n", "4: unknown fact 'secrets.leaked'"),
        ("    expr: scan.scanned.value\n", "4: fact scan.scanned is a bool, not a map"),
        ("    expr: size(scan) > 0\n", "4: scan is a namespace"),
        (
            "    expr: scan.scanned &&& true\n",
            "4: CEL syntax error at column 16: unexpected character '&'",
        ),
        (
            "    expr: |\n      scan.scanned &&\n      scan.open_findings ==\n",
            "6: CEL syntax error at column 20: unexpected end of expression",
        ),
        ("    expr: scan.open_findings + 1\n", "4: rule cannot return a boolean: it is arithmetic"),
        (
            "    expr: scan.max_severity\n",
            "4: rule cannot return a boolean: fact scan.max_severity",
        ),
        ("    expr: \"'high'\"\n", "4: rule cannot return a boolean: it is a string literal"),
        ("    expr: lineage.gaps.size()\n", "4: rule cannot return a boolean: .size() does not"),
        (
            "    expr: \"scan.scanned ? 'yes' : false\"\n",
            "4: rule cannot return a boolean: a branch of ?: is not a boolean",
        ),
        (
            "    expr: '[scan.open_findings][0]'\n",
            "4: rule cannot return a boolean: it returns an integer",
        ),
        (
            "    all_of:\n      - scan.scanned\n      - scan.open_findings\n",
            "6: rule cannot return",
        ),
        ("    any_of:\n      - expr: scan.scanned\n        bogus: 1\n", "6: unknown key 'bogus'"),
        ("    exp: scan.scanned\n", "4: unknown key 'exp'"),
        ("    expr: scan.scanned\n    all_of: [scan.scanned]\n", "2: rules.0: give exactly one"),
        ("    all_of: []\n    \n", "2: rules.0: all_of is empty"),
        (
            "    applies_to: {tiers: [hgh]}\n    expr: scan.scanned\n",
            "4: rules.0.applies_to.tiers.0",
        ),
        (
            "    applies_to: {stages: [qa]}\n    expr: scan.scanned\n",
            "4: rules.0.applies_to.stages.0",
        ),
        ("    expr: scan.scanned\n    expr: lineage.known\n", "5: duplicate key 'expr'"),
        ("    expr: scan.scanned\n    controls: *x\n", "5: YAML aliases (*name) are not allowed"),
        (
            "    expr: scan.scanned\n    description: !!python/object/apply:os.system [id]\n",
            "5: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed",
        ),
        ("    expr: 2027-01-01\n", "4: YAML reads '2027-01-01' as a timestamp; quote it"),
        ("    all_of: [3]\n", "4: rules.0.all_of.0: Input should be a valid dictionary"),
    ],
)
def test_malformed_rules_rejected_with_line_and_reason(
    tmp_path: Path, catalogue: dict[str, FactSpec], body: str, expected: str
) -> None:
    problems = _problems(tmp_path, RULE + body, catalogue)
    assert problems[0].startswith(expected), problems


def test_bad_top_level(tmp_path: Path, catalogue: dict[str, FactSpec]) -> None:
    assert _problems(tmp_path, "- just\n- a list\n", catalogue) == [
        "1: a policy file is a mapping with `rules:`"
    ]
    assert _problems(tmp_path, "version: 2\nrules: []\n", catalogue)[0].startswith("1: version")
    assert _problems(tmp_path, "rule:\n  - id: x\n", catalogue)[0] == "1: unknown key 'rule'"
    bad_id = _problems(tmp_path, RULE.replace("r1", "Has Spaces") + "    expr: true\n", catalogue)
    assert bad_id[0].startswith("2: rules.0.id: a rule id is lower-case")


def test_duplicate_ids_across_a_folder(tmp_path: Path, catalogue: dict[str, FactSpec]) -> None:
    folder = tmp_path / "tutela.policy"
    folder.mkdir()
    (folder / "a.yaml").write_text(RULE + "    expr: scan.scanned\n")
    (folder / "b.yml").write_text("version: 1\n" + RULE + "    expr: lineage.known\n")
    (folder / "notes.txt").write_text("ignored")
    with pytest.raises(PolicyError) as caught:
        load_policy(folder, catalogue)
    (problem,) = caught.value.problems
    assert str(problem) == (
        f"{folder / 'b.yml'}:3: duplicate rule id 'r1' (first defined at {folder / 'a.yaml'}:2)"
    )
    (folder / "b.yml").write_text(RULE.replace("r1", "r2") + "    expr: lineage.known\n")
    policy = load_policy(folder, catalogue)
    assert [r.id for r in policy.rules] == ["r1", "r2"] and len(policy.sources) == 2


def test_every_problem_is_collected(tmp_path: Path, catalogue: dict[str, FactSpec]) -> None:
    text = (
        RULE
        + "    expr: scan.nope\n"
        + RULE.replace("rules:\n", "").replace("r1", "r2")
        + ("    expr: 1 + 1\n")
    )
    problems = _problems(tmp_path, text, catalogue)
    assert [p.split(":")[0] for p in problems] == ["4", "7"]


def test_limits(tmp_path: Path, catalogue: dict[str, FactSpec]) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * MAX_FILE_BYTES + "\nrules: []\n")
    with pytest.raises(LimitExceeded, match="too large"):
        load_policy(big, catalogue)
    deep = "rules:\n  - id: r1\n    message: m\n    expr: scan.scanned\n    description: " + (
        "[" * 40 + "]" * 40 + "\n"
    )
    problems = _problems(tmp_path, deep, catalogue)
    assert "nested deeper than" in problems[0]


def test_empty_file_is_a_policy_without_rules(
    tmp_path: Path, catalogue: dict[str, FactSpec]
) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n")
    assert load_policy(empty, catalogue).rules == ()
