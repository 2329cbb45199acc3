"""Server benchmark: monitoring ingest over HTTP, then a kill -9 in the middle of it.

Not a test. For each store (SQLite, then PostgreSQL in a fresh schema): start
`tutela serve` in a subprocess on a temporary workspace, drive `POST /api/v1/monitor/rows`
(100 rows a request, one window each) from client threads on loopback, and report
requests/s, p50 and p99. Then start the same load again, SIGKILL the server while requests
are in flight, restart it, and check that every acknowledged request (a 201 the client
received) is a stored window, and that `tutela ledger verify` passes.

    .venv/bin/python bench/server.py [--requests 1500] [--concurrency 16] [--rows 100]
        [--kill-after 2.0] [--pg postgresql://postgres@127.0.0.1:5432/test] [--no-pg]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SERVE = "from tutela.cli.serve import serve; import typer; typer.run(serve)"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rows(n: int, rng: random.Random) -> list[dict[str, object]]:
    return [
        {"amount": rng.gauss(100, 15), "age": rng.randint(18, 90), "country": rng.choice("abcde")}
        for _ in range(n)
    ]


@dataclass
class Server:
    workspace: Path
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> float:
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVE, "--port", str(self.port), "--workspace",
             str(self.workspace), "--log-level", "warning"],
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("ab"),
            cwd=self.workspace,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"the server did not become ready; see {self.log}")

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@dataclass
class Load:
    acknowledged: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def drive(
    server: Server, token: str, *, requests: int, concurrency: int, rows: int, tag: str,
    stop: threading.Event | None = None,
) -> tuple[Load, float]:  # fmt: skip
    load = Load()
    per_client = requests // concurrency
    headers = {"Authorization": f"Bearer {token}"}

    def client(index: int) -> None:
        rng = random.Random(index)
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
            for i in range(per_client):
                if stop is not None and stop.is_set():
                    return
                window = f"{tag}-{index}-{i}"
                body = {"asset": "model:bench", "rows": _rows(rows, rng), "window": window}
                began = time.perf_counter()
                try:
                    response = http.post("/api/v1/monitor/rows", json=body)
                except httpx.TransportError:
                    with load.lock:
                        load.errors += 1
                    if stop is not None:
                        return  # the server is gone
                    continue
                took = time.perf_counter() - began
                with load.lock:
                    if response.status_code == 201:
                        load.acknowledged.append(window)
                        load.latencies.append(took)
                    else:
                        load.errors += 1
                        load.failures.append(f"{response.status_code} {response.text[:300]}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return load, time.perf_counter() - began


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def _prepare(directory: Path, database_url: str | None) -> str:
    sys.path.insert(0, str(ROOT / "src"))
    from tutela.catalog.assets import add_asset
    from tutela.catalog.tokens import create_token
    from tutela.catalog.users import add_user
    from tutela.workspace import Workspace

    with Workspace.init(directory, database_url=database_url) as ws:
        add_user(ws, "bench", roles=["engineer", "admin"], actor="bench")
        token, _ = create_token(ws, "bench", label="bench", actor="bench")
        # Registered up front: on PostgreSQL, concurrent first writes of a new asset race
        # in catalog.assets.ensure_asset_in (a unique violation answered 503); see the
        # report. The figures measure steady ingest.
        add_asset(ws, "model:bench", actor="bench")
    return token


def _stored_windows(server: Server, token: str) -> set[str]:
    response = httpx.get(
        f"{server.url}/api/v1/monitor/windows",
        params={"asset": "model:bench", "limit": 100_000},
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    )
    response.raise_for_status()
    return {w["window"] for w in response.json()}


def run_store(name: str, database_url: str | None, args: argparse.Namespace) -> dict[str, object]:
    directory = Path(tempfile.mkdtemp(prefix=f"tutela-bench-server-{name}-"))
    token = _prepare(directory, database_url)
    server = Server(directory, _free_port(), directory / "server.log")
    try:
        ready = server.start()
        load, wall = drive(server, token, requests=args.requests, concurrency=args.concurrency,
                           rows=args.rows, tag="steady")  # fmt: skip
        # The crash: the same load again, with a SIGKILL while requests are in flight.
        stop = threading.Event()
        crash: dict[str, object] = {}

        def crash_load() -> None:
            result, _ = drive(server, token, requests=10**6, concurrency=args.concurrency,
                              rows=args.rows, tag="crash", stop=stop)  # fmt: skip
            crash["load"] = result

        driver = threading.Thread(target=crash_load)
        driver.start()
        time.sleep(args.kill_after)
        server.kill()
        stop.set()
        driver.join()
        crashed = crash["load"]
        assert isinstance(crashed, Load)
        restart = server.start()
        stored = _stored_windows(server, token)
        server.stop()
        missing = [w for w in load.acknowledged + crashed.acknowledged if w not in stored]
        verify = subprocess.run(
            [sys.executable, "-m", "tutela", "ledger", "verify", "--json"],
            cwd=directory, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        report = json.loads(verify.stdout) if verify.stdout.strip().startswith("{") else {}
        return {
            "store": name,
            "requests": len(load.acknowledged),
            "errors": load.errors,
            "rows_per_request": args.rows,
            "concurrency": args.concurrency,
            "req_per_s": len(load.acknowledged) / wall,
            "p50_ms": _pct(load.latencies, 0.50),
            "p99_ms": _pct(load.latencies, 0.99),
            "ready_s": ready,
            "first_failures": sorted(set(load.failures))[:5],
            "crash_acknowledged": len(crashed.acknowledged),
            "crash_failed_in_flight": crashed.errors,
            "stored_windows": len(stored),
            "acknowledged_missing": len(missing),
            "restart_s": restart,
            "ledger_verify_exit": verify.returncode,
            "ledger_entries": report.get("entries"),
        }
    finally:
        server.stop()


def _pg_schema(dsn: str) -> tuple[str, str]:
    import psycopg

    schema = f"tutela_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema, f"{dsn}?options=-csearch_path%3D{schema}"


def _drop_schema(dsn: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--kill-after", type=float, default=2.0)
    parser.add_argument("--pg", default=os.environ.get("TUTELA_TEST_PG",
                                                       "postgresql://postgres@127.0.0.1:5432/test"))  # fmt: skip
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    results = [run_store("sqlite", None, args)]
    if not args.no_pg:
        schema, url = _pg_schema(args.pg)
        try:
            results.append(run_store("postgresql", url, args))
        finally:
            _drop_schema(args.pg, schema)
    columns = [
        ("store", "{}"), ("requests", "{}"), ("errors", "{}"), ("req_per_s", "{:.0f}"),
        ("p50_ms", "{:.1f}"), ("p99_ms", "{:.1f}"), ("crash_acknowledged", "{}"),
        ("crash_failed_in_flight", "{}"), ("acknowledged_missing", "{}"),
        ("restart_s", "{:.2f}"), ("ledger_verify_exit", "{}"), ("ledger_entries", "{}"),
    ]  # fmt: skip
    print(" | ".join(c for c, _ in columns))
    for result in results:
        print(" | ".join(fmt.format(result[c]) for c, fmt in columns))
    for result in results:
        for failure in result["first_failures"]:  # type: ignore[attr-defined]
            print(f"{result['store']}: {failure}")
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "server.json").write_text(json.dumps(results, indent=2) + "\n")
    bad = any(r["acknowledged_missing"] or r["ledger_verify_exit"] for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
