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

if ! command -v haproxy >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's haproxy package to check deploy/haproxy.cfg"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null
fi

echo "== promtool check config (one host, two hosts)"
promtool check config deploy/prometheus.yml
promtool check config deploy/prometheus-two-hosts.yml
echo "== haproxy -c (the load balancer for two hosts, its TLS certificate left out)"
if command -v haproxy >/dev/null; then
  haproxy_dir=$(mktemp -d)
  sed 's|bind :443 ssl crt .*|bind 127.0.0.1:8443|' deploy/haproxy.cfg > "$haproxy_dir/haproxy.cfg"
  haproxy -c -f "$haproxy_dir/haproxy.cfg"
  rm -r "$haproxy_dir"
else
  echo "haproxy is missing (sudo apt-get install haproxy): deploy/haproxy.cfg not checked"
fi
echo "== promtool check rules"
promtool check rules deploy/alerts.yml
echo "== promtool test rules"
promtool test rules deploy/alerts_test.yml deploy/alerts_baseline_test.yml
echo "== dashboard JSON"
"$BIN/python" -m json.tool deploy/grafana-dashboard.json >/dev/null && echo "deploy/grafana-dashboard.json: valid JSON"
echo "== the dashboard's panels, with the breakdown labels on and off, one host or two (promtool test rules)"
# Each "by sender/country" panel's query, its variables at All, evaluated on series with the
# breakdown labels and on series without them: one line per value, or one line in all.
panel_tests=$(mktemp -d)
"$BIN/python" - "$panel_tests/panels_test.yml" <<'PYTHON'
import json, sys
panels = json.load(open("deploy/grafana-dashboard.json"))["panels"]
def query(title):
    expr = next(panel["targets"][0]["expr"] for panel in panels if panel["title"] == title)
    for variable in ("$account", "$messaging_service", "$sender", "$country", "$channel"):
        expr = expr.replace(variable, ".*")
    return expr.replace("$__rate_interval", "5m")
on = {"sender=\"A\", country=\"US\", channel=\"whatsapp\"": (1, 1),  # delivered, undelivered a minute
      "sender=\"B\", country=\"GB\", channel=\"sms\"": (2, 0)}
def case(name, series, expected, hosts=("",)):
    """Each host (an instance label) exports the same cluster-wide series, as hosts over one PostgreSQL do."""
    inputs = [{"series": f"twilio_message_callback_total{{status=\"{status}\"{labels}{host}}}", "values": f"0+{per_minute}x20"}
              for labels, (delivered, undelivered) in series.items()
              for status, per_minute in (("delivered", delivered), ("undelivered", undelivered)) for host in hosts]
    inputs += [{"series": f"twilio_message_errors_total{{error_code=\"30003\"{labels}{host}}}", "values": f"0+{undelivered}x20"}
               for labels, (_, undelivered) in series.items() if undelivered for host in hosts]
    return {"name": name, "interval": "1m", "input_series": inputs, "promql_expr_test": [
        {"expr": query(title), "eval_time": "15m", "exp_samples": samples} for title, samples in expected.items()]}
off = {"Delivery success rate": [{"labels": "{}", "value": 0.8}],
       "Message callbacks per minute by status": [{"labels": "{status=\"delivered\"}", "value": 4},
                                                  {"labels": "{status=\"undelivered\"}", "value": 1}],
       "Message failures by error code (per minute)": [{"labels": "{error_code=\"30003\"}", "value": 1}],
       "Message error share, last hour and the same hour a week before": [{"labels": "{}", "value": 0.2}]}
tests = [case("breakdown labels off, one host", {"": (4, 1)}, off),
         case("breakdown labels off, two hosts over one store: the same numbers", {"": (4, 1)}, off,
              hosts=(", instance=\"a:8080\"", ", instance=\"b:8080\"")),
         case("breakdown labels off: one line each", {"": (4, 1)}, {
             "Delivery success rate by sender": [{"labels": "{}", "value": 0.8}],
             "Delivery success rate by destination country": [{"labels": "{}", "value": 0.8}],
             "Delivery success rate by channel": [{"labels": "{}", "value": 0.8}],
             "Message failures by sender and error code (per minute)": [{"labels": "{error_code=\"30003\"}", "value": 1}]}),
         case("breakdown labels on: a line per value", {", " + labels: rates for labels, rates in on.items()}, {
             "Delivery success rate by sender": [{"labels": "{sender=\"A\"}", "value": 0.5},
                                                 {"labels": "{sender=\"B\"}", "value": 1}],
             "Delivery success rate by destination country": [{"labels": "{country=\"US\"}", "value": 0.5},
                                                              {"labels": "{country=\"GB\"}", "value": 1}],
             "Delivery success rate by channel": [{"labels": "{channel=\"whatsapp\"}", "value": 0.5},
                                                  {"labels": "{channel=\"sms\"}", "value": 1}],
             "Messages sent per hour by destination country, and a week before": [],  # none of these was "sent"
             "Message failures by destination country and error code (per minute)": [
                 {"labels": "{country=\"US\", error_code=\"30003\"}", "value": 1}]}),
         case("breakdown labels on, two hosts over one store: the same numbers", {", " + labels: rates for labels, rates in on.items()}, {
             "Delivery success rate by sender": [{"labels": "{sender=\"A\"}", "value": 0.5},
                                                 {"labels": "{sender=\"B\"}", "value": 1}],
             "Message failures by sender and error code (per minute)": [
                 {"labels": "{error_code=\"30003\", sender=\"A\"}", "value": 1}]},
              hosts=(", instance=\"a:8080\"", ", instance=\"b:8080\""))]
two_hosts = (", instance=\"a:8080\"", ", instance=\"b:8080\"")
for hosts, labels in ((("",), ""), (two_hosts, ", sender=\"A\", country=\"US\"")):
    per_minute = {f"twilio_message_opt_outs_total{{type=\"stop\"{labels}": 1, f"twilio_message_opt_outs_total{{type=\"help\"{labels}": 0,
                  f"twilio_call_answered_by_total{{answered_by=\"human\"{labels}": 2, f"twilio_message_segments_total{{{labels[2:]}": 3,
                  f"twilio_call_sip_responses_total{{code=\"486\"{labels}": 1,
                  f"twilio_message_stuck{{status=\"sent\"{labels}": "7x80"}  # a gauge, held at 7
    tests.append({"name": f"the Insights panels, hosts {hosts or 'one'}, labels {labels or 'off'}", "interval": "1m",
                  "input_series": [{"series": f"{series}{host}}}", "values": rate if isinstance(rate, str) else f"0+{rate}x80"}
                                   for series, rate in per_minute.items() for host in hosts], "promql_expr_test": [
        {"expr": query(title), "eval_time": "61m", "exp_samples": samples} for title, samples in {
            "Opt-outs per hour by type, and a week before": [{"labels": "{type=\"help\"}", "value": 0},
                                                             {"labels": "{type=\"stop\"}", "value": 60}],
            "Calls by who answered (per minute)": [{"labels": "{answered_by=\"human\"}", "value": 2}],
            "Message segments sent per minute": [{"labels": "{}", "value": 3}],
            "Calls by SIP response code (per minute)": [{"labels": "{code=\"486\"}", "value": 1}],
            "Stuck messages and calls by status": [{"labels": "{status=\"sent\"}", "value": 7}]}.items()]})
json.dump({"evaluation_interval": "1m", "tests": tests}, open(sys.argv[1], "w"), indent=1)
PYTHON
promtool test rules "$panel_tests/panels_test.yml"
rm -r "$panel_tests"

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
# Only the status gauges may be flagged: their names end in _gauge, and dashboards and alert rules in use
# depend on them, so they stay (promtool exits 3 for that lint alone).
problems=$(curl -fs "http://127.0.0.1:$port/metrics" | promtool check metrics 2>&1 | grep -v "_status_gauge metric name should not include type 'gauge'" || true)
if [ -n "$problems" ]; then
  echo "promtool check metrics: $problems" >&2
  exit 1
fi
echo "promtool check metrics: clean but for the *_status_gauge names, kept for the rules that use them"
echo "check-deploy passed"
