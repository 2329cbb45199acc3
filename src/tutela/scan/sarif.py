"""SARIF 2.1.0 output, shaped for GitHub code scanning.

Follows the OASIS SARIF 2.1.0 specification and GitHub's documented subset: every result
has a ``region.startLine`` (binary artifacts have no lines, so 1, with ``byteOffset``
for the exact place), ``partialFingerprints`` carry our stable finding fingerprint, and
rules carry ``security-severity`` so GitHub ranks them as security alerts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from tutela.scan.interface import Severity
from tutela.scan.outcome import ScanOutcome, artifact_name, scanner_version
from tutela.scan.rules import all_rules

__all__ = ["SARIF_SCHEMA", "to_sarif"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub maps security-severity > 9.0 to critical, 7.0-8.9 high, 4.0-6.9 medium, else low.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}


def _uri(path: str, outcome: ScanOutcome) -> str:
    """Relative to the scan base when inside it (GitHub matches repository paths), else a
    file URI, which is what SARIF requires of an absolute location."""
    name = artifact_name(path, outcome.base)
    return Path(name).as_uri() if name.startswith("/") else quote(name)


def to_sarif(outcome: ScanOutcome) -> dict[str, Any]:
    rules = all_rules()
    index = {rule.rule_id: i for i, rule in enumerate(rules)}
    descriptors: list[dict[str, Any]] = [
        {
            "id": rule.rule_id,
            "name": rule.rule_id.replace(".", "/"),
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.summary},
            "help": {"text": f"See docs/scan.md, rule {rule.rule_id}, for what to do."},
            "defaultConfiguration": {"level": _LEVEL[rule.severity]},
            "properties": {
                "security-severity": _SECURITY_SEVERITY[rule.severity],
                "tags": ["security", "supply-chain", "model-artifact"],
            },
        }
        for rule in rules
    ]
    results: list[dict[str, Any]] = []
    for report in outcome.reports:
        uri = _uri(report.path, outcome)
        for finding in report.findings:
            if finding.rule_id not in index:  # a plugin's rule: describe it on the fly
                index[finding.rule_id] = len(descriptors)
                descriptors.append(
                    {
                        "id": finding.rule_id,
                        "shortDescription": {"text": finding.message[:200]},
                        "defaultConfiguration": {"level": _LEVEL[finding.severity]},
                        "properties": {"security-severity": _SECURITY_SEVERITY[finding.severity]},
                    }
                )
            fingerprint = outcome.fingerprint(report, finding)
            region: dict[str, Any] = {"startLine": 1}
            if finding.offset is not None:
                region["byteOffset"] = finding.offset
            where = f" in {finding.member}" if finding.member else ""
            result: dict[str, Any] = {
                "ruleId": finding.rule_id,
                "ruleIndex": index[finding.rule_id],
                "level": _LEVEL[finding.severity],
                "message": {"text": f"{finding.message}{where}"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": uri},
                            "region": region,
                        }
                    }
                ],
                "partialFingerprints": {"tutela/finding/v1": fingerprint},
                "properties": {
                    "severity": finding.severity.label(),
                    "member": finding.member,
                    "callable": finding.callable,
                    "argsPreview": finding.args_preview,
                    "artifactDigest": report.digest,
                },
            }
            suppression = outcome.suppressed.get(fingerprint)
            if suppression is not None:
                result["suppressions"] = [
                    {"kind": "external", "status": "accepted", "guid": suppression}
                ]
            results.append(result)
    notifications = [
        {
            "level": "warning",
            "message": {
                "text": f"{report.verdict.value}: {report.error or '; '.join(report.inconclusive)}"
            },
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact_name(report.path, outcome.base)}
                    }
                }
            ],
        }
        for report in outcome.inconclusive()
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "tutela",
                        "semanticVersion": scanner_version(),
                        "rules": descriptors,
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not outcome.inconclusive(),
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
