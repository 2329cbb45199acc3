"""MCP server configurations: which Model Context Protocol servers a project wires in.

Read from the JSON (or JSON-with-comments) configuration files of MCP clients: ``mcp.json``,
``.mcp.json``, ``.vscode/mcp.json``, ``.cursor/mcp.json``, ``claude_desktop_config.json``,
``.claude/settings*.json`` and similar. Each server under ``mcpServers`` (Claude, Cursor),
``servers`` (VS Code ``mcp.json``), ``mcp.servers`` (VS Code settings) or
``context_servers`` (Zed) becomes one ``MCP_SERVER`` finding named by what it runs
(``mcp/npx:@scope/package``, ``mcp/url:https://host/path``), else by its key.

Secrets never leave this module: ``env`` and ``headers`` are reported by key name only,
and arguments that look like credentials are replaced by ``<redacted>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tutela.inventory.argv import positionals
from tutela.inventory.interface import (
    Confidence,
    FileInput,
    Finding,
    ItemKind,
    Location,
    Problem,
)
from tutela.inventory.manifests import parse_text, redact_url

__all__ = ["McpDetector", "redact_args", "server_identity", "strip_json_comments"]

REDACTED = "<redacted>"
_MAX_DEPTH = 64
_CONFIG_NAMES = frozenset(
    {
        "mcp.json",
        ".mcp.json",
        "mcp_config.json",
        "mcp_settings.json",
        "cline_mcp_settings.json",
        "claude_desktop_config.json",
        ".claude.json",
    }
)
_SETTINGS_DIRS = frozenset({".claude", ".vscode", ".gemini", ".zed", ".cursor", ".windsurf"})
_SECRET_FLAG = re.compile(
    r"^--?[\w-]*(token|api[-_]?key|secret|password|passwd|pwd|auth|credential|bearer|key)[\w-]*$",
    re.I,
)
_SECRET_ASSIGNMENT = re.compile(
    r"^(--?)?([\w.-]*(?:token|key|secret|password|passwd|auth|credential)[\w.-]*)([=:])(.+)$",
    re.I,
)
_SECRET_VALUE = re.compile(
    r"(sk-[A-Za-z0-9_-]{16,}|sk-ant-[\w-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}"
    r"|xox[abprs]-[\w-]{10,}|AKIA[0-9A-Z]{16}|AIza[\w-]{30,}|hf_[A-Za-z0-9]{20,}"
    r"|glpat-[\w-]{20,}|eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]+|bearer\s+\S+)",
    re.I,
)
_OPAQUE = re.compile(r"[A-Za-z0-9+/_=-]{32,}")
_RUNNERS = {"npx": "npx", "bunx": "bunx", "uvx": "uvx", "pipx": "pipx"}
_DOCKER_VALUE_FLAGS = frozenset(
    {
        "-e",
        "--env",
        "-v",
        "--volume",
        "--name",
        "-p",
        "--publish",
        "--network",
        "--mount",
        "--env-file",
        "-w",
        "--workdir",
        "-u",
        "--user",
        "--entrypoint",
        "--platform",
        "-l",
        "--label",
        "--cpus",
        "-m",
        "--memory",
        "--add-host",
        "--pull",
        "-h",
        "--hostname",
    }
)
_RUNNER_VALUE_FLAGS = frozenset({"--from", "--with", "-p", "--package", "--python", "--spec"})


def strip_json_comments(text: str) -> str:
    """JSON with ``//`` and ``/* */`` comments and trailing commas, as plain JSON."""
    out: list[str] = []
    index, length = 0, len(text)
    in_string = False
    while index < length:
        char = text[index]
        if in_string:
            out.append(char)
            if char == "\\" and index + 1 < length:
                out.append(text[index + 1])
                index += 1
            elif char == '"':
                in_string = False
            index += 1
            continue
        if char == '"':
            in_string = True
        elif text.startswith("//", index):
            end = text.find("\n", index)
            index = length if end < 0 else end
            continue
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            # keep line numbers true: a block comment leaves its newlines behind
            comment = text[index : length if end < 0 else end + 2]
            out.append("\n" * comment.count("\n"))
            index = length if end < 0 else end + 2
            continue
        out.append(char)
        index += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


def redact_args(args: list[str]) -> list[str]:
    """``args`` with anything that looks like a credential replaced by ``<redacted>``."""
    result: list[str] = []
    secret_next = False
    for arg in args:
        if secret_next and not arg.startswith("-"):
            result.append(REDACTED)
            secret_next = False
            continue
        secret_next = False
        if _SECRET_FLAG.match(arg):
            result.append(arg)
            secret_next = True
        elif "://" in arg:
            result.append(redact_url(arg))
        elif (match := _SECRET_ASSIGNMENT.match(arg)) is not None:
            result.append(f"{match.group(1) or ''}{match.group(2)}{match.group(3)}{REDACTED}")
        elif _SECRET_VALUE.search(arg) or (_OPAQUE.fullmatch(arg) and _mixed(arg)):
            result.append(REDACTED)
        else:
            result.append(arg)
    return result


def _mixed(value: str) -> bool:
    """Letters and digits together: a random token, not a word or a path."""
    return bool(re.search(r"[0-9]", value) and re.search(r"[A-Za-z]", value))


def _strip_version(package: str) -> tuple[str, str | None]:
    """``@scope/pkg@1.2`` -> (``@scope/pkg``, ``1.2``); ``pkg==1.2`` likewise."""
    if "==" in package:
        name, _, version = package.partition("==")
        return name, version or None
    head, at, version = (
        package[1:].rpartition("@") if package.startswith("@") else (package.rpartition("@"))
    )
    if at and head:
        return (("@" if package.startswith("@") else "") + head), version or None
    return package, None


def _first_positional(args: list[str], value_flags: frozenset[str]) -> str | None:
    return next(positionals(args, value_flags), None)


def server_identity(
    name: str, command: str | None, args: list[str], url: str | None
) -> tuple[str, str | None]:
    """The normalised identity of what a server runs, and the version it pins if any."""
    if url:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"mcp/url:{urlunsplit((parts.scheme.lower(), host + port, parts.path, '', ''))}", (
            None
        )
    if command:
        program = command.replace("\\", "/").rsplit("/", 1)[-1].lower().removesuffix(".exe")
        program = program.removesuffix(".cmd")
        rest = list(args)
        if program in ("pnpm", "yarn", "npm") and rest[:1] in (["dlx"], ["exec"]):
            program, rest = "npx", rest[1:]
        if program == "uv" and rest[:2] == ["tool", "run"]:
            program, rest = "uvx", rest[2:]
        if program in _RUNNERS:
            package = _first_positional(rest, _RUNNER_VALUE_FLAGS)
            if package and not package.startswith(("/", ".")):
                bare, version = _strip_version(package)
                return f"mcp/{_RUNNERS[program]}:{bare}", version
        if program in ("docker", "podman") and rest[:1] == ["run"]:
            image = _first_positional(rest[1:], _DOCKER_VALUE_FLAGS)
            if image:
                return f"mcp/docker:{image}", None
        if program.startswith("python") and rest[:1] == ["-m"] and len(rest) > 1:
            return f"mcp/python:{rest[1]}", None
    return f"mcp/{name}", None


def _transport(server: Mapping[str, Any], url: str | None) -> str:
    declared = server.get("type") or server.get("transport")
    if isinstance(declared, str) and declared:
        lowered = declared.lower()
        return "http" if lowered in ("streamable-http", "streamablehttp", "http") else lowered
    if url:
        return "sse" if urlsplit(url).path.rstrip("/").endswith("/sse") else "http"
    return "stdio"


def _server_tables(doc: Mapping[str, Any], name: str) -> Iterator[tuple[str, Any]]:
    """(where, table of servers) for every place a client keeps its servers."""
    if "mcpServers" in doc:
        yield "mcpServers", doc["mcpServers"]
    if "servers" in doc and "mcp" in name:
        yield "servers", doc["servers"]
    mcp = doc.get("mcp")
    if isinstance(mcp, dict) and "servers" in mcp:
        yield "mcp.servers", mcp["servers"]
    if "context_servers" in doc:
        yield "context_servers", doc["context_servers"]
    projects = doc.get("projects")  # ~/.claude.json keeps servers per project folder
    if isinstance(projects, dict):
        for key, project in projects.items():
            if isinstance(project, dict) and "mcpServers" in project:
                yield f"projects.{key}.mcpServers", project["mcpServers"]


def _depth_ok(value: Any) -> bool:
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > _MAX_DEPTH:
            return False
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return True


class McpDetector:
    """Every MCP server an MCP client configuration declares."""

    id = "discover.mcp"

    def wants(self, rel: str, name: str) -> bool:
        lower = name.lower()
        if lower in _CONFIG_NAMES or lower.endswith(".mcp.json"):
            return True
        parent = rel.rsplit("/", 2)[-2] if "/" in rel else ""
        if parent == ".claude" and lower.startswith("settings") and lower.endswith(".json"):
            return True
        return parent in _SETTINGS_DIRS and lower == "settings.json"

    def detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        return parse_text(file, "MCP configuration", self._parse)

    def _parse(self, file: FileInput, text: str) -> tuple[list[Finding], list[Problem]]:
        try:
            doc = json.loads(strip_json_comments(text))
        except json.JSONDecodeError as exc:
            return [], [Problem(file.rel, f"line {exc.lineno}: malformed JSON: {exc.msg}")]
        except RecursionError:
            return [], [Problem(file.rel, "malformed JSON: nested too deeply")]
        if not isinstance(doc, dict) or not _depth_ok(doc):
            return [], [Problem(file.rel, "not an MCP configuration: expected a JSON object")]
        lines = text.splitlines()
        findings: list[Finding] = []
        problems: list[Problem] = []
        for where, servers in _server_tables(doc, file.name.lower()):
            if not isinstance(servers, dict):
                problems.append(Problem(file.rel, f"'{where}' is not an object"))
                continue
            for name, server in servers.items():
                if not isinstance(server, dict):
                    problems.append(Problem(file.rel, f"server {name[:60]!r} is not an object"))
                    continue
                finding = self._server(file, name, server, _line_of_key(lines, name))
                if finding is None:
                    problems.append(
                        Problem(file.rel, f"server {name[:60]!r} has neither command nor url")
                    )
                else:
                    findings.append(finding)
        return findings, problems

    def _server(
        self, file: FileInput, name: str, server: Mapping[str, Any], line: int | None
    ) -> Finding | None:
        raw_command = server.get("command")
        if isinstance(raw_command, dict):  # Zed: {"command": {"path": ..., "args": [...]}}
            server = {**server, **raw_command}
            raw_command = raw_command.get("path")
        command = raw_command if isinstance(raw_command, str) and raw_command else None
        raw_url = server.get("url") or server.get("serverUrl") or server.get("httpUrl")
        url = raw_url if isinstance(raw_url, str) and raw_url else None
        if command is None and url is None:
            return None
        raw_args = server.get("args", [])
        args = [str(a) for a in raw_args] if isinstance(raw_args, list) else []
        identity, version = server_identity(name, command, args, url)
        properties: dict[str, Any] = {
            "server": name,
            "command": command,
            "args": redact_args(args),
            "url": redact_url(url) if url else None,
            "transport": _transport(server, url),
            "env_keys": sorted(_keys(server.get("env"))),
        }
        header_keys = sorted(_keys(server.get("headers")))
        if header_keys:
            properties["header_keys"] = header_keys
        if server.get("disabled") is True or server.get("enabled") is False:
            properties["disabled"] = True
        return Finding(
            ItemKind.MCP_SERVER,
            identity,
            name,
            Confidence.DECLARED,
            Location(file.rel, line),
            self.id,
            version,
            properties,
        )


def _keys(value: Any) -> list[str]:
    return [str(k) for k in value] if isinstance(value, dict) else []


def _line_of_key(lines: list[str], key: str) -> int | None:
    needle = json.dumps(key) + ":"
    spaced = json.dumps(key) + " :"
    for number, line in enumerate(lines, 1):
        if needle in line or spaced in line:
            return number
    return None
