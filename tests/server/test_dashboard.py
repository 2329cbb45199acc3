"""The dashboard in process: login, every page over real evidence, roles and CSRF on forms."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_support import CHAT, MODEL, Demo, build_demo
from fastapi.testclient import TestClient

from tutela.catalog.assets import add_asset
from tutela.policy.approvals import get_request, request_approval
from tutela.server.app import create_app
from tutela.server.jobs import JobRegistry

PAGES = [
    "/ui/",
    "/ui/assets",
    "/ui/assets?kind=model",
    "/ui/assets?tag=source:arena",
    f"/ui/assets/{MODEL}",
    f"/ui/assets/{CHAT}",
    "/ui/assets/dataset:transactions",
    "/ui/approvals",
    "/ui/approvals?status=approved",
    "/ui/jobs",
    "/ui/ledger",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    found = build_demo(tmp_path_factory.mktemp("dashboard") / "ws")
    try:
        yield found
    finally:
        found.ws.close()


@pytest.fixture(scope="module")
def client(demo: Demo) -> Iterator[TestClient]:
    with TestClient(create_app(demo.ws), raise_server_exceptions=False) as c:
        yield c


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def login(client: TestClient, demo: Demo, user: str) -> str:
    """Log ``user`` in (replacing any session); returns the page's CSRF token."""
    client.cookies.clear()
    form = client.get("/ui/login")
    response = client.post(
        "/ui/login",
        data={"token": demo.tokens[user], "csrf": _csrf(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/ui/"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/ui" in cookie
    return _csrf(client.get("/ui/approvals").text)


def _request(demo: Demo, stage: str, by: str = "alice") -> str:
    return request_approval(
        demo.ws, MODEL, stage=stage, reason=f"ready for {stage}",
        required_roles=["risk-officer"], requested_by=by,
    ).id  # fmt: skip


def test_pages_redirect_to_login_without_a_session(client: TestClient) -> None:
    """No cookie, or a cookie that is not a valid token: every page sends you to log in."""
    client.cookies.clear()
    for url in PAGES:
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303, url
        assert response.headers["location"] == "/ui/login"
    client.cookies.set("tutela_session", "tut_not-a-token", path="/ui")
    assert client.get("/ui/", follow_redirects=False).status_code == 303


def test_every_page_renders_for_a_viewer(client: TestClient, demo: Demo) -> None:
    """A viewer sees every page, with self-contained, escaped HTML and strict headers."""
    login(client, demo, "vera")
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 200, (url, response.text[:500])
        assert response.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert "vera (viewer)" in response.text
        # Nothing loaded from elsewhere: every src/href is local.
        assert not re.search(r'(src|href)="(https?:)?//', response.text), url


def test_overview_answers_the_four_questions(client: TestClient, demo: Demo) -> None:
    """The overview lists both models with a verdict per question, linking to each."""
    login(client, demo, "vera")
    html = client.get("/ui/").text
    assert "Do we know the lineage of the data used to train this model?" in html
    assert f'href="/ui/assets/{MODEL}"' in html and f'href="/ui/assets/{CHAT}"' in html
    assert html.count('class="verdict yes"') >= 4


def test_asset_page_shows_lineage_findings_drift_card_and_gaps(
    client: TestClient, demo: Demo
) -> None:
    """The scanned model: an SVG lineage graph back to its raw CSV, the critical pickle
    finding, drift charts with the shifted column, the card and EU AI Act gaps."""
    login(client, demo, "vera")
    html = client.get(f"/ui/assets/{MODEL}").text
    lineage = html.split('<section id="lineage"')[1].split("</section>")[0]
    assert "<svg" in lineage and "dataset:transactions" in lineage and "trained_on" in lineage
    assert 'href="/ui/assets/dataset:transactions"' in lineage
    findings = html.split('<section id="findings"')[1].split("</section>")[0]
    assert 'class="sev critical"' in findings and "os.system" in findings
    drift = html.split('<section id="drift"')[1].split("</section>")[0]
    assert drift.count("<svg") == 2 and "alcohol" in drift
    assert "Per-column effect size" in drift
    assert "field(s) missing" in html.split('<section id="card"')[1]
    gaps = html.split('<section id="compliance"')[1]
    assert "EU-AI-Act" in gaps and 'class="status missing"' in gaps


def test_arena_results_are_charted_per_category(client: TestClient, demo: Demo) -> None:
    """The evaluated chat app: one bar per Arena category with its attack success rate."""
    login(client, demo, "vera")
    html = client.get(f"/ui/assets/{CHAT}").text
    arena = html.split('<section id="arena"')[1].split("</section>")[0]
    assert "<svg" in arena
    assert "package_hallucination: 100%" in arena and "prompt_injection: 0%" in arena


def test_inventory_filters(client: TestClient, demo: Demo) -> None:
    """Kind and tag filters narrow the list; an unknown kind says so."""
    login(client, demo, "vera")
    models = client.get("/ui/assets?kind=model").text
    assert MODEL in models and "dataset:transactions" not in models
    tagged = client.get("/ui/assets?tag=source:arena").text
    assert CHAT in tagged and f">{MODEL}<" not in tagged
    assert "unknown asset kind" in client.get("/ui/assets?kind=spaceship").text


def test_everything_is_escaped(client: TestClient, demo: Demo) -> None:
    """Markup in stored text is shown as text, never run."""
    add_asset(demo.ws, "model:xss", description='<script>alert("x")</script>', actor="admin")
    login(client, demo, "vera")
    html = client.get("/ui/assets/model:xss").text
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_viewer_sees_the_queue_but_cannot_approve(client: TestClient, demo: Demo) -> None:
    """No approve button for a viewer, and a forged POST with a valid CSRF token is 403."""
    request_id = _request(demo, "viewer-test")
    csrf = login(client, demo, "vera")
    queue = client.get("/ui/approvals").text
    assert request_id in queue and "Approve" not in queue
    response = client.post(
        f"/ui/approvals/{request_id}/review", data={"decision": "approve", "csrf": csrf}
    )
    assert response.status_code == 403 and "your roles do not allow reviews" in response.text
    assert get_request(demo.ws, request_id).status == "pending"


def test_a_form_without_its_csrf_token_is_refused(client: TestClient, demo: Demo) -> None:
    """A risk officer's POST without (or with a wrong) CSRF token changes nothing."""
    request_id = _request(demo, "csrf-test")
    login(client, demo, "bob")
    for data in ({"decision": "approve"}, {"decision": "approve", "csrf": "0" * 64}):
        response = client.post(f"/ui/approvals/{request_id}/review", data=data)
        assert response.status_code == 403 and "did not come from this dashboard" in response.text
    assert get_request(demo.ws, request_id).status == "pending"


def test_approve_as_second_user_and_not_your_own(client: TestClient, demo: Demo) -> None:
    """alice cannot approve her own request (403, said on the page); bob approves it."""
    request_id = _request(demo, "approve-test")
    csrf = login(client, demo, "alice")
    own = client.post(
        f"/ui/approvals/{request_id}/review", data={"decision": "approve", "csrf": csrf}
    )
    assert own.status_code == 403 and "a different person must review it" in own.text
    csrf = login(client, demo, "bob")
    done = client.post(
        f"/ui/approvals/{request_id}/review",
        data={"decision": "approve", "comment": "scan findings triaged", "csrf": csrf},
    )
    assert done.status_code == 200 and "is now approved" in done.text
    approved = get_request(demo.ws, request_id)
    assert approved.status == "approved" and approved.reviews[0].reviewer == "bob"


def test_login_checks_the_token_and_its_form(client: TestClient, demo: Demo) -> None:
    """A wrong token is 401 with a message; a login POST without its CSRF cookie is 403;
    logging out ends the session."""
    client.cookies.clear()
    form = client.get("/ui/login")
    bad = client.post("/ui/login", data={"token": "tut_wrong", "csrf": _csrf(form.text)})
    assert bad.status_code == 401 and "unknown, expired or revoked" in bad.text
    client.cookies.clear()
    forged = client.post("/ui/login", data={"token": demo.tokens["bob"], "csrf": "x" * 43})
    assert forged.status_code == 403
    csrf = login(client, demo, "bob")
    out = client.post("/ui/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/ui/login"
    assert client.get("/ui/", follow_redirects=False).status_code == 303


def test_running_jobs_show_progress(client: TestClient, demo: Demo) -> None:
    """A running job shows its progress bar, and the page reloads itself until it ends."""
    jobs = client.app.state.jobs  # type: ignore[attr-defined]
    assert isinstance(jobs, JobRegistry)
    release = threading.Event()
    started = threading.Event()

    def work() -> dict[str, object]:
        started.set()
        release.wait(10)
        return {"attempts": 7}

    job = jobs.submit("arena", "bob", work, lambda: {"done": 3, "total": 7})
    try:
        assert started.wait(5)
        login(client, demo, "vera")
        html = client.get("/ui/jobs").text
        assert job.id[:8] in html and '<progress max="7" value="3">' in html
        assert 'http-equiv="refresh"' in html
        assert "1 job(s) running" in client.get("/ui/").text
    finally:
        release.set()
    for _ in range(100):
        if jobs.get(job.id).status == "succeeded":  # type: ignore[union-attr]
            break
        threading.Event().wait(0.05)
    html = client.get("/ui/jobs").text
    assert 'http-equiv="refresh"' not in html and "attempts: 7" in html


def test_static_files_are_whitelisted(client: TestClient) -> None:
    """The style sheet is served from the package; any other name is 404."""
    css = client.get("/ui/static/dashboard.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert client.get("/ui/static/..%2F__init__.py").status_code == 404
    assert client.get("/ui/static/app.js").status_code == 404


def test_unknown_asset_is_a_404_page(client: TestClient, demo: Demo, tmp_path: Path) -> None:
    """An asset that does not exist: a 404 page saying so."""
    login(client, demo, "vera")
    response = client.get("/ui/assets/model:nope")
    assert response.status_code == 404 and "no such asset" in response.text
