"""The error hierarchy: every failure a person can act on is a ``TutelaError``.

This is a leaf module (it imports nothing from tutela) so that every package can raise
these without import cycles. The CLI turns an error into one line and ``exit_code``;
the server will turn it into a JSON body. A traceback reaching a user is a bug.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ExitCode",
    "InputError",
    "IntegrityError",
    "InternalError",
    "LimitExceeded",
    "SigningKeyError",
    "StoreError",
    "TutelaError",
    "UsageError",
    "WorkspaceError",
]


class ExitCode:
    """Documented process exit codes (docs/cli.md)."""

    OK = 0
    FINDINGS = 1  # findings at or above the threshold, a failed gate, a failed verification
    USAGE = 2  # bad usage or bad input
    INTERNAL = 3  # a bug: please report it
    INCONCLUSIVE = 4  # something could not be fully inspected and nothing worse was found


class TutelaError(Exception):
    """Root of every error Tutela raises on purpose.

    ``problem`` says what went wrong; ``expected`` and ``found`` make it concrete;
    ``hint`` says what to do. ``subject`` names the file, asset or entry concerned.
    """

    exit_code: ClassVar[int] = ExitCode.USAGE
    code: ClassVar[str] = "error"

    def __init__(
        self,
        problem: str,
        *,
        subject: str | None = None,
        expected: str | None = None,
        found: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(problem)
        self.problem = problem
        self.subject = subject
        self.expected = expected
        self.found = found
        self.hint = hint

    def diagnostics(self) -> str:
        """One line for a person: what, where, expected vs found, and what to do."""
        parts = [f"{self.subject}: {self.problem}" if self.subject else self.problem]
        if self.expected is not None or self.found is not None:
            detail = []
            if self.expected is not None:
                detail.append(f"expected {self.expected}")
            if self.found is not None:
                detail.append(f"found {self.found}")
            parts.append(f"({', '.join(detail)})")
        text = " ".join(parts)
        if self.hint:
            text = f"{text}; {self.hint}"
        return " ".join(text.split())  # guarantee a single line

    def to_dict(self) -> dict[str, str | int | None]:
        return {
            "error": self.code,
            "message": self.diagnostics(),
            "problem": self.problem,
            "subject": self.subject,
            "expected": self.expected,
            "found": self.found,
            "hint": self.hint,
            "exit_code": self.exit_code,
        }


class UsageError(TutelaError):
    """The command or call was given arguments it cannot use."""

    code = "usage"


class InputError(TutelaError):
    """A file or value supplied by the user is malformed or unreadable."""

    code = "input"


class LimitExceeded(InputError):
    """An input is larger, deeper or slower to parse than Tutela's limits allow."""

    code = "limit"


class WorkspaceError(TutelaError):
    """No workspace, a broken workspace, or one that cannot be created."""

    code = "workspace"


class StoreError(TutelaError):
    """The database cannot be opened, migrated or written."""

    code = "store"


class SigningKeyError(TutelaError):
    """The signing or verification key is missing, unreadable or not the expected one."""

    code = "key"


class IntegrityError(TutelaError):
    """Recorded data failed verification: the ledger or a bundle was altered."""

    code = "integrity"
    exit_code = ExitCode.FINDINGS


class InternalError(TutelaError):
    """A bug in Tutela itself."""

    code = "internal"
    exit_code = ExitCode.INTERNAL
