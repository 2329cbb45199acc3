"""``setup.cfg``: ``install_requires``, ``extras_require``, ``tests_require``."""

from __future__ import annotations

import configparser
import posixpath

from tutela.inventory.catalog import normalise_distribution
from tutela.inventory.interface import FileInput, Finding, Problem
from tutela.inventory.manifests.common import COMMENT, Lines, Out, first_line, parse_text
from tutela.inventory.manifests.requirements import parse_requirement_lines, report_include

__all__ = ["SetupCfgDetector"]


class SetupCfgDetector:
    """``setup.cfg``: ``install_requires``, ``extras_require``, ``tests_require``."""

    id = "discover.setup-cfg"

    def wants(self, rel: str, name: str) -> bool:
        return name == "setup.cfg"

    def detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        return parse_text(file, "setup.cfg", self._parse)

    def _parse(self, file: FileInput, text: str) -> tuple[list[Finding], list[Problem]]:
        out = Out(file.rel, self.id)
        parser = configparser.RawConfigParser(strict=False)
        try:
            parser.read_string(text, source=file.rel)
        except configparser.MissingSectionHeaderError as exc:
            out.problem(exc.lineno, "malformed setup.cfg: text before the first [section]")
            return out.result()
        except configparser.ParsingError as exc:
            line = exc.errors[0][0] if exc.errors else None
            out.problem(line, "malformed setup.cfg: a line is neither a section nor a key")
            return out.result()
        except configparser.Error as exc:
            out.problem(getattr(exc, "lineno", None), f"malformed setup.cfg: {first_line(exc)}")
            return out.result()
        lines = Lines(text)
        sections: list[tuple[str, str, str]] = [
            ("options", "install_requires", "runtime"),
            ("options", "tests_require", "dev"),
            ("options", "setup_requires", "build"),
        ]
        if parser.has_section("options.extras_require"):
            for extra in parser.options("options.extras_require"):
                sections.append(
                    ("options.extras_require", extra, f"optional:{normalise_distribution(extra)}")
                )
        base = posixpath.dirname(file.rel)
        for section, key, scope in sections:
            if not parser.has_option(section, key):
                continue
            value = parser.get(section, key)
            start = lines.header(section)
            if value.strip().startswith("file:"):
                for name in value.strip()[5:].split(","):
                    if name.strip():
                        report_include("file:", name.strip(), lines.key(key, start), out, base)
                continue
            items: list[tuple[int | None, str]] = []
            for raw in value.splitlines():
                entry = COMMENT.sub("", raw).strip()
                if entry:
                    items.append((lines.find(entry, start), entry))
            parse_requirement_lines(items, out, scope, "setup.cfg", base)
        return out.result()
