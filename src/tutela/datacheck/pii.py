"""PII columns, found from a sample of values; values are never reported, only rates.

Each value is matched against patterns whose false-positive rate is cut by a check the
format itself defines: card numbers must pass the Luhn checksum (ISO/IEC 7812) and start
with a known issuer prefix; IBANs must have their country's length and pass ISO 7064
mod 97-10; US SSNs exclude the area/group/serial numbers the SSA never issues; IP
addresses must parse (``ipaddress``). A column is reported when at least
``MIN_RATE`` of its sampled non-empty values match and at least ``MIN_MATCHES`` do.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from typing import Any, Final

from tutela.datacheck.interface import Finding, FindingKind, Severity

__all__ = ["PII_TYPES", "find_pii", "iban_valid", "luhn_valid", "pii_type_of"]

SAMPLE: Final = 1000
MIN_RATE: Final = 0.3
MIN_MATCHES: Final = 3
_MAX_VALUE_LEN: Final = 4096

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}")
_PHONE = re.compile(
    r"\+[1-9]\d{0,2}[\s.\-]?(\(?\d{1,4}\)?[\s.\-]?){2,5}\d{2,4}"  # international, with +
    r"|\(?\d{3}\)?[\s.\-]\d{3}[\s.\-]\d{4}"  # North American with separators
)
_CARD = re.compile(r"(?<!\d)(\d[ \-]?){12,18}\d(?!\d)")
_SSN = re.compile(r"(?<!\d)(\d{3})-(\d{2})-(\d{4})(?!\d)")
_IBAN = re.compile(r"\b([A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30})\b")
_IBAN_LENGTHS: Final = {
    "AD": 24,
    "AT": 20,
    "BE": 16,
    "BG": 22,
    "CH": 21,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "EE": 20,
    "ES": 24,
    "FI": 18,
    "FR": 27,
    "GB": 22,
    "GR": 27,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IS": 26,
    "IT": 27,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "MC": 27,
    "MT": 31,
    "NL": 18,
    "NO": 15,
    "PL": 28,
    "PT": 25,
    "RO": 24,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "TR": 26,
}


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _issuer_prefix(digits: str) -> bool:
    # Visa, Mastercard (51-55, 2221-2720), Amex, Discover, JCB, Diners, UnionPay.
    two, four = int(digits[:2]), int(digits[:4])
    return (
        digits[0] == "4"
        or 51 <= two <= 55
        or 2221 <= four <= 2720
        or two in (34, 37, 36, 38, 62, 65)
        or four == 6011
        or 3528 <= four <= 3589
        or 300 <= int(digits[:3]) <= 305
    )


def _card(text: str) -> bool:
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if 13 <= len(digits) <= 19 and _issuer_prefix(digits) and luhn_valid(digits):
            return True
    return False


def iban_valid(candidate: str) -> bool:
    code = candidate.replace(" ", "").upper()
    if _IBAN_LENGTHS.get(code[:2]) != len(code):
        return False
    moved = code[4:] + code[:4]
    number = "".join(str(int(ch, 36)) for ch in moved)
    return int(number) % 97 == 1


def _iban(text: str) -> bool:
    return any(iban_valid(m.group(1)) for m in _IBAN.finditer(text.upper()))


def _ssn(text: str) -> bool:
    for match in _SSN.finditer(text):
        area, group, serial = match.groups()
        if area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000":
            return True
    return False


def _ip(text: str) -> bool:
    token = text.strip()
    if not token or len(token) > 45 or not (":" in token or token.count(".") == 3):
        return False
    try:
        address = ipaddress.ip_address(token)
    except ValueError:
        return False
    return not (address.version == 6 and token.count(":") < 2)


def _email(text: str) -> bool:
    return _EMAIL.search(text) is not None


def _phone(text: str) -> bool:
    token = text.strip()
    if _PHONE.fullmatch(token) is None:
        return False
    digits = sum(ch.isdigit() for ch in token)
    return 7 <= digits <= 15


PII_TYPES: Final[dict[str, Callable[[str], bool]]] = {
    "email": _email,
    "credit_card": _card,
    "iban": _iban,
    "us_ssn": _ssn,
    "ip_address": _ip,
    "phone": _phone,
}


def pii_type_of(text: str) -> list[str]:
    """Every PII type the text matches (used on sampled values only)."""
    return [name for name, test in PII_TYPES.items() if test(text[:_MAX_VALUE_LEN])]


def _sample(series: Any, seed: int) -> list[str]:
    import pandas as pd

    if pd.api.types.is_float_dtype(series) or pd.api.types.is_bool_dtype(series):
        return []  # floats and flags never carry these identifiers
    values = series.dropna()
    if len(values) > SAMPLE:
        values = values.sample(SAMPLE, random_state=seed)
    if pd.api.types.is_integer_dtype(values):
        values = values.astype("int64").astype(str)  # card numbers stored as integers
    texts = [str(v) for v in values.to_numpy(dtype=object)]
    return [t for t in texts if t.strip()]


def find_pii(frame: Any, columns: Sequence[str], *, seed: int = 0) -> list[Finding]:
    findings: list[Finding] = []
    for name in columns:
        texts = _sample(frame[name], seed)
        if not texts:
            continue
        hits = {key: 0 for key in PII_TYPES}
        for text in texts:
            for key in pii_type_of(text):
                hits[key] += 1
        for key, count in hits.items():
            rate = count / len(texts)
            if count < MIN_MATCHES or rate < MIN_RATE:
                continue
            if key == "phone" and hits["credit_card"] >= count:
                continue  # digit groups that are card numbers are not also phones
            findings.append(
                Finding(
                    kind=FindingKind.PII,
                    check=f"pii.{key}",
                    severity=Severity.HIGH,
                    message=f"column {name!r} holds {key.replace('_', ' ')} values "
                    f"({rate:.0%} of {len(texts)} sampled values)",
                    rows=[],
                    row_count=0,
                    columns=[name],
                    details={
                        "pii_type": key,
                        "match_rate": round(rate, 4),
                        "sampled": len(texts),
                        "matches": count,
                    },
                )
            )
    return findings
