#!/usr/bin/env bash
# The demo: Tutela's main job end to end on the embedded default (SQLite).
# Each step prints what it does; the workspace is left in ./demo-workspace to explore.
set -euo pipefail
cd "$(dirname "$0")/.."
TUTELA="$PWD/.venv/bin/tutela"
PY="$PWD/.venv/bin/python"
DEMO="$PWD/demo-workspace"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

rm -rf "$DEMO"
mkdir -p "$DEMO"
"$PY" scripts/demo_project.py "$DEMO"
cd "$DEMO"

step "1. Create a workspace (.tutela/: config, SQLite in WAL mode, Ed25519 key)"
"$TUTELA" init

step "2. Name each artifact by its content digest"
"$TUTELA" hash data/transactions.csv models/fraud-scorer.pkl models/sentiment

step "3. Record the training pipeline: preprocessing, then training (tutela.run)"
"$PY" ../scripts/demo_train.py .
"$TUTELA" lineage runs
"$TUTELA" lineage show model:fraud-scorer
"$TUTELA" lineage show model:fraud-scorer --format mermaid
"$TUTELA" lineage impact dataset:transactions
"$TUTELA" lineage verify model:fraud-scorer

step "3b. Register assets and their versions by hand (each change is a ledger entry)"
"$TUTELA" asset add model:sentiment --owner support-ml --risk-tier limited
"$TUTELA" asset version model:sentiment models/sentiment
"$TUTELA" asset list
"$TUTELA" asset show model:sentiment

step "4. Scan every model file statically (nothing is loaded); one checkpoint is poisoned"
set +e
"$TUTELA" scan models --workers 0
code=$?
set -e
echo "(exit code $code: 1 means a finding at or above --fail-on high)"
[ "$code" -eq 1 ] || { echo "the poisoned checkpoint was not caught: this is a bug" >&2; exit 1; }
[ ! -e PWNED ] || { echo "a payload ran: this is a bug" >&2; exit 1; }
echo "The payload never ran: no PWNED file exists."
"$TUTELA" evidence list --kind scan
"$TUTELA" scan models --format sarif --output scan.sarif --no-record --workers 0 || true
echo "SARIF for GitHub code scanning written to scan.sarif"

step "5. Discover every model, dataset, framework and AI service (offline)"
"$TUTELA" discover .
"$TUTELA" discover . --format cyclonedx -o ai-bom.cdx.json --no-record
echo "CycloneDX 1.6 AI-BOM written to ai-bom.cdx.json"
"$TUTELA" asset list --kind service

step "5b. Red-team a chat endpoint in the Arena (the bundled vulnerable example app)"
"$TUTELA" arena serve-example --port 8765 --weakness all > arena-server.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do "$PY" -c "import socket; socket.create_connection(('127.0.0.1', 8765), 0.2)" 2>/dev/null && break; sleep 0.1; done
"$TUTELA" arena run --base-url http://127.0.0.1:8765/v1 --model helpbot --id helpbot-demo --concurrency 8
kill $SERVER 2>/dev/null || true
"$TUTELA" evidence list --kind evaluation

step "5c. Check a training set: a backdoor trigger is planted in 3% of its rows"
"$PY" ../scripts/demo_ml.py .
set +e
"$TUTELA" data check data/credit_train.csv --labels target
code=$?
set -e
echo "(exit code $code: 1 means a finding at or above --fail-on high)"
[ "$code" -eq 1 ] || { echo "the planted backdoor was not found: this is a bug" >&2; exit 1; }

step "5d. Attack the classifier in the Arena: black-box evasion, extraction, calibration, robustness"
"$TUTELA" arena ml run models/credit.joblib --data data/credit_test.csv --label target --samples 20 --budget 500
echo "The model file was scanned clean first and loaded only in a separate worker process."

step "5e. Watch production data: drift against the training data, decided by effect size"
set +e
"$TUTELA" monitor drift data/credit_train.csv data/credit_production.csv --asset model:credit
code=$?
set -e
echo "(exit code $code: 1 means the dataset drifted)"
[ "$code" -eq 1 ] || { echo "the planted shift was not detected: this is a bug" >&2; exit 1; }
"$TUTELA" evidence list --kind drift

step "6. The tamper-evident ledger"
"$TUTELA" ledger log --limit 10
"$TUTELA" ledger verify

step "7. Export a bundle and verify it offline, with only the public key"
"$TUTELA" ledger export ledger-bundle.jsonl
"$TUTELA" ledger verify --bundle ledger-bundle.jsonl --key .tutela/keys/signing.pub
"$TUTELA" ledger prove 3 --output proof-3.json
"$TUTELA" ledger verify --bundle proof-3.json --key .tutela/keys/signing.pub

step "8. Tamper with a copy of the database: verification names the first bad entry"
rm -rf ../demo-tampered && cp -r "$DEMO" ../demo-tampered
"$PY" - ../demo-tampered/.tutela/tutela.db <<'PYEOF'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
body = con.execute("SELECT body FROM ledger_entries WHERE seq = 3").fetchone()[0]
con.execute("UPDATE ledger_entries SET body = ? WHERE seq = 3", (body.replace(b'"actor":"', b'"actor":"mallory-'),))
con.commit()
PYEOF
if "$TUTELA" ledger verify -w ../demo-tampered; then
  echo "tampering went unnoticed: this is a bug" >&2; exit 1
else
  echo "(exit code $? as expected: the edit was detected)"
fi
rm -rf ../demo-tampered

step "Done. Explore with: cd demo-workspace && ../.venv/bin/tutela --help"
