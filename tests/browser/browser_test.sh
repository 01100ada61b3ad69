#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The browser page (issue 14) in a real headless Chromium (Debian's /usr/bin/chromium) driven by
# puppeteer-core (pinned in tests/browser/package-lock.json; it downloads no browser), against
# the real keepdav binary: list, sort, filter, upload three files (one of 50 MB, with its
# progress events), create a folder, rename, move, delete, preview an image and a text, the
# read-only user's page, the page without JavaScript, names that need escaping (and one that is
# not UTF-8), a 10,000-file folder's time to first row and to complete, and light and dark
# screenshots (desktop and phone) kept as artifacts. browser_test.mjs drives the browser and
# checks every action on the server's disk too; webdav/assets/README.md is the contract.
#
# puppeteer-core is installed once into tests/browser/node_modules (ignored by git) by
# `scripts/install-deps.sh test`, which runs `npm ci` there from the committed lock file: the
# test never reaches the network. Exit 77 (skipped) when chromium, node or that install is
# missing (under CI=true: exit 1, see tests/interop/lib.sh).
#
# Two users from Apache's htpasswd: ann may write everywhere, rob may only read (--access).
# The screenshots go to $KEEPDAV_BROWSER_ARTIFACTS (CTest sets build/browser-artifacts), else to
# a folder next to the test's temp dir that the clean-up leaves. KEEPDAV_DEV_ASSETS_DIR, when
# set, is passed on to keepdav (it then serves browser.js/.css/icons.svg from that folder).
#
# Usage: browser_test.sh KEEPDAV_BINARY
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by lib.sh
INTEROP_NAME=browser
# shellcheck source=../interop/lib.sh
source "$here/../interop/lib.sh"

if [[ $# -ne 1 ]]; then
  echo "usage: $0 KEEPDAV_BINARY" >&2
  exit 2
fi
bin="$1"

chromium_bin=/usr/bin/chromium
interop_require_file /usr/bin/chromium chromium
interop_require_command node nodejs
interop_require_command htpasswd apache2-utils
interop_require_command python3 python3
interop_require_done
[[ -f "$here/node_modules/puppeteer-core/package.json" ]] ||
  interop_skip_missing "puppeteer-core is not installed in $here" \
    "run bash scripts/install-deps.sh test, or: npm ci --prefix $here"
# Chromium takes its proxy from these; the test talks to 127.0.0.1 only.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

interop_init
chromium_pid_file="$INTEROP_TMP/chromium.pid"
# The EXIT trap (lib.sh) calls this before the server stops: a browser left behind by a killed
# node (puppeteer starts it in a process group of its own) is stopped by its id.
interop_teardown() {
  local pid
  [[ -s "$chromium_pid_file" ]] || return 0
  pid="$(tr -dc '0-9' <"$chromium_pid_file")"
  [[ -n "$pid" ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    interop_log "chromium $pid still running; stopping its process group"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    sleep 1
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
}

root="$INTEROP_TMP/root"
mkdir -p "$root"
artifacts="${KEEPDAV_BROWSER_ARTIFACTS:-$INTEROP_TMP-artifacts}"
mkdir -p "$artifacts"

# The served tree, made on disk before the server starts (names as bytes: one is not UTF-8).
python3 - "$root" <<'PY'
import os, struct, sys, zlib
root = os.fsencode(sys.argv[1])
def put(rel, data=b"", mtime=None):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
def folder(rel):
    os.makedirs(os.path.join(root, rel), exist_ok=True)

# /work: where the writer uploads, creates, renames, moves and deletes.
put(b"work/rename-me.txt", b"rename me\n")
put(b"work/move-me.txt", b"move me\n")
put(b"work/move-me-2.txt", b"move me too\n")
put(b"work/delete-me.txt", b"delete me\n")
put(b"work/delete-dir/inner.txt", b"inner\n")
put(b"work/delete-dir/sub/deep.txt", b"deep\n")
put(b"work/keep-a.txt", b"a\n")
put(b"work/keep-b.txt", b"b stays\n")
folder(b"work/dest")

# /sort: distinct sizes and times, mixed case, a number that sorts numerically.
t0 = 1700000000
put(b"sort/a-big.bin", b"A" * 3000, t0 + 100)
put(b"sort/B-small.bin", b"B" * 10, t0 + 500)
put(b"sort/c-mid.bin", b"C" * 1234, t0 + 300)
put(b"sort/n10.txt", b"n" * 30, t0 + 200)
put(b"sort/n2.txt", b"n" * 20, t0 + 400)
folder(b"sort/alpha")
folder(b"sort/Zeta")

# /images: a 16x16 PNG (red to blue, made here) and a text with markup in it.
def png(width, height):
    rows = b"".join(b"\0" + b"".join(bytes((255 * x // (width - 1), 64, 255 * y // (height - 1)))
                                     for x in range(width)) for y in range(height))
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
put(b"images/pixel.png", png(16, 16))
put(b"images/notes.txt", b"Hello <b>preview</b> & \"text\"\n")
put(b"images/data.bin", bytes(range(256)))

# /escape: names that must be escaped in HTML and percent-encoded in URLs.
names = ["space name.txt", "hash#tag.txt", "percent%41.txt", "question?.txt",
         "quote\"double'single.txt", "1<2 & 3>2.txt", "<img src=x onerror=alert(1)>.txt",
         "é accent.txt", "日本.txt"]
for i, name in enumerate(names):
    put(b"escape/" + name.encode(), f"content {i} of {name}\n".encode())
put(b"escape/bad-\xff-\xfe.txt", b"content of a name that is not UTF-8\n")
put("escape/dir #?%/inner.txt".encode(), b"inside the folder with # ? %\n")

# /many: 10,000 small files.
folder(b"many")
for i in range(10000):
    with open(os.path.join(root, b"many", b"f%05d.txt" % i), "wb") as f:
        f.write(b"%d\n" % i)
PY

users="$INTEROP_TMP/users"
ann_pass="ann-secret-$RANDOM"
rob_pass="rob-secret-$RANDOM"
interop_make_htpasswd "$users" ann "$ann_pass"
interop_make_htpasswd "$users" rob "$rob_pass"
access="$INTEROP_TMP/access.conf"
cat >"$access" <<'RULES'
# ann (and any other authenticated user) writes everywhere; rob only reads.
[authenticated]
write /
[user rob]
read /
RULES

if [[ -n ${KEEPDAV_DEV_ASSETS_DIR:-} ]]; then
  export KEEPDAV_DEV_ASSETS_DIR
  note "KEEPDAV_DEV_ASSETS_DIR=$KEEPDAV_DEV_ASSETS_DIR: keepdav serves the assets from there"
fi
interop_start_with_users "$bin" "$root" "$users" --access="$access" \
  --access-log="$INTEROP_TMP/access.log"

version="$(node -p 'require(process.argv[1]).version' "$here/node_modules/puppeteer-core/package.json")"
note "puppeteer-core $version on node $(node --version), $("$chromium_bin" --version 2>/dev/null | head -n 1)"
client_rc=0
interop_run_client "$INTEROP_TMP/node.out" timeout 240 node "$here/browser_test.mjs" \
  --url="$KEEPDAV_URL" --root="$root" --tmp="$INTEROP_TMP" --artifacts="$artifacts" \
  --access-log="$INTEROP_TMP/access.log" --chromium="$chromium_bin" \
  --chromium-pid-file="$chromium_pid_file" \
  --writer="ann:$ann_pass" --reader="rob:$rob_pass" || client_rc=$?
cat "$INTEROP_TMP/node.out"
interop_teardown

stop_ok=1
interop_stop || stop_ok=0
check "wrapper: browser_test.mjs passed all its checks (exit $client_rc)" [ "$client_rc" -eq 0 ]
check "wrapper: the server stops cleanly on SIGTERM" test "$stop_ok" -eq 1
echo "browser: screenshots in $artifacts"
[[ $failures -eq 0 ]]
