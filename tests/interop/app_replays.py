#!/usr/bin/env python3
"""Replays of the sync apps that use small WebDAV servers (issue 13), against the real binary.

Usage: app_replays.py URL ROOT [--finite-depth]

URL is keepdav's base URL (plain HTTP, no users), ROOT the directory it serves. Each section
replays one client's requests, with its headers and User-Agent, as its source does them (the
source is named above each section), and checks what the client needs of the answer. Every
check that writes or removes files is also checked on ROOT itself ("disk: ...").

  Joplin                     If-None-Match: JoplinIgnore-<n> on every request, the timeCheck
                             PUT + PROPFIND, MKCOL of an existing folder 405, Depth 1 of locks/
  Zotero                     OPTIONS with DAV, PROPFIND 207 on zotero/, 404 for a missing .prop,
                             the test file's PUT, GET and DELETE, an attachment upload
  KeeWeb, Keepass2Android,   the save: PUT of a temp name, MOVE Overwrite: T onto the database;
  KeePassXC via mounts       ETag from GET, HEAD and PROPFIND, changed by the save; If-Match
  Floccus                    the lock file by PUT If-None-Match: * (201, then 412), the
                             bookmarks written to a temp name and MOVEd over the old ones
  Cryptomator                404 (never 405) for what is missing, 409 for MKCOL under a missing
                             parent, 2,000 small files in d/XX/YYYY... all listed by Depth 1
  Remotely Save, DAVx5,      Depth: infinity, no 301 for DAV methods on a collection named
  Seedvault                  without its slash, Accept-Ranges and Range reads, PATCH uploads

With --finite-depth (keepdav started with --propfind-infinity=false, on the ROOT the first run
filled) it checks the RFC 4918 §9.1 refusal instead, and Seedvault's fallback to Depth 1.

Prints "ok N - what" or "not ok N - what" (then "# detail" lines) and a summary line; exits 1
when a check failed.
"""

import email.utils
import hashlib
import http.client
import os
import random
import sys
import time
import xml.etree.ElementTree as ET
from urllib.parse import quote, unquote, urlsplit

DAV = "{DAV:}"
checks = 0
failures = 0


def check(ok, what, detail=""):
    global checks, failures
    checks += 1
    print(f"{'ok' if ok else 'not ok'} {checks} - {what}", flush=True)
    if not ok:
        failures += 1
        if detail:
            print("# " + str(detail).replace("\n", "\n# ")[:3000], flush=True)


def section(name):
    print(f"# --- {name} ---", flush=True)


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        head = "".join(f"{k}: {v}\n" for k, v in self.headers.items())
        return f"{self.status}\n{head}\n{self.text()[:1500]}"


class Client:
    """One client app: its User-Agent and fixed headers on one keep-alive connection (reopened
    when keepdav closes it, as the apps' HTTP stacks do)."""

    def __init__(self, url, agent, headers=None, per_method=None):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.origin = f"http://{self.host}:{self.port}"
        self.agent = agent
        self.headers = headers or {}
        self.per_method = per_method
        self.conn = None

    def url(self, path):
        return self.origin + path

    def request(self, method, path, body=None, headers=None):
        h = {"User-Agent": self.agent}
        h.update(self.headers)
        if self.per_method:
            h.update(self.per_method(method))
        h.update(headers or {})
        if isinstance(body, str):
            body = body.encode("utf-8")
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            if r.will_close:
                self.conn.close()
                self.conn = None
            return Answer(r.status, r.headers, data)
        raise AssertionError("unreachable")


def multistatus(answer):
    """{href path (decoded): {prop tag: element}} of the 200 propstats; None if not a 207 body."""
    try:
        root = ET.fromstring(answer.body)
    except ET.ParseError:
        return None
    if root.tag != DAV + "multistatus":
        return None
    out = {}
    for resp in root.findall(DAV + "response"):
        href = resp.findtext(DAV + "href") or ""
        if href.startswith("http://") or href.startswith("https://"):
            href = urlsplit(href).path
        props = {}
        for ps in resp.findall(DAV + "propstat"):
            prop = ps.find(DAV + "prop")
            if prop is None or " 200 " not in (ps.findtext(DAV + "status") or ""):
                continue
            for p in prop:
                props[p.tag] = p
        out[unquote(href)] = props
    return out


def is_collection(props):
    rt = props.get(DAV + "resourcetype")
    return rt is not None and rt.find(DAV + "collection") is not None


def prop_text(props, name):
    p = props.get(DAV + name)
    return None if p is None else (p.text or "")


def propfind_body(*names, ns_decl='xmlns:d="DAV:"', prefix="d"):
    inner = "".join(f"<{prefix}:{n}/>" for n in names)
    return (f'<?xml version="1.0" encoding="utf-8"?><{prefix}:propfind {ns_decl}>'
            f"<{prefix}:prop>{inner}</{prefix}:prop></{prefix}:propfind>")


class Disk:
    def __init__(self, root):
        self.root = root

    def path(self, rel):
        return os.path.join(self.root, unquote(rel).lstrip("/"))

    def read(self, rel):
        try:
            with open(self.path(rel), "rb") as f:
                return f.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def exists(self, rel):
        return os.path.lexists(self.path(rel))

    def isdir(self, rel):
        return os.path.isdir(self.path(rel))

    def names(self, rel):
        try:
            return sorted(os.listdir(self.path(rel)))
        except FileNotFoundError:
            return None

    def tree(self, rel):
        """Every member below rel as an href path (folders with their slash), rel itself too."""
        base = self.path(rel)
        prefix = "/" + rel.strip("/") + "/"
        out = {prefix}
        for dirpath, dirnames, filenames in os.walk(base):
            sub = os.path.relpath(dirpath, base)
            sub = "" if sub == "." else sub + "/"
            out.update(prefix + sub + d + "/" for d in dirnames)
            out.update(prefix + sub + f for f in filenames)
        return out

    def staging_left(self):
        """keepdav's own staging and trash names (.keepdav-*) anywhere in the tree."""
        left = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            left += [os.path.join(dirpath, n) for n in dirnames + filenames
                     if n.startswith(".keepdav-")]
        return left


def etag_of(answer):
    return answer.header("ETag")


# ------------------------------------------------------------------------------------------
# Joplin (desktop and mobile), WebDAV sync target. Source: laurent22/joplin
#   packages/lib/WebDavApi.js, exec(): every request other than GET and HEAD carries
#     "If-None-Match: JoplinIgnore-<random>", "a purposely invalid string as eTag" because
#     Seafile answered 412 to PROPFINDs that iOS had given an If-None-Match; Cache-Control:
#     no-store; Content-Type text/xml for PROPFIND and text/plain for PUT; User-Agent Joplin/1.0.
#     execPropFind(): <d:propfind xmlns:d="DAV:"><d:prop xmlns:oc=...>fields</d:prop>.
#   packages/lib/file-api-driver-webdav.js: mkdir() sends MKCOL with a trailing slash and takes
#     405 as "already exists"; list() is PROPFIND Depth 1 (d:getlastmodified, d:resourcetype) of
#     the folder with its slash, and every href must start with the base URL's path
#     (hrefToRelativePath_); statFromResource_() throws for a file without getlastmodified.
#   packages/lib/file-api.ts, fetchRemoteDateOffset_(): PUT temp/timeCheck<random>.txt
#     ("timeCheck"), stat() it, offset = updated_time - the request's midpoint, then DELETE.
#   packages/lib/services/synchronizer/LockHandler.ts: locks are files
#     locks/<type>_<clientType>_<clientId>.json, found by listing locks/; a lock is active while
#     remoteDate() - its getlastmodified < 3 minutes.
# ------------------------------------------------------------------------------------------
def replay_joplin(url, disk):
    section("Joplin")
    rnd = random.Random(1)

    def joplin_headers(method):
        h = {"Cache-Control": "no-store"}
        if method not in ("GET", "HEAD"):
            h["If-None-Match"] = f"JoplinIgnore-{rnd.randrange(100000)}"
        if method == "PROPFIND":
            h["Content-Type"] = "text/xml"
        if method == "PUT":
            h["Content-Type"] = "text/plain"
        return h

    c = Client(url, "Joplin/1.0", per_method=joplin_headers)
    fields = ('<d:prop xmlns:oc="http://owncloud.org/ns">'
              "<d:getlastmodified/><d:resourcetype/></d:prop>")
    propfind = ('<?xml version="1.0" encoding="UTF-8"?>\n<d:propfind xmlns:d="DAV:">'
                + fields + "</d:propfind>")

    for folder in ("/joplin/", "/joplin/locks/", "/joplin/temp/", "/joplin/.resource/"):
        r = c.request("MKCOL", folder)
        check(r.status == 201 and disk.isdir(folder),
              f"Joplin: MKCOL {folder} with If-None-Match: JoplinIgnore-n is 201, a folder on disk",
              r)
    r = c.request("MKCOL", "/joplin/locks/")
    check(r.status == 405, "Joplin: MKCOL of the existing locks/ is 405 (Joplin: already exists)",
          r)
    check(disk.isdir("/joplin/locks/") and disk.names("/joplin/locks/") == [],
          "disk: locks/ is still the empty folder")

    # The timeCheck: the server's clock, as Joplin measures it.
    name = f"/joplin/temp/timeCheck{rnd.randrange(1000000)}.txt"
    start = time.time()
    r = c.request("PUT", name, "timeCheck")
    check(r.status == 201, f"Joplin: PUT {name} is 201", r)
    check(disk.read(name) == b"timeCheck", "disk: the timeCheck file holds 'timeCheck'",
          disk.read(name))
    r = c.request("PROPFIND", name, propfind, {"Depth": "0"})
    end = time.time()
    ms = multistatus(r) if r.status == 207 else None
    props = (ms or {}).get(name, {})
    modified = prop_text(props, "getlastmodified")
    check(r.status == 207 and modified, "Joplin: stat (PROPFIND Depth 0) of it is 207 with "
          "d:getlastmodified", r)
    try:
        server_time = email.utils.parsedate_to_datetime(modified).timestamp()
        offset = server_time - (start + end) / 2
        on_disk = os.stat(disk.path(name)).st_mtime
    except (TypeError, ValueError, FileNotFoundError) as e:
        server_time, offset, on_disk = None, None, str(e)
    # One clock here: the file's time must fall between the PUT and the PROPFIND's answer
    # (getlastmodified has whole seconds, file times a coarse clock), else Joplin's locks would
    # expire early or late.
    check(server_time is not None and int(start) - 1 <= server_time <= end + 1,
          "Joplin: its getlastmodified lies within the PUT-to-PROPFIND window (clock offset "
          f"{offset if offset is None else round(offset, 2)} s)",
          f"getlastmodified {modified!r}, window {start:.2f} to {end:.2f}")
    check(server_time is not None and int(server_time) == int(on_disk),
          "disk: getlastmodified is the file's modification time, to the second",
          f"{modified!r} vs mtime {on_disk}")
    r = c.request("DELETE", name)
    check(r.status == 204 and not disk.exists(name), "Joplin: DELETE of the timeCheck file is "
          "204, gone from disk", r)

    # A sync lock, and the listing of locks/ Joplin reads it back from.
    lock = "/joplin/locks/sync_desktop_0123456789abcdef0123456789abcdef.json"
    lock_body = ('{"type":"sync","clientType":"desktop",'
                 '"clientId":"0123456789abcdef0123456789abcdef"}')
    r = c.request("PUT", lock, lock_body)
    check(r.status == 201 and disk.read(lock) == lock_body.encode(),
          "Joplin: PUT of the sync lock is 201, its JSON on disk", r)
    r = c.request("PROPFIND", "/joplin/locks/", propfind, {"Depth": "1"})
    ms = multistatus(r) if r.status == 207 else None
    check(ms is not None, "Joplin: PROPFIND Depth 1 of locks/ is 207 with a multistatus", r)
    ms = ms or {}
    check(set(ms) == {"/joplin/locks/", lock} and is_collection(ms.get("/joplin/locks/", {})),
          "Joplin: the listing is locks/ itself (a collection) and the lock file, every href "
          "under /joplin/", sorted(ms))
    lock_time = prop_text(ms.get(lock, {}), "getlastmodified")
    try:
        age = time.time() - email.utils.parsedate_to_datetime(lock_time).timestamp()
    except (TypeError, ValueError):
        age = None
    check(age is not None and -2 < age < 180,
          "Joplin: the lock's getlastmodified makes it active (younger than 3 minutes)",
          f"getlastmodified {lock_time!r}")

    # If-None-Match values without quotes. Joplin's JoplinIgnore-n is meant to match nothing;
    # the same holds for a real ETag sent without its quotes: it is not an entity-tag
    # (RFC 9110 §8.8.3), so it never matches and the request proceeds. A server that stripped
    # quotes and matched it would answer PROPFIND and PUT with 412, as Seafile did to Joplin.
    info = "/joplin/info.json"
    r = c.request("PUT", info, '{"version":3}')
    check(r.status == 201 and disk.read(info) == b'{"version":3}',
          "Joplin: PUT of info.json is 201, on disk", r)
    r = c.request("HEAD", info)
    etag = etag_of(r) or ""
    bare = etag.strip('"')
    check(etag.startswith('"') and len(bare) > 2, f"Joplin: HEAD gives a quoted ETag ({etag})", r)
    r = c.request("PROPFIND", info, propfind, {"Depth": "0", "If-None-Match": bare})
    check(r.status == 207, "Joplin: PROPFIND with If-None-Match: <its ETag without quotes> is "
          "207 (an unquoted value matches nothing), not 412", r)
    r = c.request("GET", info, headers={"If-None-Match": bare})
    check(r.status == 200 and r.body == b'{"version":3}',
          "Joplin: GET with If-None-Match: <its ETag without quotes> is 200 with the body, not 304",
          r)
    r = c.request("PUT", info, '{"version":3,"e2ee":false}', {"If-None-Match": bare})
    check(r.status == 204, "Joplin: PUT with If-None-Match: <its ETag without quotes> is 204 "
          "(replaced)", r)
    check(disk.read(info) == b'{"version":3,"e2ee":false}', "disk: info.json holds the new JSON",
          disk.read(info))
    r = c.request("PUT", info, "{}", {"If-None-Match": etag_of(c.request("HEAD", info))})
    check(r.status == 412 and disk.read(info) == b'{"version":3,"e2ee":false}',
          "Joplin: the same PUT with the ETag quoted is 412, the file unchanged on disk", r)
    r = c.request("DELETE", "/joplin/temp/timeCheck-never-written.txt")
    check(r.status == 404, "Joplin: DELETE of a missing file is 404 (Joplin ignores it)", r)


# ------------------------------------------------------------------------------------------
# Zotero file sync over WebDAV. Source: zotero/zotero
#   chrome/content/zotero/xpcom/storage/webdav.js
#   checkServer(): OPTIONS <url>/zotero/ (200 or 404) must carry a DAV header ("NOT_DAV");
#     PROPFIND Depth 0 with <propfind xmlns='DAV:'><prop><getcontentlength/></prop></propfind>,
#     207 or 404; on 404 the parent is PROPFINDed and the user offered to create zotero/
#     (_createServerDirectory: MKCOL, successCodes [201]); on 207, GET zotero/nonexistent.prop
#     must be 404 (successCodes [404]; a 2xx is NONEXISTENT_FILE_NOT_MISSING, anything else an
#     error), then PUT zotero/zotero-test-file.prop (" ", 200/201/204), GET it (200; 404 is
#     FILE_MISSING_AFTER_UPLOAD) and DELETE it (200/204).
#   uploadFile() / _setStorageFileMetadata(): <KEY>.zip (application/zip), then <KEY>.prop
#     (text/xml <properties version="1"><mtime>..</mtime><hash>..</hash></properties>);
#     _getStorageFileMetadata(): GET <KEY>.prop, 404 means "not on the server".
#   Zotero runs on Firefox's network stack: a Firefox-like User-Agent ending in Zotero/7.0.
# ------------------------------------------------------------------------------------------
def replay_zotero(url, disk):
    section("Zotero")
    c = Client(url, "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Zotero/7.0.11")
    body = "<propfind xmlns='DAV:'><prop><getcontentlength/></prop></propfind>"
    r = c.request("PROPFIND", "/zotero/", body, {"Depth": "0", "Content-Type": "text/xml"})
    check(r.status == 404, "Zotero: PROPFIND of zotero/ before it exists is 404", r)
    r = c.request("PROPFIND", "/", body, {"Depth": "0", "Content-Type": "text/xml"})
    check(r.status == 207, "Zotero: PROPFIND of the parent is 207 (ZOTERO_DIR_NOT_FOUND)", r)
    r = c.request("MKCOL", "/zotero/")
    check(r.status == 201 and disk.isdir("/zotero/"),
          "Zotero: MKCOL zotero/ is 201 (its only success code), a folder on disk", r)

    r = c.request("OPTIONS", "/zotero/")
    check(r.status == 200 and r.header("DAV") is not None,
          f"Zotero: OPTIONS zotero/ is 200 with a DAV header (DAV: {r.header('DAV')})", r)
    r = c.request("PROPFIND", "/zotero/", body, {"Depth": "0", "Content-Type": "text/xml"})
    ms = multistatus(r) if r.status == 207 else None
    check(ms is not None and "/zotero/" in ms, "Zotero: PROPFIND Depth 0 of zotero/ is 207 "
          "naming /zotero/", r)
    r = c.request("GET", "/zotero/nonexistent.prop")
    check(r.status == 404, "Zotero: GET of the missing zotero/nonexistent.prop is 404 "
          "(not 403 or 405)", r)
    test = "/zotero/zotero-test-file.prop"
    r = c.request("PUT", test, " ")
    check(r.status in (200, 201, 204), "Zotero: PUT of zotero-test-file.prop is 2xx", r)
    check(disk.read(test) == b" ", "disk: zotero-test-file.prop holds one space", disk.read(test))
    r = c.request("GET", test)
    check(r.status == 200 and r.body == b" ", "Zotero: GET of the test file is 200 with ' '", r)
    r = c.request("DELETE", test)
    check(r.status in (200, 204), "Zotero: DELETE of the test file is 200 or 204", r)
    check(not disk.exists(test) and disk.names("/zotero/") == [],
          "disk: the test file is gone, zotero/ empty", disk.names("/zotero/"))

    # An attachment upload: metadata missing, then the ZIP and its .prop.
    key = "ABCD2345"
    r = c.request("GET", f"/zotero/{key}.prop", headers={"Cache-Control": "no-cache"})
    check(r.status == 404, f"Zotero: GET of the missing {key}.prop is 404 (no metadata yet)", r)
    zip_body = b"PK\x03\x04" + random.Random(2).randbytes(3000)
    r = c.request("PUT", f"/zotero/{key}.zip", zip_body, {"Content-Type": "application/zip"})
    check(r.status in (200, 201, 204), f"Zotero: PUT {key}.zip is 2xx", r)
    prop = ('<properties version="1"><mtime>1700000000000</mtime><hash>'
            + hashlib.md5(zip_body).hexdigest() + "</hash></properties>")
    r = c.request("PUT", f"/zotero/{key}.prop", prop, {"Content-Type": "text/xml"})
    check(r.status in (200, 201, 204), f"Zotero: PUT {key}.prop is 2xx", r)
    check(disk.read(f"/zotero/{key}.zip") == zip_body and
          disk.read(f"/zotero/{key}.prop") == prop.encode(),
          "disk: the ZIP and its .prop hold what was sent")
    r = c.request("GET", f"/zotero/{key}.prop", headers={"Cache-Control": "no-cache"})
    check(r.status == 200 and r.body == prop.encode(), "Zotero: GET of the .prop reads it back", r)


# ------------------------------------------------------------------------------------------
# KeeWeb, Keepass2Android, KeePassXC (through a mount): saving a .kdbx database.
#   KeeWeb: keeweb/keeweb app/scripts/storage/impl/storage-webdav.js (XMLHttpRequest version)
#     save(): HEAD the file (rev = Last-Modified; GET and HEAD with Cache-Control: no-cache),
#     compare with the loaded rev, PUT the data to the temp name ".<name>.<Date.now()>"
#     (application/octet-stream), HEAD the file again, MOVE the temp name with
#     Destination: <absolute URL> and Overwrite: T, HEAD again for the new rev. 412 means
#     revConflict, 404 notFound; success is 200, 201 or 204.
#   Keepass2Android: PhilippC/keepass2android src/java/JavaFileStorage/app/src/main/java/
#     keepass2android/javafilestorage/WebDavStorage.java, uploadFile(writeTransactional):
#     PUT "<name>.tmp.<8 hex>.kdbx" (application/binary), then renameOrMoveWebDavResource():
#     PROPFIND Depth 0 <d:resourcetype/> of the destination, DELETE it, MOVE with Overwrite: T
#     (so 201); OkHttp's User-Agent.
#   KeePassXC has no WebDAV code: it saves into a davfs2 or rclone mount, which turns its
#     temp-file-and-rename into a PUT and a MOVE. davfs2 src/webdav.c dav_put() (GitHub mirror
#     simonchen/davfs2) sends If-Match: <the ETag it cached> on the PUT of a file it knows and
#     If-None-Match: * for a new one (davfs2.conf(5): if_match_bug), so the ETag it read from
#     GET, HEAD or PROPFIND getetag must change when the file is replaced.
# ------------------------------------------------------------------------------------------
def replay_keepass(url, disk):
    section("KeeWeb / Keepass2Android / KeePassXC via mounts")
    keeweb = Client(url, "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
    rng = random.Random(3)
    old = rng.randbytes(8192)   # the new one is shorter: nothing
    new = rng.randbytes(3072)   # of the old may stay behind
    db = "/keeweb/db.kdbx"
    r = keeweb.request("MKCOL", "/keeweb/")
    check(r.status == 201, "KeeWeb: MKCOL keeweb/ is 201", r)
    r = keeweb.request("PUT", db, old, {"Content-Type": "application/octet-stream"})
    check(r.status == 201 and disk.read(db) == old, "KeeWeb: first save (PUT) is 201, on disk", r)

    r = keeweb.request("GET", db, headers={"Cache-Control": "no-cache"})
    loaded_rev, get_etag = r.header("Last-Modified"), etag_of(r)
    check(r.status == 200 and r.body == old and loaded_rev,
          "KeeWeb: load (GET) is 200 with the file and Last-Modified (KeeWeb's rev)", r)
    r = keeweb.request("HEAD", db, headers={"Cache-Control": "no-cache"})
    head_etag = etag_of(r)
    check(r.status == 200 and r.header("Last-Modified") == loaded_rev,
          "KeeWeb: stat (HEAD) is 200 with the same Last-Modified", r)
    r = keeweb.request("PROPFIND", db, propfind_body("getetag", "getlastmodified",
                                                      "getcontentlength"), {"Depth": "0"})
    pf_etag = prop_text((multistatus(r) or {}).get(db, {}), "getetag")
    check(get_etag and get_etag.startswith('"') and get_etag == head_etag == pf_etag,
          f"KeeWeb: one strong ETag from GET, HEAD and PROPFIND getetag ({get_etag})",
          f"GET {get_etag!r}, HEAD {head_etag!r}, getetag {pf_etag!r}")

    tmp = f"/keeweb/.db.kdbx.{int(time.time() * 1000)}"
    r = keeweb.request("PUT", tmp, new, {"Content-Type": "application/octet-stream"})
    check(r.status == 201 and disk.read(tmp) == new, f"KeeWeb: PUT of the temp name {tmp} is "
          "201, on disk", r)
    r = keeweb.request("HEAD", db, headers={"Cache-Control": "no-cache"})
    check(r.status == 200 and r.header("Last-Modified") == loaded_rev,
          "KeeWeb: HEAD before the MOVE still gives the loaded rev (no conflict)", r)
    r = keeweb.request("MOVE", tmp, headers={"Destination": keeweb.url(db), "Overwrite": "T"})
    check(r.status == 204, "KeeWeb: MOVE of the temp name onto the database, Overwrite: T, is 204",
          r)
    check(disk.read(db) == new, "disk: db.kdbx is exactly the new file (3,072 bytes, nothing of "
          "the old 8,192)", f"{len(disk.read(db) or b'')} bytes")
    check(disk.names("/keeweb/") == ["db.kdbx"] and not disk.staging_left(),
          "disk: no temp name and no .keepdav-* left", (disk.names("/keeweb/"),
                                                       disk.staging_left()))
    r = keeweb.request("HEAD", db, headers={"Cache-Control": "no-cache"})
    after = etag_of(r)
    check(r.status == 200 and r.header("Content-Length") == str(len(new)),
          "KeeWeb: HEAD after the MOVE is 200 with the new length", r)
    check(after and after != get_etag, f"KeePassXC via mounts: the ETag changed ({get_etag} -> "
          f"{after})", r)
    r = keeweb.request("PROPFIND", db, propfind_body("getetag"), {"Depth": "0"})
    check(prop_text((multistatus(r) or {}).get(db, {}), "getetag") == after,
          "KeePassXC via mounts: PROPFIND getetag gives the new ETag too", r)

    mount = Client(url, "davfs2/1.7.0 neon/0.33.0")
    r = mount.request("PUT", db, b"stale copy", {"If-Match": get_etag})
    check(r.status == 412 and disk.read(db) == new, "KeePassXC via mounts: a PUT with If-Match: "
          "<the old ETag> is 412, the new file kept on disk", r)
    r = mount.request("PUT", db, new + b"+", {"If-Match": after})
    check(r.status == 204 and disk.read(db) == new + b"+",
          "KeePassXC via mounts: a PUT with If-Match: <the current ETag> is 204, on disk", r)

    # Keepass2Android's transactional write: temp name, PROPFIND, DELETE, then MOVE.
    k2a = Client(url, "okhttp/4.12.0")
    third = rng.randbytes(5000)
    tmp = "/keeweb/db.tmp.3f9c2a17.kdbx"
    r = k2a.request("PUT", tmp, third, {"Content-Type": "application/binary"})
    check(r.status == 201, "Keepass2Android: PUT of db.tmp.<hex>.kdbx is 201", r)
    r = k2a.request("PROPFIND", db, '<?xml version="1.0" encoding="utf-8" ?>\n'
                    '<D:propfind xmlns:D="DAV:">\n    <D:prop>\n        <D:resourcetype/>\n'
                    "    </D:prop>\n</D:propfind>",
                    {"Depth": "0", "Content-Type": "application/xml"})
    check(r.status == 207, "Keepass2Android: PROPFIND Depth 0 of the database is 207 (exists)", r)
    r = k2a.request("DELETE", db)
    check(r.status == 204 and not disk.exists(db), "Keepass2Android: DELETE of the database is "
          "204, gone from disk", r)
    r = k2a.request("MOVE", tmp, headers={"Destination": k2a.url(db), "Overwrite": "T"})
    check(r.status == 201, "Keepass2Android: MOVE of the temp name onto the free name is 201", r)
    check(disk.read(db) == third and disk.names("/keeweb/") == ["db.kdbx"],
          "disk: db.kdbx is the third version, no temp name left", disk.names("/keeweb/"))


# ------------------------------------------------------------------------------------------
# Floccus (bookmark sync), WebDAV adapter. Sources:
#   floccusaddon/floccus src/lib/adapters/WebDav.ts: the lock file is <bookmark_file>.lock;
#     obtainLock() GETs it (404: free), setLock() PUTs text/html
#     "<html><body>I am a lock file</body></html>" (423 or 409: locked by someone else),
#     pullFromServer() GETs bookmarks.xbel (404: first sync) and checks its XML prolog,
#     onSyncComplete() uploads application/xml, freeLock() DELETEs the lock (200, 204 or 404).
#   Issue floccusaddon/floccus#1087: the GET-then-PUT of the lock races between two browsers;
#     the atomic form is a conditional PUT, If-None-Match: * (RFC 9110 §13.1.2), 412 for the
#     loser. The stored versions of WebDav.ts send a plain PUT; this replays the atomic form the
#     issue asks for.
#   Issues floccusaddon/floccus#2298 and #2301 (5.9.2: "Failed MOVE request") and
#     cloudreve/cloudreve#3537: 5.9.2 writes bookmarks.xbel.temp, then MOVEs it over
#     bookmarks.xbel (Overwrite: T) -- replayed from those threads, not from a source file.
#   It runs in the browser (or Capacitor on Android): a browser User-Agent.
# ------------------------------------------------------------------------------------------
def replay_floccus(url, disk):
    section("Floccus")
    c = Client(url, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                    "Chrome/128.0.0.0 Safari/537.36")
    other = Client(url, "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
    lock, xbel, temp = ("/floccus/bookmarks.xbel.lock", "/floccus/bookmarks.xbel",
                        "/floccus/bookmarks.xbel.temp")
    lock_body = b"<html><body>I am a lock file</body></html>"
    r = c.request("MKCOL", "/floccus/")
    check(r.status == 201, "Floccus: MKCOL floccus/ is 201", r)
    r = c.request("GET", lock, headers={"Cache-Control": "no-store"})
    check(r.status == 404, "Floccus: GET of the lock file before any sync is 404 (free)", r)
    r = c.request("PUT", lock, lock_body, {"Content-Type": "text/html", "If-None-Match": "*"})
    check(r.status == 201, "Floccus: PUT of the lock file with If-None-Match: * is 201", r)
    check(disk.read(lock) == lock_body, "disk: the lock file holds Floccus's text",
          disk.read(lock))
    r = other.request("PUT", lock, b"<html><body>second browser</body></html>",
                      {"Content-Type": "text/html", "If-None-Match": "*"})
    check(r.status == 412, "Floccus: a second browser's PUT of the lock with If-None-Match: * is "
          "412", r)
    check(disk.read(lock) == lock_body, "disk: the lock file is still the first browser's",
          disk.read(lock))

    r = c.request("GET", xbel, headers={"Cache-Control": "no-store"})
    check(r.status == 404, "Floccus: GET of bookmarks.xbel on the first sync is 404", r)

    def xbel_doc(n):
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xbel PUBLIC "+//IDN '
                'python.org//DTD XML Bookmark Exchange Language 1.0//EN//XML" '
                '"http://pyxml.sourceforge.net/topics/dtds/xbel.dtd">\n<xbel version="1.0">\n'
                f"<!--- highestId :{n}: for Floccus bookmark sync browser extension -->\n"
                + "".join(f'<bookmark href="https://example.org/{i}" id="{i}"><title>Site {i}'
                          "</title></bookmark>\n" for i in range(n))
                + "</xbel>").encode()

    for n, status, how in ((40, 201, "a new file: 201"), (25, 204, "over the old one: 204")):
        doc = xbel_doc(n)
        r = c.request("PUT", temp, doc, {"Content-Type": "application/xml"})
        check(r.status == 201, f"Floccus: PUT of bookmarks.xbel.temp ({n} bookmarks) is 201", r)
        r = c.request("MOVE", temp, headers={"Destination": c.url(xbel), "Overwrite": "T"})
        check(r.status == status, f"Floccus: MOVE of the temp file to bookmarks.xbel, {how}", r)
        check(disk.read(xbel) == doc and not disk.exists(temp),
              f"disk: bookmarks.xbel is the {n}-bookmark file, no .temp left",
              disk.names("/floccus/"))
    r = c.request("DELETE", lock)
    check(r.status == 204 and not disk.exists(lock), "Floccus: DELETE of the lock file is 204, "
          "gone from disk", r)
    r = other.request("PUT", lock, lock_body, {"Content-Type": "text/html", "If-None-Match": "*"})
    check(r.status == 201 and disk.read(lock) == lock_body,
          "Floccus: the other browser's If-None-Match: * PUT now gets the lock (201)", r)
    r = other.request("GET", xbel, headers={"Cache-Control": "no-store"})
    check(r.status == 200 and r.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
          and r.body == xbel_doc(25), "Floccus: its GET of bookmarks.xbel is the last upload", r)
    r = other.request("DELETE", lock)
    check(r.status == 204, "Floccus: the other browser frees the lock (204)", r)


# ------------------------------------------------------------------------------------------
# Cryptomator for Android, WebDAV cloud. Source: cryptomator/android
#   data/src/main/java/org/cryptomator/data/cloud/webdav/network/WebDavClient.kt: status
#     mapping per method -- PROPFIND, GET, DELETE and MOVE: 404 is NotFoundException; MKCOL: 405
#     is AlreadyExistException and 409 ParentFolderDoesNotExistException; PUT: 405 is
#     TypeMismatchException, 409 or 404 ParentFolderDoesNotExistException; MOVE is sent with
#     Depth: infinity and Overwrite: F, 412 meaning CloudNodeAlreadyExistsException. So a 405
#     where 404 is meant reads as "exists" or "is a folder". PROPFIND body
#     <d:resourcetype/><d:getcontentlength/><d:getlastmodified/>, Content-Type text/xml;
#     dirList() is Depth 1 and drops the shallowest entry (the folder); PUT carries X-OC-Mtime;
#     checkAuthenticationAndServerCompatibility() is OPTIONS (a DAV header) then PROPFIND
#     Depth 0.
#   .../network/WebDavCompatibleHttpClient.kt: User-Agent "davfs2/1.5.2".
#   The vault layout (format 8): vault.cryptomator, masterkey.cryptomator and d/XX/<30 chars>/
#   holding <base64url>.c9r files -- many small files in a two-level tree.
# ------------------------------------------------------------------------------------------
def replay_cryptomator(url, disk):
    section("Cryptomator")
    c = Client(url, "davfs2/1.5.2")
    body = ('<?xml version="1.0" encoding="utf-8"?>\n<d:propfind xmlns:d="DAV:">\n<d:prop>\n'
            "<d:resourcetype />\n<d:getcontentlength />\n<d:getlastmodified />\n</d:prop>\n"
            "</d:propfind>")
    pf = {"Content-Type": "text/xml"}
    r = c.request("OPTIONS", "/")
    check(r.status == 200 and r.header("DAV"), "Cryptomator: OPTIONS has a DAV header", r)
    r = c.request("PROPFIND", "/", body, dict(pf, DEPTH="0"))
    check(r.status == 207, "Cryptomator: PROPFIND Depth 0 of the base is 207", r)

    for folder in ("/vault/", "/vault/d/"):
        r = c.request("MKCOL", folder)
        check(r.status == 201, f"Cryptomator: MKCOL {folder} is 201", r)
    rng = random.Random(4)
    for name, size in (("vault.cryptomator", 280), ("masterkey.cryptomator", 400)):
        r = c.request("PUT", "/vault/" + name, rng.randbytes(size),
                      {"X-OC-Mtime": "1700000000"})
        check(r.status == 201, f"Cryptomator: PUT {name} is 201", r)

    # What is missing is 404, whatever the method; a missing parent is 409.
    missing = "/vault/d/QQ/NOSUCHDIRNOSUCHDIRNOSUCHDIR2/aGVsbG8ud29ybGQ.c9r"
    r = c.request("GET", missing)
    check(r.status == 404, "Cryptomator: GET of a missing file is 404", r)
    r = c.request("PROPFIND", missing, body, dict(pf, DEPTH="0"))
    check(r.status == 404, "Cryptomator: PROPFIND of a missing file is 404", r)
    r = c.request("PROPFIND", "/vault/d/QQ/", body, dict(pf, DEPTH="1"))
    check(r.status == 404, "Cryptomator: PROPFIND Depth 1 of a missing folder is 404", r)
    r = c.request("DELETE", missing)
    check(r.status == 404, "Cryptomator: DELETE of a missing file is 404", r)
    r = c.request("MOVE", missing, headers={"Destination": c.url("/vault/d/moved.c9r"),
                                            "Depth": "infinity", "Overwrite": "F",
                                            "Content-Type": "text/xml"})
    check(r.status == 404 and not disk.exists("/vault/d/moved.c9r"),
          "Cryptomator: MOVE of a missing source is 404, nothing created on disk", r)
    r = c.request("MKCOL", "/vault/d/QQ/NOSUCHDIRNOSUCHDIRNOSUCHDIR2/")
    check(r.status == 409 and not disk.exists("/vault/d/QQ"),
          "Cryptomator: MKCOL under a missing parent is 409 (RFC 4918 §9.3.1), nothing on disk", r)
    r = c.request("PUT", missing, b"x" * 300, {"X-OC-Mtime": "1700000000"})
    check(r.status == 409 and not disk.exists("/vault/d/QQ"),
          "Cryptomator: PUT under a missing parent is 409, nothing on disk", r)

    # 2,000 files of a few hundred bytes, 100 in each of 20 vault directories.
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    files = {}
    leaves = []
    for i in range(20):
        xx = "".join(rng.choice(letters) for _ in range(2)) if i % 2 == 0 else leaves[-1][9:11]
        leaf = f"/vault/d/{xx}/" + "".join(rng.choice(letters) for _ in range(30)) + "/"
        leaves.append(leaf)
    created = set()
    mkcol_bad = []
    for leaf in leaves:
        for folder in (leaf[:leaf.index("/", 9) + 1], leaf):
            if folder in created:
                continue
            created.add(folder)
            r = c.request("MKCOL", folder)
            if r.status != 201:
                mkcol_bad.append((folder, r.status))
    check(not mkcol_bad, f"Cryptomator: MKCOL of {len(created)} vault directories, all 201",
          mkcol_bad[:5])
    b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    put_bad = []
    started = time.time()
    for leaf in leaves:
        for _ in range(100):
            name = leaf + "".join(rng.choice(b64) for _ in range(rng.randrange(22, 40))) + ".c9r"
            content = rng.randbytes(rng.randrange(120, 600))
            files[name] = content
            r = c.request("PUT", name, content, {"X-OC-Mtime": "1700000000",
                                                 "Content-Type": "application/octet-stream"})
            if r.status != 201:
                put_bad.append((name, r.status))
    check(len(files) == 2000 and not put_bad,
          f"Cryptomator: 2,000 PUTs of 120-600 bytes, all 201 ({time.time() - started:.1f} s)",
          put_bad[:5])
    wrong = [n for n, content in files.items() if disk.read(n) != content]
    check(not wrong, "disk: all 2,000 files hold exactly what was sent", wrong[:5])

    r = c.request("PROPFIND", "/vault/d/", body, dict(pf, DEPTH="1"))
    ms = multistatus(r) if r.status == 207 else None
    expected = {"/vault/d/"} | {leaf[:leaf.index("/", 9) + 1] for leaf in leaves}
    check(ms is not None and set(ms) == expected and all(is_collection(ms[h]) for h in ms),
          f"Cryptomator: PROPFIND Depth 1 over d/ lists d/ and its {len(expected) - 1} XX "
          "folders, all collections", sorted(ms or [])[:12])
    unlisted, bad_len = [], []
    for leaf in leaves:
        r = c.request("PROPFIND", leaf, body, dict(pf, DEPTH="1"))
        ms = (multistatus(r) if r.status == 207 else None) or {}
        for name, content in files.items():
            if not name.startswith(leaf):
                continue
            if name not in ms:
                unlisted.append(name)
            elif prop_text(ms[name], "getcontentlength") != str(len(content)):
                bad_len.append(name)
        if set(ms) - {leaf} - set(files):
            unlisted.append(f"extra in {leaf}: {sorted(set(ms) - {leaf} - set(files))[:3]}")
    check(not unlisted, "Cryptomator: PROPFIND Depth 1 of each of the 20 directories finds every "
          "one of the 2,000 files, nothing else", unlisted[:5])
    check(not bad_len, "Cryptomator: ... each with its getcontentlength", bad_len[:5])

    first, second = sorted(files)[:2]
    r = c.request("MOVE", first, headers={"Destination": c.url(second), "Depth": "infinity",
                                          "Overwrite": "F", "Content-Type": "text/xml"})
    check(r.status == 412, "Cryptomator: MOVE onto an existing file with Overwrite: F is 412", r)
    check(disk.read(first) == files[first] and disk.read(second) == files[second],
          "disk: both files unchanged")
    r = c.request("MKCOL", leaves[0])
    check(r.status == 405, "Cryptomator: MKCOL of an existing directory is 405 (AlreadyExist)", r)
    target = leaves[0] + "renamed.c9r"
    r = c.request("MOVE", first, headers={"Destination": c.url(target), "Depth": "infinity",
                                          "Overwrite": "F", "Content-Type": "text/xml"})
    check(r.status == 201 and disk.read(target) == files[first] and not disk.exists(first),
          "Cryptomator: MOVE to a free name with Overwrite: F is 201, moved on disk", r)


# ------------------------------------------------------------------------------------------
# Obsidian Remotely Save, DAVx5 and Seedvault.
#   Remotely Save: remotely-save/remotely-save src/fsWebdav.ts -- _init(): exists()/
#     createDirectory() of /<vault>/, _checkPartialSupport(): OPTIONS (getDAVCompliance) and
#     "sabredav-partialupdate" in DAV; walk(): getDirectoryContents deep: true (Depth:
#     infinity) when configured "infinity", else (the default, depth "manual_1") a breadth-first
#     walk of Depth 1 listings; _writeFileFromRootNativePartial() for files over 10 MB: PUT of 0
#     bytes, then partialUpdateFileContents() per 5 MB chunk. Those calls are
#     perry-mitchell/webdav-client's: source/operations/directoryContents.ts (PROPFIND without a
#     body, Accept: text/plain, Depth "infinity" or "1", the URL joined with "/") and
#     partialUpdateFileContents.ts (PATCH, Content-Type application/x-sabredav-partialupdate,
#     X-Update-Range: bytes=START-END). Obsidian's User-Agent (Electron).
#   DAVx5: bitfireAT/davx5-ose app/src/main/kotlin/at/bitfire/davdroid/webdav/HeadResponse.kt
#     (HEAD: Content-Length, a strong ETag, Accept-Ranges "bytes" -> supportsPartial) and
#     RandomAccessCallback.kt (pages of MAX_PAGE_SIZE = 2 MB read by dav4jvm getRange(), i.e.
#     GET Range: bytes=OFFSET-END with If-Match: "<etag>"; a 200 is
#     PartialContentNotSupportedException, anything but 206 an error).
#   Seedvault: seedvault-app/seedvault core/src/main/java/org/calyxos/seedvault/core/backends/
#     webdav/WebDavHelper.kt -- propfindDepthInfinity(): PROPFIND Depth: infinity of
#     displayname, resourcetype, getcontentlength; on 403 (or 400) recursive Depth 1 PROPFINDs
#     (propfindFakeInfinity); ensureFoldersExist(): PROPFIND Depth 0 of the parent folder, whose
#     URL okhttp builds with removePathSegment(), so without its trailing slash, and
#     mkColCreateMissing() on 404: MKCOL (no slash either), on 409 the grandparent first.
#     Issue seedvault-app/seedvault#503: Apache's 301 to "PROPFIND /.SeedVaultAndroidBackup"
#     (no slash) broke Seedvault's and DAVx5's backups (davx5-ose discussion #253).
# ------------------------------------------------------------------------------------------
OBSIDIAN_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "obsidian/1.7.7 Chrome/128.0.6613.186 Electron/32.2.5 Safari/537.36")
DAVX5_AGENT = "DAVx5/4.4.5-ose (2024/12/03; dav4jvm; okhttp/4.12.0) Android/15"
SEEDVAULT_ROOT = "/seedvault/.SeedVaultAndroidBackup"
SEEDVAULT_REPO = SEEDVAULT_ROOT + "/" + "7e" * 32


def seedvault_propfind():
    return propfind_body("displayname", "resourcetype", "getcontentlength",
                         ns_decl='xmlns:d="DAV:"')


def replay_remotely_save(url, disk):
    section("Obsidian Remotely Save")
    c = Client(url, OBSIDIAN_AGENT, {"Cache-Control": "no-cache"})
    r = c.request("PROPFIND", "/obsidian/", headers={"Accept": "text/plain,application/xml",
                                                     "Depth": "0"})
    check(r.status == 404, "Remotely Save: exists() of /obsidian/ before the first sync is 404", r)
    r = c.request("MKCOL", "/obsidian/")
    check(r.status == 201 and disk.isdir("/obsidian/"), "Remotely Save: createDirectory() is 201",
          r)
    r = c.request("OPTIONS", "/obsidian/")
    dav = [t.strip() for t in (r.header("DAV") or "").split(",")]
    check(r.status == 200 and "sabredav-partialupdate" in dav,
          "Remotely Save: OPTIONS says DAV: ..., sabredav-partialupdate (it will PATCH big files)",
          r)

    notes = {}
    rng = random.Random(5)
    for folder in ("notes/", "notes/daily/", "notes/daily/2026/", ".obsidian/",
                   ".obsidian/plugins/"):
        r = c.request("MKCOL", "/obsidian/" + folder)
        check(r.status == 201, f"Remotely Save: mkdir {folder} is 201", r)
    for name in ("Welcome.md", "notes/Ideas.md", "notes/daily/2026-12-02.md",
                 "notes/daily/2026/12-03.md", ".obsidian/app.json",
                 ".obsidian/plugins/data.json", "notes/Überblick über Ärger.md"):
        content = ("# " + name + "\n" + "".join(rng.choice("abc \n") for _ in range(700)))
        notes[name] = content.encode()
        r = c.request("PUT", "/obsidian/" + quote(name), content)
        check(r.status == 201, f"Remotely Save: PUT {name} is 201", r)
    wrong = [n for n, b in notes.items() if disk.read("/obsidian/" + n) != b]
    check(not wrong, "disk: every note holds what was sent", wrong)

    # walk() with depth "infinity": one PROPFIND without a body.
    r = c.request("PROPFIND", "/obsidian/", headers={"Accept": "text/plain",
                                                     "Depth": "infinity"})
    ms = multistatus(r) if r.status == 207 else None
    tree = disk.tree("/obsidian/")
    check(ms is not None, "Remotely Save: PROPFIND Depth: infinity without a body (allprop) is "
          "207 (keepdav allows infinity by default)", r)
    count = len(ET.fromstring(r.body).findall(DAV + "response")) if ms is not None else 0
    check(ms is not None and set(ms) == tree and count == len(tree),
          f"Remotely Save: ... listing the whole tree once each ({len(tree)} members, as on disk)",
          sorted(set(ms or {}) ^ tree))
    files_ok = all(prop_text((ms or {}).get("/obsidian/" + n, {}), "getcontentlength")
                   == str(len(b)) and prop_text(ms["/obsidian/" + n], "getlastmodified")
                   for n, b in notes.items()) if ms else False
    check(files_ok, "Remotely Save: ... every note with getcontentlength and getlastmodified")

    # walk() with the default depth "manual_1": breadth-first Depth 1 listings.
    seen, queue, bad = set(), ["/obsidian"], []
    while queue:
        folder = queue.pop(0)
        r = c.request("PROPFIND", quote(folder.rstrip("/")) + "/",
                      headers={"Accept": "text/plain", "Depth": "1"})
        ms = multistatus(r) if r.status == 207 else None
        if ms is None:
            bad.append((folder, r.status))
            continue
        for href, props in ms.items():
            if href.rstrip("/") == folder.rstrip("/"):
                continue
            seen.add(href)
            if is_collection(props):
                queue.append(href)
    check(not bad and seen == tree - {"/obsidian/"},
          "Remotely Save: the breadth-first Depth 1 walk finds the same tree", (bad, sorted(
              seen ^ (tree - {"/obsidian/"}))))

    # A big file's upload, as _writeFileFromRootNativePartial() does it (small chunks here).
    big = "/obsidian/attachments.bin"
    content = rng.randbytes(2500)
    r = c.request("PUT", big, b"")
    check(r.status == 201 and disk.read(big) == b"", "Remotely Save: PUT of 0 bytes is 201", r)
    statuses = []
    for start in range(0, len(content), 1000):
        end = min(start + 1000, len(content)) - 1
        r = c.request("PATCH", big, content[start:end + 1], {
            "Content-Type": "application/x-sabredav-partialupdate",
            "X-Update-Range": f"bytes={start}-{end}"})
        statuses.append(r.status)
    check(statuses == [204, 204, 204], f"Remotely Save: three PATCH X-Update-Range chunks are 204 "
          f"({statuses})")
    check(disk.read(big) == content, "disk: the file is the three chunks in order (2,500 bytes)",
          len(disk.read(big) or b""))
    r = c.request("PROPFIND", big, headers={"Accept": "text/plain,application/xml",
                                            "Depth": "0"})
    check(prop_text((multistatus(r) or {}).get(big, {}), "getcontentlength") == "2500",
          "Remotely Save: stat() after the upload gives getcontentlength 2500", r)


def replay_seedvault(url, disk):
    section("Seedvault")
    c = Client(url, "okhttp/4.12.0")
    xml = {"Content-Type": "application/xml; charset=utf-8"}
    r = c.request("OPTIONS", "/")
    dav = [t.strip() for t in (r.header("DAV") or "").split(",")]
    check(r.status == 200 and "1" in dav, "Seedvault: test(): OPTIONS gives DAV class 1", r)

    # save() of a blob: ensureFoldersExist() of its parent, named without a slash.
    blob_folder = SEEDVAULT_REPO + "/ab"
    r = c.request("PROPFIND", blob_folder, propfind_body("displayname", "resourcetype"),
                  dict(xml, Depth="0"))
    check(r.status == 404, "Seedvault: PROPFIND Depth 0 of the missing .../ab is 404", r)
    for folder, status in ((blob_folder, 409), (SEEDVAULT_REPO, 409), (SEEDVAULT_ROOT, 409),
                           ("/seedvault", 201), (SEEDVAULT_ROOT, 201), (SEEDVAULT_REPO, 201),
                           (blob_folder, 201)):
        r = c.request("MKCOL", folder)
        check(r.status == status and (status != 201 or disk.isdir(folder)),
              f"Seedvault: mkColCreateMissing(): MKCOL {folder.replace(SEEDVAULT_REPO, '<repo>')} "
              f"(no slash) is {status}", r)
    blobs = {}
    rng = random.Random(6)
    for folder in ("ab", "cd", "ef"):
        parent = SEEDVAULT_REPO + "/" + folder
        if folder != "ab":
            r = c.request("PROPFIND", parent, propfind_body("displayname", "resourcetype"),
                          dict(xml, Depth="0"))
            if r.status == 404:
                r = c.request("MKCOL", parent)
        r = c.request("PROPFIND", parent, propfind_body("displayname", "resourcetype"),
                      dict(xml, Depth="0"))
        check(r.status == 207 and r.header("Content-Location") == parent + "/",
              f"Seedvault: PROPFIND Depth 0 of <repo>/{folder} without its slash is 207, not 301 "
              f"(Content-Location: {r.header('Content-Location')})", r)
        for i in range(2):
            name = parent + "/" + folder + hashlib.sha256(f"{folder}{i}".encode()).hexdigest()[2:]
            blobs[name] = rng.randbytes(rng.randrange(900, 4000))
            r = c.request("PUT", name, blobs[name], {"Content-Type": "application/octet-stream"})
            check(r.status == 201, f"Seedvault: PUT of blob {folder}/{name[-8:]} is 201", r)
    snapshot = SEEDVAULT_REPO + "/" + "9a" * 32 + ".snapshot"
    blobs[snapshot] = b"\x02snapshot" * 40
    r = c.request("PUT", snapshot, blobs[snapshot], {"Content-Type": "application/octet-stream"})
    check(r.status == 201, "Seedvault: PUT of the snapshot is 201", r)
    wrong = [n for n, b in blobs.items() if disk.read(n) != b]
    check(not wrong, "disk: the blobs and the snapshot hold what was sent", wrong)

    # list(): Depth: infinity (dav4jvm depth -1) from the backup root.
    r = c.request("PROPFIND", SEEDVAULT_ROOT + "/", seedvault_propfind(),
                  dict(xml, Depth="infinity"))
    ms = multistatus(r) if r.status == 207 else None
    tree = disk.tree(SEEDVAULT_ROOT + "/")
    check(ms is not None and set(ms) == tree,
          f"Seedvault: PROPFIND Depth: infinity is 207 with the whole backup ({len(tree)} members)",
          r if ms is None else sorted(set(ms) ^ tree))
    sizes = all(prop_text((ms or {}).get(n, {}), "getcontentlength") == str(len(b))
                for n, b in blobs.items())
    check(sizes, "Seedvault: ... every blob with its getcontentlength")


def replay_no_redirects(url, disk):
    """A collection named without its trailing slash: every DAV method acts on it (RFC 4918
    §5.2, README "Web browsers"); only GET and HEAD answer 301, on purpose. Seedvault (and DAVx5)
    name folders without the slash (WebDavHelper.kt ensureFoldersExist) and broke on Apache's 301
    to PROPFIND (seedvault-app/seedvault#503); Joplin's stat() is PROPFIND Depth 0 of the path as
    given."""
    section("Remotely Save / DAVx5 / Seedvault: collections named without their slash")
    c = Client(url, DAVX5_AGENT)
    base = "/davx5/Folder"
    for folder in ("/davx5/", base + "/"):
        c.request("MKCOL", folder)
    c.request("PUT", base + "/inside.txt", "inside")
    check(disk.read(base + "/inside.txt") == b"inside", "disk: davx5/Folder/inside.txt exists")

    r = c.request("PROPFIND", base, propfind_body("resourcetype"), {"Depth": "1"})
    ms = multistatus(r) if r.status == 207 else {}
    check(r.status == 207 and set(ms or {}) == {base + "/", base + "/inside.txt"},
          "no slash: PROPFIND Depth 1 is 207 listing the folder, not 301", r)
    check(r.header("Content-Location") == base + "/",
          f"no slash: ... with Content-Location: {base}/", r)
    r = c.request("PROPPATCH", base, '<?xml version="1.0" encoding="utf-8"?><d:propertyupdate '
                  'xmlns:d="DAV:" xmlns:x="urn:example:app-replays"><d:set><d:prop>'
                  "<x:color>blue</x:color></d:prop></d:set></d:propertyupdate>",
                  {"Content-Type": "application/xml"})
    check(r.status == 207 and " 200 " in r.text(), "no slash: PROPPATCH is 207 (200 inside)", r)
    r = c.request("LOCK", base, '<?xml version="1.0" encoding="utf-8"?><d:lockinfo '
                  'xmlns:d="DAV:"><d:lockscope><d:exclusive/></d:lockscope><d:locktype>'
                  "<d:write/></d:locktype><d:owner>app_replays</d:owner></d:lockinfo>",
                  {"Content-Type": "application/xml", "Timeout": "Second-60"})
    token = r.header("Lock-Token")
    check(r.status == 200 and token, "no slash: LOCK is 200 with a Lock-Token", r)
    r = c.request("UNLOCK", base, headers={"Lock-Token": token or "<none>"})
    check(r.status == 204, "no slash: UNLOCK is 204", r)
    r = c.request("COPY", base, headers={"Destination": c.url("/davx5/Copy"), "Overwrite": "F"})
    check(r.status == 201, "no slash: COPY is 201", r)
    check(disk.read("/davx5/Copy/inside.txt") == b"inside", "disk: the copy holds inside.txt")
    r = c.request("MOVE", "/davx5/Copy", headers={"Destination": c.url("/davx5/Moved"),
                                                  "Overwrite": "F"})
    check(r.status == 201, "no slash: MOVE is 201", r)
    check(not disk.exists("/davx5/Copy") and disk.read("/davx5/Moved/inside.txt") == b"inside",
          "disk: Copy is gone, Moved holds inside.txt")
    r = c.request("DELETE", "/davx5/Moved")
    check(r.status == 204 and not disk.exists("/davx5/Moved"), "no slash: DELETE is 204, gone "
          "from disk", r)
    r = c.request("GET", base)
    check(r.status == 301 and r.header("Location") == base + "/",
          "no slash: GET is 301 to the slash (keepdav's choice, for browsers)", r)
    r = c.request("HEAD", base)
    check(r.status == 301 and r.header("Location") == base + "/", "no slash: HEAD is 301 too", r)


def replay_davx5_ranges(url, disk):
    section("DAVx5: random access")
    c = Client(url, DAVX5_AGENT)
    rng = random.Random(7)
    page = 2 * 1024 * 1024
    content = rng.randbytes(page + 700000)
    name = "/davx5/Video.mp4"
    r = c.request("PUT", name, content, {"Content-Type": "video/mp4"})
    check(r.status == 201 and disk.read(name) == content, "DAVx5: PUT of a 2.7 MB file is 201, "
          "on disk", r)
    r = c.request("HEAD", name)
    etag = etag_of(r)
    check(r.status == 200 and r.header("Content-Length") == str(len(content)),
          "DAVx5: HEAD gives Content-Length", r)
    check(etag and not etag.startswith("W/"), f"DAVx5: HEAD gives a strong ETag ({etag})", r)
    check(r.header("Accept-Ranges") == "bytes", "DAVx5: HEAD says Accept-Ranges: bytes "
          "(supportsPartial)", r)
    r = c.request("GET", name)
    check(r.status == 200 and r.header("Accept-Ranges") == "bytes" and r.body == content,
          "DAVx5: GET is 200 with Accept-Ranges: bytes and the whole file", r.status)
    for start, end in ((0, page - 1), (page, len(content) - 1)):
        r = c.request("GET", name, headers={"Range": f"bytes={start}-{end}", "If-Match": etag,
                                            "Accept": "*/*"})
        check(r.status == 206 and r.body == content[start:end + 1]
              and r.header("Content-Range") == f"bytes {start}-{end}/{len(content)}",
              f"DAVx5: page GET Range: bytes={start}-{end} with If-Match is 206, the right bytes "
              f"and Content-Range", f"{r.status} {r.header('Content-Range')} {len(r.body)} bytes")
    r = c.request("GET", name, headers={"Range": "bytes=-4096"})
    check(r.status == 206 and r.body == content[-4096:]
          and r.header("Content-Range") == f"bytes {len(content) - 4096}-{len(content) - 1}/"
                                           f"{len(content)}",
          "DAVx5: a suffix range bytes=-4096 is 206 with the last 4,096 bytes",
          f"{r.status} {r.header('Content-Range')}")
    r = c.request("GET", name, headers={"Range": f"bytes={len(content)}-"})
    check(r.status == 416 and r.header("Content-Range") == f"bytes */{len(content)}",
          "DAVx5: an unsatisfiable range (start at the size) is 416, Content-Range: bytes */SIZE",
          r)
    r = c.request("PUT", name, content[:1000] + b"changed" + content[1007:])
    check(r.status == 204, "DAVx5: the file is replaced (204)", r)
    r = c.request("GET", name, headers={"Range": "bytes=0-1023", "If-Match": etag})
    check(r.status == 412, "DAVx5: a page read with the old If-Match is 412 (the file changed)", r)


def finite_depth(url, disk):
    """keepdav started with --propfind-infinity=false: RFC 4918 §9.1's refusal, and Seedvault's
    fallback (WebDavHelper.kt propfindFakeInfinity: on 403, Depth 1 PROPFINDs down the tree)."""
    section("Seedvault / Remotely Save with --propfind-infinity=false")
    c = Client(url, "okhttp/4.12.0")
    xml = {"Content-Type": "application/xml; charset=utf-8"}
    r = c.request("PROPFIND", SEEDVAULT_ROOT + "/", seedvault_propfind(),
                  dict(xml, Depth="infinity"))
    try:
        err = ET.fromstring(r.body)
    except ET.ParseError:
        err = None
    check(r.status == 403, "finite depth: PROPFIND Depth: infinity is 403", r)
    check(err is not None and err.tag == DAV + "error"
          and err.find(DAV + "propfind-finite-depth") is not None,
          "finite depth: ... with <D:error><D:propfind-finite-depth/></D:error> (RFC 4918 §9.1)",
          r)
    found, queue, bad = set(), [SEEDVAULT_ROOT + "/"], []
    while queue:
        folder = queue.pop()
        r = c.request("PROPFIND", folder, seedvault_propfind(), dict(xml, Depth="1"))
        ms = multistatus(r) if r.status == 207 else None
        if ms is None:
            bad.append((folder, r.status))
            continue
        found.add(folder)
        for href, props in ms.items():
            if href != folder:
                found.add(href)
                if is_collection(props):
                    queue.append(href)
    tree = disk.tree(SEEDVAULT_ROOT + "/")
    check(not bad and found == tree, f"finite depth: Seedvault's Depth 1 fallback finds the whole "
          f"backup ({len(tree)} members, as on disk)", (bad, sorted(found ^ tree)))
    rs = Client(url, OBSIDIAN_AGENT)
    r = rs.request("PROPFIND", "/obsidian/", headers={"Accept": "text/plain", "Depth": "1"})
    check(r.status == 207, "finite depth: Remotely Save's default Depth 1 listing is still 207", r)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    url, root = args
    disk = Disk(root)
    started = time.time()
    if "--finite-depth" in sys.argv[1:]:
        replays = [finite_depth]
    else:
        replays = [replay_joplin, replay_zotero, replay_keepass, replay_floccus,
                   replay_cryptomator, replay_remotely_save, replay_seedvault,
                   replay_no_redirects, replay_davx5_ranges]
    for replay in replays:
        try:
            replay(url, disk)
        except Exception as e:  # a dead connection or an answer the replay cannot parse
            check(False, f"{replay.__name__} ran to its end", f"{type(e).__name__}: {e}")
    if "--finite-depth" not in sys.argv[1:]:
        left = disk.staging_left()
        check(not left, "disk: no .keepdav-* staging or trash left anywhere", left[:5])
    print(f"app_replays{' (finite depth)' if '--finite-depth' in sys.argv else ''}: "
          f"{checks} checks, {failures} not ok, {time.time() - started:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
