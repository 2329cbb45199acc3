"""Request ids, one structured log line per request, and a cap on request bodies."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit", "RequestLog", "TokenGate"]

log = logging.getLogger("tutela.server")
_GOOD_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


class RequestLog:
    """Sets ``request.state.request_id`` (from X-Request-ID when sane) and logs the call."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _GOOD_ID.match(given) else uuid.uuid4().hex
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                    "actor": state.get("actor"),
                },
            )


class BodyLimit:
    """Refuse bodies over the limit: early on Content-Length, else while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            message = f"the request body is larger than {self.max_bytes} bytes"
            await _json(send, 413, "payload_too_large", message, scope)
            return
        seen = 0

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # An HTTPException passes FastAPI's body parsing untouched and is
                    # rendered by the JSON error handler like any other.
                    raise HTTPException(413, f"the request body is larger than {limit} bytes")
            return message

        limit = self.max_bytes
        await self.app(scope, counting, send)


class TokenGate:
    """Authenticate /api requests before anything reads their body.

    FastAPI parses a body before it resolves dependencies, so without this gate a request
    with no valid token could still get a 422 about its JSON, or stream an upload. The
    principal found here is kept in the request state for the route's dependency.
    """

    def __init__(self, app: ASGIApp, authenticate: Callable[[str], Any], prefix: str) -> None:
        self.app = app
        self.authenticate = authenticate
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        scheme, _, credentials = header.partition(" ")
        found = None
        if scheme.lower() == "bearer" and credentials.strip():
            found = await anyio.to_thread.run_sync(self.authenticate, credentials.strip())
        if found is None:
            message = (
                "the token is unknown, expired or revoked, or its user is disabled"
                if header
                else "an API token is required; send Authorization: Bearer <token>"
            )
            await _json(send, 401, "unauthenticated", message, scope,
                        [(b"www-authenticate", b"Bearer")])  # fmt: skip
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        state["principal"] = found
        state["actor"] = found.name
        await self.app(scope, receive, send)


async def _json(
    send: Send,
    status: int,
    code: str,
    message: str,
    scope: Scope,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    error: dict[str, Any] = {"code": code, "message": message}
    request_id = (scope.get("state") or {}).get("request_id")
    if request_id:
        error["request_id"] = request_id
    body = json.dumps({"error": error}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
