"""Targets: the chat endpoints the Arena attacks.

Three kinds answer a conversation: an OpenAI-compatible ``/chat/completions`` endpoint,
any HTTP endpoint taking and returning JSON (described by a body template and a small
JSONPath), and a Python callable. Every failure becomes a ``TargetError`` that says
whether retrying may help; secrets read from the environment never appear in one.
"""

from __future__ import annotations

import asyncio
import copy
import importlib
import inspect
import json
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from tutela.arena.interface import ArenaError, Message, Reply, Target, TargetError

__all__ = [
    "CallableTarget",
    "HttpJsonTarget",
    "JsonPath",
    "OpenAIChatTarget",
    "target_from_config",
]

log = logging.getLogger(__name__)

# A reply larger than this is cut off and reported: a target must not exhaust memory.
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
_EXCERPT = 200


def _redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _excerpt(raw: bytes, secrets: tuple[str, ...]) -> str:
    text = raw[:_EXCERPT].decode("utf-8", errors="replace")
    return " ".join(_redact(text, secrets).split())


def _retryable_status(status: int) -> bool:
    return status in (408, 425, 429) or status >= 500


class _HttpTransport:
    """A POST-JSON helper shared by the HTTP targets: limits, timeouts and error mapping."""

    def __init__(self, target_id: str, headers: Mapping[str, str], secrets: tuple[str, ...]):
        self._id = target_id
        self._secrets = secrets
        self._client = httpx.AsyncClient(headers=dict(headers), follow_redirects=False)

    async def post_json(
        self, url: str, body: Any, timeout: float
    ) -> tuple[int, Any, bytes, float | None]:
        """POST ``body``; return (status, parsed JSON or None, raw bytes, Retry-After s).

        Raises a retryable TargetError for timeouts, transport failures, 429 and 5xx.
        """
        try:
            async with asyncio.timeout(timeout):
                async with self._client.stream(
                    "POST", url, json=body, timeout=httpx.Timeout(timeout)
                ) as response:
                    raw = bytearray()
                    async for chunk in response.aiter_bytes():
                        raw.extend(chunk)
                        if len(raw) > MAX_RESPONSE_BYTES:
                            raise TargetError(
                                "the response is larger than the limit",
                                subject=self._id,
                                expected=f"at most {MAX_RESPONSE_BYTES} bytes",
                            )
                    status = response.status_code
                    retry_after = _retry_after(response.headers.get("retry-after"))
        except TimeoutError as exc:
            raise TargetError(
                f"no answer within {timeout:g} s", subject=self._id, retryable=True
            ) from exc
        except httpx.TimeoutException as exc:
            raise TargetError(
                f"no answer within {timeout:g} s", subject=self._id, retryable=True
            ) from exc
        except httpx.HTTPError as exc:
            # The message of a transport error names the URL at most, never headers.
            problem = _redact(f"transport failure: {type(exc).__name__}: {exc}", self._secrets)
            raise TargetError(problem, subject=self._id, retryable=True) from None
        data = bytes(raw)
        if status >= 400:
            return status, _try_json(data), data, retry_after
        try:
            parsed = json.loads(data)
        except ValueError:
            raise TargetError(
                "the response is not JSON",
                subject=self._id,
                status=status,
                found=repr(_excerpt(data, self._secrets)),
            ) from None
        return status, parsed, data, retry_after

    def http_error(self, status: int, raw: bytes, retry_after: float | None = None) -> TargetError:
        # The runner waits retry_after before retrying (RFC 9110 section 10.2.3).
        return TargetError(
            f"HTTP {status}",
            subject=self._id,
            status=status,
            retryable=_retryable_status(status),
            retry_after=retry_after,
            found=repr(_excerpt(raw, self._secrets)) if raw else None,
        )

    async def aclose(self) -> None:
        await self._client.aclose()


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given as delay-seconds; HTTP dates are ignored."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 3600 else None


def _try_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _read_secret(target_id: str, env: str | None) -> str | None:
    if env is None:
        return None
    value = os.environ.get(env)
    if not value:
        raise TargetError(
            f"the environment variable {env} holding the API key is not set",
            subject=target_id,
            hint=f"export {env}=... before running",
        )
    return value


def _wire_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Messages in the OpenAI wire shape; tool calls and tool-call ids are kept."""
    wire: list[dict[str, Any]] = []
    for m in messages:
        item: dict[str, Any] = {"role": m.role, "content": m.content}
        if m.tool_calls:
            item["tool_calls"] = [dict(c) for c in m.tool_calls]
            # An assistant turn that only called tools has no text (null in the API).
            if not m.content:
                item["content"] = None
        if m.tool_call_id is not None:
            item["tool_call_id"] = m.tool_call_id
        wire.append(item)
    return wire


def _with_ids(calls: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    """Tool calls with an ``id`` each: a later ``tool`` message must name the call it
    answers, so a server that omits ids gets stable positional ones."""
    return tuple(c if isinstance(c.get("id"), str) else {**c, "id": f"call_{i}"}
                 for i, c in enumerate(calls))  # fmt: skip


class OpenAIChatTarget:
    """An OpenAI-compatible ``POST {base_url}/chat/completions`` endpoint, streaming off."""

    def __init__(
        self,
        id: str,
        base_url: str,
        model: str,
        api_key_env: str | None = None,
        headers: Mapping[str, str] | None = None,
        system: str | None = None,
        temperature: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.id = id
        self.model = model
        self.system = system
        self.temperature = temperature
        self.seed = seed
        self.url = base_url.rstrip("/") + "/chat/completions"
        all_headers = dict(headers or {})
        key = _read_secret(id, api_key_env)
        if key is not None:
            all_headers["Authorization"] = f"Bearer {key}"
        # The key lives only inside the client's headers; errors are redacted against it.
        self._http = _HttpTransport(id, all_headers, (key,) if key else ())

    def __repr__(self) -> str:
        return f"OpenAIChatTarget(id={self.id!r}, url={self.url!r}, model={self.model!r})"

    async def send(
        self, messages: list[Message], *, tools: list[dict[str, Any]] | None = None, timeout: float
    ) -> Reply:
        wire = _wire_messages(messages)
        if self.system is not None and not any(m.role == "system" for m in messages):
            wire.insert(0, {"role": "system", "content": self.system})
        body: dict[str, Any] = {
            "model": self.model,
            "messages": wire,
            "stream": False,
            "temperature": self.temperature,
            "seed": self.seed,
        }
        if tools:
            body["tools"] = tools
        status, data, raw, retry_after = await self._http.post_json(self.url, body, timeout)
        if status >= 400:
            if _is_content_filter_error(data):
                return Reply(text="", finish_reason="content_filter", blocked=True)
            raise self._http.http_error(status, raw, retry_after)
        return self._parse(data)

    def _parse(self, data: Any) -> Reply:
        def bad(problem: str) -> TargetError:
            return TargetError(f"malformed chat completion: {problem}", subject=self.id)

        if not isinstance(data, dict):
            raise bad(f"the body is a {type(data).__name__}, not an object")
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices:
            raise bad("'choices' is missing or empty")
        choice = choices[0]
        if not isinstance(choice, dict):
            raise bad("choices[0] is not an object")
        finish = choice.get("finish_reason")
        finish_reason = finish if isinstance(finish, str) else None
        message = choice.get("message")
        if finish_reason == "content_filter" and not isinstance(message, dict):
            return Reply(text="", finish_reason=finish_reason, blocked=True)
        if not isinstance(message, dict):
            raise bad("choices[0].message is missing or not an object")
        content = message.get("content")
        if content is not None and not isinstance(content, str):
            raise bad("choices[0].message.content is not a string")
        raw_calls = message.get("tool_calls") or []
        if not isinstance(raw_calls, list) or not all(isinstance(c, dict) for c in raw_calls):
            raise bad("choices[0].message.tool_calls is not a list of objects")
        usage = data.get("usage")
        return Reply(
            text=content or "",
            tool_calls=_with_ids(raw_calls),
            finish_reason=finish_reason,
            usage=usage if isinstance(usage, dict) else {},
            blocked=finish_reason == "content_filter",
        )

    async def aclose(self) -> None:
        await self._http.aclose()


def _is_content_filter_error(data: Any) -> bool:
    # Azure-style prompt filters answer 400 with {"error": {"code": "content_filter"}}.
    if not isinstance(data, dict):
        return False
    error = data.get("error")
    return isinstance(error, dict) and error.get("code") == "content_filter"


# --- JSONPath subset -----------------------------------------------------------------

_SEGMENT = re.compile(r"\.([A-Za-z_][A-Za-z0-9_\-]*)|\[(\d+)\]|\[(-\d+)\]|\['([^'\]]*)'\]")


@dataclass(frozen=True, slots=True)
class JsonPath:
    """A JSONPath subset: ``$`` followed by ``.name``, ``['name']`` and ``[index]`` steps."""

    text: str
    steps: tuple[str | int, ...]

    @classmethod
    def parse(cls, text: str) -> JsonPath:
        if len(text) > 500 or not text.startswith("$"):
            raise ArenaError(
                "invalid response_path",
                subject=text[:80],
                expected="a path like $.a.b[0].c starting with $",
            )
        steps: list[str | int] = []
        pos = 1
        while pos < len(text):
            match = _SEGMENT.match(text, pos)
            if match is None:
                raise ArenaError(
                    f"invalid response_path at character {pos}",
                    subject=text,
                    expected=".name, ['name'] or [index]",
                    found=repr(text[pos : pos + 20]),
                )
            name, index, negative, quoted = match.groups()
            if name is not None:
                steps.append(name)
            elif index is not None:
                steps.append(int(index))
            elif negative is not None:
                steps.append(int(negative))
            else:
                steps.append(quoted)
            pos = match.end()
        return cls(text, tuple(steps))

    def find(self, data: Any) -> Any:
        """Return the value at this path, or raise a ``LookupError`` saying where it stops."""
        node = data
        walked = "$"
        for step in self.steps:
            if isinstance(step, int):
                if not isinstance(node, list):
                    raise LookupError(f"{walked} is a {_kind(node)}, not an array")
                if not -len(node) <= step < len(node):
                    raise LookupError(f"{walked} has {len(node)} items, no index {step}")
                node = node[step]
                walked += f"[{step}]"
            else:
                if not isinstance(node, dict):
                    raise LookupError(f"{walked} is a {_kind(node)}, not an object")
                if step not in node:
                    keys = ", ".join(sorted(node)[:10])
                    raise LookupError(f"{walked} has no key {step!r} (keys: {keys})")
                node = node[step]
                walked += f".{step}"
        return node


def _kind(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


# --- generic HTTP JSON ---------------------------------------------------------------

_PROMPT = "{{prompt}}"
_MESSAGES = "{{messages}}"
_MAX_TEMPLATE_DEPTH = 32


def render_template(template: Any, messages: list[Message]) -> Any:
    """Fill a body template structurally: values are substituted, never spliced into JSON.

    A string equal to ``{{messages}}`` becomes the conversation as a list of objects;
    ``{{prompt}}`` inside any string becomes the last user turn.
    """
    prompt = next((m.content for m in reversed(messages) if m.role == "user"), "")

    def fill(node: Any, depth: int) -> Any:
        if depth > _MAX_TEMPLATE_DEPTH:
            raise ArenaError("the body template is nested too deeply")
        if isinstance(node, str):
            if node == _MESSAGES:
                return _wire_messages(messages)
            return node.replace(_PROMPT, prompt) if _PROMPT in node else node
        if isinstance(node, dict):
            return {key: fill(value, depth + 1) for key, value in node.items()}
        if isinstance(node, list):
            return [fill(value, depth + 1) for value in node]
        return copy.deepcopy(node)

    return fill(template, 0)


class HttpJsonTarget:
    """Any endpoint that takes a JSON body and answers JSON; the reply text is found by path."""

    def __init__(
        self,
        id: str,
        url: str,
        body_template: dict[str, Any],
        response_path: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(body_template, dict):
            raise ArenaError("body_template must be a JSON object", subject=id)
        self.id = id
        self.url = url
        self.body_template = body_template
        self.path = JsonPath.parse(response_path)
        self._http = _HttpTransport(id, headers or {}, ())

    def __repr__(self) -> str:
        return f"HttpJsonTarget(id={self.id!r}, url={self.url!r}, path={self.path.text!r})"

    async def send(
        self, messages: list[Message], *, tools: list[dict[str, Any]] | None = None, timeout: float
    ) -> Reply:
        body = render_template(self.body_template, messages)
        status, data, raw, retry_after = await self._http.post_json(self.url, body, timeout)
        if status >= 400:
            raise self._http.http_error(status, raw, retry_after)
        try:
            value = self.path.find(data)
        except LookupError as exc:
            raise TargetError(
                f"response_path {self.path.text} does not match the response: {exc}",
                subject=self.id,
            ) from None
        if isinstance(value, (dict, list)) or value is None:
            raise TargetError(
                f"response_path {self.path.text} found a {_kind(value)}",
                subject=self.id,
                expected="a string",
            )
        return Reply(text=value if isinstance(value, str) else json.dumps(value))

    async def aclose(self) -> None:
        await self._http.aclose()


# --- Python callable -----------------------------------------------------------------


class CallableTarget:
    """A Python function ``(messages) -> str | Reply``, sync (run in a thread) or async."""

    def __init__(self, id: str, fn: Callable[[list[Message]], Any]) -> None:
        self.id = id
        self.fn = fn

    def __repr__(self) -> str:
        return f"CallableTarget(id={self.id!r}, fn={getattr(self.fn, '__qualname__', self.fn)!r})"

    async def send(
        self, messages: list[Message], *, tools: list[dict[str, Any]] | None = None, timeout: float
    ) -> Reply:
        try:
            async with asyncio.timeout(timeout):
                if inspect.iscoroutinefunction(self.fn):
                    result = await self.fn(list(messages))
                else:
                    result = await asyncio.to_thread(self.fn, list(messages))
                    if inspect.isawaitable(result):
                        result = await result
        except TimeoutError:
            raise TargetError(
                f"no answer within {timeout:g} s", subject=self.id, retryable=True
            ) from None
        except TargetError:
            raise
        except Exception as exc:  # the callable is user code: any failure is a target error
            raise TargetError(
                f"the function raised {type(exc).__name__}: {str(exc)[:_EXCERPT]}", subject=self.id
            ) from exc
        if isinstance(result, Reply):
            return result
        if isinstance(result, str):
            return Reply(text=result)
        raise TargetError(
            "the function returned the wrong type",
            subject=self.id,
            expected="str or Reply",
            found=type(result).__name__,
        )

    async def aclose(self) -> None:
        return None


# --- configuration -------------------------------------------------------------------

_KEYS: dict[str, tuple[set[str], set[str]]] = {
    # kind: (required keys, optional keys), "kind" and "id" aside
    "openai": ({"base_url", "model"}, {"api_key_env", "headers", "system", "temperature", "seed"}),
    "http": ({"url", "body_template", "response_path"}, {"headers"}),
    "python": ({"function"}, set()),
}


def target_from_config(cfg: Mapping[str, Any]) -> Target:
    """Build a target from a config mapping (``kind``: openai | http | python).

    ``python`` takes ``function: "module:function"``; the module is imported, so only
    name code you trust.
    """
    kind = cfg.get("kind")
    if kind not in _KEYS:
        raise ArenaError("unknown target kind", expected="openai, http or python", found=repr(kind))
    target_id = cfg.get("id")
    if not isinstance(target_id, str) or not target_id:
        raise ArenaError("a target needs an 'id' string", subject=f"target ({kind})")
    required, optional = _KEYS[kind]
    given = set(cfg) - {"kind", "id"}
    missing = required - given
    unknown = given - required - optional
    if missing:
        raise ArenaError(f"missing keys: {', '.join(sorted(missing))}", subject=target_id)
    if unknown:
        raise ArenaError(
            f"unknown keys: {', '.join(sorted(unknown))}",
            subject=target_id,
            expected=", ".join(sorted(required | optional)),
        )
    args = {key: cfg[key] for key in given}
    if kind == "openai":
        return OpenAIChatTarget(target_id, **args)
    if kind == "http":
        return HttpJsonTarget(target_id, **args)
    return CallableTarget(target_id, _load_function(target_id, str(cfg["function"])))


def _load_function(target_id: str, spec: str) -> Callable[[list[Message]], Any]:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ArenaError(
            "invalid function reference", subject=target_id, expected="module:function", found=spec
        )
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ArenaError(
            f"cannot load {spec}: {type(exc).__name__}: {exc}", subject=target_id
        ) from None
    if not callable(obj):
        raise ArenaError(f"{spec} is not callable", subject=target_id)
    fn: Callable[[list[Message]], Any] = obj
    return fn
