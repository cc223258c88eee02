#!/bin/sh
# docker-compose.yml's `demo` profile: registers the local GreenMail IMAP server as a provider and
# demo@demo.test as a mailbox on it, then mails that mailbox every DEMO_MAIL_EVERY seconds, so the
# status API, the console, /metrics and the Grafana dashboard show mail flowing. Runs in curlimages/curl.
set -eu
api=http://api:3000
key=${API_KEYS%%,*}
every=${DEMO_MAIL_EVERY:-20}

echo "demo: waiting for the API"
until curl -fsS "$api/health/ready" >/dev/null 2>&1; do sleep 2; done

# 201 the first time; 409 when an earlier run registered them already (both fine).
post() {
  status=$(curl -sS -o /tmp/answer -w '%{http_code}' -X POST "$api$1" \
    -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$2")
  case "$status" in
    201|409) echo "demo: POST $1 -> $status" ;;
    *) echo "demo: POST $1 -> $status: $(cat /tmp/answer)" >&2; exit 1 ;;
  esac
}
post /v1/providers '{"name":"Demo IMAP (GreenMail)","type":"imap","host":"greenmail","port":3143,"secure":false,"domains":["demo.test"]}'
post /v1/mailboxes '{"email":"demo@demo.test","password":"demo"}'

n=0
while true; do
  n=$((n + 1))
  printf 'From: Demo sender <sender@example.com>\r\nTo: demo@demo.test\r\nSubject: Demo message %s\r\nDate: %s\r\n\r\nMessage %s from the demo profile.\r\n' \
    "$n" "$(date -R)" "$n" > /tmp/message
  curl -sS "smtp://greenmail:3025" --mail-from sender@example.com --mail-rcpt demo@demo.test -T /tmp/message \
    && echo "demo: sent message $n"
  sleep "$every"
done
