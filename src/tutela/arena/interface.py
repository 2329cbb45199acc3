"""Shared types of the Arena: conversations, targets, probes, attempts, detectors, outcomes.

Targets answer conversations; probes are versioned data that build conversations;
the runner sends each attempt and detectors judge the reply. An attempt ends in exactly
one ``Outcome``; an error is never counted as resisted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from tutela.errors import TutelaError

__all__ = [
    "ArenaError",
    "Attempt",
    "Detection",
    "Detector",
    "Message",
    "Outcome",
    "Probe",
    "Reply",
    "Target",
    "TargetError",
]


class ArenaError(TutelaError):
    code = "arena"


class TargetError(ArenaError):
    """The target could not answer: transport failure, HTTP error, bad response shape.

    ``retryable`` marks 429 / 5xx / timeouts, which the runner retries with backoff.
    """

    def __init__(
        self,
        problem: str,
        *,
        retryable: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(problem, **kw)
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after  # seconds the server asked us to wait, if it did


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message. An assistant message may carry the tool calls it made (each with
    its ``id``); a ``tool`` message answers one of them through ``tool_call_id``."""

    role: str  # "system", "user", "assistant", "tool"
    content: str
    tool_calls: tuple[dict[str, Any], ...] = ()
    tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """What a target answered: text, any tool calls it made, and raw metadata."""

    text: str
    tool_calls: tuple[dict[str, Any], ...] = ()
    finish_reason: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    blocked: bool = False  # a content filter refused before the model answered


class Target(Protocol):
    """Anything that answers a conversation. ``id`` names it as an asset (``service:…``)."""

    id: str

    async def send(self, messages: list[Message], *, tools: list[dict[str, Any]] | None = None,
                   timeout: float) -> Reply: ...  # fmt: skip

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Probe:
    """One attack, as loaded from a probe data file (see docs/arena-probes.md)."""

    id: str  # "probe.prompt_injection.ignore_previous"
    category: str  # "prompt_injection", "jailbreak", "system_prompt_extraction", ...
    owasp: str  # OWASP LLM Top 10 (2025) id, e.g. "LLM01:2025"
    atlas: str  # MITRE ATLAS technique id, e.g. "AML.T0051.000"
    severity: str  # critical, high, medium, low
    turns: tuple[str, ...]  # user turns (multi-turn when several)
    detectors: tuple[str, ...]  # detector ids that decide success
    language: str = "en"
    source: str = ""
    licence: str = ""
    system: str | None = None  # extra system prompt, for suites that plant canaries
    document: str | None = None  # indirect injection: retrieved context given to the target
    tools: tuple[dict[str, Any], ...] = ()
    params: dict[str, Any] = field(default_factory=dict)  # e.g. {"canary": "..."}
    version: int = 1


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"  # the attack worked
    RESISTED = "resisted"
    BLOCKED = "blocked"  # a filter stopped it
    UNSCOREABLE = "unscoreable"  # detectors could not tell
    ERROR = "error"  # the target failed; never counted as resisted


@dataclass(frozen=True, slots=True)
class Detection:
    """A detector's verdict on one reply. ``hit`` None means it could not tell."""

    detector: str
    hit: bool | None
    score: float | None = None
    evidence: str = ""  # a short excerpt or reason, never more than 300 characters


class Detector(Protocol):
    id: str

    def detect(self, probe: Probe, messages: list[Message], reply: Reply) -> Detection: ...


@dataclass(slots=True)
class Attempt:
    """One probe (with one transform) sent once; persisted as one JSON line."""

    run_id: str
    probe_id: str
    transform: str  # "none", "base64", ...
    seed: int
    category: str
    severity: str
    messages: list[Message]
    reply: Reply | None = None
    detections: list[Detection] = field(default_factory=list)
    outcome: Outcome = Outcome.UNSCOREABLE
    error: str | None = None
    seconds: float = 0.0
    cached: bool = False
    driver: str = "script"  # "script", or "attacker:<target id>" for attacker-driven turns

    @property
    def key(self) -> str:
        base = f"{self.probe_id}|{self.transform}|{self.seed}"
        return base if self.driver == "script" else f"{base}|{self.driver}"
