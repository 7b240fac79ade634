#!/usr/bin/env bash
# `make check-deploy`: checks every file in deploy/ with the tool it is meant for.
# Installs Debian's prometheus package (promtool) when it is missing and we are root.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}

if ! command -v promtool >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's prometheus package for promtool"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  else
    echo "promtool is missing: install Debian's 'prometheus' package (sudo apt-get install prometheus)" >&2
    exit 1
  fi
fi

echo "== promtool check rules"
promtool check rules deploy/alerts.yml
echo "== promtool test rules"
promtool test rules deploy/alerts_test.yml
echo "== dashboard JSON"
"$BIN/python" -m json.tool deploy/grafana-dashboard.json >/dev/null && echo "deploy/grafana-dashboard.json: valid JSON"

echo "== systemd-analyze verify"
if command -v systemd-analyze >/dev/null; then
  # The unit names /opt/twilio-exporter; verify a copy that points at this checkout instead.
  unit_dir=$(mktemp -d)
  sed -e "s|/opt/twilio-exporter|$PWD|g" -e "s|/etc/twilio-exporter/twilio-exporter.env|$PWD/deploy/twilio-exporter.env|" \
    deploy/twilio-exporter.service > "$unit_dir/twilio-exporter.service"
  systemd-analyze verify "$unit_dir/twilio-exporter.service"
  echo "deploy/twilio-exporter.service: verified"
  rm -r "$unit_dir"
else
  echo "systemd-analyze is not here: skipped"
fi

echo "== live exporter: make smoke, then promtool check metrics"
work=$(mktemp -d)
port=$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=check-deploy-token
TWILIO_AUTH_TOKEN=$token TWILIO_EXPORTER_BIND=127.0.0.1:$port TWILIO_EXPORTER_WORKERS=2 \
  TWILIO_EXPORTER_DB=$work/state.sqlite3 PROMETHEUS_MULTIPROC_DIR=$work/metrics HOME=$work \
  "$BIN/gunicorn" -c gunicorn.conf.py twilio_exporter:app >"$work/gunicorn.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
URL=http://127.0.0.1:$port TWILIO_AUTH_TOKEN=$token bash deploy/smoke.sh
# Only the status gauges, whose names the seed fixed, may be flagged.
problems=$(curl -fs "http://127.0.0.1:$port/metrics" | promtool check metrics 2>&1 | grep -v "_status_gauge metric name should not include type 'gauge'" || true)
if [ -n "$problems" ]; then
  echo "promtool check metrics: $problems" >&2
  exit 1
fi
echo "promtool check metrics: clean but for the seed's *_status_gauge names"
echo "check-deploy passed"
