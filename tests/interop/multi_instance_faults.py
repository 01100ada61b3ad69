#!/usr/bin/env python3
"""Locks across two keepdav instances sharing one PostgreSQL database (issue 15).

Driven by multi_instance_faults.sh (mode `locks`), which starts PostgreSQL and the instances:

  multi_instance_faults.py locks URL_A URL_B FIRST_CHECK COUNTS_FILE

prints TAP lines "ok N - ..." numbered from FIRST_CHECK and writes "CHECKS FAILURES" to
COUNTS_FILE. Checks:
  1. a LOCK through A blocks a tokenless PUT through B at once (423); with the token through B
     the PUT succeeds; B's lockdiscovery lists A's lock; UNLOCK through B frees it for both;
  2. the race: 100 rounds of two LOCKs sent at the same moment, one through each instance (the
     whole request but its last byte is sent first, then both last bytes after a barrier):
     exclusive against exclusive on one file, an exclusive depth-infinity lock on a collection
     against an exclusive lock on its member, shared against exclusive (one winner each), and
     shared against shared (both win); after each round both instances list exactly the
     winners' locks;
  3. refresh and expiry agree: a 5 s lock taken through A, refreshed through B for 6 s, is
     listed (and enforced) by both past its first expiry; after the refreshed expiry neither
     lists it, its token no longer refreshes, and a new lock succeeds.
Only the Python standard library (http.client, socket, threading).
"""
import http.client
import re
import socket
import sys
import threading
import time
import urllib.parse

CHECKS = 0
FAILURES = 0


def check(ok, what, detail=""):
    global CHECKS, FAILURES
    CHECKS += 1
    if ok:
        print(f"ok {CHECKS} - {what}", flush=True)
    else:
        FAILURES += 1
        print(f"not ok {CHECKS} - {what}", flush=True)
        if detail:
            for line in str(detail)[:2000].splitlines():
                print(f"#   {line}", flush=True)
    return ok


def note(text):
    print(f"# {text}", flush=True)


class Instance:
    """One keepdav instance: a keep-alive connection, reopened when the server closes it."""

    def __init__(self, name, url):
        self.name = name
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.conn = None

    def request(self, method, path, body=b"", headers=None):
        headers = dict(headers or {})
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, {k.lower(): v for k, v in r.getheaders()}, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A keep-alive connection the server had closed: one retry on a new one.
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def raw_request(self, method, path, body, headers):
        """The request's bytes, for sending in two parts."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 f"Content-Length: {len(body)}", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def lockinfo(exclusive=True, owner="multi"):
    scope = "<D:exclusive/>" if exclusive else "<D:shared/>"
    return (f'<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:">'
            f"<D:lockscope>{scope}</D:lockscope><D:locktype><D:write/></D:locktype>"
            f"<D:owner>{owner}</D:owner></D:lockinfo>").encode()


PROPFIND_LOCKS = (b'<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>'
                  b"<D:lockdiscovery/></D:prop></D:propfind>")


def lock(inst, path, exclusive=True, depth="0", timeout="Second-600"):
    """LOCK: (status, token or "", body)."""
    status, headers, body = inst.request(
        "LOCK", path, lockinfo(exclusive, f"{inst.name}"),
        {"Depth": depth, "Timeout": timeout, "Content-Type": "application/xml"})
    return status, headers.get("lock-token", "").strip().strip("<>"), body


def unlock(inst, path, token):
    status, _, _ = inst.request("UNLOCK", path, b"", {"Lock-Token": f"<{token}>"})
    return status


def refresh(inst, path, token, timeout):
    status, _, body = inst.request("LOCK", path, b"",
                                   {"If": f"(<{token}>)", "Timeout": timeout})
    return status, body


def discovered(inst, path):
    """The active locks PROPFIND lists on `path`: [(token, timeout seconds)]."""
    status, _, body = inst.request("PROPFIND", path, PROPFIND_LOCKS,
                                   {"Depth": "0", "Content-Type": "application/xml"})
    if status != 207:
        return None
    text = body.decode("utf-8", "replace")
    found = []
    for active in re.findall(r"<D:activelock>(.*?)</D:activelock>", text, re.S):
        token = re.search(r"<D:locktoken><D:href>([^<]*)</D:href>", active)
        timeout = re.search(r"<D:timeout>Second-(\d+)</D:timeout>", active)
        found.append((token.group(1) if token else "",
                      int(timeout.group(1)) if timeout else -1))
    return found


def put(inst, path, data, token=None):
    headers = {"If": f"(<{token}>)"} if token else {}
    status, _, _ = inst.request("PUT", path, data, headers)
    return status


# 1. Locks across instances ----------------------------------------------------------------


def across_instances(a, b):
    note("1. a lock taken through one instance, enforced and listed by the other")
    path = "/across.txt"
    check(put(a, path, b"first") in (201, 204), "PUT /across.txt through A")
    status, token, body = lock(a, path)
    check(status == 200 and token, f"LOCK through A: 200 with a token (got {status})", body)
    s = put(b, path, b"tokenless")
    check(s == 423, f"tokenless PUT through B at once: 423 (got {s})")
    s, _, _ = b.request("DELETE", path)
    check(s == 423, f"tokenless DELETE through B: 423 (got {s})")
    s, _, got = b.request("GET", path)
    check(s == 200 and got == b"first", "the file is unchanged", got)
    s = put(b, path, b"with the token", token)
    check(s in (200, 204), f"PUT through B with A's token: 204 (got {s})")
    s, _, got = a.request("GET", path)
    check(got == b"with the token", "GET through A returns what B wrote", got)
    for inst in (b, a):
        locks = discovered(inst, path)
        check(locks is not None and [t for t, _ in locks] == [token],
              f"lockdiscovery through {inst.name} lists A's lock", locks)
    s = unlock(b, path, token)
    check(s == 204, f"UNLOCK through B of A's lock: 204 (got {s})")
    for inst in (a, b):
        locks = discovered(inst, path)
        check(locks == [], f"lockdiscovery through {inst.name} after UNLOCK: none", locks)
    s = put(a, path, b"free again")
    check(s == 204, f"tokenless PUT through A after the UNLOCK: 204 (got {s})")

    # The same at once, 20 times in both directions: no instance may answer from a stale view.
    bad = []
    for i in range(20):
        first, second = (a, b) if i % 2 == 0 else (b, a)
        p = f"/across-{i}.txt"
        put(first, p, b"x")
        s1, tok, _ = lock(first, p)
        s2 = put(second, p, b"y")
        s3 = unlock(first, p, tok)
        s4 = put(second, p, b"z")
        if (s1, s2, s3, s4) != (200, 423, 204, 204):
            bad.append(f"round {i} ({first.name} locks): LOCK {s1}, PUT through {second.name} "
                       f"{s2}, UNLOCK {s3}, PUT after {s4}")
    check(not bad, "20 rounds LOCK through one, PUT through the other at once: 423, then 204 "
          "after the UNLOCK", "\n".join(bad))


# 2. The lock race -------------------------------------------------------------------------


def race_once(pair):
    """Sends two requests at the same moment; [(status, token, body)] in order."""
    barrier = threading.Barrier(len(pair))
    results = [None] * len(pair)
    sent = [0.0] * len(pair)  # when each last byte went out
    took = [0.0] * len(pair)  # from then to the response
    socks = []
    for inst, raw in pair:
        s = socket.create_connection((inst.host, inst.port), timeout=30)
        socks.append(s)

    def run(i):
        inst, raw = pair[i]
        s = socks[i]
        try:
            s.sendall(raw[:-1])
            barrier.wait(timeout=10)
            s.sendall(raw[-1:])
            sent[i] = time.perf_counter()
            r = http.client.HTTPResponse(s)
            r.begin()
            took[i] = time.perf_counter() - sent[i]
            body = r.read()
            results[i] = (r.status, (r.getheader("Lock-Token") or "").strip().strip("<>"), body)
        except Exception as e:  # reported as the round's outcome
            results[i] = (-1, "", repr(e).encode())
        finally:
            s.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(pair))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, abs(sent[0] - sent[1]), min(took)


def lock_race(a, b, rounds=100):
    note(f"2. the lock race: {rounds} rounds, two LOCKs at the same moment, one through each "
         "instance")
    # Kinds, interleaved: exclusive/exclusive on one file (40), an exclusive depth-infinity
    # lock on a collection against an exclusive depth-0 lock on its member (30), shared against
    # exclusive (10): one winner each; shared/shared (20): both win.
    kinds = []
    for i in range(rounds):
        k = i % 10
        kinds.append("exclusive" if k in (0, 3, 6, 8) else
                     "tree" if k in (1, 4, 7) else "mixed" if k == 9 else "shared")
    for i, kind in enumerate(kinds):
        if kind == "tree":
            s, _, _ = a.request("MKCOL", f"/race/c{i}")
            if s != 201:
                check(False, f"MKCOL /race/c{i} (got {s})")
            put(b, f"/race/c{i}/m.txt", b"member")
        else:
            put(a if i % 2 else b, f"/race/r{i}.txt", b"race")
    tally = {}
    problems = []
    skews, quickest = [], []
    for i, kind in enumerate(kinds):
        # The instance that gets the "first" request alternates, so neither is favoured.
        x, y = (a, b) if i % 2 == 0 else (b, a)
        if kind == "tree":
            coll, member = f"/race/c{i}", f"/race/c{i}/m.txt"
            # Which side locks the collection alternates too (every other tree round).
            if (i // 10) % 2:
                x, y = y, x
            reqs = [(x, "LOCK", coll, True, "infinity"), (y, "LOCK", member, True, "0")]
            probe = member  # covered by whichever lock won
        else:
            path = f"/race/r{i}.txt"
            scopes = {"exclusive": (True, True), "shared": (False, False),
                      "mixed": (False, True)}[kind]
            reqs = [(x, "LOCK", path, scopes[0], "0"), (y, "LOCK", path, scopes[1], "0")]
            probe = path
        pair = [(inst, inst.raw_request(m, p, lockinfo(ex, f"{inst.name}-{i}"),
                                        {"Depth": d, "Timeout": "Second-600",
                                         "Content-Type": "application/xml"}))
                for inst, m, p, ex, d in reqs]
        results, skew, quicker = race_once(pair)
        skews.append(skew)
        quickest.append(quicker)
        statuses = [r[0] for r in results]
        winners = [(reqs[j][0], reqs[j][2], results[j][1]) for j in range(2)
                   if results[j][0] == 200]
        if kind == "shared":
            ok = statuses == [200, 200]
        else:
            ok = sorted(statuses) == [200, 423]
        key = (kind, tuple(statuses))
        tally[key] = tally.get(key, 0) + 1
        # Both instances list exactly the winners' locks on the probed resource.
        want = sorted(t for _, _, t in winners)
        seen = {}
        for inst in (a, b):
            found = discovered(inst, probe)
            seen[inst.name] = sorted(t for t, _ in found) if found is not None else None
        if not ok or any(v != want for v in seen.values()):
            problems.append(
                f"round {i} ({kind}): {reqs[0][0].name} LOCK {reqs[0][2]} -> {statuses[0]}, "
                f"{reqs[1][0].name} LOCK {reqs[1][2]} -> {statuses[1]}; lockdiscovery of "
                f"{probe}: A {seen['A']}, B {seen['B']}, winners {want}; bodies: "
                + " | ".join(r[2][:200].decode("utf-8", "replace") for r in results
                             if r[0] not in (200, 423)))
        # Free the resource through the instance that did not take the lock.
        for inst, p, token in winners:
            other = b if inst is a else a
            s = unlock(other, p, token)
            if s != 204:
                problems.append(f"round {i}: UNLOCK {p} through {other.name} -> {s}")
    for (kind, statuses), n in sorted(tally.items()):
        note(f"  {kind}: {n} round(s) with statuses {list(statuses)} (first request, second)")
    # A round raced when the second last byte went out before the first answer came back.
    overlapped = sum(1 for sk, q in zip(skews, quickest) if sk < q)
    skews.sort()
    quickest.sort()
    note(f"  the two last bytes went out {skews[len(skews) // 2] * 1e3:.2f} ms apart (median, "
         f"max {skews[-1] * 1e3:.2f}); the quicker LOCK of a round took "
         f"{quickest[len(quickest) // 2] * 1e3:.2f} ms (median); both in flight at once in "
         f"{overlapped} of {rounds} rounds")
    one_winner = [k for k in kinds if k != "shared"]
    check(not problems,
          f"{rounds} rounds: exactly one winner (200 and 423) in each of the {len(one_winner)} "
          f"conflicting rounds, both 200 in the {rounds - len(one_winner)} shared ones, and both "
          "instances list just the winners' locks",
          "\n".join(problems))


# 3. Refresh and expiry --------------------------------------------------------------------


def refresh_and_expiry(a, b):
    note("3. refresh and expiry agree: a 5 s lock through A, refreshed through B for 6 s")
    path = "/expiry.txt"
    check(put(a, path, b"expiry") in (201, 204), "PUT /expiry.txt")
    t0 = time.monotonic()
    status, token, body = lock(a, path, timeout="Second-5")
    check(status == 200 and token, f"LOCK through A, Timeout Second-5: 200 (got {status})", body)

    def at(seconds):
        delay = t0 + seconds - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    at(2.5)
    s, body = refresh(b, path, token, "Second-6")
    text = body.decode("utf-8", "replace")
    check(s == 200 and "<D:timeout>Second-6</D:timeout>" in text,
          f"refresh through B, Timeout Second-6: 200 with Second-6 (got {s})", text)
    locks = discovered(a, path)
    check(locks is not None and len(locks) == 1 and locks[0][0] == token and locks[0][1] >= 5,
          "A lists the refreshed lock at once, with 5-6 s left (it had at most 3 before)", locks)
    at(6.5)  # past the first expiry (5 s), before the refreshed one (8.5 s)
    for inst in (a, b):
        locks = discovered(inst, path)
        check(locks is not None and [t for t, _ in locks] == [token],
              f"at 6.5 s, past the first expiry, {inst.name} still lists the lock", locks)
        s = put(inst, path, b"tokenless")
        check(s == 423, f"... and a tokenless PUT through {inst.name} is 423 (got {s})")
    at(10.5)  # past the refreshed expiry, with 2 s to spare for whole-second times
    for inst in (a, b):
        locks = discovered(inst, path)
        check(locks == [], f"at 10.5 s, past the refreshed expiry, {inst.name} lists no lock",
              locks)
        s, _ = refresh(inst, path, token, "Second-60")
        check(s == 412, f"refreshing the expired lock through {inst.name}: 412 (got {s})")
    s = put(b, path, b"after expiry")
    check(s == 204, f"a tokenless PUT through B after the expiry: 204 (got {s})")
    status, token2, body = lock(b, path)
    check(status == 200 and token2 and token2 != token,
          f"a new LOCK through B after the expiry: 200 (got {status})", body)
    status, _, _ = lock(a, path)
    check(status == 423, f"... which a conflicting LOCK through A meets: 423 (got {status})")
    check(unlock(a, path, token2) == 204, "UNLOCK of the new lock through A")


def main():
    mode, url_a, url_b, first, counts_file = sys.argv[1:6]
    if mode != "locks":
        sys.exit(f"unknown mode {mode}")
    global CHECKS
    CHECKS = int(first) - 1
    start = CHECKS
    a, b = Instance("A", url_a), Instance("B", url_b)
    try:
        across_instances(a, b)
        lock_race(a, b)
        refresh_and_expiry(a, b)
    except Exception as e:  # a crash of the script is a failed check, with what happened
        check(False, f"the lock checks ran to the end: {e!r}")
    with open(counts_file, "w") as f:
        f.write(f"{CHECKS - start} {FAILURES}\n")
    return 0 if FAILURES == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
