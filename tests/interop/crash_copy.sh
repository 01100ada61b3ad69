#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# kill -9 in the middle of a deep COPY, then restart: the destination is entirely old or entirely
# new, its dead properties follow the same rule, and no staging or trash name is left anywhere.
#
# Usage: crash_copy.sh KEEPDAV_BINARY
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
INTEROP_NAME=crash_copy
# shellcheck source=lib.sh
source "$here/lib.sh"

bin="$1"
interop_init
root="$INTEROP_TMP/root"
mkdir -p "$root"

# 20 folders x 1,000 files: a COPY takes about a second here, long enough to be killed mid-way.
python3 - "$root" <<'PY'
import os, sys
root = sys.argv[1]
for tree, mark in (("src", "new"), ("dst", "old")):
    for d in range(20 if tree == "src" else 3):
        os.makedirs(f"{root}/{tree}/d{d}", exist_ok=True)
        for f in range(1000 if tree == "src" else 10):
            with open(f"{root}/{tree}/d{d}/f{f}.txt", "w") as fh:
                fh.write(mark)
PY
src_count=20000
old_count=30

checks=0 failures=0
proppatch() {  # proppatch PATH VALUE
  curl -s -o /dev/null -w '%{http_code}' -X PROPPATCH "${KEEPDAV_URL}$1" --data-binary \
    "<?xml version=\"1.0\"?><D:propertyupdate xmlns:D=\"DAV:\" xmlns:k=\"urn:k\"><D:set><D:prop><k:mark>$2</k:mark></D:prop></D:set></D:propertyupdate>"
}
propget() {  # propget PATH -> value or empty
  curl -s -X PROPFIND -H 'Depth: 0' "${KEEPDAV_URL}$1" --data-binary \
    '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><k:mark xmlns:k="urn:k"/></D:prop></D:propfind>' |
    sed -n 's/.*<k:mark[^>]*>\([^<]*\)<\/k:mark>.*/\1/p'
}

interop_start "$bin" "$root"
[[ "$(proppatch src/d7/f7.txt new-prop)" == 207 ]]
[[ "$(proppatch dst/d1/f1.txt old-prop)" == 207 ]]

# Kill at fractions of an uninterrupted COPY's duration (the machine's speed varies, so a kill
# may land before or after the swap; both outcomes are checked), and once right after the COPY
# has answered, which must find the new tree.
t0=$(date +%s.%N)
curl -s -o /dev/null -X COPY -H "Destination: ${KEEPDAV_URL}probe" "${KEEPDAV_URL}src"
t1=$(date +%s.%N)
curl -s -o /dev/null -X DELETE "${KEEPDAV_URL}probe"
delays="$(python3 -c "d=$t1-$t0; print(' '.join('%.2f' % (d*f) for f in (0.2, 0.5, 0.8, 0.95)))") done"
interop_log "an uninterrupted COPY took $(python3 -c "print('%.2f' % ($t1-$t0))") s; killing after: $delays"
saw_new=0
for delay in $delays; do
  interop_log "COPY src -> dst (Overwrite: T), kill -9 after ${delay}s"
  curl -s -o /dev/null -X COPY -H "Destination: ${KEEPDAV_URL}dst" -H 'Overwrite: T' \
    "${KEEPDAV_URL}src" &
  client=$!
  if [[ "$delay" == done ]]; then
    wait "$client" || true  # the COPY has answered: a crash now must keep the new tree
  else
    sleep "$delay"
  fi
  kill -KILL "$KEEPDAV_PID"
  wait "$KEEPDAV_PID" 2>/dev/null || true
  KEEPDAV_PID=""
  wait "$client" 2>/dev/null || true
  staged_on_disk="$(find "$root" -name '.keepdav-*' | wc -l)"
  interop_log "after the kill: $staged_on_disk staging/trash entries on disk"

  interop_start "$bin" "$root"
  leftovers="$(find "$root" -name '.keepdav-*' | wc -l)"
  check "no staging or trash names left after restart (delay $delay)" test "$leftovers" -eq 0
  count="$(find "$root/dst" -type f | wc -l)"
  news="$(grep -rl new "$root/dst" | wc -l || true)"
  if [[ "$count" -eq "$src_count" && "$news" -eq "$src_count" ]]; then
    interop_log "destination is entirely new"
    saw_new=1
    check "new destination carries the source's properties (delay $delay)" \
      test "$(propget dst/d7/f7.txt)" == new-prop
    check "new destination has none of the old properties (delay $delay)" \
      test -z "$(propget dst/d1/f1.txt)"
    # Put the old destination back for the next round.
    curl -s -o /dev/null -X DELETE "${KEEPDAV_URL}dst"
    python3 - "$root" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(3):
    os.makedirs(f"{root}/dst/d{d}", exist_ok=True)
    for f in range(10):
        open(f"{root}/dst/d{d}/f{f}.txt", "w").write("old")
PY
    [[ "$(proppatch dst/d1/f1.txt old-prop)" == 207 ]]
  else
    check "destination is entirely old: $count files (delay $delay)" \
      test "$count" -eq "$old_count" -a "$news" -eq 0
    check "old destination keeps its properties (delay $delay)" \
      test "$(propget dst/d1/f1.txt)" == old-prop
  fi
  listing="$(curl -s -X PROPFIND -H 'Depth: 1' "$KEEPDAV_URL")"
  check "no staging name listed (delay $delay)" \
    bash -c '! grep -q keepdav- <<<"$1"' _ "$listing"
done

check "a kill after the COPY finished found the new tree" test "$saw_new" -eq 1
interop_stop
echo "crash_copy: $checks checks, $failures not ok"
[[ $failures -eq 0 ]]
