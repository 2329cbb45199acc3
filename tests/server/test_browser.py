"""End to end in a real browser: Playwright driving Debian's Chromium against the real
server (uvicorn on a loopback port) over a workspace with real evidence.

Chromium comes from Debian (`chromium`, `chromium-driver`), never from a Playwright
download: the session fixture installs it with apt-get when it is missing and we are root,
and otherwise skips with the reason, unless TUTELA_REQUIRE_BROWSER=1 makes that a failure.
Screenshots go to $TUTELA_TEST_ARTIFACTS (default: the test's tmp_path/artifacts).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from dashboard_support import MODEL, Demo, build_demo

from tutela.policy.approvals import get_request
from tutela.server.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

pytestmark = pytest.mark.slow


def _unavailable(reason: str) -> None:
    if os.environ.get("TUTELA_REQUIRE_BROWSER") == "1":
        pytest.fail(f"TUTELA_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _install_chromium() -> str | None:
    """Install Debian's Chromium when it is missing; the reason it cannot be, or None."""
    if CHROMIUM.exists():
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"{CHROMIUM} is missing (apt-get install chromium chromium-driver as root)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "-y", "install", "chromium", "chromium-driver"],
        ["apt-get", "update"],
        ["apt-get", "-y", "install", "chromium", "chromium-driver"],
    ):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode == 0 and CHROMIUM.exists():
            return None
    tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
    return f"apt-get could not install chromium: {tail[0]}"


@pytest.fixture(scope="session")
def chromium() -> Path:
    reason = _install_chromium()
    if reason is not None:
        _unavailable(reason)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("playwright is not installed (pip install playwright; no browser download)")
    return CHROMIUM


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("TUTELA_TEST_ARTIFACTS") or tmp_path / "artifacts")
    folder = folder / "dashboard"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"dashboard screenshots: {folder}")
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Demo]]:
    """The real server (uvicorn, in a thread) over the demo workspace."""
    import uvicorn

    demo = build_demo(tmp_path / "ws")
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(demo.ws), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield base, demo
    finally:
        server.should_exit = True
        thread.join(10)
        demo.ws.close()


def _login(page: Any, base: str, token: str) -> None:
    page.goto(f"{base}/ui/")
    assert page.url.endswith("/ui/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/ui/")


@pytest.mark.timeout(120)
def test_review_flow_in_a_browser(
    chromium: Path, served: tuple[str, Demo], artifacts: Path
) -> None:
    """bob logs in with a token, opens the overview, follows the model to its lineage and
    scan findings, and approves alice's request; alice cannot approve her own."""
    from playwright.sync_api import sync_playwright

    base, demo = served
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.set_default_timeout(15_000)
            blocked: list[str] = []
            page.on("request", lambda r: r.url.startswith(base) or blocked.append(r.url))

            _login(page, base, demo.tokens["bob"])
            assert "bob (risk-officer)" in page.inner_text("[data-testid=who]")
            assert page.locator("[data-testid=models] tbody tr").count() == 2
            page.screenshot(path=str(artifacts / "01-overview.png"), full_page=True)

            page.click(f"[data-testid=models] a:text-is('{MODEL}')")
            page.wait_for_url(f"{base}/ui/assets/{MODEL}")
            page.click("nav.sections a[href='#lineage']")
            graph = page.locator("[data-testid=lineage-graph] svg")
            assert graph.is_visible()
            assert "dataset:transactions" in (graph.text_content() or "")
            graph.screenshot(path=str(artifacts / "02-lineage.png"))
            findings = page.locator("[data-testid=scan-findings]")
            assert "critical" in findings.inner_text() and "os.system" in findings.inner_text()
            page.screenshot(path=str(artifacts / "03-asset.png"), full_page=True)

            # The lineage node links to the raw data set's own page.
            page.click("[data-testid=lineage-graph] a[href='/ui/assets/dataset:transactions']")
            page.wait_for_url(f"{base}/ui/assets/dataset:transactions")

            page.click("header nav a:text-is('Approvals')")
            row = page.locator(f"tr[data-request='{demo.request_id}']")
            row.locator("input[name=comment]").fill("findings triaged; pickle replaced")
            row.locator("button[value=approve]").click()
            page.wait_for_selector("[data-testid=message]")
            assert "is now approved" in page.inner_text("[data-testid=message]")
            approved = page.locator(f"tr[data-request='{demo.request_id}'] [data-testid=status]")
            assert approved.inner_text() == "approved"
            page.screenshot(path=str(artifacts / "04-approved.png"), full_page=True)
            assert get_request(demo.ws, demo.request_id).status == "approved"

            # alice (engineer) opens a new request, then may not approve it herself.
            from tutela.policy.approvals import request_approval

            own = request_approval(
                demo.ws, MODEL, stage="staging", reason="try staging",
                required_roles=["engineer"], requested_by="alice",
            ).id  # fmt: skip
            page.click("header form.logout button")
            page.wait_for_url(f"{base}/ui/login")
            _login(page, base, demo.tokens["alice"])
            page.goto(f"{base}/ui/approvals")
            page.locator(f"tr[data-request='{own}'] button[value=approve]").click()
            page.wait_for_selector("[data-testid=message]")
            assert "a different person must review it" in page.inner_text("[data-testid=message]")
            page.screenshot(path=str(artifacts / "05-self-approval-refused.png"), full_page=True)
            assert get_request(demo.ws, own).status == "pending"
            assert blocked == [], f"requests left the server: {blocked}"
        finally:
            browser.close()
    assert sorted(p.name for p in artifacts.glob("*.png")) == [
        "01-overview.png",
        "02-lineage.png",
        "03-asset.png",
        "04-approved.png",
        "05-self-approval-refused.png",
    ]
