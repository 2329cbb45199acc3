#!/usr/bin/env bash
# The last step of `make demo`: serve the dashboard on the demo workspace, detached, and
# print its URL, a viewer token and how to stop it.
#
#   bash scripts/demo_dashboard.sh [WORKSPACE_DIR]     (default: ./demo-workspace)
#   TUTELA_DASHBOARD_PORT=8700 (default)
set -euo pipefail
cd "$(dirname "$0")/.."
TUTELA="${TUTELA_BIN:-$PWD/.venv/bin/tutela}"
PY="$PWD/.venv/bin/python"
DEMO="$(cd "${1:-demo-workspace}" && pwd)"
HOST=127.0.0.1
PORT="${TUTELA_DASHBOARD_PORT:-8700}"
URL="http://$HOST:$PORT"
cd "$DEMO"
LOG="$DEMO/.tutela/dashboard.log"
PIDFILE="$DEMO/.tutela/dashboard.pid"

# A dashboard left over from an earlier demo run: stop that process (by its recorded id).
if [[ -f "$PIDFILE" ]]; then
  old="$(cat "$PIDFILE")"
  if kill -0 "$old" 2>/dev/null; then kill "$old" && sleep 1; fi
  rm -f "$PIDFILE"
fi
if "$PY" -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('$HOST', $PORT)) != 0)"; then
  echo "port $PORT on $HOST is in use; set TUTELA_DASHBOARD_PORT to another port" >&2
  exit 2
fi

# Users are managed by an admin once one exists: act as the first enabled admin, or
# register one for the demo when the workspace has none yet.
admin="$("$TUTELA" user list --json | "$PY" -c '
import json, sys
users = json.load(sys.stdin)
print(next((u["name"] for u in users if "admin" in u["roles"] and not u["disabled_at"]), ""))')"
if [[ -z "$admin" ]]; then
  admin=demo-admin
  "$TUTELA" user add "$admin" --role admin --as "$admin" >/dev/null
fi
exists="$("$TUTELA" user list --json | "$PY" -c '
import json, sys
print(any(u["name"] == "viewer" for u in json.load(sys.stdin)))')"
if [[ "$exists" != "True" ]]; then
  "$TUTELA" user add viewer --role viewer --display-name "Demo viewer" --as "$admin" >/dev/null
fi
token="$("$TUTELA" token create viewer --label "make demo dashboard" --expires-days 7 \
  --as "$admin" 2>/dev/null)"

# Detached from this shell (setsid + nohup), so it outlives `make demo`.
setsid nohup "$TUTELA" serve --host "$HOST" --port "$PORT" >"$LOG" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$PIDFILE"
for _ in $(seq 1 100); do
  if "$PY" -c "import httpx,sys; sys.exit(httpx.get('$URL/healthz', timeout=1).status_code != 200)" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "the dashboard did not start; see $LOG" >&2
    tail -5 "$LOG" >&2 || true
    exit 1
  fi
  sleep 0.3
done
"$PY" -c "import httpx,sys; sys.exit(httpx.get('$URL/healthz', timeout=2).status_code != 200)" || {
  echo "the dashboard did not answer on $URL/healthz within 30 s; see $LOG" >&2
  exit 1
}

printf '\n\033[1m== The dashboard is running\033[0m\n'
echo "  URL:          $URL/ui/"
echo "  viewer token: $token"
echo "                (paste it on the login page; it expires in 7 days)"
echo "  log:          $LOG"
echo "  stop it with: kill $pid    (process id also in $PIDFILE)"
