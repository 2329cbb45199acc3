"""Property-based tests of every operation in the OpenAPI spec: never a 5xx.

Schemathesis generates requests from ``app.openapi()`` and sends them in process
(ASGI), authenticated as an admin so write routes run their services, not only the
role check. Examples per operation are bounded to keep the run under ~90 s.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tutela.server.app import create_app
from tutela.server.config import ServerConfig
from tutela.workspace import Workspace

pytestmark = pytest.mark.slow

_TOKENS: dict[str, str] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from conftest import add_role_users

    root: Path = tmp_path_factory.mktemp("schemathesis")
    ws = Workspace.init(root)
    (root / "scan").mkdir()
    (root / "scan" / "m.pkl").write_bytes(b"cos\nsystem\n(S'x'\ntR.")
    (root / "targets").mkdir()
    _TOKENS.update(add_role_users(ws))
    config = ServerConfig(scan_root=root / "scan", targets_dir=root / "targets",
                          max_upload_bytes=1024 * 1024)  # fmt: skip
    app = create_app(ws, config)
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", app)
    finally:
        ws.close()


def test_no_server_errors(api_schema: object) -> None:
    # Driven by hand rather than schemathesis' pytest plugin, which does not yet support
    # pytest 9; the generation is the same hypothesis strategy per operation.
    from hypothesis import given

    headers = {"Authorization": f"Bearer {_TOKENS['admin']}"}
    failures: list[str] = []
    succeeded: set[str] = set()
    operations = [result.ok() for result in api_schema.get_all_operations()]  # type: ignore[attr-defined]
    assert len(operations) >= 30

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck),
                  derandomize=True, database=None)  # fmt: skip
        def check(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> "
                                f"{response.status_code}: {response.text[:300]}")  # fmt: skip
                return
            if response.status_code < 300:
                succeeded.add(f"{case.method} {case.path}")
            if response.status_code >= 400:
                error = response.json()["error"]
                assert error["code"] and error["message"] and "\n" not in error["message"]

        check()
    assert not failures, "\n".join(failures[:20])
    # The generated requests reach the services, not only validation and role checks.
    assert len(succeeded) >= 15, sorted(succeeded)
