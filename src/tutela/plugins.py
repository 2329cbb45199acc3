"""Plugin discovery through entry points, done inside an object, never at import time.

Built-in capabilities register through the same entry-point groups as third-party
plugins (pyproject.toml ``[project.entry-points."tutela.scanners"]`` and so on), so
nothing distinguishes them. Each plugin class declares a stable string ``id`` and its
metadata on the class; the id is stored with the evidence it produces.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from tutela.errors import UsageError

__all__ = ["GROUPS", "LoadedPlugin", "PluginRegistry"]

log = logging.getLogger(__name__)

GROUPS = (
    "tutela.scanners",
    "tutela.probes",
    "tutela.detectors",
    "tutela.targets",
    "tutela.exporters",
    "tutela.facts",
)


@dataclass(frozen=True)
class LoadedPlugin:
    id: str
    group: str
    obj: Any
    distribution: str | None


class PluginRegistry:
    """Lazily loads each entry-point group once, on first use."""

    def __init__(self) -> None:
        self._loaded: dict[str, dict[str, LoadedPlugin]] = {}

    def group(self, name: str) -> dict[str, LoadedPlugin]:
        if name not in GROUPS:
            raise UsageError("unknown plugin group", found=name, expected=", ".join(GROUPS))
        if name not in self._loaded:
            self._loaded[name] = self._load(name)
        return self._loaded[name]

    def get(self, group: str, plugin_id: str) -> LoadedPlugin:
        found = self.group(group).get(plugin_id)
        if found is None:
            raise UsageError(
                "no such plugin",
                subject=plugin_id,
                expected=", ".join(sorted(self.group(group))) or f"a plugin in {group}",
            )
        return found

    @staticmethod
    def _load(group: str) -> dict[str, LoadedPlugin]:
        plugins: dict[str, LoadedPlugin] = {}
        for ep in entry_points(group=group):
            plugin = _load_one(group, ep)
            if plugin is None:
                continue
            if plugin.id in plugins:
                log.warning(
                    "plugin id %s registered twice in %s; keeping the first", plugin.id, group
                )
                continue
            plugins[plugin.id] = plugin
        return plugins


def _load_one(group: str, ep: EntryPoint) -> LoadedPlugin | None:
    try:
        obj = ep.load()
    except Exception:  # a broken third-party plugin must not break Tutela
        log.warning("cannot load plugin %s from %s", ep.name, group, exc_info=True)
        return None
    plugin_id = getattr(obj, "id", None) or ep.name
    dist = ep.dist.name if ep.dist is not None else None
    return LoadedPlugin(str(plugin_id), group, obj, dist)
