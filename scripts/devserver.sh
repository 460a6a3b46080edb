#!/usr/bin/env bash
# The development server behind `make run`, `make start` and `make stop`.
#   scripts/devserver.sh run|start|stop
# Environment: PORT (8080), VAR (./var: database, CA, logs, config), BUILD (./build),
# EXTRA_CONF (configuration lines added at the end of the generated httpd.conf).
# SQLite in $VAR, a demo team "demo" with user "demo" (password kept in
# $VAR/demo-credentials), a fresh API token printed at every start.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PORT=${PORT:-8080}
BUILD=${BUILD:-$ROOT/build}
RUN_USER=${RUN_USER:-www-data}
HTTPD=/usr/sbin/apache2
action=${1:-run}

default_var=$ROOT/var
VAR=${VAR:-$default_var}
mkdir -p "$VAR"
VAR=$(cd "$VAR" && pwd)

as_user() {
  if [[ $(id -u) == 0 ]]; then runuser -u "$RUN_USER" -- "$@"; else "$@"; fi
}

# httpd drops its children to $RUN_USER: they must reach $VAR. A clone under /root is
# not reachable; then the default data directory moves to /var/tmp.
if [[ $(id -u) == 0 ]] && ! as_user test -x "$VAR" 2>/dev/null; then
  if [[ $VAR == "$default_var" ]]; then
    VAR=/var/tmp/sslorders-$(printf %s "$ROOT" | md5sum | cut -c1-8)
    mkdir -p "$VAR"
    echo "note: $RUN_USER cannot reach $default_var; using VAR=$VAR"
  else
    echo "error: $RUN_USER cannot reach VAR=$VAR (give it access or choose another VAR)" >&2
    exit 1
  fi
fi

CONF=$VAR/httpd.conf
PIDFILE=$VAR/run/httpd.pid
DB=$VAR/sslorders.db
CTL=("$BUILD/sslordersctl" --driver sqlite3 --params "$DB")

running_pid() {
  [[ -f $PIDFILE ]] || return 1
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

if [[ $action == stop ]]; then
  if pid=$(running_pid); then
    "$HTTPD" -f "$CONF" -k stop || kill "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "stopped (pid $pid)"
  else
    echo "not running (VAR=$VAR)"
  fi
  exit 0
fi

if pid=$(running_pid); then
  echo "already running (pid $pid, VAR=$VAR); make stop first" >&2
  exit 1
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "port $PORT is in use: choose another with PORT=" >&2
  exit 1
fi

mkdir -p "$VAR/run" "$VAR/logs" "$VAR/htdocs" "$VAR/ca"
touch "$VAR/mail.txt"
rm -rf "$VAR/htdocs"
cp -a "$ROOT/htdocs" "$VAR/htdocs"
if [[ $(id -u) == 0 ]]; then
  chown "$RUN_USER:$RUN_USER" "$VAR" "$VAR/ca" "$VAR/mail.txt"
  chown -R "$RUN_USER:$RUN_USER" "$VAR/run" "$VAR/logs"
  [[ -e $DB ]] && chown "$RUN_USER:$RUN_USER" "$DB"*
fi

# the configuration, from the same template the tests use
# mail (approval links, reminders) goes to a file instead of the world
# (the access log, TraceEnable, ServerTokens and request timeouts are in the template)
extra="SSLOrdersMailCommand /usr/bin/tee -a $VAR/mail.txt"
# EXTRA_CONF: more configuration lines (the browser tests point DCV probes at their
# own web server with SSLOrdersDCVConnectTo)
if [[ -n ${EXTRA_CONF:-} ]]; then
  extra+=$'\n'"$EXTRA_CONF"
fi
sed -e "s|@SERVER_ROOT@|$VAR|g" -e "s|@PORT@|$PORT|g" -e "s|@RUN_DIR@|$VAR/run|g" \
    -e "s|@LOG_DIR@|$VAR/logs|g" -e "s|@LOG_LEVEL@|${LOG_LEVEL:-warn sslorders:info}|g" \
    -e "s|@USER@|$RUN_USER|g" -e "s|@GROUP@|$RUN_USER|g" \
    -e "s|@MODULES@|/usr/lib/apache2/modules|g" -e "s|@MODULE@|$BUILD/mod_sslorders.so|g" \
    -e "s|@DB_DRIVER@|sqlite3|g" -e "s|@DB_PARAMS@|$DB|g" -e "s|@HTDOCS@|$VAR/htdocs|g" \
    -e "s|@CA_DIR@|$VAR/ca|g" \
    "$ROOT/conf/httpd-dev.conf.in" | awk -v extra="$extra" '{ if ($0 == "@EXTRA@") print extra; else print }' >"$CONF"

# demo data, once
"${CTL[@]}" migrate >/dev/null
if [[ ! -f $VAR/demo-credentials ]]; then
  password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=' | cut -c1-14)
  printf '%s\n' "$password" | "${CTL[@]}" user add demo >/dev/null 2>&1 ||
    printf '%s\n' "$password" | "${CTL[@]}" user passwd demo >/dev/null
  "${CTL[@]}" team add demo --name "Demo Team" >/dev/null 2>&1 || true
  "${CTL[@]}" member add demo demo owner >/dev/null
  "${CTL[@]}" balance credit demo 1000 --note "demo credit" >/dev/null
  (umask 077; printf '%s\n' "$password" >"$VAR/demo-credentials")
fi
password=$(cat "$VAR/demo-credentials")
token=$("${CTL[@]}" token create demo demo)

banner() {
  cat <<EOF
mod_sslorders is serving on http://127.0.0.1:$PORT/
  portal      http://127.0.0.1:$PORT/
  API         http://127.0.0.1:$PORT/v1beta
  ACME        http://127.0.0.1:$PORT/acme/directory (EAB: sslordersctl acme eab create demo --order ID)
  user        demo
  password    $password
  API token   $token
  try         curl -H 'Authorization: Bearer $token' http://127.0.0.1:$PORT/v1beta/me
  data        $VAR (error log: $VAR/logs/error.log, mail sent: $VAR/mail.txt)
EOF
}

if [[ $action == start ]]; then
  "$HTTPD" -f "$CONF" -k start
  for _ in $(seq 200); do
    if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
      banner
      echo "  stop with   make stop${PORT:+ PORT=$PORT}${VAR:+ VAR=$VAR}"
      exit 0
    fi
    sleep 0.1
  done
  echo "the server did not answer; see $VAR/logs/error.log" >&2
  tail -20 "$VAR/logs/error.log" >&2 || true
  exit 1
fi

banner
echo "  (Ctrl-C stops it)"
exec "$HTTPD" -f "$CONF" -DFOREGROUND
