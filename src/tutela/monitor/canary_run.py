"""Sampling a service for a canary: every prompt ``samples`` times, timed, with retries.

OpenAI-compatible services are asked through the Arena's target with two additions: each
request gets a fresh random ``seed`` (so the samples are independent draws at the
configured temperature, as Model Equality Testing assumes), and the declared ``model`` and
``system_fingerprint`` of each response are kept.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tutela.arena.interface import Message, Reply, Target, TargetError
from tutela.arena.targets import OpenAIChatTarget, target_from_config
from tutela.monitor.canary_prompts import PromptSet

__all__ = ["DeclaredReply", "Sample", "collect"]

MAX_SAMPLES = 100
_RETRIES = 2


@dataclass(frozen=True, slots=True)
class DeclaredReply(Reply):
    """A reply plus what the API declared about itself."""

    model: str | None = None
    system_fingerprint: str | None = None


class _SampledOpenAITarget(OpenAIChatTarget):
    """The Arena's OpenAI target, sampling with a fresh seed and keeping declarations."""

    async def send(
        self, messages: list[Message], *, tools: list[dict[str, Any]] | None = None, timeout: float
    ) -> Reply:
        # The request body (seed included) is built before the first await in send(), so
        # setting the seed here cannot leak into a concurrent request.
        self.seed = secrets.randbelow(2**31)
        return await super().send(messages, tools=tools, timeout=timeout)

    def _parse(self, data: Any) -> Reply:
        reply = super()._parse(data)
        model = data.get("model") if isinstance(data, dict) else None
        fingerprint = data.get("system_fingerprint") if isinstance(data, dict) else None
        return DeclaredReply(
            text=reply.text,
            tool_calls=reply.tool_calls,
            finish_reason=reply.finish_reason,
            usage=reply.usage,
            blocked=reply.blocked,
            model=model if isinstance(model, str) else None,
            system_fingerprint=fingerprint if isinstance(fingerprint, str) else None,
        )


def _build(config: Mapping[str, Any]) -> tuple[Target, Target | None]:
    """(the target to sample, a validation-only target to close)."""
    checked = target_from_config(config)  # validates keys and reads any API key
    if type(checked) is not OpenAIChatTarget:
        return checked, None
    args = {k: v for k, v in config.items() if k not in ("kind", "id")}
    return _SampledOpenAITarget(str(config["id"]), **args), checked


@dataclass(frozen=True, slots=True)
class Sample:
    prompt_id: str
    index: int
    text: str
    seconds: float
    model: str | None = None
    system_fingerprint: str | None = None
    blocked: bool = False
    error: str | None = None


async def _one(
    target: Target,
    prompt_id: str,
    index: int,
    messages: list[Message],
    timeout: float,
    gate: asyncio.Semaphore,
) -> Sample:
    async with gate:
        error = "no attempt"
        for attempt in range(_RETRIES + 1):
            started = time.perf_counter()
            try:
                reply = await target.send(messages, timeout=timeout)
            except TargetError as exc:
                error = exc.diagnostics()[:300]
                if not exc.retryable or attempt == _RETRIES:
                    break
                await asyncio.sleep(min(exc.retry_after or 0.5 * 2**attempt, 10.0))
                continue
            seconds = time.perf_counter() - started
            declared = reply if isinstance(reply, DeclaredReply) else None
            return Sample(
                prompt_id,
                index,
                reply.text,
                seconds,
                declared.model if declared else None,
                declared.system_fingerprint if declared else None,
                reply.blocked,
            )
        return Sample(prompt_id, index, "", 0.0, error=error)


def collect(
    config: Mapping[str, Any],
    prompts: PromptSet,
    *,
    samples: int = 10,
    concurrency: int = 8,
    timeout: float = 30.0,
) -> list[Sample]:
    """Send every prompt ``samples`` times; failures are samples with ``error`` set."""
    if not 2 <= samples <= MAX_SAMPLES:
        from tutela.errors import UsageError

        raise UsageError("samples per prompt must be from 2 to 100", found=str(samples))

    async def go() -> list[Sample]:
        target, extra = _build(config)
        gate = asyncio.Semaphore(max(1, concurrency))
        try:
            jobs = []
            for prompt in prompts.prompts:
                messages = [Message("user", prompt.text)]
                if prompt.system is not None:
                    messages.insert(0, Message("system", prompt.system))
                for i in range(samples):
                    jobs.append(_one(target, prompt.id, i, messages, timeout, gate))
            return list(await asyncio.gather(*jobs))
        finally:
            await target.aclose()
            if extra is not None:
                await extra.aclose()

    return asyncio.run(go())
