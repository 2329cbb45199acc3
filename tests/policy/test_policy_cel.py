"""CEL expressions: parse errors name file:line, references come from the parse tree,
values cross into CEL and back, and evaluation problems are results, not exceptions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tutela.errors import InputError, LimitExceeded
from tutela.facts.cel import MAX_EXPRESSION_CHARS, compile_expression


def test_references_are_read_from_the_parse_tree() -> None:
    """Macro variables are not facts; literal map keys are part of the path."""
    expr = compile_expression(
        "has(arena.asr.prompt_injection) && approvals.roles.exists(r, r == 'risk-officer')"
        " && scan.findings_at_or_above['high'] == 0 && size(lineage.gaps) == 0"
        " && services.without_canary.all(s, s.startsWith('service:'))"
    )
    assert expr.references() == {
        "arena.asr",
        "approvals.roles",
        "scan.findings_at_or_above",
        "lineage.gaps",
        "services.without_canary",
    }
    assert "arena.asr.prompt_injection" in expr.paths()
    assert "scan.findings_at_or_above.high" in expr.paths()


def test_dynamic_index_is_walked_not_taken_as_a_key() -> None:
    expr = compile_expression("scan.findings_at_or_above[asset.risk_tier] == 0")
    assert expr.paths() == {"scan.findings_at_or_above", "asset.risk_tier"}


def test_evaluate_converts_values_both_ways() -> None:
    """Python ints, floats, lists, maps and datetimes go in; plain Python comes out."""
    now = datetime.now(UTC)
    activation = {
        "scan": {"open_findings": 0, "age_days": 1.5, "last_scan_at": now},
        "asset": {"tags": ["pii", "prod"]},
        "arena": {"asr": {"prompt_injection": 0.02}},
    }
    assert (
        compile_expression(
            "scan.open_findings == 0 && scan.age_days < 7.0 && 'pii' in asset.tags"
            " && arena.asr.prompt_injection <= 0.05"
            " && scan.last_scan_at > timestamp('2020-01-01T00:00:00Z')"
        )
        .evaluate(activation)
        .value
        is True
    )
    assert compile_expression("asset.tags").evaluate(activation).value == ["pii", "prod"]
    assert compile_expression("arena.asr").evaluate(activation).value == {"prompt_injection": 0.02}
    moment = compile_expression("scan.last_scan_at + duration('3600s')").evaluate(activation)
    assert moment.value == now.replace(microsecond=now.microsecond) + timedelta(hours=1)


def test_missing_map_key_is_a_typed_result_naming_the_fact() -> None:
    """No Arena run: the key is absent; the result says which fact, and nothing raises."""
    result = compile_expression("arena.asr.prompt_injection <= 0.05").evaluate(
        {"arena": {"asr": {}}}
    )
    assert not result.ok and result.value is None
    assert result.error == "fact arena.asr.prompt_injection is missing (no evidence)"
    assert result.missing == ("arena.asr.prompt_injection",)


def test_evaluation_errors_do_not_raise() -> None:
    result = compile_expression("scan.open_findings / 0 == 1").evaluate(
        {"scan": {"open_findings": 3}}
    )
    assert not result.ok and "divide by zero" in (result.error or "")
    mixed = compile_expression("scan.open_findings == 'x'").evaluate({"scan": {"open_findings": 3}})
    assert mixed.ok or mixed.error  # either CEL answer is a result, not an exception


def test_syntax_error_names_file_and_line() -> None:
    """The error sits on the expression's second line: reported at line + 1."""
    with pytest.raises(InputError) as caught:
        compile_expression("scan.scanned &&\n  scan.open_findings <", source="p.yaml", line=10)
    message = caught.value.diagnostics()
    assert message.startswith("p.yaml:11: CEL syntax error")
    assert "unexpected end of expression" in message
    with pytest.raises(InputError, match="unexpected character"):
        compile_expression("scan.scanned $ true")


def test_limits() -> None:
    with pytest.raises(LimitExceeded):
        compile_expression("true && " * (MAX_EXPRESSION_CHARS // 8) + "true")
    with pytest.raises(InputError, match="empty"):
        compile_expression("   ")
    with pytest.raises(LimitExceeded, match="nested too deeply"):
        compile_expression("(" * 200 + "true" + ")" * 200)
    chain = compile_expression(" && ".join(["scan.scanned"] * 250))  # deep, but allowed
    assert chain.evaluate({"scan": {"scanned": True}}).value is True
