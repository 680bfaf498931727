#!/usr/bin/env bash
# The server's memory under a burst of simultaneous failed sign-ins (issue 14, "memory as a
# weapon"): starts its own server (target/debug/idp, or $IDP_BIN) on a throw-away SQLite
# database, opens N browser sessions, sends their N wrong passwords at once, and prints the
# server's resident memory before, at its peak (VmHWM) and 5 s after the burst, with the
# answers' statuses. Each attempt names another e-mail, and the quota per address is lifted,
# so that every attempt reaches argon2: that is what is measured. Settings pass through, e.g.
#   IDP__LOGIN__CONCURRENT_PASSWORD_CHECKS=256 tests/load/sign_in_memory.sh 256   # unbounded
#   tests/load/sign_in_memory.sh 256                                             # one per core
set -euo pipefail
N=${1:-256}
BIN=${IDP_BIN:-target/debug/idp}
WORK=$(mktemp -d)
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
PORT=$((20000 + RANDOM % 20000))
BASE=http://127.0.0.1:$PORT
export IDP__HTTP__BIND=127.0.0.1:$PORT IDP__DATABASE__URL=sqlite://$WORK/idp.db IDP__KEYS__DIR=$WORK/keys
export IDP__LOG__FILTER=${IDP__LOG__FILTER:-error}
export IDP__LOGIN__ATTEMPTS_PER_ADDRESS_PER_MINUTE=${IDP__LOGIN__ATTEMPTS_PER_ADDRESS_PER_MINUTE:-1000000}
"$BIN" serve >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 100); do curl -fs "$BASE/readyz" >/dev/null && break; sleep 0.2; done
rss() { awk -v k="$1:" '$1 == k { print int($2 / 1024) " MiB" }' "/proc/$PID/status"; }

# Each session's cookie jar and CSRF token, made before the burst.
for i in $(seq "$N"); do
    curl -fs -c "$WORK/jar$i" "$BASE/login" | grep -o 'name="csrf_token" value="[^"]*"' | cut -d '"' -f 4 >"$WORK/token$i"
done
echo "sessions: $N; threads: $(awk '$1 == "Threads:" { print $2 }' "/proc/$PID/status"); resident before: $(rss VmRSS)"
START=$(date +%s.%N)
seq "$N" | xargs -P "$N" -I{} sh -c \
    'curl -s -o /dev/null -w "%{http_code}\n" -b "$0/jar{}" "$1/login" --data-urlencode "csrf_token=$(cat "$0/token{}")" \
        --data-urlencode "email=personne{}@example.fr" --data-urlencode "password=not the password"' \
    "$WORK" "$BASE" >"$WORK/statuses"
END=$(date +%s.%N)
echo "burst: $(echo "$END - $START" | bc) s; answers: $(sort "$WORK/statuses" | uniq -c | awk '{ printf "%s×%s ", $1, $2 }')"
echo "resident at the peak: $(rss VmHWM); threads: $(awk '$1 == "Threads:" { print $2 }' "/proc/$PID/status")"
sleep 5
echo "resident 5 s after: $(rss VmRSS)"
