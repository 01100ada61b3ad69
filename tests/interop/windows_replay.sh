#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# A replay of Windows' WebDAV mini-redirector (the WebClient service behind "Map network drive"
# and `net use`) against the real keepdav binary, with the requests and headers it sends
# (User-Agent Microsoft-WebDAV-MiniRedir/10.0.19045, translate: f, one keep-alive connection):
#   1. OPTIONS without credentials: must be 200 with a DAV header (class 1 and 2). The
#      mini-redirector sends it first and gives up on the server at a 401;
#   2. PROPFIND Depth 0 without credentials: 401 with WWW-Authenticate: Basic realm="keepdav",
#      charset="UTF-8" (Windows sends Basic only over TLS, so this runs over HTTPS);
#   3. the same PROPFIND with Basic: 207; then what Explorer does to save a file: a 0-byte PUT,
#      LOCK, the PUT with the lock token in If, PROPPATCH of the Win32 times and attributes
#      (urn:schemas-microsoft-com:), UNLOCK, a PROPFIND Depth 1 listing it; each checked, the
#      file then checked on disk.
# Run through tls_over.sh and auth_over.sh (CTest windows_replay_https): it refuses to run
# without HTTPS and a user.
#
# Usage: windows_replay.sh KEEPDAV_BINARY
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # read by lib.sh
INTEROP_NAME=windows_replay
# shellcheck source=lib.sh
source "$here/lib.sh"

if [[ $# -ne 1 ]]; then
  echo "usage: $0 KEEPDAV_BINARY" >&2
  exit 2
fi
bin="$1"
if [[ ${KEEPDAV_URL_SCHEME:-http} != https || -z ${KEEPDAV_USER:-} || -z ${KEEPDAV_TLS_CA:-} ]]; then
  echo "usage: run through tls_over.sh and auth_over.sh (Windows sends Basic only over TLS):" >&2
  echo "  tls_over.sh KEEPDAV_BINARY auth_over.sh windows_replay.sh" >&2
  exit 2
fi
interop_require_command python3 python3
interop_require_done

interop_init
root="$INTEROP_TMP/root"
mkdir -p "$root"
interop_start "$bin" "$root"

cat >"$INTEROP_TMP/replay.py" <<'PY'
import base64, http.client, re, ssl, sys
from urllib.parse import urlsplit

url, ca, user, password = sys.argv[1:5]
parts = urlsplit(url)
context = ssl.create_default_context(cafile=ca)
agent = "Microsoft-WebDAV-MiniRedir/10.0.19045"
auth = "Basic " + base64.b64encode(f"{user}:{password}".encode("utf-8")).decode("ascii")
checks = failures = 0
conn = None
reconnects = 0

def check(ok, what, detail=""):
    global checks, failures
    checks += 1
    print(f"{'ok' if ok else 'not ok'} {checks} - {what}")
    if not ok:
        failures += 1
        if detail:
            print("# " + str(detail).replace("\n", "\n# "))

def send(method, path, body=b"", headers=None, credentials=True):
    """One request on the kept connection (a new one if keepdav closed it, counted)."""
    global conn, reconnects
    h = {"User-Agent": agent, "translate": "f", "Connection": "Keep-Alive",
         "Content-Length": str(len(body))}
    if credentials:
        h["Authorization"] = auth
    h.update(headers or {})
    for attempt in (1, 2):
        if conn is None:
            conn = http.client.HTTPSConnection(parts.hostname, parts.port, context=context,
                                               timeout=20)
            if attempt == 2 or checks:
                reconnects += 1
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
            return r, data
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            conn = None
            if attempt == 2:
                raise

# 1. OPTIONS without credentials.
r, _ = send("OPTIONS", "/", credentials=False)
dav = r.getheader("DAV", "")
check(r.status == 200, f"OPTIONS / without credentials is 200 (got {r.status})")
check(re.search(r"\b1\b", dav) and re.search(r"\b2\b", dav), f"... with DAV: 1, 2 (DAV: {dav!r})")
check(r.getheader("WWW-Authenticate") is None, "... and no challenge")

# 2. PROPFIND without credentials: the challenge.
propfind0 = (b'<?xml version="1.0" encoding="utf-8" ?><D:propfind xmlns:D="DAV:"><D:prop>'
             b"<D:getlastmodified/><D:getcontentlength/><D:resourcetype/></D:prop></D:propfind>")
r, _ = send("PROPFIND", "/", propfind0, {"Depth": "0", "Content-Type": "text/xml"},
            credentials=False)
challenge = r.getheader("WWW-Authenticate", "")
check(r.status == 401, f"PROPFIND / without credentials is 401 (got {r.status})")
check(challenge == 'Basic realm="keepdav", charset="UTF-8"',
      f"... with WWW-Authenticate: Basic realm, charset UTF-8 (got {challenge!r})")

# 3. The same with Basic over TLS.
r, body = send("PROPFIND", "/", propfind0, {"Depth": "0", "Content-Type": "text/xml"})
check(r.status == 207, f"PROPFIND / with Basic over TLS is 207 (got {r.status})")
check(b"multistatus" in body, "... a multistatus body")

# Saving a file as Explorer does.
name = "/Neues%20Textdokument.txt"
r, _ = send("PUT", name, b"")
check(r.status == 201, f"PUT of the 0-byte placeholder is 201 (got {r.status})")
lockinfo = (b'<?xml version="1.0" encoding="utf-8" ?><D:lockinfo xmlns:D="DAV:">'
            b"<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>"
            b"<D:owner><D:href>WINPC\\user</D:href></D:owner></D:lockinfo>")
r, body = send("LOCK", name, lockinfo, {"Depth": "0", "Timeout": "Second-3600",
                                         "Content-Type": "text/xml"})
token = r.getheader("Lock-Token", "").strip("<>")
check(r.status == 200 and token, f"LOCK is 200 with a Lock-Token (got {r.status}, {token!r})")
content = "Grüße aus Windows\r\n".encode("utf-8")
r, _ = send("PUT", name, content, {"If": f"(<{token}>)"})
check(r.status == 204, f"PUT with the lock token in If is 204 (got {r.status})")
proppatch = (b'<?xml version="1.0" encoding="utf-8" ?>'
             b'<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>'
             b"<Z:Win32CreationTime>Wed, 02 Dec 2026 10:00:00 GMT</Z:Win32CreationTime>"
             b"<Z:Win32LastAccessTime>Wed, 02 Dec 2026 10:00:01 GMT</Z:Win32LastAccessTime>"
             b"<Z:Win32LastModifiedTime>Wed, 02 Dec 2026 10:00:02 GMT</Z:Win32LastModifiedTime>"
             b"<Z:Win32FileAttributes>00000020</Z:Win32FileAttributes>"
             b"</D:prop></D:set></D:propertyupdate>")
r, body = send("PROPPATCH", name, proppatch, {"If": f"(<{token}>)", "Content-Type": "text/xml"})
statuses = re.findall(rb"HTTP/1\.1 (\d{3})", body)
check(r.status == 207 and statuses and all(s == b"200" for s in statuses),
      f"PROPPATCH of the Win32 properties: 207, every property 200 (got {r.status}, {statuses})",
      body.decode("utf-8", "replace"))
r, _ = send("UNLOCK", name, b"", {"Lock-Token": f"<{token}>"})
check(r.status == 204, f"UNLOCK is 204 (got {r.status})")
r, body = send("PROPFIND", "/", propfind0, {"Depth": "1", "Content-Type": "text/xml"})
check(r.status == 207 and b"Neues%20Textdokument.txt" in body,
      f"PROPFIND Depth 1 lists the file (got {r.status})", body.decode("utf-8", "replace"))
r, body = send("PROPFIND", name, b'<?xml version="1.0" encoding="utf-8" ?><D:propfind '
               b'xmlns:D="DAV:"><D:prop><Z:Win32FileAttributes xmlns:Z="urn:schemas-microsoft-com:"/>'
               b"</D:prop></D:propfind>", {"Depth": "0", "Content-Type": "text/xml"})
check(b"00000020" in body, "the Win32FileAttributes property reads back",
      body.decode("utf-8", "replace"))
print(f"# {reconnects} reconnect(s) after the first connection")
print(f"windows replay: {checks} checks, {failures} not ok")
sys.exit(1 if failures else 0)
PY
replay_rc=0
interop_run_client "$INTEROP_TMP/replay.out" timeout 60 python3 "$INTEROP_TMP/replay.py" \
  "$KEEPDAV_URL" "$KEEPDAV_TLS_CA" "$KEEPDAV_USER" "$KEEPDAV_PASS" || replay_rc=$?
cat "$INTEROP_TMP/replay.out"

checks=0 failures=0
check "the replay passed all its checks" [ "$replay_rc" -eq 0 ]
printf 'Grüße aus Windows\r\n' >"$INTEROP_TMP/expected.txt"
check "disk: the file holds what the locked PUT wrote" \
  cmp -s "$INTEROP_TMP/expected.txt" "$root/Neues Textdokument.txt"
stop_ok=1
interop_stop || stop_ok=0
check "server stops cleanly on SIGTERM" test "$stop_ok" -eq 1
echo "windows_replay: $checks checks, $failures not ok"
[[ $failures -eq 0 ]]
