#!/usr/bin/env python3
"""A verified load test (issue 12): many clients at once on overlapping names, every answer
checked against a model.

Usage: load_verified.py URL [--clients=64] [--seconds=20] [--names=16]

Each client loops over random operations on a shared set of names (/fNN) for the given time:
PUT (a new version), GET, DELETE, COPY and MOVE between names (Overwrite: T), PROPPATCH and
PROPFIND of a property, and LOCK, then PUT with the token, then UNLOCK. Every body a PUT stores
names its version and checksum in its first line, so a read proves which write it saw.

Checked:
  - no 5xx, and every status is one the method may give under contention;
  - no torn or phantom write: a GET's body is a whole version that some PUT sent (or empty, which
    only a LOCK of an unmapped name creates);
  - no stale read: a GET may not return a value (or 404) when another write to that name both
    started after every write that could have produced the value ended, and ended before the
    GET started. COPY and MOVE into a name could produce any value, so they are treated as
    producing whatever is read (a weaker but sound check); a MOVE also leaves its destination
    absent for a moment (RFC 4918 §9.9.3 deletes it first), a COPY never does (keepdav swaps);
  - no lost write: after the clients stop, each name's final GET passes the same check.

The model is per-name linearisability, which keepdav promises for single resources (a PUT
replaces by rename, COPY and MOVE stage and rename). Prints operation and status counts and
exits 1 on the first kind of violation found (listing up to 10 of each).
"""

import bisect
import hashlib
import random
import re
import socket
import sys
import threading
import time
import urllib.parse

ABSENT = "absent"
EMPTY = "empty"
INF = float("inf")


class Connection:
    """A keep-alive HTTP/1.1 client that skips every 1xx interim response (102 Processing)."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.sock = None
        self.buf = b""

    def _connect(self):
        self.sock = socket.create_connection((self.host, self.port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _read_until(self, marker):
        while marker not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the server")
            self.buf += chunk
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def _read_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the server mid-body")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def request(self, method, path, body=b"", headers=None):
        for attempt in (0, 1):
            if self.sock is None:
                self._connect()
            try:
                return self._exchange(method, path, body, headers or {})
            except (ConnectionError, BrokenPipeError, ConnectionResetError):
                # A keep-alive connection the server closed: the request was not read (keepdav
                # reads a request whole or answers it), so sending it again is safe once.
                self.sock.close()
                self.sock = None
                if attempt == 1:
                    raise

    def _exchange(self, method, path, body, headers):
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        head += "User-Agent: keepdav-load-verified/1\r\n"
        for k, v in headers.items():
            head += f"{k}: {v}\r\n"
        head += f"Content-Length: {len(body)}\r\n\r\n"
        self.sock.sendall(head.encode() + body)
        while True:
            raw = self._read_until(b"\r\n\r\n").decode("latin-1")
            lines = raw.split("\r\n")
            status = int(lines[0].split()[1])
            fields = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    fields[k.strip().lower()] = v.strip()
            if 100 <= status < 200:
                continue
            break
        if fields.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self._read_until(b"\r\n").split(b";")[0].strip(), 16)
                if size == 0:
                    self._read_until(b"\r\n")
                    break
                data += self._read_exact(size)
                self._read_exact(2)
        elif method == "HEAD":
            data = b""
        else:
            data = self._read_exact(int(fields.get("content-length", "0")))
        if fields.get("connection", "").lower() == "close":
            self.sock.close()
            self.sock = None
        return status, fields, data


def make_body(version, rng):
    payload = rng.randbytes(rng.choice((0, 100, 5000, 70000)))
    digest = hashlib.sha256(payload).hexdigest()
    return f"keepdav-load {version} {len(payload)} {digest}\n".encode() + payload


def read_version(body):
    """The version a stored body is, EMPTY, or None when it is torn or foreign."""
    if body == b"":
        return EMPTY
    nl = body.find(b"\n")
    if nl < 0:
        return None
    parts = body[:nl].decode("latin-1").split()
    if len(parts) != 4 or parts[0] != "keepdav-load":
        return None
    payload = body[nl + 1 :]
    if len(payload) != int(parts[2]) or hashlib.sha256(payload).hexdigest() != parts[3]:
        return None
    return parts[1]


class History:
    def __init__(self):
        self.lock = threading.Lock()
        self.writes = []  # (name, start, end, value): value a version, ABSENT, EMPTY or "*"
        self.reads = []  # (name, start, end, value)
        self.put_started = {}  # version -> start
        self.lost_locks = []  # (name, LOCK start, PUT end) of a lock holder's PUT refused 412/423
        self.statuses = {}
        self.errors = []

    def count(self, method, status):
        with self.lock:
            key = f"{method} {status}"
            self.statuses[key] = self.statuses.get(key, 0) + 1

    def error(self, text):
        with self.lock:
            self.errors.append(text)


ALLOWED = {
    "PUT": {201, 204, 423},
    "PUT-locked": {201, 204, 412, 423},
    "GET": {200, 404},
    "DELETE": {204, 404, 423},
    "COPY": {201, 204, 404, 423},
    "MOVE": {201, 204, 404, 423},
    "PROPPATCH": {207, 404, 423},
    "PROPFIND": {207, 404},
    "LOCK": {200, 201, 423},
    "UNLOCK": {204, 409},
}

PROPPATCH = (
    '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:k="urn:keepdav-load">'
    "<D:set><D:prop><k:v>{}</k:v></D:prop></D:set></D:propertyupdate>"
)
PROPFIND = (
    '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><k:v xmlns:k="urn:keepdav-load"/>'
    "</D:prop></D:propfind>"
)
LOCKINFO = (
    '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>'
    "<D:locktype><D:write/></D:locktype><D:owner>load</D:owner></D:lockinfo>"
)


def client(index, base, names, deadline, history):
    rng = random.Random(index)
    conn = Connection(base.hostname, base.port)
    seq = 0

    def do(method, path, body=b"", headers=None, kind=None):
        t0 = time.monotonic()
        status, fields, data = conn.request(method, path, body, headers)
        t1 = time.monotonic()
        kind = kind or method
        history.count(kind, status)
        if status >= 500 or status not in ALLOWED[kind]:
            history.error(f"{kind} {path} -> {status}: {data[:200]!r}")
        return t0, t1, status, fields, data

    def write(name, t0, t1, value):
        with history.lock:
            history.writes.append((name, t0, t1, value))

    while time.monotonic() < deadline:
        name = rng.choice(names)
        op = rng.random()
        if op < 0.30:
            seq += 1
            version = f"c{index}s{seq}"
            with history.lock:
                history.put_started[version] = time.monotonic()
            t0, t1, status, _, _ = do("PUT", "/" + name, make_body(version, rng))
            if status in (201, 204):
                write(name, t0, t1, version)
        elif op < 0.60:
            t0, t1, status, _, data = do("GET", "/" + name)
            if status == 200:
                value = read_version(data)
                if value is None:
                    history.error(f"GET /{name}: torn or foreign body ({len(data)} bytes)")
                    continue
            else:
                value = ABSENT
            with history.lock:
                history.reads.append((name, t0, t1, value))
        elif op < 0.67:
            t0, t1, status, _, _ = do("DELETE", "/" + name)
            if status == 204:
                write(name, t0, t1, ABSENT)
        elif op < 0.82:
            method = "COPY" if op < 0.75 else "MOVE"
            other = rng.choice(names)
            if other == name:
                continue
            t0, t1, status, _, _ = do(
                method, "/" + name, headers={"Destination": base.geturl() + other, "Overwrite": "T"}
            )
            if status in (201, 204):
                write(other, t0, t1, "*")
            if method == "MOVE" and status in (201, 204, 404):
                # §9.9.3: Overwrite T deletes the destination first, so while the MOVE runs the
                # destination may also read as absent (keepdav renames it aside, then the source
                # in). On a 404 the source went (a DELETE or MOVE beside it) after the destination
                # was put aside: the destination reads absent for that moment, then as before, or
                # stays deleted when a PUT took its place meanwhile.
                if status == 404:
                    write(other, t0, t1, "*")
                write(other, t0, t1, ABSENT)
                if status != 404:
                    write(name, t0, t1, ABSENT)
        elif op < 0.88:
            do("PROPPATCH", "/" + name, PROPPATCH.format(index).encode(),
               {"Content-Type": "application/xml"})
        elif op < 0.94:
            t0, t1, status, _, data = do("PROPFIND", "/" + name, PROPFIND.encode(), {"Depth": "0"})
            if status == 207 and not data.rstrip().endswith(b"multistatus>"):
                history.error(f"PROPFIND /{name}: not a whole multistatus")
        else:
            t0, t1, status, fields, _ = do(
                "LOCK", "/" + name, LOCKINFO.encode(), {"Timeout": "Second-30", "Depth": "0"}
            )
            if status not in (200, 201):
                continue
            if status == 201:
                write(name, t0, t1, EMPTY)
            token = fields.get("lock-token", "")
            seq += 1
            version = f"c{index}s{seq}"
            with history.lock:
                history.put_started[version] = time.monotonic()
            # The lock holder's PUT cannot be refused for the lock; a MOVE or DELETE by another
            # client may have taken the name away in between (the lock goes with it): 201.
            lock_started = t0
            t0, t1, status, _, _ = do("PUT", "/" + name, make_body(version, rng),
                                      {"If": f"({token})"}, kind="PUT-locked")
            if status in (201, 204):
                write(name, t0, t1, version)
            elif status in (412, 423):
                # The lock is gone: only a DELETE, MOVE or COPY onto the name (which take the
                # resource's locks with it) may have removed it; check() looks for one. 423: it
                # went, and another client's lock came, between the If header's evaluation and
                # the lock check, two reads of the lock table (README, Known gaps); seen across
                # instances, where each read is a round trip to PostgreSQL.
                with history.lock:
                    history.lost_locks.append((name, lock_started, t1))
            t0, t1, status, _, _ = do("UNLOCK", "/" + name, headers={"Lock-Token": token})
    return conn


def check(history, names):
    """Stale reads and lost writes, per name (see the module's doc)."""
    problems = []
    by_name = {n: [] for n in names}
    for w in history.writes:
        by_name[w[0]].append(w)
    for name, s, e in history.lost_locks:
        if not any(w[3] in (ABSENT, "*") and w[1] < e and w[2] > s for w in by_name[name]):
            problems.append(f"{name}: the lock taken at {s:.3f} was gone by {e:.3f}, and no "
                            "DELETE, MOVE or COPY onto it ran meanwhile")
    for name in names:
        writes = sorted(by_name[name], key=lambda w: w[1])
        starts = [w[1] for w in writes]
        # suffix_min_end[i]: the earliest end among writes[i:].
        suffix_min_end = [INF] * (len(writes) + 1)
        for i in range(len(writes) - 1, -1, -1):
            suffix_min_end[i] = min(writes[i][2], suffix_min_end[i + 1])
        # Producers by value, and the wildcard ones (COPY/MOVE into the name), sorted by start.
        producers = {}
        wild = []
        for w in writes:
            if w[3] == "*":
                wild.append(w)
            else:
                producers.setdefault(w[3], []).append(w)
        wild_starts = [w[1] for w in wild]
        wild_prefix_max_end = []
        m = -INF
        for w in wild:
            m = max(m, w[2])
            wild_prefix_max_end.append(m)
        for rname, s, e, value in history.reads:
            if rname != name:
                continue
            # M: the latest end among the writes that could have produced `value` and started
            # before the read ended.
            latest = -INF if value == ABSENT else None  # ABSENT: the initial state produces it
            for p in producers.get(value, []):
                if p[1] < e:
                    latest = p[2] if latest is None else max(latest, p[2])
            if value != ABSENT:
                k = bisect.bisect_left(wild_starts, e)
                if k > 0 and history.put_started.get(value, INF if value != EMPTY else -INF) < e:
                    w_end = wild_prefix_max_end[k - 1]
                    latest = w_end if latest is None else max(latest, w_end)
            if latest is None:
                problems.append(f"{name}: read {value} at {s:.3f}, which no write produced")
                continue
            # Stale when some write started after `latest` and ended before the read started.
            i = bisect.bisect_right(starts, latest)
            if suffix_min_end[i] < s:
                culprit = min((w for w in writes[i:]), key=lambda w: w[2])
                problems.append(
                    f"{name}: read {value} at {s:.3f}-{e:.3f}, but write {culprit[3]} "
                    f"({culprit[1]:.3f}-{culprit[2]:.3f}) superseded every producer "
                    f"(latest ended {latest:.3f})"
                )
    return problems


def main():
    args = dict(a[2:].split("=", 1) for a in sys.argv[2:] if a.startswith("--") and "=" in a)
    base = urllib.parse.urlparse(sys.argv[1])
    clients = int(args.get("clients", 64))
    seconds = float(args.get("seconds", 20))
    names = [f"f{i:02d}" for i in range(int(args.get("names", 16)))]
    history = History()
    deadline = time.monotonic() + seconds
    failures = []

    def run(i):
        try:
            client(i, base, names, deadline, history)
        except Exception as e:  # a dropped connection or a malformed answer
            failures.append(f"client {i}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - started
    # The final state of every name, read after every client stopped: a lost write shows here.
    final = Connection(base.hostname, base.port)
    for name in names:
        t0 = time.monotonic()
        status, _, data = final.request("GET", "/" + name)
        t1 = time.monotonic()
        value = read_version(data) if status == 200 else ABSENT
        if value is None:
            history.errors.append(f"final GET /{name}: torn or foreign body")
            continue
        history.reads.append((name, t0, t1, value))
    problems = check(history, names)
    total = sum(history.statuses.values())
    print(f"load_verified: {clients} clients, {took:.1f} s, {total} requests "
          f"({total / took:.0f}/s), {len(history.writes)} writes, {len(history.reads)} reads "
          f"checked on {len(names)} names")
    for key in sorted(history.statuses):
        print(f"  {key}: {history.statuses[key]}")
    bad = False
    for title, items in (("client failures", failures), ("wrong answers", history.errors),
                         ("stale reads or lost writes", problems)):
        if items:
            bad = True
            print(f"load_verified: {len(items)} {title}:")
            for item in items[:10]:
                print("  " + item)
    if bad:
        return 1
    print("load_verified: every answer matched the model")
    return 0


if __name__ == "__main__":
    sys.exit(main())
