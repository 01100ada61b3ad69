#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Smoke test of the everyday WebDAV methods with curl against the real keepdav
# binary, serving a private copy of sample-data/.
#
# Usage: curl_smoke.sh KEEPDAV_BINARY SAMPLE_DATA_DIR
#
# Each check prints "ok" or "not ok"; all checks run, and the script fails if
# any did. Besides the HTTP answers it looks at the served directory itself, so
# a server that answers 201 without writing anything is caught.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
INTEROP_NAME=curl_smoke
# shellcheck source=lib.sh
source "$here/lib.sh"

if [[ $# -ne 2 ]]; then
  echo "usage: $0 KEEPDAV_BINARY SAMPLE_DATA_DIR" >&2
  exit 2
fi
bin="$1"
sample="$2"
if [[ ! -f "$sample/README.txt" ]]; then
  echo "curl_smoke: $sample does not look like sample-data/" >&2
  exit 2
fi

interop_init
root="$INTEROP_TMP/root"
cp -R "$sample" "$root"
interop_start "$bin" "$root"

checks=0
failures=0

# request METHOD PATH [CURL_ARG...]: body to $INTEROP_TMP/body, headers to
# $INTEROP_TMP/headers, status code to $status ("000" if no answer).
status=""
request() {
  local method="$1" path="$2"
  shift 2
  status="$(curl -sS --noproxy '*' --max-time 30 -X "$method" \
    -D "$INTEROP_TMP/headers" -o "$INTEROP_TMP/body" -w '%{http_code}' \
    "$@" "${KEEPDAV_URL%/}$path")" || status="000"
  echo "# $method $path -> $status"
}
status_is() { [[ "$status" == "$1" ]]; }
status_in() { [[ " $* " == *" $status "* ]]; }
body_has() { grep -qiF -- "$1" "$INTEROP_TMP/body"; }
body_is_file() { cmp -s "$INTEROP_TMP/body" "$1"; }
# RFC 4918 §10.1: the DAV header lists compliance classes, e.g. "1, 2, 3".
dav_class_1() {
  # No grep -q at the end of a pipe: under pipefail its early exit can fail the pipe (SIGPIPE).
  tr -d '\r' <"$INTEROP_TMP/headers" | grep -i '^dav:' |
    grep -E '(:|,)[[:space:]]*1[[:space:]]*(,|$)' >/dev/null
}

# OPTIONS advertises class 1.
request OPTIONS /
check "OPTIONS / answers 200" status_is 200
check "OPTIONS / has a DAV header with class 1" dav_class_1

# PROPFIND Depth 1 lists the root's members; hrefs are URIs, so the space is
# percent-encoded (RFC 4918 §8.3, RFC 3986).
request PROPFIND / -H 'Depth: 1' -H 'Content-Type: application/xml' \
  --data-binary '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'
check "PROPFIND Depth 1 on / answers 207" status_is 207
check "PROPFIND lists README.txt" body_has "README.txt"
check "PROPFIND lists Meeting%20notes.txt" body_has "Meeting%20notes.txt"
check "PROPFIND lists the Projects collection" body_has "Projects/"

# GET returns the bytes on disk, including names with spaces and non-ASCII.
request GET /README.txt
check "GET /README.txt answers 200" status_is 200
check "GET /README.txt returns the file's bytes" body_is_file "$root/README.txt"
request GET "/Caf%C3%A9%20menu.txt"
check "GET /Café menu.txt returns the file's bytes" body_is_file "$root/Café menu.txt"
request GET /Pictures/sunset.png
check "GET /Pictures/sunset.png returns the image" body_is_file "$root/Pictures/sunset.png"

# PUT a new binary file, then GET it back.
head -c 70000 /dev/urandom >"$INTEROP_TMP/upload.bin"
request PUT /smoke-upload.bin --data-binary "@$INTEROP_TMP/upload.bin" \
  -H 'Content-Type: application/octet-stream'
check "PUT of a new file answers 201" status_is 201
check "PUT wrote the file under the root" cmp -s "$INTEROP_TMP/upload.bin" "$root/smoke-upload.bin"
request GET /smoke-upload.bin
check "GET after PUT returns the uploaded bytes" body_is_file "$INTEROP_TMP/upload.bin"
printf 'replaced\n' >"$INTEROP_TMP/replacement.txt"
request PUT /smoke-upload.bin --data-binary "@$INTEROP_TMP/replacement.txt"
check "PUT over an existing file answers 204 or 200" status_in 204 200
request GET /smoke-upload.bin
check "GET after overwrite returns the new bytes" body_is_file "$INTEROP_TMP/replacement.txt"

# MKCOL creates a collection; a second MKCOL on it is 405 (RFC 4918 §9.3.1).
request MKCOL /smoke-folder/
check "MKCOL answers 201" status_is 201
check "MKCOL created a directory under the root" test -d "$root/smoke-folder"
request MKCOL /smoke-folder/
check "MKCOL on an existing collection answers 405" status_is 405

# DELETE removes a file and a collection; the file is gone afterwards.
request DELETE /smoke-upload.bin
check "DELETE of a file answers 204" status_is 204
check "DELETE removed the file from the root" test ! -e "$root/smoke-upload.bin"
request GET /smoke-upload.bin
check "GET after DELETE answers 404" status_is 404
request DELETE /smoke-folder/
check "DELETE of a collection answers 204" status_is 204
check "DELETE removed the directory from the root" test ! -e "$root/smoke-folder"

stop_ok=1
interop_stop || stop_ok=0
check "server stops cleanly on SIGTERM" test "$stop_ok" -eq 1

echo "curl_smoke: $checks checks, $failures not ok"
[[ $failures -eq 0 ]]
