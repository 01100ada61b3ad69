#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Several keepdav instances on one root with PostgreSQL (issue 15): what must hold across
# instances, and when one of them or the database fails. Instances are addressed directly (not
# through HAProxy), so each check knows which instance answered.
#
#   locks     a lock through A enforced and listed by B at once; the lock race (100 rounds,
#             one winner each, shared+shared both win); refresh through B and expiry agree
#             (multi_instance_faults.py)
#   recovery  kill -9 of the instance running a long COPY onto an existing destination (while
#             it stages, and after the swap while the old tree is removed): another recovers it
#             after the lease lapses (destination entirely old or entirely new, files and dead
#             properties; no staging left; the journal empty); with three instances exactly one
#             of the two alive recovers it; the killed one restarted with the same id finds
#             nothing to do; restarted at once, before its lease lapses, exactly one of it and
#             the survivor recovers the entry
#   outage    the open-file cache is not stale when another instance changed the file (and the
#             documented 1 s bound for a file renamed away and replaced); then the database
#             stopped: GET still 200; PROPFIND, PROPPATCH, PUT, DELETE 503 with Retry-After and
#             nothing changed; the database back: 207 again within seconds, without a restart
#
# Usage: multi_instance_faults.sh KEEPDAV_BINARY locks|recovery|outage
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mode="${2:-}"
INTEROP_NAME="multi_$mode"
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=pg_lib.sh
source "$here/pg_lib.sh"

KEEPDAV_BIN="$1"
case "$mode" in
  locks | recovery | outage) ;;
  *)
    echo "usage: $0 KEEPDAV_BINARY locks|recovery|outage" >&2
    exit 2
    ;;
esac
pg_require
interop_require_command python3 python3
interop_require_done
interop_init
root="$INTEROP_TMP/root"
mkdir -p "$root"
pg_start

# curl with what every call here needs: no proxy from the environment, a bound on the wait.
dav() { curl -sS --noproxy '*' --max-time 30 "$@"; }
status_of() { dav -o /dev/null -w '%{http_code}' "$@" || true; }
propxml() { # propxml VALUE: a PROPPATCH body setting k:mark and k:other
  echo "<?xml version=\"1.0\"?><D:propertyupdate xmlns:D=\"DAV:\" xmlns:k=\"urn:k\"><D:set><D:prop><k:mark>$1</k:mark><k:other>$1-2</k:other></D:prop></D:set></D:propertyupdate>"
}
staging_left() { find "$root" -name '.keepdav-*' | wc -l; }
journal_count() { pg_sql "select count(*) from operations"; }
journal_empty() { [[ "$(journal_count)" -eq 0 ]]; }

lockxml='<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>'
markxml='<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><k:mark xmlns:k="urn:k"/></D:prop></D:propfind>'
lockdiscoveryxml='<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>'

# ---- locks ----------------------------------------------------------------------------------
run_locks() {
  multi_start 2 "$root"
  local a="${MULTI_URLS[1]}" b="${MULTI_URLS[2]}" counts="$INTEROP_TMP/py-counts" rc=0
  check "MKCOL /race/" test "$(status_of -X MKCOL "${a}race")" == 201
  python3 "$here/multi_instance_faults.py" locks "$a" "$b" "$((checks + 1))" "$counts" || rc=$?
  local n=0 f=1
  [[ -s "$counts" ]] && read -r n f <"$counts"
  checks=$((checks + n))
  failures=$((failures + f))
  [[ $rc -eq 0 || $f -gt 0 ]] || failures=$((failures + 1))
  # Every lock the checks took was unlocked or has expired (the table may keep expired rows
  # until the next LOCK purges them, so only active ones count).
  check "no active lock left in the locks table" \
    test "$(pg_sql "select count(*) from locks where expires_at > extract(epoch from now())")" -eq 0
  check "both instances still running" kill -0 "${MULTI_PIDS[1]}" "${MULTI_PIDS[2]}"
}

# ---- recovery -------------------------------------------------------------------------------
# The trees: src (20 folders x 15 files, "new", and src/only-new.txt), dst (10 x 15, "old", and
# dst/only-old.txt), so "entirely new" and "entirely old" differ in names, contents and
# properties. A COPY through A, slowed by --test-delay-us, takes several seconds.
make_tree() { # make_tree NAME FOLDERS MARK
  python3 - "$root/$1" "$2" "$3" <<'PY'
import os, sys
top, folders, mark = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for d in range(folders):
    os.makedirs(f"{top}/d{d}", exist_ok=True)
    for f in range(15):
        with open(f"{top}/d{d}/f{f}.txt", "w") as fh:
            fh.write(f"{mark} {d} {f}\n")
with open(f"{top}/only-{mark}.txt", "w") as fh:
    fh.write(f"only {mark}\n")
PY
}
# Dead properties on the tree's root, on f0 of each folder and on the only- file, through URL.
patch_tree() { # patch_tree URL NAME FOLDERS MARK
  local url="$1" name="$2" n="$3" mark="$4" d bad=0 target
  for target in "$name" "$name/only-$mark.txt" $(for ((d = 0; d < n; d++)); do echo "$name/d$d/f0.txt"; done); do
    [[ "$(status_of -X PROPPATCH "$url$target" --data-binary "$(propxml "$mark:$target")")" == 207 ]] ||
      bad=$((bad + 1))
  done
  [[ $bad -eq 0 ]]
}
# What a tree is, for comparing: every entry with its type and content, then every dead
# property at or below it (path, namespace, name, value), the tree's own name replaced by @.
snapshot() { # snapshot NAME
  local name="$1"
  (cd "$root/$name" && find . -mindepth 1 -printf '%y %P\n' | sort &&
    find . -type f -print0 | sort -z | xargs -0 md5sum)
  pg_sql "select convert_from(path, 'UTF8') || ' ' || convert_from(ns, 'UTF8') || ' ' ||
            convert_from(name, 'UTF8') || ' ' || encode(value, 'escape') from properties
          where path = convert_to('/$name', 'UTF8')
             or substring(path from 1 for $((${#name} + 2))) = convert_to('/$name/', 'UTF8')
          order by 1" | sed "s#^/$name\\b#@#"
}
# Properties of the new tree were copied from src: their values name src paths, as in src.
wait_for() { # wait_for SECONDS COMMAND...: polls every 0.2 s
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}
# Instance logs are appended to across restarts: log_mark[i] is inst<i>.log's line count when a
# round began, and since_mark I prints what it logged since.
declare -A log_mark=()
mark_log() { log_mark[$1]="$(wc -l <"$INTEROP_TMP/inst$1.log")"; }
since_mark() { tail -n +"$((log_mark[$1] + 1))" "$INTEROP_TMP/inst$1.log"; }
lapsed_since_mark() { since_mark "$1" | grep -cF 'recovering lapsed' || true; }
# Each recovered COPY logs one "recovery: finishing|undoing the interrupted COPY to /dst".
recovery_re='recovery: (finishing|undoing) the interrupted COPY to /dst'
actions_since_mark() { since_mark "$1" | grep -oE "$recovery_re" | awk '{print $2}' || true; }
# recovered INSTANCE...: the journal is empty and one of them logged the recovery.
recovered() {
  journal_empty || return 1
  local j
  for j in "$@"; do
    [[ -n "$(actions_since_mark "$j")" ]] && return 0
  done
  return 1
}
staging_exists() { [[ -n "$(find "$root" -name '.keepdav-stage-*' -print -quit)" ]]; }
swapped() { [[ -e "$root/dst/only-new.txt" ]]; }

lease=3
delay_us=20000
start_a() { multi_start_one 1 "$root" --test-delay-us="$delay_us" --instance-lease="$lease"; }

# One round: COPY src onto dst through A, kill -9 A when WHEN (staging: 1 s after the staging
# tree appears, while it is being filled; swapped: 0.3 s after the new tree took the
# destination's name, while the old one is being removed: keepdav swaps them with
# renameat2(RENAME_EXCHANGE), so the old tree then carries the staging name), then wait for the
# SURVIVORS (instance numbers) to recover it. With survivor 1, inst1 is restarted at once with its
# id (before its lease lapses): its start-up recovery or another survivor's lapsed-entry round
# takes the entry, never both.
crash_round() { # crash_round LABEL WHEN SURVIVOR...
  local label="$1" when="$2"
  shift 2
  local survivors=("$@") i restart=0
  for i in "${survivors[@]}"; do [[ $i == 1 ]] && restart=1; done
  for i in "${survivors[@]}"; do mark_log "$i"; done
  local old new
  old="$(snapshot dst)"
  new="$(snapshot src)"
  note "$label: COPY /src onto /dst (Overwrite: T) through inst1, kill -9 at the $when phase"
  dav -o "$INTEROP_TMP/copy.out" -X COPY -H "Destination: ${MULTI_URLS[1]}dst" -H 'Overwrite: T' \
    "${MULTI_URLS[1]}src" 2>/dev/null &
  local client=$! t0=$SECONDS
  local phase_seen=0
  if [[ "$when" == staging ]]; then
    if wait_for 30 staging_exists; then phase_seen=1 && sleep 1; fi
  else
    if wait_for 60 swapped; then phase_seen=1 && sleep 0.3; fi
  fi
  local entries copy_running=0
  entries="$(journal_count)"
  kill -0 "$client" 2>/dev/null && copy_running=1
  multi_kill 1
  wait "$client" 2>/dev/null || true
  note "$label: killed after $((SECONDS - t0)) s; $entries journal entr(ies) then," \
    "$(staging_left) .keepdav- name(s) on disk, the COPY still running: $copy_running"
  ((restart)) && start_a
  check "$label: the kill landed mid-COPY (the $when phase seen, a journal entry, no answer yet)" \
    test "$phase_seen" -eq 1 -a "$entries" -gt 0 -a "$copy_running" -eq 1

  local t1=$SECONDS
  # The lease lapses within $lease s of the kill; survivors look every $lease/3 s.
  check "$label: recovered within $((lease * 5)) s" \
    wait_for $((lease * 5)) recovered "${survivors[@]}"
  sleep 1 # a second survivor that raced for the entry would have logged by now
  note "$label: recovered $((SECONDS - t1)) s after the kill"
  local lapsed=0 lapsed_by="" actions="" acted_by="" a
  for i in "${survivors[@]}"; do
    since_mark "$i" | grep -E 'recovering lapsed|recovery:' | sed "s/^/#   inst$i: /" || true
    local n
    n="$(lapsed_since_mark "$i")"
    lapsed=$((lapsed + n))
    ((n > 0)) && lapsed_by+=" inst$i($n)"
    a="$(actions_since_mark "$i")"
    [[ -n "$a" ]] && acted_by+=" inst$i($(wc -l <<<"$a"))" && actions+="$a"$'\n'
  done
  actions="${actions%$'\n'}"
  check "$label: exactly one instance recovered the COPY, once (got:${acted_by:- none})" \
    test -n "$actions" -a "$(wc -l <<<"$actions")" -eq 1
  if ((restart)) && [[ "$acted_by" == " inst1(1)" ]]; then
    note "$label: inst1's start-up recovery took its own entry"
    check "$label: ... and no survivor logged 'recovering lapsed' (got:${lapsed_by:- none})" \
      test "$lapsed" -eq 0
  else
    check "$label: exactly one survivor logged 'recovering lapsed', once (got:${lapsed_by:- none})" \
      test "$lapsed" -eq 1
  fi
  check "$label: the journal table is empty" journal_empty
  check "$label: no .keepdav- names left on disk" test "$(staging_left)" -eq 0
  check "$label: no properties at .keepdav- paths" test "$(pg_sql \
    "select count(*) from properties where convert_from(path, 'UTF8') like '%.keepdav-%'")" -eq 0
  local now
  now="$(snapshot dst)"
  if [[ "$now" == "$old" ]]; then
    RESULT=old
  elif [[ "$now" == "$new" ]]; then
    RESULT=new
  else
    RESULT=mixed
    diff <(echo "$old") <(echo "$now") | head -n 20 | sed 's/^/#   old->now: /' || true
    diff <(echo "$new") <(echo "$now") | head -n 20 | sed 's/^/#   new->now: /' || true
  fi
  check "$label: the destination is entirely old or entirely new, files and properties (it is $RESULT)" \
    test "$RESULT" != mixed
  local want=undoing
  [[ $RESULT == new ]] && want=finishing
  check "$label: the recovering instance logged '$want the interrupted COPY to /dst' (got: ${actions:-none})" \
    test "$actions" == "$want"
  check "$label: the source is unchanged" test "$(snapshot src)" == "$new"
  local listing
  listing="$(dav -X PROPFIND -H 'Depth: 1' "${MULTI_URLS[${survivors[0]}]}dst" || true)"
  check "$label: PROPFIND of /dst through inst${survivors[0]} lists $( [[ $RESULT == new ]] && echo only-new.txt || echo only-old.txt)" \
    grep -q "only-$RESULT.txt" <<<"$listing"
}

# A restarts with its id: nothing of its own left in the journal, so nothing to recover.
restart_a_finds_nothing() { # restart_a_finds_nothing LABEL
  local label="$1" dst_before
  mark_log 1
  dst_before="$(snapshot dst)"
  start_a
  sleep "$lease" # one lease period: its start-up recovery and a few lapsed-entry rounds
  local new_lines
  new_lines="$(since_mark 1)"
  grep -E 'recovering|recovery:' <<<"$new_lines" | sed 's/^/#   inst1: /' || true
  # shellcheck disable=SC2016 # $1 is bash -c's
  check "$label: inst1 restarted with the same id logs no recovery" \
    bash -c '! grep -qE "recovering|recovery:" <<<"$1"' _ "$new_lines"
  check "$label: ... the journal stays empty" journal_empty
  check "$label: ... and /dst is as the survivor left it" test "$(snapshot dst)" == "$dst_before"
}

reset_dst() {
  [[ "$(status_of -X DELETE "${MULTI_URLS[2]}dst")" == 204 ]] || return 1
  make_tree dst 10 old
  patch_tree "${MULTI_URLS[2]}" dst 10 old
}

run_recovery() {
  make_tree src 20 new
  make_tree dst 10 old
  start_a
  multi_start_one 2 "$root" --instance-lease="$lease"
  check "dead properties on src, through inst2" patch_tree "${MULTI_URLS[2]}" src 20 new
  check "dead properties on dst, through inst2" patch_tree "${MULTI_URLS[2]}" dst 10 old
  note "$(pg_sql "select count(*) from properties") dead properties in the database"

  RESULT=""
  crash_round "two instances" staging 2
  local first="$RESULT"
  restart_a_finds_nothing "two instances"
  [[ "$first" == new ]] && { check "put the old destination back" reset_dst; }

  multi_start_one 3 "$root" --instance-lease="$lease"
  crash_round "three instances" swapped 2 3
  local second="$RESULT"
  restart_a_finds_nothing "three instances"
  check "inst3 stops cleanly" multi_stop 3

  [[ "$RESULT" == new ]] && { check "put the old destination back" reset_dst; }
  crash_round "restart at once" staging 1 2
  note "outcomes: two instances (killed while staging): $first; three instances (killed after" \
    "the swap, while the old destination was being removed): $second; inst1 restarted at once" \
    "(killed while staging): $RESULT"
  check "inst1 and inst2 still running" kill -0 "${MULTI_PIDS[1]}" "${MULTI_PIDS[2]}"
}

# ---- outage ---------------------------------------------------------------------------------
# Headers and body of one request: HTTP status on the first line of $INTEROP_TMP/h.
fetch() { # fetch OUT_BODY CURL_ARG...: prints the status; headers in $INTEROP_TMP/h
  local out="$1"
  shift
  dav -D "$INTEROP_TMP/h" -o "$out" -w '%{http_code}' "$@" || true
}
header_of() { # header_of NAME: from $INTEROP_TMP/h
  tr -d '\r' <"$INTEROP_TMP/h" | sed -n "s/^$1: *//Ip" | tail -n 1
}

open_file_cache() {
  local a="${MULTI_URLS[1]}" b="${MULTI_URLS[2]}" i bad=() body="$INTEROP_TMP/body"
  note "6. open-file cache: GET through inst1, change through inst2, GET through inst1 at once"
  for ((i = 0; i < 10; i++)); do
    local f="cache$i.txt" v1="first version $i" v2 s etag_a etag_b
    # Half the rounds keep the size (and, most likely, the mtime second) the same.
    if ((i % 2)); then v2="FIRST VERSION $i"; else v2="the second, longer version $i"; fi
    s="$(status_of -X PUT --data-binary "$v1" "$a$f")"
    [[ "$s" == 201 ]] || bad+=("round $i: PUT through inst1 $s")
    for _ in 1 2; do # the first GET opens and caches the descriptor, the second uses it
      s="$(fetch "$body" "$a$f")"
      [[ "$s" == 200 && "$(cat "$body")" == "$v1" ]] || bad+=("round $i: GET through inst1 $s '$(cat "$body")'")
    done
    s="$(status_of -X PUT --data-binary "$v2" "$b$f")"
    [[ "$s" == 204 ]] || bad+=("round $i: PUT through inst2 $s")
    s="$(fetch "$body" "$a$f")"
    etag_a="$(header_of ETag)"
    [[ "$s" == 200 && "$(cat "$body")" == "$v2" ]] ||
      bad+=("round $i: GET through inst1 after inst2's PUT: $s '$(cat "$body")' (want '$v2')")
    fetch "$body" "$b$f" >/dev/null
    etag_b="$(header_of ETag)"
    [[ -n "$etag_a" && "$etag_a" == "$etag_b" ]] ||
      bad+=("round $i: ETag through inst1 $etag_a, through inst2 $etag_b")
    s="$(status_of -X DELETE "$b$f")"
    [[ "$s" == 204 ]] || bad+=("round $i: DELETE through inst2 $s")
    s="$(fetch "$body" "$a$f")"
    [[ "$s" == 404 ]] || bad+=("round $i: GET through inst1 after inst2's DELETE: $s (want 404)")
  done
  check "10 rounds: inst1 serves inst2's new content and ETag at once, and 404 after its DELETE" \
    test "${#bad[@]}" -eq 0
  local line
  for line in "${bad[@]}"; do note "  $line"; done

  # The documented bound (storage/posix_file_system.h, open_file_cache_ms = 1000): a cached
  # descriptor whose file is still linked elsewhere (renamed away, another file put in its
  # place) may be served for up to a second; after that, never.
  local s1 s2 etag_b
  s="$(status_of -X PUT --data-binary 'the original' "${a}moved.txt")"
  fetch "$body" "${a}moved.txt" >/dev/null
  fetch "$body" "${a}moved.txt" >/dev/null
  s1="$(status_of -X MOVE -H "Destination: ${b}moved-away.txt" "${b}moved.txt")"
  s2="$(status_of -X PUT --data-binary 'the replacement' "${b}moved.txt")"
  check "renamed away and replaced through inst2 (PUT $s, MOVE $s1, PUT $s2)" \
    test "$s" == 201 -a "$s1" == 201 -a "$s2" == 201
  s="$(fetch "$body" "${a}moved.txt")"
  note "GET through inst1 at once after the rename and replace: $s '$(cat "$body")'" \
    "(the original is allowed for up to 1 s)"
  sleep 1.5
  s="$(fetch "$body" "${a}moved.txt")"
  local etag_a
  etag_a="$(header_of ETag)"
  check "1.5 s later inst1 serves the replacement (got $s '$(cat "$body")')" \
    test "$s" == 200 -a "$(cat "$body")" == 'the replacement'
  fetch "$body" "${b}moved.txt" >/dev/null
  etag_b="$(header_of ETag)"
  check "... with inst2's ETag ($etag_a, $etag_b)" test -n "$etag_a" -a "$etag_a" == "$etag_b"
  s="$(fetch "$body" "${a}moved-away.txt")"
  check "... and the original under its new name (got $s '$(cat "$body")')" \
    test "$s" == 200 -a "$(cat "$body")" == 'the original'
}

outage() {
  local a="${MULTI_URLS[1]}" b="${MULTI_URLS[2]}" body="$INTEROP_TMP/body" s t0 ra
  note "5. the database unreachable"
  check "PUT /kept.txt through inst1" test "$(status_of -X PUT --data-binary 'kept v1' "${a}kept.txt")" == 201
  check "PROPPATCH /kept.txt" test "$(status_of -X PROPPATCH "${a}kept.txt" --data-binary "$(propxml kept)")" == 207
  check "PUT /locked.txt" test "$(status_of -X PUT --data-binary 'locked' "${a}locked.txt")" == 201
  s="$(fetch "$body" -X LOCK -H 'Timeout: Second-600' "${a}locked.txt" --data-binary "$lockxml")"
  local token
  token="$(header_of Lock-Token | tr -d '<> ')"
  check "LOCK /locked.txt through inst1 (got $s)" test "$s" == 200 -a -n "$token"
  check "PROPFIND through inst2 before the outage: 207" \
    test "$(status_of -X PROPFIND -H 'Depth: 1' "$b")" == 207
  check "pg_stop" pg_stop
  local inst url
  for inst in 1 2; do
    url="${MULTI_URLS[inst]}"
    s="$(fetch "$body" "${url}kept.txt")"
    check "database down: GET /kept.txt through inst$inst: 200 (got $s)" test "$s" == 200
    check "... with the right body" test "$(cat "$body")" == 'kept v1'
    t0=$(date +%s.%N)
    s="$(fetch "$body" -X PROPFIND -H 'Depth: 1' "$url")"
    ra="$(header_of Retry-After)"
    note "PROPFIND through inst$inst answered $s in $(python3 -c "import time; print('%.2f' % (time.time() - $t0))") s"
    check "database down: PROPFIND through inst$inst: 503 (got $s)" test "$s" == 503
    check "... with Retry-After (got '${ra}')" test -n "$ra"
    # What a 207 would tell a client here: that the property is missing, that nothing is locked.
    s="$(fetch "$body" -X PROPFIND -H 'Depth: 0' "${url}kept.txt" --data-binary "$markxml")"
    check "database down: PROPFIND of the dead property through inst$inst: 503 (got $s$(
      [[ $s == 207 ]] && grep -q '404 Not Found' "$body" && echo ', with the property 404 Not Found'))" \
      test "$s" == 503
    s="$(fetch "$body" -X PROPFIND -H 'Depth: 0' "${url}locked.txt" --data-binary "$lockdiscoveryxml")"
    check "database down: PROPFIND lockdiscovery of the locked file through inst$inst: 503 (got $s$(
      [[ $s == 207 ]] && ! grep -q "$token" "$body" && echo ', listing no lock'))" \
      test "$s" == 503
    s="$(fetch "$body" -X PROPPATCH "${url}kept.txt" --data-binary "$(propxml changed)")"
    check "database down: PROPPATCH through inst$inst: 503 (got $s)" test "$s" == 503
    s="$(fetch "$body" -X PUT --data-binary "changed through inst$inst" "${url}kept.txt")"
    ra="$(header_of Retry-After)"
    check "database down: PUT /kept.txt through inst$inst: 503 (got $s)" test "$s" == 503
    check "... with Retry-After (got '${ra}')" test -n "$ra"
    s="$(fetch "$body" -X PUT --data-binary "new file" "${url}new$inst.txt")"
    check "database down: PUT of a new file through inst$inst: 503 (got $s)" test "$s" == 503
    s="$(fetch "$body" -X DELETE "${url}kept.txt")"
    check "database down: DELETE through inst$inst: 503 (got $s)" test "$s" == 503
  done
  check "the file is unchanged on disk" test "$(cat "$root/kept.txt")" == 'kept v1'
  check "no new file and no .keepdav- name on disk" \
    test ! -e "$root/new1.txt" -a ! -e "$root/new2.txt" -a "$(staging_left)" -eq 0

  check "pg_start_again" pg_start_again
  t0=$SECONDS
  local back=0
  for inst in 1 2; do
    if wait_for 10 propfind_ok "${MULTI_URLS[inst]}"; then back=$((back + 1)); fi
  done
  note "both instances answered 207 again $((SECONDS - t0)) s after the database came back"
  check "database back: PROPFIND answers 207 on both instances within 10 s" test "$back" -eq 2
  check "... and the dead property is still there" \
    grep -q 'kept-2' <<<"$(dav -X PROPFIND -H 'Depth: 0' "${b}kept.txt" || true)"
  check "... the file still unchanged" test "$(cat "$root/kept.txt")" == 'kept v1'
  check "... the lock on /locked.txt still listed, through inst2" \
    grep -q "$token" <<<"$(dav -X PROPFIND -H 'Depth: 0' "${b}locked.txt" --data-binary "$lockdiscoveryxml" || true)"
  check "... and UNLOCK through inst2 works" \
    test "$(status_of -X UNLOCK -H "Lock-Token: <$token>" "${b}locked.txt")" == 204
  s="$(status_of -X PUT --data-binary 'kept v2' "${b}kept.txt")"
  check "... a PUT through inst2 works (got $s)" test "$s" == 204
  s="$(fetch "$body" "${a}kept.txt")"
  check "... and GET through inst1 sees it" test "$s" == 200 -a "$(cat "$body")" == 'kept v2'
  check "no instance restarted: both pids alive" kill -0 "${MULTI_PIDS[1]}" "${MULTI_PIDS[2]}"
}

propfind_ok() { [[ "$(status_of -X PROPFIND -H 'Depth: 0' "$1")" == 207 ]]; }

run_outage() {
  multi_start 2 "$root"
  open_file_cache
  outage
}

"run_$mode"
echo "$INTEROP_NAME: $checks checks, $failures not ok"
[[ $failures -eq 0 ]]
