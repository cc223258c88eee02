#!/usr/bin/env bash
# Run by `npm test` before the suites: makes sure the real servers and tools the tests use are here.
# - Postgres on 127.0.0.1:5432 (or DATABASE_URL) and Redis on 127.0.0.1:6379 (or REDIS_URL): if neither
#   answers on a Debian machine where we may install packages, they are installed and started.
# - promtool and the Prometheus server (Debian package `prometheus`) to lint /metrics and the alert rules
#   and to run the rules against the apps.
# - Dovecot (Debian packages `dovecot-core dovecot-imapd dovecot-lmtpd`) for the IMAP tests and LMTP delivery.
# - Postfix (Debian package `postfix`) for the sending tests: private instances delivering into Dovecot.
# - Chromium (Debian package `chromium`) for the console tests, driven by playwright-core (which downloads no browser).
# Anything it cannot provide is reported in one line each, and the run stops before Jest starts.
set -uo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; else SUDO="none"; fi
fi
can_install() { [ "$SUDO" != none ] && command -v apt-get >/dev/null 2>&1; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then $SUDO apt-get update -qq >/dev/null; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
say() { printf '[test deps] %s\n' "$*"; }
missing=()

db_url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
db_hostport=$(node -e 'const u=new URL(process.argv[1]);console.log(`${u.hostname} ${u.port||5432}`)' "$db_url")
read -r db_host db_port <<<"$db_hostport"
redis_hostport=$(node -e 'const u=new URL(process.argv[1]);console.log(`${u.hostname} ${u.port||6379}`)' "${REDIS_URL:-redis://127.0.0.1:6379}")
read -r redis_host redis_port <<<"$redis_hostport"

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# The same package's server runs the alert rules against the apps (test/prometheus-alerts.test.ts, each
# on a free port). The package's own service must not run (it would hold 9090 and scrape nothing of ours):
# stopped and disabled right after the install through its unit or pidfile, never by process name (a test
# may be running its own instance).
if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  if can_install; then
    say "installing promtool and the Prometheus server (Debian package prometheus)"
    apt_install prometheus
    if [ -d /run/systemd/system ]; then
      $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
    else
      $SUDO /etc/init.d/prometheus stop >/dev/null 2>&1 || true
      $SUDO update-rc.d prometheus disable >/dev/null 2>&1 || true
    fi
  fi
  command -v promtool >/dev/null 2>&1 || missing+=("promtool: install the Debian package 'prometheus' (apt-get install prometheus)")
  command -v prometheus >/dev/null 2>&1 || missing+=("Prometheus server: install the Debian package 'prometheus' (apt-get install prometheus)")
fi

# Dovecot for the IMAP tests: each suite starts its own private instance (root needed: it switches users).
if [ ! -x /usr/sbin/dovecot ] || ! command -v doveadm >/dev/null 2>&1; then
  if can_install; then
    say "installing Dovecot (Debian packages dovecot-core dovecot-imapd)"
    apt_install dovecot-core dovecot-imapd
    # Only the tests' private instances may run.
    ($SUDO systemctl stop dovecot 2>/dev/null; $SUDO systemctl disable dovecot 2>/dev/null; $SUDO pkill -x dovecot 2>/dev/null) || true
  fi
  [ -x /usr/sbin/dovecot ] || missing+=("Dovecot: install the Debian packages 'dovecot-core dovecot-imapd'")
fi
# LMTP for the Postfix harness (delivery into the tests' Dovecot).
if [ ! -x /usr/lib/dovecot/lmtp ]; then
  if can_install; then
    say "installing Dovecot LMTP (Debian package dovecot-lmtpd)"
    apt_install dovecot-lmtpd
    ($SUDO systemctl stop dovecot 2>/dev/null; $SUDO systemctl disable dovecot 2>/dev/null) || true
  fi
  [ -x /usr/lib/dovecot/lmtp ] || missing+=("Dovecot LMTP: install the Debian package 'dovecot-lmtpd'")
fi

# Postfix for the sending tests: each suite starts its own private instance; the system one must not run.
if [ ! -x /usr/lib/postfix/sbin/master ]; then
  if can_install; then
    say "installing Postfix (Debian package postfix)"
    echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections 2>/dev/null || true
    apt_install postfix
    ($SUDO systemctl stop postfix 2>/dev/null; $SUDO systemctl disable postfix 2>/dev/null) || true
  fi
  [ -x /usr/lib/postfix/sbin/master ] || missing+=("Postfix: install the Debian package 'postfix'")
fi
# Chromium for the admin console's browser tests (test/console.test.ts; CHROMIUM_PATH overrides the path).
chromium_path="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium_path" ]; then
  if can_install; then
    say "installing Chromium (Debian package chromium)"
    apt_install chromium
  fi
  [ -x "$chromium_path" ] || missing+=("Chromium: install the Debian package 'chromium' (or set CHROMIUM_PATH to a Chromium binary)")
fi
[ "$(id -u)" = 0 ] || missing+=("root: the Dovecot test harness runs private Dovecot instances that switch users; run the tests as root")

if ! port_open "$db_host" "$db_port"; then
  if [ "$db_host" = 127.0.0.1 ] && can_install; then
    say "no Postgres on $db_host:$db_port: installing and starting one"
    command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql
    version=$(ls /etc/postgresql | head -n1)
    $SUDO sed -i "s/^\(host\s\+all\s\+all\s\+127.0.0.1\/32\s\+\)\S\+$/\1trust/" "/etc/postgresql/$version/main/pg_hba.conf"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || $SUDO pg_ctlcluster "$version" main start
    for _ in $(seq 1 30); do port_open "$db_host" "$db_port" && break; sleep 1; done
    db_name=$(node -e 'console.log(new URL(process.argv[1]).pathname.slice(1)||"postgres")' "$db_url")
    psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db_name'" | grep -q 1 || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE \"$db_name\""
  fi
  port_open "$db_host" "$db_port" || missing+=("Postgres: nothing answers at $db_host:$db_port (set DATABASE_URL to a server whose user may CREATE DATABASE)")
fi

if ! port_open "$redis_host" "$redis_port"; then
  if [ "$redis_host" = 127.0.0.1 ] && can_install; then
    say "no Redis on $redis_host:$redis_port: installing and starting one"
    command -v redis-server >/dev/null 2>&1 || apt_install redis-server
    redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no >/dev/null
    for _ in $(seq 1 30); do port_open "$redis_host" "$redis_port" && break; sleep 1; done
  fi
  port_open "$redis_host" "$redis_port" || missing+=("Redis: nothing answers at $redis_host:$redis_port (set REDIS_URL)")
fi

if [ ${#missing[@]} -gt 0 ]; then
  for line in "${missing[@]}"; do say "missing $line"; done
  exit 1
fi
say "Postgres $db_host:$db_port, Redis $redis_host:$redis_port, $(promtool --version 2>&1 | head -n1), Dovecot $(/usr/sbin/dovecot --version), Postfix $(/usr/sbin/postconf -d -h mail_version 2>/dev/null), $("$chromium_path" --version 2>/dev/null | head -n1)"
