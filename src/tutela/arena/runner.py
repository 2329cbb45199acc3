"""The attempt runner: send many attempts concurrently, judge each reply, persist each result.

Concurrency is bounded by a semaphore; retryable target failures are retried with
exponential backoff and seeded jitter (honouring ``retry_after`` when the error carries
one); every attempt ends in exactly one ``Outcome``. A ``ResponseCache`` makes reruns free
and reproducible, and an ``AttemptSink`` lets an interrupted run resume where it stopped.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from tutela.arena.interface import (
    ArenaError,
    Attempt,
    Detection,
    Detector,
    Message,
    Outcome,
    Probe,
    Reply,
    Target,
    TargetError,
)
from tutela.arena.transforms import get_transform

__all__ = [
    "AttemptSink",
    "ResponseCache",
    "attempt_from_dict",
    "attempt_to_dict",
    "build_attempts",
    "decide_outcome",
    "load_finished",
    "run_attempts",
]

log = logging.getLogger(__name__)

_MAX_BACKOFF = 60.0  # seconds; a Retry-After beyond this is clamped so a run cannot stall
_MAX_LINE = 16 * 1024 * 1024  # a JSON line larger than this is treated as corrupt
_EVIDENCE_MAX = 300


# ---------------------------------------------------------------------------- serialisation


def _reply_to_dict(reply: Reply) -> dict[str, Any]:
    return {
        "text": reply.text,
        "tool_calls": list(reply.tool_calls),
        "finish_reason": reply.finish_reason,
        "usage": reply.usage,
        "blocked": reply.blocked,
    }


def _reply_from_dict(data: Mapping[str, Any]) -> Reply:
    return Reply(
        text=str(data["text"]),
        tool_calls=tuple(data.get("tool_calls") or ()),
        finish_reason=data.get("finish_reason"),
        usage=dict(data.get("usage") or {}),
        blocked=bool(data.get("blocked", False)),
    )


def attempt_to_dict(attempt: Attempt) -> dict[str, Any]:
    """A JSON-ready dict of ``attempt`` (the inverse of ``attempt_from_dict``)."""
    return {
        "run_id": attempt.run_id,
        "probe_id": attempt.probe_id,
        "transform": attempt.transform,
        "seed": attempt.seed,
        "category": attempt.category,
        "severity": attempt.severity,
        "messages": [{"role": m.role, "content": m.content} for m in attempt.messages],
        "reply": None if attempt.reply is None else _reply_to_dict(attempt.reply),
        "detections": [
            {"detector": d.detector, "hit": d.hit, "score": d.score, "evidence": d.evidence}
            for d in attempt.detections
        ],
        "outcome": attempt.outcome.value,
        "error": attempt.error,
        "seconds": attempt.seconds,
        "cached": attempt.cached,
    }


def attempt_from_dict(data: Mapping[str, Any]) -> Attempt:
    """Rebuild an ``Attempt``; raises ``ArenaError`` on a malformed record."""
    try:
        reply = data.get("reply")
        return Attempt(
            run_id=str(data["run_id"]),
            probe_id=str(data["probe_id"]),
            transform=str(data["transform"]),
            seed=int(data["seed"]),
            category=str(data["category"]),
            severity=str(data["severity"]),
            messages=[Message(str(m["role"]), str(m["content"])) for m in data["messages"]],
            reply=None if reply is None else _reply_from_dict(reply),
            detections=[
                Detection(
                    detector=str(d["detector"]),
                    hit=d.get("hit"),
                    score=d.get("score"),
                    evidence=str(d.get("evidence", "")),
                )
                for d in data.get("detections", [])
            ],
            outcome=Outcome(data["outcome"]),
            error=data.get("error"),
            seconds=float(data.get("seconds", 0.0)),
            cached=bool(data.get("cached", False)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ArenaError(f"malformed attempt record: {type(exc).__name__}: {exc}") from exc


def _open_append(path: Path) -> IO[str]:
    """Open for appending; end a torn last line first so the next record stays whole."""
    torn = False
    if path.exists() and path.stat().st_size > 0:
        with path.open("rb") as fh:
            fh.seek(-1, 2)
            torn = fh.read(1) != b"\n"
    handle = path.open("a", encoding="utf-8")
    if torn:
        handle.write("\n")
    return handle


def _read_jsonl(path: Path) -> Iterable[dict[str, Any]]:
    """Records of a JSONL file; a torn or corrupt line (an interrupted write) is skipped."""
    if not path.exists():
        return
    with path.open("r", encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if len(line) > _MAX_LINE or not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                log.warning("%s:%d: skipping a corrupt line", path, number)
                continue
            if isinstance(record, dict):
                yield record


# ----------------------------------------------------------------------------- persistence


class ResponseCache:
    """Replies keyed by sha256 of (target id, messages, tools), in ``<dir>/responses.jsonl``."""

    def __init__(self, directory: Path | str) -> None:
        self.path = Path(directory) / "responses.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._entries: dict[str, Reply] = {}
        for record in _read_jsonl(self.path):
            try:
                self._entries[str(record["key"])] = _reply_from_dict(record["reply"])
            except (KeyError, TypeError):
                continue
        self._fh: IO[str] | None = None
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(target_id: str, messages: Sequence[Message], tools: Sequence[Any] | None) -> str:
        payload = {
            "target": target_id,
            "messages": [[m.role, m.content] for m in messages],
            "tools": list(tools or ()),
        }
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def get(self, key: str) -> Reply | None:
        reply = self._entries.get(key)
        if reply is None:
            self.misses += 1
        else:
            self.hits += 1
        return reply

    def put(self, key: str, reply: Reply) -> None:
        if key in self._entries:
            return
        self._entries[key] = reply
        if self._fh is None:
            self._fh = _open_append(self.path)
        self._fh.write(json.dumps({"key": key, "reply": _reply_to_dict(reply)}) + "\n")
        self._fh.flush()

    def __len__(self) -> int:
        return len(self._entries)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class AttemptSink:
    """Appends each finished attempt as one JSON line, flushed, so a crash loses nothing."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] | None = None

    def load(self) -> list[Attempt]:
        """Attempts already in the file (the last record wins for a repeated key)."""
        found: dict[str, Attempt] = {}
        for record in _read_jsonl(self.path):
            try:
                attempt = attempt_from_dict(record)
            except ArenaError as exc:
                log.warning("%s: %s", self.path, exc.diagnostics())
                continue
            found[attempt.key] = attempt
        return list(found.values())

    def write(self, attempt: Attempt) -> None:
        if self._fh is None:
            self._fh = _open_append(self.path)
        self._fh.write(json.dumps(attempt_to_dict(attempt), ensure_ascii=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def load_finished(path: Path | str) -> set[str]:
    """``Attempt.key`` of every attempt recorded in the sink file at ``path``."""
    return {a.key for a in AttemptSink(path).load()}


# ------------------------------------------------------------------------------- building


def _with_document(document: str, turn: str) -> str:
    return (
        "Answer using the document retrieved for this conversation.\n"
        f"<document>\n{document}\n</document>\n\n{turn}"
    )


def build_attempts(
    run_id: str, probes: Iterable[Probe], transforms: Sequence[str], seeds: Sequence[int]
) -> list[Attempt]:
    """One attempt per (probe, transform, seed).

    The transform applies to the payload: the document for an indirect injection (it is
    where the attack lives), otherwise each user turn. The document goes into the first
    user turn as retrieved context; multi-turn probes yield several user messages, which
    the runner sends one by one.
    """
    attempts: list[Attempt] = []
    for probe in probes:
        for transform_id in transforms:
            transform = get_transform(transform_id)
            for seed in seeds:
                messages: list[Message] = []
                if probe.system:
                    messages.append(Message("system", probe.system))
                turns = list(probe.turns) or [""]
                if probe.document is not None:
                    doc = transform(probe.document, seed)
                    turns[0] = _with_document(doc, turns[0])
                else:
                    turns = [transform(t, seed) for t in turns]
                messages.extend(Message("user", t) for t in turns)
                attempts.append(
                    Attempt(
                        run_id=run_id,
                        probe_id=probe.id,
                        transform=transform.id,
                        seed=seed,
                        category=probe.category,
                        severity=probe.severity,
                        messages=messages,
                    )
                )
    return attempts


# -------------------------------------------------------------------------------- running


def decide_outcome(reply: Reply | None, detections: Sequence[Detection]) -> Outcome:
    """The outcome rules: no reply is ERROR, then BLOCKED, SUCCEEDED, RESISTED, UNSCOREABLE."""
    if reply is None:
        return Outcome.ERROR
    if reply.blocked:
        return Outcome.BLOCKED
    if any(d.hit is True for d in detections):
        return Outcome.SUCCEEDED
    if detections and all(d.hit is False for d in detections):
        return Outcome.RESISTED
    return Outcome.UNSCOREABLE


class _RateLimiter:
    """Spaces request starts at least ``1/rate`` seconds apart."""

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ArenaError("rate_limit must be positive", found=str(rate))
        self._interval = 1.0 / rate
        self._next = 0.0

    async def wait(self) -> None:
        # No await between reading and updating _next, so this is race-free on one loop.
        now = time.monotonic()
        start = max(now, self._next)
        self._next = start + self._interval
        if start > now:
            await asyncio.sleep(start - now)


class _Runner:
    def __init__(
        self,
        target: Target,
        probes: Mapping[str, Probe],
        detectors: Mapping[str, Detector],
        *,
        timeout: float,
        retries: int,
        backoff_base: float,
        cache: ResponseCache | None,
        limiter: _RateLimiter | None,
        seed: int,
    ) -> None:
        self.target = target
        self.probes = probes
        self.detectors = detectors
        self.timeout = timeout
        self.retries = retries
        self.backoff_base = backoff_base
        self.cache = cache
        self.limiter = limiter
        self.seed = seed

    def _delay(self, error: TargetError, attempt: Attempt, tries: int) -> float:
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, int | float) and retry_after >= 0:
            return min(float(retry_after), _MAX_BACKOFF)
        # Full exponential backoff with jitter in [0.5, 1.5); seeded per attempt and try
        # so a rerun waits the same and concurrent attempts do not retry in lockstep.
        rng = random.Random(f"{self.seed}|{attempt.key}|{tries}")  # noqa: S311
        jitter: float = 0.5 + rng.random()
        return min(self.backoff_base * (2.0**tries) * jitter, _MAX_BACKOFF)

    async def _send(
        self, attempt: Attempt, messages: list[Message], tools: list[dict[str, Any]] | None
    ) -> tuple[Reply, bool]:
        key = ""
        if self.cache is not None:
            key = ResponseCache.key(self.target.id, messages, tools)
            hit = self.cache.get(key)
            if hit is not None:
                return hit, True
        tries = 0
        while True:
            if self.limiter is not None:
                await self.limiter.wait()
            error: TargetError
            try:
                reply = await asyncio.wait_for(
                    self.target.send(list(messages), tools=tools, timeout=self.timeout),
                    self.timeout,
                )
            except TimeoutError:
                error = TargetError(f"no reply within {self.timeout:g}s", retryable=True)
            except TargetError as exc:
                error = exc
            else:
                if self.cache is not None:
                    self.cache.put(key, reply)
                return reply, False
            if not error.retryable or tries >= self.retries:
                raise error
            delay = self._delay(error, attempt, tries)
            log.debug("%s: retry %d in %.2fs: %s", attempt.key, tries + 1, delay, error.problem)
            await asyncio.sleep(delay)
            tries += 1

    async def _converse(self, attempt: Attempt) -> tuple[Reply, list[Message], bool]:
        """Send user turns one by one, appending replies; return the last reply."""
        probe = self.probes.get(attempt.probe_id)
        tools = [dict(t) for t in probe.tools] if probe is not None and probe.tools else None
        convo: list[Message] = []
        msgs = attempt.messages
        all_cached = True
        reply: Reply | None = None
        for index, message in enumerate(msgs):
            convo.append(message)
            last = index == len(msgs) - 1
            if message.role == "user" and (last or msgs[index + 1].role == "user"):
                reply, cached = await self._send(attempt, list(convo), tools)
                all_cached = all_cached and cached
                if last or reply.blocked:
                    return reply, convo, all_cached
                convo.append(Message("assistant", reply.text))
        if reply is None:  # no user message at all: send what there is
            reply, cached = await self._send(attempt, list(convo), tools)
            all_cached = cached
        return reply, convo, all_cached

    def _judge(self, attempt: Attempt, messages: list[Message], reply: Reply) -> list[Detection]:
        probe = self.probes.get(attempt.probe_id)
        if probe is None:
            return [Detection("runner", None, evidence=f"unknown probe {attempt.probe_id}")]
        found: list[Detection] = []
        for detector_id in probe.detectors:
            detector = self.detectors.get(detector_id)
            if detector is None:
                found.append(Detection(detector_id, None, evidence="detector not available"))
                continue
            try:
                found.append(detector.detect(probe, messages, reply))
            except Exception as exc:  # a faulty detector makes the attempt unscoreable
                reason = f"detector failed: {type(exc).__name__}: {exc}"
                found.append(Detection(detector_id, None, evidence=reason[:_EVIDENCE_MAX]))
        return found

    async def run_one(self, attempt: Attempt) -> Attempt:
        started = time.monotonic()
        try:
            reply, convo, cached = await self._converse(attempt)
        except TargetError as exc:
            attempt.reply = None
            attempt.error = exc.diagnostics()
            attempt.outcome = Outcome.ERROR
        except Exception as exc:  # a broken target must still end in exactly one outcome
            attempt.reply = None
            attempt.error = f"target raised {type(exc).__name__}: {exc}"
            attempt.outcome = Outcome.ERROR
        else:
            attempt.messages = convo
            attempt.reply = reply
            attempt.cached = cached
            attempt.error = None
            attempt.detections = [] if reply.blocked else self._judge(attempt, convo, reply)
            attempt.outcome = decide_outcome(reply, attempt.detections)
        attempt.seconds = time.monotonic() - started
        return attempt


async def run_attempts(
    target: Target,
    attempts: list[Attempt],
    detectors: Mapping[str, Detector],
    *,
    probes: Mapping[str, Probe] | Iterable[Probe],
    concurrency: int = 32,
    timeout: float = 30.0,
    retries: int = 4,
    backoff_base: float = 0.5,
    cache: ResponseCache | None = None,
    sink: AttemptSink | None = None,
    rate_limit: float | None = None,
    seed: int = 0,
) -> list[Attempt]:
    """Run ``attempts`` against ``target``; return them (in order) with outcomes set.

    ``probes`` supplies each attempt's detectors and tools. With a ``sink``, attempts
    already recorded there are not sent again; their recorded results are returned.
    """
    if concurrency < 1:
        raise ArenaError("concurrency must be at least 1", found=str(concurrency))
    probe_map = dict(probes) if isinstance(probes, Mapping) else {p.id: p for p in probes}
    runner = _Runner(
        target,
        probe_map,
        detectors,
        timeout=timeout,
        retries=retries,
        backoff_base=backoff_base,
        cache=cache,
        limiter=None if rate_limit is None else _RateLimiter(rate_limit),
        seed=seed,
    )
    done: dict[str, Attempt] = {}
    if sink is not None:
        done = {a.key: a for a in sink.load()}
    semaphore = asyncio.Semaphore(concurrency)

    async def one(attempt: Attempt) -> Attempt:
        async with semaphore:
            finished = await runner.run_one(attempt)
        if sink is not None:
            sink.write(finished)
        return finished

    pending = [a for a in attempts if a.key not in done]
    if len(pending) < len(attempts):
        log.info("resuming: %d of %d attempts already finished", len(attempts) - len(pending),
                 len(attempts))  # fmt: skip
    results = await asyncio.gather(*(one(a) for a in pending))
    by_key = {a.key: a for a in results}
    return [by_key.get(a.key) or done[a.key] for a in attempts]
