"""The scenarios of issue 6, each a function (server, ctx) -> Outcome.

Every scenario checks correctness as well as timing — status codes, byte counts, the number of
<response> elements, and where the result lands on disk (the document root is local, so the
check reads it directly, outside the timed part). A scenario a peer cannot do is recorded as
"n/a" (the method or depth is refused) or "fails" (it answers, but wrongly), with the reason.

Every request loop is bounded in count and by a time budget, and talks only to 127.0.0.1.
"""

import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import time

import data
from davclient import Connection, ResponseCounter, count_responses

NS = "urn:keepdav:bench"
ALLPROP = (b'<?xml version="1.0" encoding="utf-8"?>'
           b'<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>')
XML = {"Content-Type": "application/xml; charset=utf-8"}
HERE = os.path.dirname(os.path.abspath(__file__))


class Outcome:
    """status: "ok", "n/a" (not supported by this server) or "fails"; metrics: name -> value."""

    def __init__(self, status="ok", reason="", **metrics):
        self.status = status
        self.reason = reason
        self.metrics = metrics
        self.notes = []


class ScenarioFailed(Exception):
    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def check(cond, reason, status="fails"):
    if not cond:
        raise ScenarioFailed(status, reason)


# --- measuring the server process(es) ----------------------------------------------------------

def reset_peak_rss(pids):
    """Reset VmHWM to the current RSS (Linux >= 4.0, clear_refs value 5); False if refused."""
    ok = True
    for pid in pids:
        try:
            with open(f"/proc/{pid}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            ok = False
    return ok


def _status_kib(pid, field):
    """A /proc/PID/status field in KiB (VmRSS, VmHWM); 0 if the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_rss_kib(pids):
    """(sum, max) of VmHWM over the processes, KiB."""
    vals = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        vals.append(int(line.split()[1]))
        except OSError:
            pass
    return (sum(vals), max(vals)) if vals else (0, 0)


def cpu_seconds(pids):
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                s = f.read()
            fields = s[s.rfind(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


class ProcCpu:
    """CPU seconds of a set of processes (pids(): called now and at done()) from now to done():
    processes started meanwhile (new PostgreSQL backends) count whole. done() is None when
    there were none at the start (a server without database processes)."""

    def __init__(self, pids):
        self.pids = pids
        self.start = {pid: cpu_seconds([pid]) for pid in pids()}

    def done(self):
        if not self.start:
            return None
        return sum(cpu_seconds([pid]) - self.start.get(pid, 0) for pid in self.pids())


class CpuPerRequest:
    """Server CPU (all its processes: keepdav + PostgreSQL for keepdav-pg) and database CPU
    (srv.db_pids(), PostgreSQL's alone) around a timed loop, as ms per request: metrics
    <prefix>_cpu_ms and, for servers with a database, <prefix>_db_ms. CPU time depends less
    on what else the machine runs than req/s does (these machines are shared)."""

    def __init__(self, srv):
        self.all = ProcCpu(srv.pids)
        self.db = ProcCpu(srv.db_pids)

    def into(self, o, prefix, requests):
        for key, meter in (("cpu", self.all), ("db", self.db)):
            sec = meter.done()
            if sec is not None and requests > 0:
                o.metrics[f"{prefix}_{key}_ms"] = sec / requests * 1e3


def client_cpu_seconds():
    """This process plus its waited-for children (wrk, curl)."""
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


# --- helpers ------------------------------------------------------------------------------------

def count_tree(path):
    """(files, dirs below path, total bytes of files)."""
    files = dirs = size = 0
    for dirpath, dirnames, filenames in os.walk(path):
        dirs += len(dirnames)
        files += len(filenames)
        for n in filenames:
            size += os.lstat(os.path.join(dirpath, n)).st_size
    return files, dirs, size


def run_wrk(ctx, port, path, mode, connections, threads, auth=""):
    env = dict(os.environ, BENCH_MODE=mode, BENCH_FILES=str(ctx.sizes["get_files"]),
               BENCH_AUTH=auth)
    secs = ctx.sizes["wrk_seconds"]
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{secs}s", "--timeout", "5s",
           "-s", os.path.join(HERE, "wrk", "bench.lua"), f"http://127.0.0.1:{port}{path}"]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=secs + 60)
    for line in p.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON "):])
    raise ScenarioFailed("fails", f"wrk gave no summary (rc {p.returncode}): "
                         f"{(p.stdout + p.stderr)[-300:]!r}")


def wrk_errors(w):
    return {k: w[k] for k in ("connect", "read", "write", "status", "timeout") if w[k]}


def multistatus(conn, path, depth, body=ALLPROP, keep_body=False):
    """One PROPFIND; (response, number of <response> elements, seconds)."""
    counter = ResponseCounter()
    t0 = time.perf_counter()
    r = conn.request("PROPFIND", path, dict(XML, Depth=depth), body, keep_body=keep_body,
                     sink=counter)
    dt = time.perf_counter() - t0
    return r, counter.finish(), dt


# --- the scenarios ----------------------------------------------------------------------------

def s1_get(srv, ctx):
    """GET of 4 KiB files: wrk, 2 threads, 32 connections."""
    if not ctx.have_wrk:
        raise ScenarioFailed("n/a", "wrk not installed")
    c = Connection(srv.port, headers=srv.request_headers)
    r = c.request("GET", "/get/f0001.bin")
    with open(os.path.join(srv.root, "get", "f0001.bin"), "rb") as f:
        want = f.read()
    c.close()
    check(r.status == 200, f"GET answered {r.status}")
    check(r.body == want, f"GET body: {r.body_len} bytes, not the file's {len(want)}")
    w = run_wrk(ctx, srv.port, "/", "get", 32, 2,
                srv.request_headers.get("Authorization", ""))
    check(w["requests"] > 0, "wrk completed no request")
    check(w["status"] == 0, f"{w['status']} of {w['requests']} answers were not 2xx/3xx")
    per = w["bytes"] / w["requests"]
    size = ctx.sizes["get_size"]
    check(size <= per <= size + 1024, f"{per:.0f} bytes per response, expected {size} + headers")
    o = Outcome(get_rps=w["requests"] / (w["duration_us"] / 1e6), get_p99_ms=w["p99_us"] / 1e3)
    errs = wrk_errors(w)
    if errs:
        o.notes.append(f"wrk socket errors {errs}")
    # A few resets under load (Apache recycling a worker's connections) are noted, not fatal.
    sock = sum(v for k, v in errs.items() if k not in ("status", "timeout"))
    check(sock <= w["requests"] / 100, f"socket errors {errs} in {w['requests']} requests")
    return o


def _propfind_d1(srv, ctx, path, want, first_body=None):
    """PROPFIND Depth 1 allprop of path (want <response> elements): the median latency of
    latency_samples single requests, then wrk (2 threads, 4 connections); an Outcome with
    the metrics ms, rps, pf_cpu_ms and (servers with a database process) pf_db_ms, server and
    database CPU per request under wrk, to be renamed by the caller. first_body, if given,
    checks the body of the first answer (kept for it only)."""
    c = Connection(srv.port, timeout=120, headers=srv.request_headers)
    times = []
    size = 0
    for k in range(ctx.sizes["latency_samples"]):
        keep = first_body is not None and k == 0
        r, n, dt = multistatus(c, path, "1", keep_body=keep)
        check(r.status == 207, f"PROPFIND Depth 1 answered {r.status}",
              "n/a" if r.status in (403, 405, 501) else "fails")
        check(n == want, f"{n} <response> elements, expected {want}")
        if keep:
            first_body(r.body)
        times.append(dt)
        size = r.body_len
    c.close()
    times.sort()
    o = Outcome(ms=times[len(times) // 2] * 1e3)
    if not ctx.have_wrk:
        o.notes.append("wrk not installed: no req/s")
        return o
    cpu = CpuPerRequest(srv)
    w = run_wrk(ctx, srv.port, path, "propfind", 4, 2,
                srv.request_headers.get("Authorization", ""))
    cpu.into(o, "pf", w["requests"])
    check(w["requests"] > 0, "wrk completed no PROPFIND")
    check(w["status"] == 0, f"{w['status']} of {w['requests']} answers were not 2xx")
    per = w["bytes"] / w["requests"]
    # wrk's bytes include those of the (up to 4) answers still in flight when it stops, which
    # its requests do not count: on a slow server and a loaded machine (Apache, 30 req/s in a
    # 1-second smoke run), that is 10% or more.
    in_flight = 4 * size / w["requests"]
    check(0.9 * size <= per <= 1.1 * size + 4096 + in_flight,
          f"{per:.0f} bytes per response under load, {size} when alone")
    o.metrics["rps"] = w["requests"] / (w["duration_us"] / 1e6)
    errs = wrk_errors(w)
    if errs:
        o.notes.append(f"wrk socket errors {errs}")
    return o


def _renamed(o, **names):
    o.metrics = {names[k]: v for k, v in o.metrics.items()}
    return o


def s2_propfind_d1(srv, ctx):
    """PROPFIND Depth 1 allprop on a folder of d1_files: single-request latency, then wrk."""
    o = _propfind_d1(srv, ctx, "/d1/", ctx.sizes["d1_files"] + 1)
    return _renamed(o, ms="pf1_ms", rps="pf1_rps", pf_cpu_ms="pf1_cpu_ms",
                    pf_db_ms="pf1_db_ms")


DPROP_VALUE = re.compile(rb"dprop-value-\d+<")


def dprops_files(ctx):
    """The files of dprops/ that carry a dead property: every dprops_every-th."""
    every = ctx.sizes["dprops_every"]
    return [f"/dprops/f{k:05d}.txt" for k in range(every, ctx.sizes["dprops_files"] + 1, every)]


def set_dprops(srv, ctx):
    """Sets the dead properties of dprops/ through the server (PROPPATCH on one connection, so
    that each server stores them its own way); untimed, once per server instance (srv
    remembers it: propfind_d1_props and db_round_trips both need them)."""
    if getattr(srv, "dprops_set", False):
        return
    c = Connection(srv.port, timeout=30, headers=srv.request_headers)
    deadline = time.monotonic() + ctx.timeout
    for path in dprops_files(ctx):
        body = (f'<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" '
                f'xmlns:b="{NS}"><D:set><D:prop><b:tag>dprop-value-{path[-9:-4]}</b:tag>'
                f'</D:prop></D:set></D:propertyupdate>').encode()
        r = c.request("PROPPATCH", path, XML, body)
        if r.status in (405, 501):
            raise ScenarioFailed("n/a", f"no PROPPATCH ({r.status})")
        if not _proppatch_ok(r):
            m = re.search(rb"HTTP/1\.[01] (\d{3}[^<]*)", r.body)
            why = m.group(1).decode("latin-1") if m else str(r.status)
            raise ScenarioFailed("n/a" if why.startswith("403") else "fails",
                                 f"setting the dead properties of dprops/: {why}")
        check(time.monotonic() < deadline, "time budget exceeded setting dead properties")
    c.close()
    srv.dprops_set = True


def s12_propfind_d1_props(srv, ctx):
    """Issue 15: PROPFIND Depth 1 allprop of dprops/ (dprops_files files, a dead property on
    every dprops_every-th, set by PROPPATCH before the clock starts), measured as propfind_d1
    (single-request latency, then wrk); the first answer must carry every dead property."""
    set_dprops(srv, ctx)
    want_props = len(dprops_files(ctx))

    def has_props(body):
        got = len(DPROP_VALUE.findall(body))
        check(got == want_props, f"{got} dead property values in the listing, expected "
                                 f"{want_props}")

    o = _propfind_d1(srv, ctx, "/dprops/", ctx.sizes["dprops_files"] + 1, has_props)
    return _renamed(o, ms="pfp_ms", rps="pfp_rps", pf_cpu_ms="pfp_cpu_ms",
                    pf_db_ms="pfp_db_ms")


MINIREDIR = {"User-Agent": "Microsoft-WebDAV-MiniRedir/10.0.19045", "Translate": "f"}
EXPLORER_LIMIT = 1_000_000  # the WebClient service's FileAttributesLimitInBytes default


def s10_explorer_listing(srv, ctx):
    """Windows Explorer's listing: a bodyless (allprop) PROPFIND Depth 1, with the
    mini-redirector's User-Agent, of a folder of explorer_files files with 30-character names.
    The figure is bytes per <response>: Explorer refuses an answer over 1,000,000 bytes."""
    want = ctx.sizes["explorer_files"] + 1
    c = Connection(srv.port, timeout=60, headers=dict(srv.request_headers, **MINIREDIR))
    counter = ResponseCounter()
    r = c.request("PROPFIND", "/explorer/", {"Depth": "1"}, b"", keep_body=False, sink=counter)
    c.close()
    check(r.status == 207, f"PROPFIND answered {r.status}")
    n = counter.finish()
    check(n == want, f"{n} <response> elements, expected {want}")
    o = Outcome(explorer_bytes=r.body_len / n)
    fits = EXPLORER_LIMIT // (r.body_len / n)
    o.notes.append(f"{r.body_len} bytes; Explorer's limit fits {fits:.0f} such files")
    return o


CHECKSUM_PROPS = (b'<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" '
                  b'xmlns:oc="http://owncloud.org/ns"><D:prop><D:getcontentlength/>'
                  b'<D:getetag/><D:getlastmodified/><D:resourcetype/>%s</D:prop></D:propfind>')


def s11_checksums(srv, ctx):
    """keepdav only: rclone's owncloud listing, PROPFIND Depth 1 of d1/ naming size, ETag,
    date and type, with and without oc:checksums. The first listing with oc:checksums computes
    and stores the sums (the cold cost); then both are timed alternately, medians of
    latency_samples x 3, and the ratio plain/with-sums is the figure (target at least 0.8)."""
    want = ctx.sizes["d1_files"] + 1
    plain = CHECKSUM_PROPS % b""
    sums = CHECKSUM_PROPS % b"<oc:checksums/>"
    c = Connection(srv.port, timeout=300, headers=srv.request_headers)
    r, n, cold = multistatus(c, "/d1/", "1", body=sums, keep_body=True)
    check(r.status == 207, f"PROPFIND answered {r.status}")
    check(n == want, f"{n} <response> elements, expected {want}")
    check(r.body.count(b"<oc:checksum>SHA1:") == want - 1,
          "the cold listing did not carry every file's sums")
    times = {"plain": [], "sums": []}
    sizes = {}
    for _ in range(ctx.sizes["latency_samples"] * 3):
        for key, body in (("plain", plain), ("sums", sums)):
            r, n, dt = multistatus(c, "/d1/", "1", body=body)
            check(r.status == 207 and n == want, f"{key}: {r.status}, {n} responses")
            times[key].append(dt)
            sizes[key] = r.body_len
    c.close()
    med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    o = Outcome(ck_cold_ms=cold * 1e3, ck_plain_ms=med["plain"] * 1e3,
                ck_sums_ms=med["sums"] * 1e3, ck_ratio=med["plain"] / med["sums"])
    o.notes.append(f"bodies {sizes['plain']} and {sizes['sums']} bytes")
    return o


def _propfind_infinity(srv, path, files, dirs, timeout):
    want = files + dirs + 1
    c = Connection(srv.port, timeout=timeout)
    r, n, dt = multistatus(c, path, "infinity")
    c.close()
    if r.status in (403, 400, 501):
        raise ScenarioFailed("n/a", f"refuses Depth infinity ({r.status})")
    check(r.status == 207, f"PROPFIND Depth infinity answered {r.status}")
    check(n == want, f"{n} <response> elements, expected {want} "
                     f"({r.body_len} bytes in {dt:.2f} s)")
    return dt


def s3_propfind_infinity(srv, ctx):
    files, dirs = data.tree_counts(ctx.sizes)
    return Outcome(pfinf_s=_propfind_infinity(srv, "/tree/", files, dirs, ctx.timeout))


def s5_copy_move_delete(srv, ctx):
    files, dirs = data.tree_counts(ctx.sizes)
    base = f"http://127.0.0.1:{srv.port}"
    c = Connection(srv.port, timeout=ctx.timeout)
    root = srv.root

    t0 = time.perf_counter()
    r = c.request("COPY", "/tree/", {"Destination": f"{base}/tree-copy/", "Depth": "infinity",
                                      "Overwrite": "F"})
    t_copy = time.perf_counter() - t0
    check(r.status in (200, 201, 204), f"COPY answered {r.status}")
    odd = [f"COPY answered {r.status}"] if r.status != 201 else []
    got = count_tree(os.path.join(root, "tree-copy"))[:2]
    check(got == (files, dirs), f"COPY made {got[0]} files / {got[1]} folders, expected "
                                f"{files} / {dirs}")

    # A MOVE within a device takes well under a millisecond on the fast servers, so one sample
    # is mostly noise (the first request after a big COPY runs on cold caches): five MOVEs of
    # the tree, there and back, and their median.
    moves = []
    hops = ["tree-copy", "tree-moved", "tree-moved2", "tree-moved", "tree-moved2", "tree-moved"]
    for src, dst in zip(hops, hops[1:]):
        t0 = time.perf_counter()
        r = c.request("MOVE", f"/{src}/", {"Destination": f"{base}/{dst}/", "Overwrite": "F"})
        moves.append(time.perf_counter() - t0)
        check(r.status in (200, 201, 204), f"MOVE {src} -> {dst} answered {r.status}")
        if r.status != 201 and f"MOVE answered {r.status}" not in odd:
            odd.append(f"MOVE answered {r.status}")
        check(not os.path.exists(os.path.join(root, src)), f"MOVE left the source {src}")
    t_move = statistics.median(moves)
    got = count_tree(os.path.join(root, "tree-moved"))[:2]
    check(got == (files, dirs), f"MOVE left {got[0]} files / {got[1]} folders")

    t0 = time.perf_counter()
    r = c.request("DELETE", "/tree-moved/")
    t_delete = time.perf_counter() - t0
    c.close()
    check(r.status in (200, 204), f"DELETE answered {r.status}")
    check(not os.path.exists(os.path.join(root, "tree-moved")), "DELETE left the tree")
    o = Outcome(copy_s=t_copy, move_ms=t_move * 1e3, delete_s=t_delete)
    o.notes.extend(f"{x} (RFC 4918: 201 for a new resource)" for x in odd)
    return o


_PROPSTAT_OK = re.compile(rb"HTTP/1\.[01] 200")


def _proppatch_ok(r):
    """207 with a 200 propstat; lighttpd answers a fully applied PROPPATCH with 204 (the
    read-back at the end checks that it was applied)."""
    return (r.status == 207 and _PROPSTAT_OK.search(r.body)) or r.status in (200, 204)


def s6_proppatch(srv, ctx):
    """PROPPATCH requests on one keep-alive connection, round robin over props/."""
    n_files = ctx.sizes["props_files"]
    total = ctx.sizes["proppatch_requests"]
    c = Connection(srv.port, timeout=30)
    # Built before the clock starts: the loop only sends and parses.
    reqs = []
    for i in range(total):
        body = (f'<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" '
                f'xmlns:b="{NS}"><D:set><D:prop><b:note>value {i}</b:note></D:prop></D:set>'
                f'</D:propertyupdate>').encode()
        reqs.append(c.build("PROPPATCH", f"/props/f{i % n_files:03d}.txt", XML, body))
    r = c.send_raw(reqs[0])
    if r.status in (405, 501):
        raise ScenarioFailed("n/a", f"no PROPPATCH ({r.status})")
    check(r.status in (200, 204, 207), f"PROPPATCH answered {r.status}")
    if not _proppatch_ok(r):
        m = re.search(rb"HTTP/1\.[01] (\d{3}[^<]*)", r.body)
        why = m.group(1).decode("latin-1") if m else r.body[-120:].decode("utf-8", "replace")
        # rclone (x/net/webdav without a dead-property store) answers 403 in the propstat.
        raise ScenarioFailed("n/a" if why.startswith("403") else "fails",
                             f"does not store dead properties (propstat {why})")
    deadline = time.monotonic() + ctx.timeout
    srv_cpu = CpuPerRequest(srv)
    c0 = time.process_time()
    t0 = time.perf_counter()
    bad = 0
    for raw in reqs[1:]:
        r = c.send_raw(raw)
        if not _proppatch_ok(r):
            bad += 1
        if time.monotonic() > deadline:
            raise ScenarioFailed("fails", "time budget exceeded")
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    check(bad == 0, f"{bad} of {total} PROPPATCH answers were not 207 with 200 propstat")
    first_status = r.status
    # The last value set on f000 must read back.
    last = max(i for i in range(total) if i % n_files == 0)
    body = (f'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><b:note xmlns:b="{NS}"/>'
            f'</D:prop></D:propfind>').encode()
    r = c.request("PROPFIND", "/props/f000.txt", dict(XML, Depth="0"), body)
    c.close()
    check(r.status == 207 and f"value {last}<".encode() in r.body,
          "the property set last does not read back")
    o = Outcome(proppatch_rps=(total - 1) / dt)
    srv_cpu.into(o, "proppatch", total - 1)
    if first_status != 207:
        o.notes.append(f"PROPPATCH answered {first_status}, not 207 (RFC 4918 9.2)")
    o.notes.append(f"client CPU {100 * cpu / dt:.0f}% of one core")
    return o


LOCKINFO = (b'<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:">'
            b'<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>'
            b'<D:owner>keepdav bench</D:owner></D:lockinfo>')
LOCK_HEADERS = dict(XML, Depth="0", Timeout="Second-600")
_ACTIVELOCK = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?activelock[\s>]")


def _lock(c, path):
    """(LOCK response, its Lock-Token or "")."""
    r = c.request("LOCK", path, LOCK_HEADERS, LOCKINFO)
    return r, r.headers.get("lock-token", "")


def s13_lock_unlock(srv, ctx):
    """Issue 15: LOCK (exclusive write, Depth 0, Timeout Second-600) of a file, then UNLOCK
    with the token it answered, lock_requests pairs on one keep-alive connection, round robin
    over props/ (the first pair untimed, as in proppatch). The figure is pairs per second.
    Afterwards no lock may be left: the lockdiscovery of props/, Depth 1, holds no activelock."""
    n_files = ctx.sizes["props_files"]
    total = ctx.sizes["lock_requests"]
    c = Connection(srv.port, timeout=30)
    r, token = _lock(c, "/props/f000.txt")
    if r.status in (405, 501):
        raise ScenarioFailed("n/a", f"no LOCK ({r.status})")
    check(r.status == 200 and token, f"LOCK answered {r.status}, Lock-Token {token!r}")
    r = c.request("UNLOCK", "/props/f000.txt", {"Lock-Token": token})
    check(r.status == 204, f"UNLOCK answered {r.status}")
    deadline = time.monotonic() + ctx.timeout
    bad = []
    srv_cpu = CpuPerRequest(srv)
    c0 = time.process_time()
    t0 = time.perf_counter()
    for i in range(1, total):
        path = f"/props/f{i % n_files:03d}.txt"
        r, token = _lock(c, path)
        if r.status != 200 or not token:
            bad.append(f"LOCK {r.status}")
            continue
        r = c.request("UNLOCK", path, {"Lock-Token": token})
        if r.status != 204:
            bad.append(f"UNLOCK {r.status}")
        if time.monotonic() > deadline:
            raise ScenarioFailed("fails", "time budget exceeded")
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    check(not bad, f"{len(bad)} of {total} pairs failed, e.g. {bad[0] if bad else ''}")
    body = b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/>' \
           b'</D:prop></D:propfind>'
    r = c.request("PROPFIND", "/props/", dict(XML, Depth="1"), body)
    c.close()
    check(r.status == 207, f"PROPFIND of the locks answered {r.status}")
    left = len(_ACTIVELOCK.findall(r.body))
    check(left == 0, f"{left} locks left after UNLOCK")
    o = Outcome(lock_rps=(total - 1) / dt)
    srv_cpu.into(o, "lock", total - 1)
    o.notes.append(f"client CPU {100 * cpu / dt:.0f}% of one core")
    return o


def s7_mkcol_put(srv, ctx):
    """MKCOL, then PUTs of 1 KiB on one keep-alive connection."""
    total = ctx.sizes["put_requests"]
    size = ctx.sizes["put_size"]
    payload = bytes(range(256)) * (size // 256)
    c = Connection(srv.port, timeout=30)
    reqs = [c.build("PUT", f"/many/f{i:04d}.bin", {"Content-Type": "application/octet-stream"},
                    payload) for i in range(total)]
    mkcol = c.build("MKCOL", "/many/")
    deadline = time.monotonic() + ctx.timeout
    c0 = time.process_time()
    t0 = time.perf_counter()
    r = c.send_raw(mkcol)
    check(r.status == 201, f"MKCOL answered {r.status}")
    bad = []
    for raw in reqs:
        r = c.send_raw(raw)
        if r.status not in (200, 201, 204):
            bad.append(r.status)
        if time.monotonic() > deadline:
            raise ScenarioFailed("fails", "time budget exceeded")
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    c.close()
    check(not bad, f"{len(bad)} PUTs failed, e.g. {bad[0] if bad else ''}")
    got = count_tree(os.path.join(srv.root, "many"))
    check(got == (total, 0, total * size), f"on disk: {got[0]} files, {got[2]} bytes; "
                                           f"expected {total}, {total * size}")
    o = Outcome(put_many_rps=(total + 1) / dt)
    o.notes.append(f"client CPU {100 * cpu / dt:.0f}% of one core")
    return o


def _curl(args, timeout):
    p = subprocess.run(["curl", "-sS", "--noproxy", "*", "-o", "/dev/null", "-w",
                        "%{http_code} %{size_upload} %{size_download} %{time_total}"] + args,
                       capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise ScenarioFailed("fails", f"curl rc {p.returncode}: {p.stderr.strip()[-200:]}")
    code, up, down, t = p.stdout.split()
    return int(code), int(float(up)), int(float(down)), float(t)


BIG_FILE_REPEATS = 3


def _big_file_runs(srv, ctx, url, curl_opts=()):
    """BIG_FILE_REPEATS x (PUT, then GET) of the big file at url with curl; one writeback stall
    would otherwise decide a round's figure. Before each timed transfer the file systems are
    synced (os.sync), so that the last PUT's dirty pages are not written back during the next
    transfer; before each PUT after the first the file is DELETEd (untimed), so every PUT
    creates it. Server CPU seconds are read from /proc around each transfer. Returns an Outcome
    with the medians: put_mibs, get_mibs, put_cpu_gib, get_cpu_gib (server CPU s per GiB)."""
    src = os.path.join(ctx.base, "src", "big.bin")
    size = os.path.getsize(src)
    dst = os.path.join(srv.root, "big.bin")
    opts = list(curl_opts)
    mib = size / (1 << 20)
    gib = size / (1 << 30)
    put_rates, get_rates, put_cpu, get_cpu = [], [], [], []
    for k in range(BIG_FILE_REPEATS):
        if k > 0:
            code, _, _, _ = _curl(opts + ["-X", "DELETE", url], ctx.timeout)
            check(code in (200, 204), f"DELETE before PUT {k + 1} answered {code}")
        os.sync()
        pids = srv.pids()
        c0 = cpu_seconds(pids)
        code, up, _, t_put = _curl(opts + ["-T", src, url], ctx.timeout)
        put_cpu.append((cpu_seconds(pids) - c0) / gib)
        check(code in (200, 201, 204), f"PUT {k + 1} answered {code}")
        check(up == size, f"curl sent {up} of {size} bytes")
        check(os.path.getsize(dst) == size, f"stored {os.path.getsize(dst)} of {size} bytes")
        with open(src, "rb") as a, open(dst, "rb") as b:  # sample 16 MiB-apart blocks
            for off in range(0, size, max(1 << 20, size // 16)):
                a.seek(off)
                b.seek(off)
                check(a.read(4096) == b.read(4096), f"stored file differs at byte {off}")
        os.sync()
        pids = srv.pids()
        c0 = cpu_seconds(pids)
        code, _, down, t_get = _curl(opts + [url], ctx.timeout)
        get_cpu.append((cpu_seconds(pids) - c0) / gib)
        check(code == 200, f"GET {k + 1} answered {code}")
        check(down == size, f"GET returned {down} of {size} bytes")
        put_rates.append(mib / t_put)
        get_rates.append(mib / t_get)
    o = Outcome(put_mibs=statistics.median(put_rates), get_mibs=statistics.median(get_rates),
                put_cpu_gib=statistics.median(put_cpu), get_cpu_gib=statistics.median(get_cpu))
    o.notes.append("PUT MiB/s " + "/".join(f"{r:.0f}" for r in put_rates) +
                   ", GET MiB/s " + "/".join(f"{r:.0f}" for r in get_rates))
    return o


def s4_big_file(srv, ctx):
    """PUT, then GET, of one big file with curl, BIG_FILE_REPEATS times; the medians. keepdav
    computes a file's checksums lazily, when first asked, never during PUT (issue 13): for it,
    then, a HEAD with Want-Repr-Digest (RFC 9530) of the file just uploaded, timed, is the cost
    of those sums paid once (sums_first_s), and a second HEAD reads them stored."""
    url = f"http://127.0.0.1:{srv.port}/big.bin"
    o = _big_file_runs(srv, ctx, url)
    if srv.name.startswith("keepdav"):
        for key in ("sums_first_s", "sums_stored_s"):
            p = subprocess.run(["curl", "-sS", "-I", "-D", "-", "-o", "/dev/null", "-w",
                                "\n%{time_total}", "-H", "Want-Repr-Digest: sha-256=1", url],
                               capture_output=True, text=True, timeout=ctx.timeout)
            check(p.returncode == 0, f"HEAD with Want-Repr-Digest: curl rc {p.returncode}")
            if "repr-digest: sha-256=:" not in p.stdout.lower() and srv.name == "keepdav-base":
                # An earlier build (--baseline-bin) from before the checksums: its transfer
                # figures still count; it has no sums to time.
                o.notes.append("no Repr-Digest (a build from before the checksums)")
                break
            check("repr-digest: sha-256=:" in p.stdout.lower(),
                  f"HEAD with Want-Repr-Digest carried no Repr-Digest: {p.stdout[:300]}")
            o.metrics[key] = float(p.stdout.strip().splitlines()[-1])
    return o


def s4_big_file_https(srv, ctx):
    """The same over HTTPS: a twin of the server (same binary or package, same root, its own
    state) serving TLS with the run's self-signed certificate, started for this scenario and
    stopped after it. Its RSS and CPU are the twin's; a server that cannot serve TLS here is
    n/a with the reason."""
    if ctx.tls is None:
        raise ScenarioFailed("n/a", ctx.tls_why)
    ok, why = srv.tls_capable()
    if not ok:
        raise ScenarioFailed("n/a", why)
    twin = srv.tls_twin(*ctx.tls)
    try:
        twin.start()
    except (RuntimeError, OSError) as e:
        twin.stop()
        raise ScenarioFailed("fails", f"HTTPS twin did not start: {e}")
    try:
        pids = twin.pids()
        reset_peak_rss(pids)
        c0 = cpu_seconds(pids)
        big = _big_file_runs(twin, ctx, f"https://127.0.0.1:{twin.port}/big.bin",
                             ["--cacert", ctx.tls[0]])
        pids = sorted(set(pids) | set(twin.pids()))
        rss_sum, rss_max = peak_rss_kib(pids)
        o = Outcome(https_put_mibs=big.metrics["put_mibs"],
                    https_get_mibs=big.metrics["get_mibs"],
                    https_put_cpu_gib=big.metrics["put_cpu_gib"],
                    https_get_cpu_gib=big.metrics["get_cpu_gib"])
        o.notes = big.notes
        # The twin's figures, not the idle plain-HTTP server's (run() keeps these).
        o.accounting = (rss_sum / 1024, rss_max / 1024, cpu_seconds(pids) - c0)
        return o
    finally:
        twin.stop()


def _idle_get(port, path, source=None, timeout=10.0):
    c = Connection(port, timeout=timeout, source=source)
    r = c.request("GET", path, keep_body=False)
    return c, r


def s9_idle_1000(srv, ctx):
    """idle_connections keep-alive connections, each after one small GET, held open; then the
    server's resident memory (VmRSS now, VmHWM peak) and the latency of a new client's GET
    (new connection each, median and maximum of idle_probes), then whether the idle ones are
    still served. They come from 127.0.0.2, .3, ... (idle_per_address each), below keepdav's
    --max-connections-per-client default of 64, so no server's limits are raised for it."""
    n = ctx.sizes["idle_connections"]
    per = ctx.sizes["idle_per_address"]
    path = "/get/f0001.bin"
    want = os.path.getsize(os.path.join(srv.root, "get", "f0001.bin"))
    idle = []
    refused = 0
    deadline = time.monotonic() + ctx.timeout
    try:
        t0 = time.perf_counter()
        for i in range(n):
            source = f"127.0.0.{2 + i // per}"
            try:
                c, r = _idle_get(srv.port, path, source)
            except OSError:
                refused += 1
                continue
            if r.status == 200 and r.body_len == want and c.sock is not None:
                idle.append(c)
            else:
                refused += 1
                c.close()
            if time.monotonic() > deadline:
                raise ScenarioFailed("fails", "time budget exceeded opening connections")
        t_open = time.perf_counter() - t0
        pids = srv.pids()
        rss_now = sum(_status_kib(pid, "VmRSS") for pid in pids) / 1024
        lat = []
        for _ in range(ctx.sizes["idle_probes"]):
            t1 = time.perf_counter()
            c, r = _idle_get(srv.port, path)
            lat.append(time.perf_counter() - t1)
            c.close()
            check(r.status == 200 and r.body_len == want,
                  f"a new client's GET answered {r.status} ({r.body_len} bytes) beside "
                  f"{len(idle)} idle connections")
        # Still served? A server that dropped the idle connections would look lean for it.
        alive = 0
        for c in idle:
            try:
                r = c.request("GET", path, keep_body=False)
                alive += r.status == 200
            except OSError:
                pass
    finally:
        for c in idle:
            c.close()
    check(refused == 0, f"{refused} of {n} connections were refused or not answered")
    o = Outcome(idle_rss_mib=rss_now, idle_get_ms=statistics.median(lat) * 1e3,
                idle_get_max_ms=max(lat) * 1e3)
    o.notes.append(f"{n} opened in {t_open:.1f} s from {(n + per - 1) // per} addresses; "
                   f"{alive} still served after the probes")
    check(alive >= n * 0.99, f"only {alive} of {n} idle connections were still served after "
                             f"{time.perf_counter() - t0:.1f} s")
    return o


def s8_propfind_100k(srv, ctx):
    """keepdav only: PROPFIND Depth infinity over the 100k tree; peak RSS is the figure."""
    files, dirs = data.tree100k_counts(ctx.sizes)
    dt = _propfind_infinity(srv, "/big-tree/", files, dirs, ctx.timeout)
    o = Outcome(pf100k_s=dt)
    o.notes.append(f"{files + dirs + 1} entries")
    return o


# Scenario db_round_trips: (key, label) of each kind of request measured, in report order.
RT_KINDS = [
    ("propfind_d0", "PROPFIND D0 (a file with 1 dead property)"),
    ("propfind_d1", "PROPFIND D1 (a folder of 2 files)"),
    ("propfind_d1_10k_props", "PROPFIND D1 dprops/ (10k files, 1k dead properties)"),
    ("propfind_d1_10k", "PROPFIND D1 d1/ (10k files, none)"),
    ("proppatch", "PROPPATCH (set 1 property)"),
    ("lock", "LOCK (exclusive, Depth 0)"),
    ("unlock", "UNLOCK"),
    ("put_new", "PUT 1 KiB, new file"),
    ("put_over", "PUT 1 KiB over a file with 1 dead property"),
    ("get", "GET 1 KiB"),
    ("copy", "COPY a file with 1 dead property"),
    ("move", "MOVE the copy"),
    ("delete", "DELETE a file with 1 dead property"),
    ("mkcol", "MKCOL"),
    ("delete_folder", "DELETE an empty folder"),
]
# keepdav's per-request debug line: "METHOD TARGET STATUS NNNus db=N" (N only with PostgreSQL).
_DEBUG_LINE = re.compile(rb"\b([A-Z]+) (\S+) (\d{3}) (\d+)us db=(\d+)")


def s14_db_round_trips(srv, ctx):
    """keepdav-pg only, not timed: PostgreSQL round trips per request, measured. A twin of the
    server (same root, same database, its own port) with --log-level=debug serves rt_repeats
    requests of each kind in RT_KINDS on one connection, then stops; its per-request debug
    lines ("METHOD TARGET STATUS NNNus db=N") are matched to the requests in order. Metrics per
    kind: rt_<kind>_med and rt_<kind>_max (round trips), rt_<kind>_us (the twin's median time
    for it, with debug logging on). The 10k listings are done 3 times each."""
    set_dprops(srv, ctx)  # so that the 10k listing carries them
    twin = srv.twin("-debug", ["--log-level=debug"])
    sent = []  # (kind, method, target) in order
    n = ctx.sizes["rt_repeats"]
    payload = bytes(range(256)) * 4
    prop = (f'<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" '
            f'xmlns:b="{NS}"><D:set><D:prop><b:note>round trips</b:note></D:prop></D:set>'
            f'</D:propertyupdate>').encode()
    try:
        twin.start()
        base = f"http://127.0.0.1:{twin.port}"
        c = Connection(twin.port, timeout=120)

        def do(kind, method, path, want, headers=None, body=b"", listing=None):
            if listing is None:
                r = c.request(method, path, headers, body)
            else:
                r, got, _ = multistatus(c, path, "1")
                check(got == listing, f"{path}: {got} <response> elements, expected {listing}")
            check(r.status in want, f"{kind}: {method} {path} answered {r.status}")
            sent.append((kind, method.encode(), path.encode()))
            return r

        check(c.request("MKCOL", "/rt/").status == 201, "MKCOL /rt/ failed")
        for i in range(n):
            d = f"/rt/c{i:03d}"
            do("mkcol", "MKCOL", d + "/", (201,))
            do("put_new", "PUT", f"{d}/f.txt", (201,), body=payload)
            do("proppatch", "PROPPATCH", f"{d}/f.txt", (207,), XML, prop)
            do("propfind_d0", "PROPFIND", f"{d}/f.txt", (207,), dict(XML, Depth="0"), ALLPROP)
            do("get", "GET", f"{d}/f.txt", (200,))
            r = do("lock", "LOCK", f"{d}/f.txt", (200,), LOCK_HEADERS, LOCKINFO)
            token = r.headers.get("lock-token", "")
            do("unlock", "UNLOCK", f"{d}/f.txt", (204,), {"Lock-Token": token})
            do("put_over", "PUT", f"{d}/f.txt", (200, 204), body=payload)
            do("copy", "COPY", f"{d}/f.txt", (201,),
               {"Destination": f"{base}{d}/g.txt", "Overwrite": "F"})
            do("move", "MOVE", f"{d}/g.txt", (201,),
               {"Destination": f"{base}{d}/h.txt", "Overwrite": "F"})
            do("propfind_d1", "PROPFIND", d + "/", (207,), listing=3)
            do("delete", "DELETE", f"{d}/h.txt", (204,))
            do("delete", "DELETE", f"{d}/f.txt", (204,))
            do("delete_folder", "DELETE", d + "/", (204,))
        for _ in range(3):
            do("propfind_d1_10k_props", "PROPFIND", "/dprops/", (207,),
               listing=ctx.sizes["dprops_files"] + 1)
            do("propfind_d1_10k", "PROPFIND", "/d1/", (207,), listing=ctx.sizes["d1_files"] + 1)
        c.close()
    finally:
        twin.stop()  # its log is complete once it has exited
        shutil.rmtree(twin.state, ignore_errors=True)
    with open(twin.log, "rb") as f:
        lines = f.read().splitlines()
    found = {}
    j = 0
    for line in lines:
        m = _DEBUG_LINE.search(line)
        if not m or j >= len(sent):
            continue
        kind, method, target = sent[j]
        if (m.group(1), m.group(2)) == (method, target):
            found.setdefault(kind, []).append((int(m.group(5)), int(m.group(4))))
            j += 1
    check(j == len(sent), f"{j} of {len(sent)} requests found in the debug log with db=N "
                          f"(line format: METHOD TARGET STATUS NNNus db=N); "
                          f"log: {twin.tail_log(300)}")
    o = Outcome()
    for kind, _ in RT_KINDS:
        trips = [t for t, _ in found[kind]]
        o.metrics[f"rt_{kind}_med"] = statistics.median(trips)
        o.metrics[f"rt_{kind}_max"] = max(trips)
        o.metrics[f"rt_{kind}_us"] = statistics.median(us for _, us in found[kind])
    o.notes.append(f"{len(sent)} requests through a --log-level=debug twin")
    return o


# (key, function, servers it runs on or None for all)
SCENARIOS = [
    ("get", s1_get, None),
    ("propfind_d1", s2_propfind_d1, None),
    ("propfind_inf", s3_propfind_infinity, None),
    ("copy_move_delete", s5_copy_move_delete, None),
    ("proppatch", s6_proppatch, None),
    ("mkcol_put", s7_mkcol_put, None),
    ("big_file", s4_big_file, None),
    ("big_file_https", s4_big_file_https, None),
    ("idle_1000", s9_idle_1000, None),
    ("propfind_100k", s8_propfind_100k, ("keepdav", "keepdav-base")),
    ("explorer_listing", s10_explorer_listing, None),
    ("checksums", s11_checksums, ("keepdav", "keepdav-base")),
    ("propfind_d1_props", s12_propfind_d1_props, None),
    ("lock_unlock", s13_lock_unlock, None),
    ("db_round_trips", s14_db_round_trips, ("keepdav-pg",)),
]


def run(key, fn, srv, ctx):
    """Run one scenario with RSS/CPU accounting; never raises for a scenario failure."""
    pids = srv.pids()
    reset_ok = reset_peak_rss(pids)
    scpu0 = cpu_seconds(pids)
    ccpu0 = client_cpu_seconds()
    t0 = time.perf_counter()
    try:
        o = fn(srv, ctx)
    except ScenarioFailed as e:
        o = Outcome(e.status, e.reason)
    except (OSError, subprocess.TimeoutExpired, ValueError) as e:
        o = Outcome("fails", f"{type(e).__name__}: {e}")
    wall = time.perf_counter() - t0
    pids = sorted(set(pids) | set(srv.pids()))
    rss_sum, rss_max = peak_rss_kib(pids)
    o.rss_sum_mib = rss_sum / 1024
    o.rss_max_mib = rss_max / 1024
    o.rss_reset = reset_ok
    o.wall_s = wall
    o.server_cpu_s = cpu_seconds(pids) - scpu0
    if getattr(o, "accounting", None):  # measured on another process (the HTTPS twin)
        o.rss_sum_mib, o.rss_max_mib, o.server_cpu_s = o.accounting
    o.client_cpu_s = client_cpu_seconds() - ccpu0
    if srv.proc is not None and srv.proc.poll() is not None:
        o.status = "fails"
        o.reason = (o.reason + "; " if o.reason else "") + \
            f"server died (rc {srv.proc.returncode}): {srv.tail_log(300)}"
    return o
