#!/usr/bin/env bash
# Smoke test of a running exporter with curl: `URL=http://host:8080 make smoke`. With a private
# metrics listener (TWILIO_EXPORTER_METRICS_BIND), give its URL too: `METRICS_URL=http://host:9464`.
# Signs its callbacks with the first token of TWILIO_AUTH_TOKEN when that is set (openssl, or
# python3 without it). It adds one test message, one call and two events (a status, an inbound message
# that opts out) to the counts, their SIDs starting SMsmoketest, SMinsmoketest and CAsmoketest.
# Prints PASS or FAIL per step; exits non-zero if any failed.
set -u
URL=${URL:-http://127.0.0.1:8080}
URL=${URL%/}
METRICS_URL=${METRICS_URL:-$URL}
METRICS_URL=${METRICS_URL%/}
TOKEN=${TWILIO_AUTH_TOKEN:-}
TOKEN=${TOKEN%%,*}
failures=0

step() {  # step NAME OK(0/1) DETAIL
  if [ "$2" = 0 ]; then echo "PASS  $1"; else echo "FAIL  $1: $3"; failures=$((failures + 1)); fi
}

signature() {  # signature URL NAME VALUE [NAME VALUE ...], names already sorted
  local data=$1; shift
  while [ $# -gt 0 ]; do data="$data$1$2"; shift 2; done
  if command -v openssl >/dev/null; then
    printf '%s' "$data" | openssl dgst -sha1 -hmac "$TOKEN" -binary | base64
  else
    DATA=$data TOKEN=$TOKEN python3 -c 'import base64, hashlib, hmac, os
print(base64.b64encode(hmac.new(os.environ["TOKEN"].encode(), os.environ["DATA"].encode(), hashlib.sha1).digest()).decode())'
  fi
}

post() {  # post PATH NAME VALUE [NAME VALUE ...]; prints the HTTP code
  local path=$1; shift
  local args=() pairs=("$@")
  while [ $# -gt 0 ]; do args+=(--data-urlencode "$1=$2"); shift 2; done
  local headers=()
  [ -n "$TOKEN" ] && headers=(-H "X-Twilio-Signature: $(signature "$URL$path" "${pairs[@]}")")
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${headers[@]}" "${args[@]}" "$URL$path"
}

sha256() {  # sha256 TEXT: its hex digest
  if command -v openssl >/dev/null; then
    printf '%s' "$1" | openssl dgst -sha256 -r | cut -d' ' -f1
  else
    DATA=$1 python3 -c 'import hashlib, os; print(hashlib.sha256(os.environ["DATA"].encode()).hexdigest())'
  fi
}

post_events() {  # post_events JSON; signed as Twilio signs JSON: the URL with bodySHA256, no parameters
  local path="/webhooks/events?bodySHA256=$(sha256 "$1")"
  local headers=()
  [ -n "$TOKEN" ] && headers=(-H "X-Twilio-Signature: $(signature "$URL$path")")
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${headers[@]}" -H 'Content-Type: application/json' \
    --data-binary "$1" "$URL$path"
}

count() {  # count METRIC MATCHER: the sum of the metric's samples that have the label MATCHER (any, if empty)
  curl -s --max-time 10 "$METRICS_URL/metrics" | awk -v name="$1" -v matcher="$2" \
    '(index($0, name "{") == 1 || index($0, name " ") == 1) && (matcher == "" || index($0, matcher)) { sum += $NF }
     END { print sum + 0 }'
}

# What each step adds: its name, the metric, a label it must have ('' for any) and by how much.
checks=("the message|twilio_message_callback_total|status=\"delivered\"|1"
        "the message's segments|twilio_message_segments_total||2"
        "the call|twilio_call_callback_total|status=\"completed\"|1"
        "who answered the call|twilio_call_answered_by_total|answered_by=\"human\"|1"
        "the call's SIP response|twilio_call_sip_responses_total|code=\"200\"|1"
        "the status event|twilio_message_callback_total|status=\"sent\"|1"
        "the inbound message event|twilio_inbound_messages_total||1"
        "its opt-out|twilio_message_opt_outs_total|type=\"stop\"|1")

echo "Smoke test of $URL ($([ -n "$TOKEN" ] && echo signed || echo unsigned)$([ "$METRICS_URL" != "$URL" ] && echo ", metrics at $METRICS_URL"))"
health=$(curl -s --max-time 10 -w ' %{http_code}' "$URL/health")
case "$health" in *'"status": "ok"'*' 200') step "/health" 0 ;; *) step "/health" 1 "$health" ;; esac

metrics_code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$METRICS_URL/metrics")
if [ "$metrics_code" = 404 ]; then
  step "/metrics" 1 "$METRICS_URL/metrics answered 404: with TWILIO_EXPORTER_METRICS_BIND set, /metrics is served on that private listener only; give its URL as METRICS_URL=http://host:port"
  echo "smoke test FAILED: $failures step(s); nothing was sent"
  exit 1
fi
step "/metrics" "$([ "$metrics_code" = 200 ]; echo $?)" "$METRICS_URL/metrics answered HTTP $metrics_code"
before=()
for check in "${checks[@]}"; do IFS='|' read -r _ metric matcher _ <<<"$check"; before+=("$(count "$metric" "$matcher")"); done

id=smoketest$(printf '%023x' "$(date +%s%N)")
echo "Adding one test message (SM$id), one call (CA$id) and two events, one of them an inbound message, to the exporter's counts"
code=$(post /webhooks/message MessageSid "SM$id" MessageStatus delivered NumSegments 2)
step "signed message callback" "$([ "$code" = 200 ]; echo $?)" "HTTP $code (403: the token or URL does not match what the exporter checks)"
code=$(post /webhooks/call AnsweredBy human CallDuration 7 CallSid "CA$id" CallStatus completed SipResponseCode 200)
step "signed call callback" "$([ "$code" = 200 ]; echo $?)" "HTTP $code"
stamp=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
event() {  # event TYPE DATA: one CloudEvent of the smoke test's
  echo "{\"specversion\": \"1.0\", \"type\": \"$1\", \"source\": \"smoke\", \"id\": \"EZ$id${1##*.}\",
    \"datacontenttype\": \"application/json\", \"time\": \"$stamp\", \"data\": {\"timestamp\": \"$stamp\", $2}}"
}
code=$(post_events "[$(event com.twilio.messaging.message.sent "\"messageSid\": \"SM$id\", \"messageStatus\": \"SENT\""),
  $(event com.twilio.messaging.inbound-message.received "\"messageSid\": \"SMin$id\", \"optOutType\": \"STOP\"")]")
step "signed Event Streams batch" "$([ "$code" = 200 ]; echo $?)" "HTTP $code"

for index in "${!checks[@]}"; do
  IFS='|' read -r name metric matcher added <<<"${checks[$index]}"
  after=$(count "$metric" "$matcher")
  step "/metrics shows $name" "$(awk -v a="$after" -v b="${before[$index]}" -v n="$added" 'BEGIN { exit !(a == b + n) }'; echo $?)" \
    "$metric${matcher:+{$matcher\}} (every series summed) went from ${before[$index]} to $after, not up by $added"
done

[ "$failures" = 0 ] && echo "smoke test passed" || echo "smoke test FAILED: $failures step(s)"
exit "$((failures > 0))"
