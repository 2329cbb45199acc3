"""MCP client configurations -> MCP_SERVER findings, with secrets never reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tutela.inventory.interface import Confidence, FileInput, Finding, ItemKind, Problem
from tutela.inventory.mcp import McpDetector, redact_args, server_identity, strip_json_comments

SECRETS = (
    "supersecretvalue", "ghp_abcdefghijklmnopqrstuvwxyz0123", "XYZSECRET", "abc123pass",
    "sk-ant-api03-abcdefghijklmnop", "Bearer tok", "hunter2", "qwertyuiop1234567890asdfghjklzxc",
)  # fmt: skip


def _run(rel: str, text: str) -> tuple[list[Finding], list[Problem]]:
    detector = McpDetector()
    assert detector.wants(rel, rel.rsplit("/", 1)[-1]), rel
    data = text.encode()
    return detector.detect(FileInput(Path("/x"), rel, data, len(data), False))


VSCODE = """{
  // VS Code keeps servers under "servers"
  "inputs": [{"type": "promptString", "id": "token", "password": true}],
  "servers": {
    "fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem@1.2.0",
           "/home/me"], "env": {"API_KEY": "supersecretvalue"}},
    "gh": {"command": "docker", "args": ["run", "-i", "--rm", "-e",
           "GITHUB_PERSONAL_ACCESS_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123",
           "ghcr.io/github/github-mcp-server"]},
    "remote": {"type": "http", "url": "https://mcp.example.com/mcp?api_key=XYZSECRET",
               "headers": {"Authorization": "Bearer tok"}},
    /* a block comment
       over two lines */
    "git": {"command": "uvx", "args": ["mcp-server-git==0.6.2", "--repository", "."]},
    "local": {"command": "node", "args": ["./server.js", "--api-key", "abc123pass"]},
    "broken": {"foo": 1},
  },
}"""

CLAUDE = {
    "mcpServers": {
        "sqlite": {"command": "uv", "args": ["tool", "run", "mcp-server-sqlite", "--db", "x.db"]},
        "py": {"command": "/usr/bin/python3", "args": ["-m", "my_mcp.server"],
               "env": {"ANTHROPIC_API_KEY": "sk-ant-api03-abcdefghijklmnop"}},
        "events": {"url": "https://user:hunter2@events.example.com/sse"},
        "pnpm": {"command": "pnpm", "args": ["dlx", "@acme/mcp-tools"], "disabled": True},
        "opaque": {"command": "run-server", "args": ["qwertyuiop1234567890asdfghjklzxc"]},
    }
}  # fmt: skip


def test_vscode_mcp_json_with_comments() -> None:
    """JSONC is read; each server is named by what it runs; env values never appear."""
    findings, problems = _run(".vscode/mcp.json", VSCODE)
    servers = {f.name: f for f in findings}
    assert {n: f.identity for n, f in servers.items()} == {
        "fs": "mcp/npx:@modelcontextprotocol/server-filesystem",
        "gh": "mcp/docker:ghcr.io/github/github-mcp-server",
        "remote": "mcp/url:https://mcp.example.com/mcp",
        "git": "mcp/uvx:mcp-server-git",
        "local": "mcp/local",
    }
    assert all(f.kind is ItemKind.MCP_SERVER for f in findings)
    assert all(f.confidence is Confidence.DECLARED for f in findings)
    fs = servers["fs"]
    assert fs.version == "1.2.0"
    assert fs.properties["transport"] == "stdio"
    assert fs.properties["env_keys"] == ["API_KEY"]
    assert fs.location.line == 5
    assert servers["git"].version == "0.6.2"
    assert servers["git"].location.line == 14
    remote = servers["remote"]
    assert remote.properties["transport"] == "http"
    assert remote.properties["header_keys"] == ["Authorization"]
    assert servers["local"].properties["args"] == ["./server.js", "--api-key", "<redacted>"]
    assert [p.message for p in problems] == ["server 'broken' has neither command nor url"]
    dump = json.dumps([f.properties for f in findings]) + repr(findings)
    for secret in SECRETS:
        assert secret not in dump, secret


def test_claude_desktop_config() -> None:
    """mcpServers: uv tool run, python -m, SSE URLs with credentials, pnpm dlx."""
    findings, problems = _run("claude_desktop_config.json", json.dumps(CLAUDE, indent=2))
    assert problems == []
    servers = {f.name: f for f in findings}
    assert servers["sqlite"].identity == "mcp/uvx:mcp-server-sqlite"
    assert servers["py"].identity == "mcp/python:my_mcp.server"
    assert servers["py"].properties["env_keys"] == ["ANTHROPIC_API_KEY"]
    assert servers["events"].identity == "mcp/url:https://events.example.com/sse"
    assert servers["events"].properties["transport"] == "sse"
    assert servers["events"].properties["url"] == "https://***@events.example.com/sse"
    assert servers["pnpm"].identity == "mcp/npx:@acme/mcp-tools"
    assert servers["pnpm"].properties["disabled"] is True
    assert servers["opaque"].properties["args"] == ["<redacted>"]
    dump = repr(findings)
    for secret in SECRETS:
        assert secret not in dump, secret


def test_other_client_layouts() -> None:
    """VS Code settings (mcp.servers), Zed context_servers, ~/.claude.json projects."""
    settings = {"editor.fontSize": 12, "mcp": {"servers": {"a": {"command": "npx",
                                                                  "args": ["pkg-a"]}}}}  # fmt: skip
    findings, _ = _run(".vscode/settings.json", json.dumps(settings))
    assert [f.identity for f in findings] == ["mcp/npx:pkg-a"]
    zed = {"context_servers": {"z": {"command": {"path": "uvx", "args": ["zed-mcp"]}}}}
    findings, _ = _run(".zed/settings.json", json.dumps(zed))
    assert [f.identity for f in findings] == ["mcp/uvx:zed-mcp"]
    claude = {"projects": {"/home/me/p": {"mcpServers": {"b": {"command": "bunx",
                                                               "args": ["pkg-b@2"]}}}}}  # fmt: skip
    findings, _ = _run(".claude.json", json.dumps(claude))
    assert [(f.identity, f.version) for f in findings] == [("mcp/bunx:pkg-b", "2")]
    findings, problems = _run(".claude/settings.local.json", '{"permissions": {}}')
    assert (findings, problems) == ([], [])


@pytest.mark.parametrize(
    ("rel", "wanted"),
    [
        ("mcp.json", True), (".mcp.json", True), (".cursor/mcp.json", True),
        ("tools/servers.mcp.json", True), (".claude/settings.json", True),
        (".claude/settings.local.json", True), ("claude_desktop_config.json", True),
        ("package.json", False), ("settings.json", False), ("config/settings.json", False),
    ],
)  # fmt: skip
def test_wanted_names(rel: str, wanted: bool) -> None:
    """Only MCP client configuration names are read."""
    assert McpDetector().wants(rel, rel.rsplit("/", 1)[-1]) is wanted


def test_malformed_configurations() -> None:
    """Bad JSON, wrong shapes, deep nesting and oversize files are problems, not crashes."""
    cases = {
        '{"mcpServers": {"a": }': "line 1: malformed JSON",
        "[1, 2]": "not an MCP configuration",
        '{"mcpServers": []}': "'mcpServers' is not an object",
        '{"mcpServers": {"a": "npx"}}': "server 'a' is not an object",
        "[" * 50_000 + "]" * 50_000: "",
        '{"a":' * 100 + "1" + "}" * 100: "not an MCP configuration",
    }
    for text, message in cases.items():
        findings, problems = _run("mcp.json", text)
        assert findings == []
        assert len(problems) == 1
        assert problems[0].path == "mcp.json"
        assert message in problems[0].message
    big = FileInput(Path("/x"), "mcp.json", b"{}", 6 * 1024 * 1024, False)
    assert McpDetector().detect(big)[1][0].message.startswith("MCP configuration larger")


def test_helpers() -> None:
    """Comment stripping keeps strings and line numbers; identities and redaction."""
    text = '{"a": "// not a comment", /* x\n */ "b": [1,],}'
    assert json.loads(strip_json_comments(text)) == {"a": "// not a comment", "b": [1]}
    assert strip_json_comments(text).count("\n") == 1
    assert server_identity("n", "npx.cmd", ["--yes", "pkg@latest"], None) == (
        "mcp/npx:pkg",
        "latest",
    )
    assert server_identity("n", None, [], "HTTPS://Host:8080/p?q=1") == (
        "mcp/url:https://host:8080/p",
        None,
    )
    assert redact_args(["--token=abc", "TOKEN=x", "--password", "p", "-v", "plain"]) == [
        "--token=<redacted>", "TOKEN=<redacted>", "--password", "<redacted>", "-v", "plain",
    ]  # fmt: skip


def test_precision_and_recall_over_the_fixtures() -> None:
    """MCP_SERVER precision and recall over the fixtures above are >= 0.95."""
    expected = {
        "mcp/npx:@modelcontextprotocol/server-filesystem",
        "mcp/docker:ghcr.io/github/github-mcp-server",
        "mcp/url:https://mcp.example.com/mcp", "mcp/uvx:mcp-server-git", "mcp/local",
        "mcp/uvx:mcp-server-sqlite", "mcp/python:my_mcp.server",
        "mcp/url:https://events.example.com/sse", "mcp/npx:@acme/mcp-tools", "mcp/opaque",
    }  # fmt: skip
    found = {f.identity for f in _run(".vscode/mcp.json", VSCODE)[0]}
    found |= {f.identity for f in _run("claude_desktop_config.json", json.dumps(CLAUDE))[0]}
    assert len(expected & found) / len(found) >= 0.95
    assert len(expected & found) / len(expected) >= 0.95
