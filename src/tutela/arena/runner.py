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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tutela.arena.attacker import attacker_messages, clean_turn
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
from tutela.arena.judge import is_judge, judge_id, judge_messages, parse_verdict
from tutela.arena.scoring import should_stop
from tutela.arena.transforms import get_transform

__all__ = [
    "AttemptSink",
    "ResponseCache",
    "RunOutcome",
    "attempt_from_dict",
    "attempt_to_dict",
    "build_attempts",
    "decide_outcome",
    "escalation_attempts",
    "load_finished",
    "run_all",
    "run_attempts",
]

log = logging.getLogger(__name__)

_MAX_BACKOFF = 60.0  # seconds; a Retry-After beyond this is clamped so a run cannot stall
_MAX_LINE = 16 * 1024 * 1024  # a JSON line larger than this is treated as corrupt
_EVIDENCE_MAX = 300
MAX_ATTACKER_TURNS = 20
DEFAULT_TOOL_RESULT = '{"status": "ok"}'


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


def _message_to_dict(message: Message) -> dict[str, Any]:
    item: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        item["tool_calls"] = list(message.tool_calls)
    if message.tool_call_id is not None:
        item["tool_call_id"] = message.tool_call_id
    return item


def _message_from_dict(data: Mapping[str, Any]) -> Message:
    calls = data.get("tool_calls") or ()
    call_id = data.get("tool_call_id")
    return Message(
        str(data["role"]),
        str(data["content"]),
        tool_calls=tuple(dict(c) for c in calls),
        tool_call_id=None if call_id is None else str(call_id),
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
        "driver": attempt.driver,
        "messages": [_message_to_dict(m) for m in attempt.messages],
        "reply": None if attempt.reply is None else _reply_to_dict(attempt.reply),
        "detections": [
            {
                "detector": d.detector,
                # An LLM judge's verdict is labelled as such, apart from measured detectors.
                "source": "llm_judge" if is_judge(d.detector) else "detector",
                "hit": d.hit,
                "score": d.score,
                "evidence": d.evidence,
            }
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
            messages=[_message_from_dict(m) for m in data["messages"]],
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
            driver=str(data.get("driver", "script")),
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
            # Tool-call fields are added only when present, so plain chats keep their keys.
            "messages": [
                [m.role, m.content]
                + ([list(m.tool_calls)] if m.tool_calls else [])
                + ([m.tool_call_id] if m.tool_call_id is not None else [])
                for m in messages
            ],
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
    """``Attempt.key`` of every finished attempt in the sink file at ``path``.

    An attempt that ended in ``error`` is not finished: a resumed run sends it again.
    """
    return {a.key for a in AttemptSink(path).load() if a.outcome is not Outcome.ERROR}


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


def escalation_attempts(
    run_id: str,
    probes: Iterable[Probe],
    transforms: Sequence[str],
    seeds: Sequence[int],
    attacker_id: str,
) -> list[Attempt]:
    """Attacker-driven attempts for every multi-turn ``crescendo`` probe.

    Each opens with the probe's first scripted turn (transformed); the attacker writes
    every later turn. ``driver`` is ``attacker:<id>``, so the key differs from the
    scripted attempt of the same probe, transform and seed.
    """
    chosen = [p for p in probes if p.category == "crescendo"]
    found: list[Attempt] = []
    for attempt in build_attempts(run_id, chosen, transforms, seeds):
        first = next(i for i, m in enumerate(attempt.messages) if m.role == "user")
        attempt.messages = attempt.messages[: first + 1]
        attempt.driver = f"attacker:{attacker_id}"
        found.append(attempt)
    return found


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


def _tool_answers(probe: Probe | None, reply: Reply) -> list[Message]:
    """One ``tool`` message per call in ``reply``, each naming the call id it answers.

    Results come from ``params.tool_results[<tool name>]`` when the probe gives them.
    """
    results = probe.params.get("tool_results") if probe is not None else None
    answers: list[Message] = []
    for index, call in enumerate(reply.tool_calls):
        function = call.get("function")
        name = function.get("name") if isinstance(function, dict) else call.get("name")
        result = results.get(name) if isinstance(results, dict) else None
        text = result if isinstance(result, str) else DEFAULT_TOOL_RESULT
        call_id = call.get("id")
        answers.append(
            Message("tool", text, tool_call_id=str(call_id) if call_id else f"call_{index}")
        )
    return answers


def _assistant(reply: Reply) -> Message:
    return Message("assistant", reply.text, tool_calls=reply.tool_calls)


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
        attacker: Target | None = None,
        attacker_turns: int = 5,
        judge: Target | None = None,
        helper_caches: Mapping[str, ResponseCache] | None = None,
        detect_pool: ThreadPoolExecutor,
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
        self.attacker = attacker
        self.attacker_turns = attacker_turns
        self.judge = judge
        # The attacker and the judge have their own caches (keyed by their configuration),
        # so changing either never replays the other's or the target's answers.
        self.helper_caches = dict(helper_caches or {})
        # One thread: detectors (and torch's thread setting) are never used concurrently.
        self.detect_pool = detect_pool

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
        self,
        attempt: Attempt,
        messages: list[Message],
        tools: list[dict[str, Any]] | None,
        target: Target | None = None,
    ) -> tuple[Reply, bool]:
        """Send to ``target`` (default: the target under test) with cache and retries."""
        to = target or self.target
        cache = self.cache if target is None else self.helper_caches.get(to.id)
        key = ""
        if cache is not None:
            key = ResponseCache.key(to.id, messages, tools)
            hit = cache.get(key)
            if hit is not None:
                return hit, True
        tries = 0
        while True:
            if self.limiter is not None:
                await self.limiter.wait()
            error: TargetError
            try:
                reply = await asyncio.wait_for(
                    to.send(list(messages), tools=tools, timeout=self.timeout), self.timeout
                )
            except TimeoutError:
                error = TargetError(f"no reply within {self.timeout:g}s", retryable=True)
            except TargetError as exc:
                error = exc
            else:
                if cache is not None:
                    cache.put(key, reply)
                return reply, False
            if not error.retryable or tries >= self.retries:
                raise error
            delay = self._delay(error, attempt, tries)
            log.debug("%s: retry %d in %.2fs: %s", attempt.key, tries + 1, delay, error.problem)
            await asyncio.sleep(delay)
            tries += 1

    def _tools(self, attempt: Attempt) -> list[dict[str, Any]] | None:
        probe = self.probes.get(attempt.probe_id)
        return [dict(t) for t in probe.tools] if probe is not None and probe.tools else None

    async def _converse(self, attempt: Attempt) -> tuple[Reply, list[Message], bool]:
        """Send user turns one by one, appending replies; return the last reply.

        A reply that called tools is kept with its calls, followed by one ``tool`` message
        per call id, so the next turn is a valid continuation for OpenAI-style APIs.
        """
        probe = self.probes.get(attempt.probe_id)
        tools = self._tools(attempt)
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
                convo.append(_assistant(reply))
                convo.extend(_tool_answers(probe, reply))
        if reply is None:  # no user message at all: send what there is
            reply, cached = await self._send(attempt, list(convo), tools)
            all_cached = cached
        return reply, convo, all_cached

    async def _escalate(
        self, attempt: Attempt
    ) -> tuple[Reply, list[Message], bool, list[Detection]]:
        """Attacker-driven turns: after each target reply the attacker writes the next user
        turn, up to ``attacker_turns`` user turns; stop as soon as the attack succeeds."""
        if self.attacker is None:
            raise ArenaError(f"{attempt.key}: attacker-driven attempt but no attacker given")
        probe = self.probes.get(attempt.probe_id)
        tools = self._tools(attempt)
        convo = list(attempt.messages)
        all_cached = True
        turn = 1
        while True:
            reply, cached = await self._send(attempt, list(convo), tools)
            all_cached = all_cached and cached
            if reply.blocked:
                return reply, convo, all_cached, []
            found = await self._verdicts(attempt, convo, reply)
            if turn >= self.attacker_turns or any(d.hit is True for d in found):
                return reply, convo, all_cached, found
            convo.append(_assistant(reply))
            convo.extend(_tool_answers(probe, reply))
            turn += 1
            if probe is None:
                raise ArenaError(f"unknown probe {attempt.probe_id}")
            ask = attacker_messages(probe, convo, turn, self.attacker_turns)
            try:
                written, _ = await self._send(attempt, ask, None, self.attacker)
            except TargetError as exc:
                raise TargetError(f"the attacker failed: {exc.problem}",
                                  subject=self.attacker.id) from exc  # fmt: skip
            text = clean_turn(written.text)
            if not text:
                raise TargetError("the attacker wrote an empty turn", subject=self.attacker.id)
            convo.append(Message("user", text))

    def _detect(self, attempt: Attempt, messages: list[Message], reply: Reply) -> list[Detection]:
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

    async def _ask_judge(
        self, attempt: Attempt, messages: list[Message], reply: Reply
    ) -> Detection:
        """The LLM judge's verdict; a failing or unparseable judge gives hit=None."""
        assert self.judge is not None
        name = judge_id(self.judge.id)
        probe = self.probes.get(attempt.probe_id)
        if probe is None:
            return Detection(name, None, evidence=f"unknown probe {attempt.probe_id}")
        try:
            answer, _ = await self._send(
                attempt, judge_messages(probe, messages, reply), None, self.judge
            )
        except TargetError as exc:
            return Detection(name, None, evidence=f"judge failed: {exc.problem}"[:_EVIDENCE_MAX])
        except Exception as exc:  # the judge is a target like any other: never crash a run
            reason = f"judge failed: {type(exc).__name__}: {exc}"
            return Detection(name, None, evidence=reason[:_EVIDENCE_MAX])
        return parse_verdict(name, answer.text)

    async def _verdicts(
        self, attempt: Attempt, messages: list[Message], reply: Reply
    ) -> list[Detection]:
        # Detectors are CPU work (the MiniLM classifier): off the event loop, other
        # attempts keep sending while one reply is judged.
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(self.detect_pool, self._detect, attempt, messages,
                                           reply)  # fmt: skip
        if self.judge is not None:
            found.append(await self._ask_judge(attempt, messages, reply))
        return found

    async def run_one(self, attempt: Attempt) -> Attempt:
        started = time.monotonic()
        try:
            if attempt.driver != "script":
                reply, convo, cached, found = await self._escalate(attempt)
            else:
                reply, convo, cached = await self._converse(attempt)
                found = [] if reply.blocked else await self._verdicts(attempt, convo, reply)
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
            attempt.detections = found
            attempt.outcome = decide_outcome(reply, attempt.detections)
        attempt.seconds = time.monotonic() - started
        return attempt


@dataclass(slots=True)
class RunOutcome:
    """Finished attempts in input order, and those early stopping skipped (never sent)."""

    attempts: list[Attempt]
    skipped: list[Attempt] = field(default_factory=list)


class _EarlyStop:
    """Per-category tallies of scored attempts; a category stops once its Wilson 95%
    interval is narrower than ``width`` (see ``scoring.should_stop``)."""

    def __init__(self, width: float | None) -> None:
        if width is not None and not 0.0 < width <= 1.0:
            raise ArenaError("early_stop must be in (0, 1]", found=str(width))
        self.width = width
        self.tally: dict[str, list[int]] = {}
        self.stopped: set[str] = set()

    def add(self, attempt: Attempt) -> None:
        if self.width is None:
            return
        counts = self.tally.setdefault(attempt.category, [0, 0])
        if attempt.outcome in (Outcome.SUCCEEDED, Outcome.RESISTED):
            counts[0] += attempt.outcome is Outcome.SUCCEEDED
            counts[1] += 1
            if should_stop(counts[0], counts[1], self.width):
                self.stopped.add(attempt.category)


async def run_all(
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
    early_stop: float | None = None,
    attacker: Target | None = None,
    attacker_turns: int = 5,
    judge: Target | None = None,
    helper_caches: Mapping[str, ResponseCache] | None = None,
) -> RunOutcome:
    """Run ``attempts`` against ``target``; see ``run_attempts``. Also returns the attempts
    early stopping skipped: with ``early_stop=W``, once a category's Wilson 95% interval
    over scored attempts is narrower than ``W``, its attempts not yet started are skipped.
    Which ones depends on completion order, so use concurrency 1 for a reproducible set.
    """
    if concurrency < 1:
        raise ArenaError("concurrency must be at least 1", found=str(concurrency))
    if not 1 <= attacker_turns <= MAX_ATTACKER_TURNS:
        raise ArenaError(f"attacker_turns must be 1–{MAX_ATTACKER_TURNS}",
                         found=str(attacker_turns))  # fmt: skip
    probe_map = dict(probes) if isinstance(probes, Mapping) else {p.id: p for p in probes}
    detect_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tutela-detect")
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
        attacker=attacker,
        attacker_turns=attacker_turns,
        judge=judge,
        helper_caches=helper_caches,
        detect_pool=detect_pool,
    )
    stop = _EarlyStop(early_stop)
    done: dict[str, Attempt] = {}
    if sink is not None:
        # An attempt that ended in error did not finish: a resumed run sends it again.
        done = {a.key: a for a in sink.load() if a.outcome is not Outcome.ERROR}
    wanted = {a.key for a in attempts}
    for finished in done.values():
        if finished.key in wanted:
            stop.add(finished)
    semaphore = asyncio.Semaphore(concurrency)
    skipped: list[Attempt] = []

    async def one(attempt: Attempt) -> Attempt | None:
        async with semaphore:
            if attempt.category in stop.stopped:
                skipped.append(attempt)
                return None
            finished = await runner.run_one(attempt)
        stop.add(finished)
        if sink is not None:
            sink.write(finished)
        return finished

    pending = [a for a in attempts if a.key not in done]
    if len(pending) < len(attempts):
        log.info("resuming: %d of %d attempts already finished", len(attempts) - len(pending),
                 len(attempts))  # fmt: skip
    try:
        results = await asyncio.gather(*(one(a) for a in pending))
    finally:
        detect_pool.shutdown(wait=True)
    by_key = {a.key: a for a in results if a is not None}
    by_key.update({k: v for k, v in done.items() if k not in by_key})
    ordered = [by_key[a.key] for a in attempts if a.key in by_key]
    return RunOutcome(ordered, skipped)


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
    early_stop: float | None = None,
    attacker: Target | None = None,
    attacker_turns: int = 5,
    judge: Target | None = None,
    helper_caches: Mapping[str, ResponseCache] | None = None,
) -> list[Attempt]:
    """Run ``attempts`` against ``target``; return the finished ones, in order.

    ``probes`` supplies each attempt's detectors and tools. With a ``sink``, attempts
    already finished there are not sent again (their recorded results are returned);
    attempts recorded as ``error`` are sent again. ``attacker`` drives attempts whose
    ``driver`` is ``attacker:…``; ``judge`` adds an LLM verdict ``judge:<id>`` to each
    reply; ``helper_caches`` maps their target ids to their own caches. Without
    ``early_stop`` every attempt is returned.
    """
    outcome = await run_all(
        target, attempts, detectors, probes=probes, concurrency=concurrency, timeout=timeout,
        retries=retries, backoff_base=backoff_base, cache=cache, sink=sink,
        rate_limit=rate_limit, seed=seed, early_stop=early_stop, attacker=attacker,
        attacker_turns=attacker_turns, judge=judge, helper_caches=helper_caches,
    )  # fmt: skip
    return outcome.attempts
