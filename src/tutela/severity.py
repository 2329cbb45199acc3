"""One severity scale for every producer's findings (scan, data checks, …), so that
``--fail-on`` means the same thing in each command and policies can compare them."""

from __future__ import annotations

from enum import IntEnum

from tutela.errors import InputError

__all__ = ["Severity"]


class Severity(IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise InputError(
                "unknown severity",
                expected="one of critical, high, medium, low, info",
                found=repr(text),
            ) from None

    def label(self) -> str:
        return self.name.lower()
