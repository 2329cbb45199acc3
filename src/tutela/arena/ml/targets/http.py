"""An HTTP prediction endpoint: a JSON body template in, JSONPath selectors out.

Configuration (YAML or JSON, see docs/arena-ml.md)::

    kind: http
    id: fraud-api
    url: http://127.0.0.1:8080/predict
    body: {"instances": "$rows"}          # "$rows" | "$records" (batch), "$row" | "$record"
    labels: $.predictions[*].label         # one label per row
    probabilities: $.predictions[*].proba  # optional: one list per row
    classes: [0, 1]                        # order of the probability lists
    batch: 64                              # rows per request
    headers: {X-Team: risk}                # literal headers
    api_key_env: FRAUD_API_KEY             # sent as "Authorization: Bearer ..." (env var name)

``$rows`` becomes a list of rows (lists of numbers), ``$records`` a list of
``{feature: value}`` objects; ``$row`` / ``$record`` send one request per row.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tutela.arena.ml.interface import MLArenaError
from tutela.arena.ml.targets.jsonpath import compile_path, select

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["HttpTarget"]

_BATCH = ("$rows", "$records")
_SINGLE = ("$row", "$record")
_MAX_RESPONSE = 64 << 20


def _placeholders(template: Any) -> set[str]:
    if isinstance(template, str):
        return {template} & set(_BATCH + _SINGLE)
    if isinstance(template, list):
        return set().union(*(_placeholders(v) for v in template)) if template else set()
    if isinstance(template, dict):
        return set().union(*(_placeholders(v) for v in template.values())) if template else set()
    return set()


def _fill(template: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(template, str) and template in values:
        return values[template]
    if isinstance(template, list):
        return [_fill(v, values) for v in template]
    if isinstance(template, dict):
        return {k: _fill(v, values) for k, v in template.items()}
    return template


class HttpTarget:
    def __init__(self, config: Mapping[str, Any], *, feature_names: Sequence[str] = ()) -> None:
        import httpx

        self.config = dict(config)
        url = config.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise MLArenaError("an http target needs a url", found=repr(url))
        self.id = str(config.get("id") or url)
        self.url = url
        # `body_template` is the LLM Arena's http target's name for the same thing.
        self.template = config.get("body", config.get("body_template", {"instances": "$rows"}))
        found = _placeholders(self.template)
        if len(found) != 1:
            raise MLArenaError(
                "the body template needs exactly one placeholder",
                expected="one of $rows, $records, $row, $record",
                found=", ".join(sorted(found)) or "none",
            )
        self.placeholder = found.pop()
        self.batch = int(config.get("batch", 64)) if self.placeholder in _BATCH else 1
        labels, proba = config.get("labels"), config.get("probabilities")
        if labels is None and proba is None:
            raise MLArenaError("give `labels` or `probabilities` (JSONPath selectors)")
        self._labels = compile_path(str(labels)) if labels is not None else None
        self._proba = compile_path(str(proba)) if proba is not None else None
        self.classes: tuple[str, ...] = tuple(str(c) for c in config.get("classes") or ())
        if self._proba is not None and not self.classes:
            raise MLArenaError("probabilities need `classes` (the order of their columns)")
        self.has_proba = self._proba is not None
        self.names = list(feature_names)
        headers = {str(k): str(v) for k, v in (config.get("headers") or {}).items()}
        key_env = config.get("api_key_env")
        if key_env:
            key = os.environ.get(str(key_env))
            if not key:
                raise MLArenaError("the API key variable is not set", subject=str(key_env))
            headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.Client(timeout=float(config.get("timeout", 30.0)), headers=headers)

    def _payload(self, rows: NDArray[np.float64]) -> Any:
        plain = [[float(v) for v in row] for row in rows]
        records = [dict(zip(self.names, row, strict=False)) for row in plain]
        return _fill(
            self.template,
            {"$rows": plain, "$records": records, "$row": plain[0], "$record": records[0]},
        )

    def _post(self, rows: NDArray[np.float64]) -> Any:
        import httpx

        try:
            response = self._client.post(self.url, json=self._payload(rows))
        except httpx.HTTPError as exc:
            raise MLArenaError(f"request failed: {exc}", subject=self.url) from None
        if response.status_code >= 400:
            raise MLArenaError(
                f"HTTP {response.status_code}", subject=self.url, found=response.text[:200]
            )
        if len(response.content) > _MAX_RESPONSE:
            raise MLArenaError("response too large", subject=self.url)
        try:
            return response.json()
        except ValueError:
            raise MLArenaError(
                "the response is not JSON", subject=self.url, found=response.text[:100]
            ) from None

    def _collect(self, rows: NDArray[np.float64], steps: Any) -> list[Any]:
        out: list[Any] = []
        for start in range(0, len(rows), self.batch):
            chunk = rows[start : start + self.batch]
            values, many = select(self._post(chunk), steps)
            if not many and self.placeholder in _BATCH and len(values) == 1:
                values = values[0] if isinstance(values[0], list) else values
            if len(values) != len(chunk):
                raise MLArenaError(
                    "the selector found the wrong number of answers",
                    subject=self.url,
                    expected=str(len(chunk)),
                    found=str(len(values)),
                )
            out.extend(values)
        return out

    def predict(self, rows: NDArray[np.float64]) -> NDArray[np.str_]:
        import numpy as np

        if self._labels is None:
            best: NDArray[np.str_] = np.asarray(self.classes)[
                self.predict_proba(rows).argmax(axis=1)
            ]
            return best
        labels: NDArray[np.str_] = np.asarray([str(v) for v in self._collect(rows, self._labels)])
        return labels

    def predict_proba(self, rows: NDArray[np.float64]) -> NDArray[np.float64]:
        import numpy as np

        if self._proba is None:
            raise MLArenaError("this endpoint gives labels only", subject=self.url)
        try:
            proba = np.asarray(self._collect(rows, self._proba), dtype=np.float64)
        except (TypeError, ValueError):
            raise MLArenaError("probabilities are not lists of numbers", subject=self.url) from None
        if proba.shape != (len(rows), len(self.classes)):
            raise MLArenaError(
                "probabilities of the wrong shape",
                subject=self.url,
                expected=f"({len(rows)}, {len(self.classes)})",
                found=str(proba.shape),
            )
        return proba

    def close(self) -> None:
        self._client.close()
