#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# kill -9 of the real binary in the middle of MOVE (Overwrite: T onto a tree), DELETE of a tree,
# PUT (new and replacing), PROPPATCH and LOCK, then a restart: the invariant of the hardening
# issue (12). crash_copy.sh does the same for COPY; tests/webdav/crash_matrix_test.cc proves it at
# every step with the fault-injecting seams, this proves the real binary on a real disk.
#   - MOVE: either the source and the old destination as they were, or no source and the whole
#     new tree at the destination with the source's properties and none of the old ones.
#   - DELETE (it walks the tree by design): what is left is a tree whose listing matches the
#     disk, its surviving members keep their properties, and a removed member put back has none.
#   - PUT: the file is entirely old (or absent, for a new one) or entirely new.
#   - PROPPATCH of many properties: all of them or none.
#   - LOCK Depth infinity: the lock shows in lockdiscovery exactly when a write without its token
#     is refused with 423.
#   - Always: no `.keepdav-*` staging or trash name left on disk or listed.
# Each kill lands at a fraction of the method's uninterrupted duration, and once after it has
# answered (which must find the new state).
#
# Usage: crash_methods.sh KEEPDAV_BINARY
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
INTEROP_NAME=crash_methods
# shellcheck source=lib.sh
source "$here/lib.sh"

bin="$1"
interop_init
root="$INTEROP_TMP/root"
src_count=20000 # 20 folders x 1,000 files: a staged MOVE or a DELETE takes about a second
old_count=30
props=2000 # properties in the PROPPATCH
big_mib=200
head -c $((big_mib << 20)) /dev/urandom >"$INTEROP_TMP/big.new"

proppatch() { # proppatch PATH VALUE
  curl -s -o /dev/null -w '%{http_code}' -X PROPPATCH "${KEEPDAV_URL}$1" --data-binary \
    "<?xml version=\"1.0\"?><D:propertyupdate xmlns:D=\"DAV:\" xmlns:k=\"urn:k\"><D:set><D:prop><k:mark>$2</k:mark></D:prop></D:set></D:propertyupdate>"
}
propget() { # propget PATH -> the k:mark value, or nothing
  curl -s -X PROPFIND -H 'Depth: 0' "${KEEPDAV_URL}$1" --data-binary \
    '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><k:mark xmlns:k="urn:k"/></D:prop></D:propfind>' |
    sed -n 's/.*<k:mark[^>]*>\([^<]*\)<\/k:mark>.*/\1/p'
}
count_files() { # count_files DIR -> files under DIR (0 when absent)
  if [[ -d "$1" ]]; then find "$1" -type f | wc -l; else echo 0; fi
}
count_marked() { # count_marked DIR MARK -> files under DIR holding MARK
  if [[ -d "$1" ]]; then grep -rlx "$2" "$1" | wc -l || true; else echo 0; fi
}

# A fresh root and database with the server stopped: src/ (new tree, a property on d7/f7.txt),
# dst/ (old tree, a property on d1/f1.txt), file.txt (old content, a property).
tree_files=1000 # per folder of src/: 1000 for MOVE and DELETE, 20 for the others
fresh_state() {
  rm -rf "$root" "$INTEROP_TMP"/props.db*
  mkdir -p "$root"
  python3 - "$root" "$tree_files" <<'PY'
import os, sys
root = sys.argv[1]
for tree, mark, dirs, files in (("src", "new", 20, int(sys.argv[2])), ("dst", "old", 3, 10)):
    for d in range(dirs):
        os.makedirs(f"{root}/{tree}/d{d}", exist_ok=True)
        for f in range(files):
            with open(f"{root}/{tree}/d{d}/f{f}.txt", "w") as fh:
                fh.write(mark + "\n")
with open(f"{root}/file.txt", "w") as fh:
    fh.write("old\n")
PY
  interop_start "$bin" "$root"
  [[ "$(proppatch src/d7/f7.txt new-prop)" == 207 ]]
  [[ "$(proppatch dst/d1/f1.txt old-prop)" == 207 ]]
  [[ "$(proppatch file.txt file-prop)" == 207 ]]
}

# kill_during DELAY REQUEST: runs the function REQUEST (a curl at $KEEPDAV_URL), kills the server
# after DELAY seconds (or once the request has answered, for "done"), and restarts it.
kill_during() {
  local delay="$1" request="$2"
  "$request" &
  local client=$!
  if [[ "$delay" == done ]]; then
    wait "$client" || true
  else
    sleep "$delay"
  fi
  kill -KILL "$KEEPDAV_PID"
  wait "$KEEPDAV_PID" 2>/dev/null || true
  KEEPDAV_PID=""
  wait "$client" 2>/dev/null || true
  interop_log "after the kill: $(find "$root" -name '.keepdav-*' | wc -l) staging/trash entries on disk"
  interop_start "$bin" "$root"
  # Interrupted uploads are swept on a thread while the server serves: wait for its log line.
  local deadline=$((SECONDS + 60))
  until grep -q 'start-up sweep' "$INTEROP_TMP/server.log"; do
    ((SECONDS < deadline)) || break
    sleep 0.1
  done
  interop_log "$(grep -h 'start-up sweep' "$INTEROP_TMP/server.log" || echo 'no start-up sweep logged')"
}

# timed REQUEST: prints how long the request takes uninterrupted, in seconds.
timed() {
  local t0 t1
  t0=$(date +%s.%N)
  "$1"
  t1=$(date +%s.%N)
  python3 -c "print('%.3f' % ($t1 - $t0))"
}
delays_of() { # delays_of SECONDS -> the kill delays
  python3 -c "d=$1; print(' '.join('%.3f' % (d*f) for f in (0.2, 0.5, 0.8)))"
  echo done
}

no_staging_left() { # no_staging_left WHAT
  check "$1: no staging or trash name on disk" test "$(find "$root" -name '.keepdav-*' | wc -l)" -eq 0
  curl -s -X PROPFIND -H 'Depth: 1' "$KEEPDAV_URL" >"$INTEROP_TMP/listing.xml"
  check "$1: no staging name listed" bash -c '! grep -q keepdav- "$1"' _ "$INTEROP_TMP/listing.xml"
}

run_method() { # run_method NAME REQUEST CHECK
  local name="$1" request="$2" checker="$3"
  fresh_state
  local took
  took="$(timed "$request")"
  interop_stop
  local seen=""
  for delay in $(delays_of "$took"); do
    interop_log "$name: kill -9 after ${delay} (uninterrupted: ${took} s)"
    fresh_state
    kill_during "$delay" "$request"
    no_staging_left "$name, delay $delay"
    outcome=""
    "$checker" "$name, delay $delay" "$delay"
    seen+="$outcome "
    interop_stop
  done
  note "$name: outcomes seen: $seen"
}

# --- MOVE Overwrite: T of the new tree onto the old one (staged, like COPY) ---
check_move() { # check_move WHAT DELAY; sets $outcome
  local what="$1" delay="$2"
  local src_files dst_files dst_new
  src_files="$(count_files "$root/src")"
  dst_files="$(count_files "$root/dst")"
  dst_new="$(count_marked "$root/dst" new)"
  if [[ "$src_files" -eq 0 && "$dst_files" -eq "$src_count" && "$dst_new" -eq "$src_count" ]]; then
    check "$what: moved tree carries the source's property" test "$(propget dst/d7/f7.txt)" == new-prop
    check "$what: moved tree has none of the old destination's" test -z "$(propget dst/d1/f1.txt)"
    check "$what: the source's property went with it" test -z "$(propget src/d7/f7.txt)"
    outcome="new"
  else
    check "$what: entirely old: source $src_files files, destination $dst_files" \
      test "$src_files" -eq "$src_count" -a "$dst_files" -eq "$old_count" -a "$dst_new" -eq 0
    check "$what: source keeps its property" test "$(propget src/d7/f7.txt)" == new-prop
    check "$what: old destination keeps its property" test "$(propget dst/d1/f1.txt)" == old-prop
    [[ "$delay" != done ]] || check "$what: a kill after the answer finds the move" false
    outcome="old"
  fi
}
req_move() {
  curl -s -o /dev/null -X MOVE -H "Destination: ${KEEPDAV_URL}dst" -H 'Overwrite: T' "${KEEPDAV_URL}src"
}
run_method MOVE req_move check_move

# --- DELETE of the tree (walks it; what stays must be consistent) ---
check_delete() {
  local what="$1" delay="$2"
  local left listed
  left="$(if [[ -d "$root/src" ]]; then find "$root/src" | wc -l; else echo 0; fi)"
  listed="$(curl -s -X PROPFIND -H 'Depth: infinity' "${KEEPDAV_URL}src" |
    grep -o '<D:response>' | wc -l || true)"
  check "$what: the listing of what is left matches the disk ($left entries)" test "$listed" -eq "$left"
  if [[ -f "$root/src/d7/f7.txt" ]]; then
    check "$what: a surviving member keeps its property" test "$(propget src/d7/f7.txt)" == new-prop
  else
    # A property row left for a removed member would show on a new file of the same name.
    curl -s -o /dev/null -X MKCOL "${KEEPDAV_URL}src/" || true
    curl -s -o /dev/null -X MKCOL "${KEEPDAV_URL}src/d7/" || true
    check "$what: the removed member put back again" \
      test "$(curl -s -o /dev/null -w '%{http_code}' -T - "${KEEPDAV_URL}src/d7/f7.txt" <<<again)" == 201
    check "$what: it has no property of the removed one" test -z "$(propget src/d7/f7.txt)"
  fi
  if [[ "$delay" == done ]]; then
    check "$what: a kill after the answer finds the tree gone" test "$left" -le 5
  fi
  if [[ "$left" -eq 0 ]]; then outcome="gone"; else outcome="partial($left)"; fi
}
req_delete() { curl -s -o /dev/null -X DELETE "${KEEPDAV_URL}src"; }
run_method DELETE req_delete check_delete

tree_files=20

# --- PUT replacing file.txt with a big body, and PUT of a new name (rate-limited: ~2 s) ---
check_put_replace() {
  local what="$1" delay="$2"
  if cmp -s "$root/file.txt" "$INTEROP_TMP/big.new"; then
    outcome="new"
  else
    check "$what: entirely old" test "$(cat "$root/file.txt")" == old
    [[ "$delay" != done ]] || check "$what: a kill after the answer finds the new file" false
    outcome="old"
  fi
  check "$what: the file keeps its property" test "$(propget file.txt)" == file-prop
}
req_put_replace() {
  curl -s -o /dev/null --limit-rate 100M -T "$INTEROP_TMP/big.new" "${KEEPDAV_URL}file.txt"
}
run_method "PUT replacing" req_put_replace check_put_replace

check_put_new() {
  local what="$1" delay="$2"
  if [[ ! -e "$root/new.bin" ]]; then
    check "$what: absent, not listed" \
      test "$(curl -s -o /dev/null -w '%{http_code}' "${KEEPDAV_URL}new.bin")" == 404
    [[ "$delay" != done ]] || check "$what: a kill after the answer finds the new file" false
    outcome="absent"
  else
    check "$what: entirely new" cmp -s "$root/new.bin" "$INTEROP_TMP/big.new"
    outcome="new"
  fi
}
req_put_new() {
  curl -s -o /dev/null --limit-rate 100M -T "$INTEROP_TMP/big.new" "${KEEPDAV_URL}new.bin"
}
run_method "PUT new" req_put_new check_put_new

# --- PROPPATCH of many properties in one request: all or none ---
python3 - "$INTEROP_TMP/proppatch.xml" "$props" <<'PY'
import sys
n = int(sys.argv[2])
body = ['<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:m="urn:m"><D:set><D:prop>']
body += [f"<m:p{i}>value {i} {'x' * 200}</m:p{i}>" for i in range(n)]
body.append("</D:prop></D:set></D:propertyupdate>")
open(sys.argv[1], "w").write("".join(body))
PY
check_proppatch() {
  local what="$1" delay="$2" set
  set="$(curl -s -X PROPFIND -H 'Depth: 0' "${KEEPDAV_URL}file.txt" --data-binary \
    '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>' |
    grep -o ':p[0-9]* xmlns:[A-Za-z0-9]*="urn:m"' | wc -l || true)"
  check "$what: all $props properties or none ($set)" test "$set" -eq 0 -o "$set" -eq "$props"
  check "$what: the old property stays" test "$(propget file.txt)" == file-prop
  [[ "$delay" != done ]] || check "$what: a kill after the answer finds them all" test "$set" -eq "$props"
  outcome="$set"
}
req_proppatch() {
  curl -s -o /dev/null -X PROPPATCH --data-binary "@$INTEROP_TMP/proppatch.xml" "${KEEPDAV_URL}file.txt"
}
run_method PROPPATCH req_proppatch check_proppatch

# --- LOCK Depth infinity of the tree ---
check_lock() {
  local what="$1" delay="$2" locks put
  locks="$(curl -s -X PROPFIND -H 'Depth: 0' "${KEEPDAV_URL}src" --data-binary \
    '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>' |
    grep -o 'opaquelocktoken:\|urn:uuid:' | wc -l || true)"
  put="$(curl -s -o /dev/null -w '%{http_code}' -T - "${KEEPDAV_URL}src/d1/f1.txt" <<<changed)"
  if [[ "$locks" -gt 0 ]]; then
    check "$what: locked, and a write without the token is refused" test "$put" == 423
    outcome="locked"
  else
    check "$what: not locked, and a write succeeds ($put)" test "$put" == 204
    [[ "$delay" != done ]] || check "$what: a kill after the answer finds the lock" false
    outcome="unlocked"
  fi
}
req_lock() {
  curl -s -o /dev/null -X LOCK -H 'Depth: infinity' -H 'Timeout: Second-3600' --data-binary \
    '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>crash</D:owner></D:lockinfo>' \
    "${KEEPDAV_URL}src"
}
run_method LOCK req_lock check_lock

echo "crash_methods: $checks checks, $failures not ok"
[[ $failures -eq 0 ]]
