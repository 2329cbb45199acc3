"""Every error answers JSON ``{"error": {"code", "message"}}``; codes are stable.

A ``TutelaError`` keeps its one-line diagnostics as the message. Anything unexpected is
logged with its traceback server-side and answers ``internal_error`` with no detail.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tutela.errors import (
    InputError,
    IntegrityError,
    LimitExceeded,
    SigningKeyError,
    StoreError,
    TutelaError,
    UsageError,
    WorkspaceError,
)

__all__ = [
    "ERROR_RESPONSES",
    "Forbidden",
    "NotAvailable",
    "NotFound",
    "Unauthenticated",
    "error_body",
    "install_error_handlers",
    "status_and_code",
]

log = logging.getLogger("tutela.server")


class Unauthenticated(TutelaError):
    code = "unauthenticated"


class Forbidden(TutelaError):
    code = "forbidden"


class NotFound(InputError):
    code = "not_found"


class NotAvailable(TutelaError):
    """A capability whose module is not installed (or not written yet)."""

    code = "not_implemented"


_HTTP_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    501: "not_implemented",
    503: "unavailable",
}


def status_and_code(exc: TutelaError) -> tuple[int, str]:
    """The HTTP status and stable code of a Tutela error."""
    if isinstance(exc, Unauthenticated):
        return 401, "unauthenticated"
    if isinstance(exc, Forbidden):
        return 403, "forbidden"
    if isinstance(exc, NotAvailable):
        return 501, "not_implemented"
    if isinstance(exc, NotFound):
        return 404, "not_found"
    if isinstance(exc, LimitExceeded):
        return 413, "limit_exceeded"
    if isinstance(exc, InputError):
        # Services say "no such …" for a missing subject: that is a 404 to an API client.
        if exc.problem.startswith("no such"):
            return 404, "not_found"
        return 400, "invalid_input"
    if isinstance(exc, UsageError):
        if "already" in exc.problem:
            return 409, "conflict"
        return 400, "invalid_request"
    if isinstance(exc, IntegrityError):
        return 409, "integrity_failed"
    if isinstance(exc, WorkspaceError | StoreError | SigningKeyError):
        return 503, "unavailable"
    return 400, exc.code.replace("-", "_") or "error"


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": " ".join(message.split())}
    error.update({k: v for k, v in extra.items() if v is not None})
    return {"error": error}


# The documented error shape, attached to every route for the OpenAPI spec.
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "subject": {"type": "string"},
                "hint": {"type": "string"},
                "request_id": {"type": "string"},
            },
        }
    },
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {"application/json": {"schema": _ERROR_SCHEMA}},
    }
    for status, description in [
        (400, "Bad input"),
        (401, "No valid token"),
        (403, "The token's user lacks the role"),
        (404, "Not found"),
        (409, "Conflict with the current state"),
        (413, "Too large"),
        (422, "Request validation failed"),
        (501, "Capability not installed"),
    ]
}


def _request_id(request: Request) -> str | None:
    value = getattr(request.state, "request_id", None)
    return value if isinstance(value, str) else None


def install_error_handlers(app: FastAPI) -> None:
    async def tutela_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, TutelaError)
        status, code = status_and_code(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        body = error_body(
            code, exc.diagnostics(), subject=exc.subject, request_id=_request_id(request)
        )
        return JSONResponse(body, status_code=status, headers=headers)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = []
        for item in exc.errors()[:20]:
            where = ".".join(str(p) for p in item.get("loc", ()))
            problems.append({"field": where, "problem": str(item.get("msg", ""))})
        first = problems[0] if problems else {"field": "", "problem": "invalid request"}
        message = f"{first['field']}: {first['problem']}" if first["field"] else first["problem"]
        body = error_body("validation_error", message, request_id=_request_id(request))
        body["error"]["problems"] = problems
        return JSONResponse(body, status_code=422)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return JSONResponse(
            error_body(code, message, request_id=_request_id(request)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error(
            "unhandled error",
            exc_info=exc,
            extra={"request_id": _request_id(request), "path": request.url.path},
        )
        return JSONResponse(
            error_body(
                "internal_error",
                "an internal error occurred; it was logged with this request id",
                request_id=_request_id(request),
            ),
            status_code=500,
        )

    app.add_exception_handler(TutelaError, tutela_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
