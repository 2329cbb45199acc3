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
# Credit decisions are high-risk under the EU AI Act (Annex III); the training run is
# recorded with the SDK, so the model's lineage reaches this training set.
"$TUTELA" asset add model:credit --owner credit-risk --risk-tier high --description "Credit approval model"
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

step "6. Govern: the four questions, a policy as code, approvals with separation of duties"
"$TUTELA" status
"$TUTELA" status model:credit
"$TUTELA" policy init
"$TUTELA" policy check
"$TUTELA" user add ada --role admin --as ada
"$TUTELA" user add alice --role engineer --as ada
"$TUTELA" user add bob --role risk-officer --as ada
"$TUTELA" user add carol --role engineer --as ada
REQUEST=$("$TUTELA" approve request model:credit --stage prod --reason "quarterly credit model refresh" --as alice --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["id"])')
set +e
"$TUTELA" approve accept "$REQUEST" --comment "looks good to me" --as alice
code=$?
set -e
echo "(exit code $code: a requester cannot approve their own request)"
[ "$code" -eq 2 ] || { echo "a self-approval was accepted: this is a bug" >&2; exit 1; }
"$TUTELA" approve accept "$REQUEST" --comment "validation report reviewed" --as carol
"$TUTELA" approve accept "$REQUEST" --comment "model risk assessment done" --as bob
"$TUTELA" approve show "$REQUEST"

step "6b. Gate the credit model for prod: it fails for the planted problems, and says why"
set +e
"$TUTELA" gate model:credit --stage prod
code=$?
set -e
echo "(exit code $code: 1 means the gate failed; CI stops here)"
[ "$code" -eq 1 ] || { echo "the gate passed a model with a backdoored training set: this is a bug" >&2; exit 1; }
"$TUTELA" waiver add --rule drift.monitored --asset model:credit --reason "shift is the new branch network; re-baselining by Q1" --expires "$("$PY" -c 'import datetime as d; print((d.date.today()+d.timedelta(days=30)).isoformat())')" --as bob
set +e
"$TUTELA" gate model:credit --stage prod
code=$?
set -e
echo "(exit code $code: the drift rule is waived for 30 days; the backdoored training data still blocks)"
[ "$code" -eq 1 ] || { echo "the gate passed a model with a backdoored training set: this is a bug" >&2; exit 1; }
"$TUTELA" risk list --model model:credit

step "7. The AI Card: built from the evidence, signed, and mapped to the EU AI Act"
"$TUTELA" card set model:credit "intended_use=Pre-screening of consumer credit applications for human underwriters" "out_of_scope_use=Fully automated credit refusals; employment or insurance decisions" "human_oversight=Every refusal is reviewed by an underwriter before it is sent"
"$TUTELA" card publish model:credit --html credit-card.html --pdf credit-card.pdf
"$TUTELA" card list model:credit
SNAPSHOT=$("$TUTELA" card list model:credit --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
"$TUTELA" card verify "$SNAPSHOT"
"$TUTELA" card export model:credit --format cyclonedx --out credit-card.cdx.json
"$TUTELA" comply model:credit --framework eu-ai-act --annex-iv annex-iv-draft.md
echo "Card: credit-card.html and credit-card.pdf; EU AI Act Annex IV draft: annex-iv-draft.md"

step "8. The tamper-evident ledger"
"$TUTELA" ledger log --limit 10
"$TUTELA" ledger verify

step "9. Export a bundle and verify it offline, with only the public key"
"$TUTELA" ledger export ledger-bundle.jsonl
"$TUTELA" ledger verify --bundle ledger-bundle.jsonl --key .tutela/keys/signing.pub
"$TUTELA" ledger prove 3 --output proof-3.json
"$TUTELA" ledger verify --bundle proof-3.json --key .tutela/keys/signing.pub

step "10. Tamper with a copy of the database: verification names the first bad entry"
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

step "11. The dashboard: the team's view of the same workspace"
bash ../scripts/demo_dashboard.sh "$DEMO"

step "Done. Explore with: cd demo-workspace && ../.venv/bin/tutela --help"
