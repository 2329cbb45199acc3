"""``tutela.autolog()``: lineage for scikit-learn without changing the training code.

What it does, once called (nothing happens at import time):

- ``fit()`` of every scikit-learn estimator class records the training data's fingerprint
  (``X`` with role ``training``, ``y`` with role ``target``) and the estimator's class and
  parameters. Inside a ``with tutela.run(...)`` block they go to that run; outside one,
  each outermost ``fit()`` is its own run named ``sklearn.<Class>.fit``. Nested fits (a
  Pipeline's steps, a search's candidates) are part of the outer fit and are not recorded
  separately.
- Saving a fitted estimator with ``pickle.dump``, ``joblib.dump`` or ``skops.io.dump`` to
  a path or a named file records that file as a ``model`` output of the run that fitted
  it, linked ``trained_on`` its training data. Only estimators fitted while autolog was
  on are recognised (by identity, without keeping them alive); every other object passes
  through the dump functions untouched. ``pickle.dumps``, ``Pickler(...).dump`` and
  names imported before ``autolog()`` (``from pickle import dump``) are not observed:
  record those outputs with ``run.output(path, kind="model")``.

Recording never breaks training: a failure to fingerprint or record is logged as a
warning and the user's call proceeds. :func:`disable_autolog` restores every patched
function.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import logging
import os
import weakref
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutela.workspace import Workspace

__all__ = ["autolog", "disable_autolog", "is_autologging"]

_log = logging.getLogger(__name__)
_MARK = "__tutela_autolog__"


@dataclass(frozen=True)
class _Fitted:
    run_id: str
    workspace: Workspace | None


@dataclass
class _Autolog:
    """One activation: the workspace, what it patched, and which estimators it saw fitted."""

    workspace: Workspace | None
    patched: list[tuple[Any, str, Any, Any]] = field(default_factory=list)
    fitted: weakref.WeakKeyDictionary[Any, _Fitted] = field(
        default_factory=weakref.WeakKeyDictionary
    )
    depth: ContextVar[int] = field(
        default_factory=lambda: ContextVar("tutela_autolog_depth", default=0)
    )

    # -- patching ----------------------------------------------------------------------

    def patch(self, owner: Any, attr: str, wrapper: Any) -> None:
        original = getattr(owner, attr)
        setattr(wrapper, _MARK, self)
        setattr(owner, attr, wrapper)
        self.patched.append((owner, attr, original, wrapper))

    def undo(self) -> None:
        for owner, attr, original, wrapper in reversed(self.patched):
            if owner.__dict__.get(attr) is wrapper:  # someone re-patched after us: leave it
                setattr(owner, attr, original)
        self.patched.clear()

    # -- fit ---------------------------------------------------------------------------

    def wrap_fit(self, cls: type, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def fit(estimator: Any, *args: Any, **kwargs: Any) -> Any:
            if self.depth.get() > 0:
                return original(estimator, *args, **kwargs)
            token = self.depth.set(1)
            try:
                return self._fit(cls, original, estimator, args, kwargs)
            finally:
                self.depth.reset(token)

        return fit

    def _fit(
        self,
        cls: type,
        original: Callable[..., Any],
        estimator: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        from tutela.lineage.sdk import current_run, run

        x = args[0] if args else kwargs.get("X")
        y = args[1] if len(args) > 1 else kwargs.get("y")
        handle = current_run()
        if handle is not None:
            self._record_fit(handle.workspace, handle.id, estimator, x, y)
            result = original(estimator, *args, **kwargs)
            self._remember(estimator, handle.id, handle.workspace)
            return result
        params = _params(estimator)
        with run(f"sklearn.{cls.__name__}.fit", params=params, workspace=self.workspace) as r:
            self._record_fit(r.workspace, r.id, estimator, x, y)
            result = original(estimator, *args, **kwargs)
            self._remember(estimator, r.id, self.workspace)
        return result

    def _remember(self, estimator: Any, run_id: str, ws: Workspace | None) -> None:
        try:
            self.fitted[estimator] = _Fitted(run_id, ws)
        except TypeError:  # not weak-referenceable: saving it will not be recognised
            _log.warning("cannot track %s for autolog", type(estimator).__name__)

    def _record_fit(self, ws: Workspace, run_id: str, estimator: Any, x: Any, y: Any) -> None:
        from tutela.catalog.runs import update_run_context_in
        from tutela.lineage.recorder import record_input

        kind = type(estimator)
        entry = {"class": f"{kind.__module__}.{kind.__qualname__}", "params": _params(estimator)}
        try:
            with ws.transaction() as tx:
                update_run_context_in(tx, run_id, "run.estimator", {"estimators": [entry]})
            for data, role in ((x, "training"), (y, "target")):
                if data is not None:
                    record_input(ws, run_id, data, role=role)
        except Exception as exc:  # never break the user's training
            _log.warning("autolog could not record the fit of %s: %s", kind.__name__, exc)

    # -- saving ------------------------------------------------------------------------

    def wrap_dump(self, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def dump(obj: Any, file: Any, *args: Any, **kwargs: Any) -> Any:
            result = original(obj, file, *args, **kwargs)
            self._saved(obj, file)
            return result

        return dump

    def _saved(self, obj: Any, file: Any) -> None:
        try:
            fitted = self.fitted.get(obj)
        except TypeError:  # unhashable or not weak-referenceable: never one of ours
            return
        if fitted is None:
            return
        path: Any = file if isinstance(file, str | os.PathLike) else getattr(file, "name", None)
        if not isinstance(path, str | os.PathLike) or not Path(path).is_file():
            _log.warning("autolog: a fitted estimator was saved to an unnamed file; not recorded")
            return
        try:
            if not isinstance(file, str | os.PathLike):
                file.flush()  # the bytes the digest reads are the bytes just written
            self._record_output(fitted, path)
        except Exception as exc:
            _log.warning("autolog could not record the saved model %s: %s", path, exc)

    def _record_output(self, fitted: _Fitted, path: str | os.PathLike[str]) -> None:
        from tutela.lineage.recorder import record_output

        if fitted.workspace is not None:
            record_output(fitted.workspace, fitted.run_id, path, kind="model")
            return
        with Workspace.open() as ws:
            record_output(ws, fitted.run_id, path, kind="model")


def _params(estimator: Any) -> dict[str, Any]:
    try:
        params = estimator.get_params(deep=False)
    except Exception:  # a broken get_params is the estimator's problem, not the run's
        return {}
    return dict(params) if isinstance(params, dict) else {}


def _active() -> _Autolog | None:
    import pickle

    state = getattr(pickle.dump, _MARK, None)
    return state if isinstance(state, _Autolog) else None


def is_autologging() -> bool:
    return _active() is not None


def _estimator_classes() -> list[type]:
    base = importlib.import_module("sklearn.base")
    discovery = importlib.import_module("sklearn.utils.discovery")

    classes: set[type] = {cls for _, cls in discovery.all_estimators()}
    # Meta-estimators all_estimators() leaves out still train models people save.
    for module, name in (
        ("sklearn.pipeline", "Pipeline"),
        ("sklearn.pipeline", "FeatureUnion"),
        ("sklearn.compose", "ColumnTransformer"),
        ("sklearn.model_selection", "GridSearchCV"),
        ("sklearn.model_selection", "RandomizedSearchCV"),
    ):
        classes.add(getattr(importlib.import_module(module), name))
    return sorted(
        (c for c in classes if issubclass(c, base.BaseEstimator) and "fit" in c.__dict__),
        key=lambda c: f"{c.__module__}.{c.__qualname__}",
    )


def autolog(*, workspace: Workspace | None = None) -> None:
    """Record scikit-learn fits and saved estimators (see the module documentation).

    ``workspace`` is used for fits outside a ``with tutela.run(...)`` block; None opens
    the workspace at or above the current directory when needed. Calling it again
    replaces the previous activation.
    """
    disable_autolog()
    import pickle

    state = _Autolog(workspace)
    try:
        for cls in _estimator_classes():
            original = cls.__dict__["fit"]
            if inspect.isfunction(original):  # descriptors (available_if) are left alone
                state.patch(cls, "fit", state.wrap_fit(cls, original))
        joblib = importlib.import_module("joblib")
        state.patch(joblib, "dump", state.wrap_dump(joblib.dump))
        if importlib.util.find_spec("skops") is not None:
            skops_io = importlib.import_module("skops.io")
            state.patch(skops_io, "dump", state.wrap_dump(skops_io.dump))
        # Patched last: its mark is how disable_autolog() finds this activation.
        state.patch(pickle, "dump", state.wrap_dump(pickle.dump))
    except BaseException:
        state.undo()
        raise


def disable_autolog() -> None:
    """Restore every function :func:`autolog` patched; a no-op when it is off."""
    state = _active()
    if state is not None:
        state.undo()
