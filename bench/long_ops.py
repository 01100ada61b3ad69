"""Long-operation benchmark (issue 4): deep COPY, MOVE and DELETE of a 20,000-file tree, with
the number of 102 Processing responses, keepdav beside Apache mod_dav, in one run.

bench/run.sh --long-ops prepares the machine (build, tmpfs, traps) and calls this. It reuses
the main benchmark's parts: the tree of data.py (20 x 10 folders x 100 files of 1 KiB), the
server configs of servers.py (Apache with DavDepthInfinity On), the raw client of davclient.py
(which keeps the 1xx responses it skips) and the accounting of scenarios.run.

Two passes over the same seed: the document roots on the benchmark's tmpfs (where these
operations take well under a second) and on the disk under the run's temp dir (the more
realistic figure). In each pass, for every round and both servers (order rotated each round),
a fresh root with /tree/ copied from the seed, a fresh server, then four timed requests on one
keep-alive connection, each followed by a check of what is on disk:
  1. COPY /tree/ -> /copy/ (Depth: infinity, Overwrite: F)            201, 20,000 files
  2. COPY /tree/ -> /copy/ (Overwrite: T) onto that copy, which was     204, 20,000 files, the
     given one extra file first (PUT, untimed)                          extra file gone
  3. MOVE /copy/ -> /moved/ (same file system, Overwrite: F)           201, source gone
  4. DELETE /moved/                                                    204, tree gone
and after each step the root holds exactly the names it should (no staging leftovers).

keepdav runs with --processing=always --processing-first-ms=100 --processing-interval-ms=100,
so that 102s show even for sub-second operations; the table also gives what the default
(first 102 after 20 s, then every 20 s) would send for the measured time: none under 20 s.
Apache mod_dav sends no 102; its count is measured all the same.
"""

import argparse
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import time

import bench
import data
import report
import scenarios
import servers
from davclient import Connection
from scenarios import Outcome, check, count_tree

SERVERS = ["keepdav", "apache"]
INTERVAL_MS = 100
KEEPDAV_ARGS = ["--processing=always", f"--processing-first-ms={INTERVAL_MS}",
                f"--processing-interval-ms={INTERVAL_MS}",
                # keepdav's default level: its one line per long operation says how many 102s it
                # sent, a cross-check of the count the client received.
                "--log-level=information"]
DEFAULT_INTERVAL_S = 20.0  # keepdav's --processing-interval-ms default (first 102 likewise)

# (key, label, expected final status)
STEPS = [
    ("copy", "COPY tree to a new name", 201),
    ("copy_over", "COPY onto that copy, Overwrite: T", 204),
    ("move", "MOVE tree (same device)", 201),
    ("delete", "DELETE tree", 204),
]
DONE_HEADER = "keepdav-resources-done"
TOTAL_HEADER = "keepdav-resources-total"
LOG_LINE = re.compile(r"long (COPY|MOVE|DELETE) (\S+): (\d+) resources, ([\d.]+) s, "
                      r"(\d+) x 102, status (\d+)")


class Context:
    def __init__(self, sizes, pass_name, timeout):
        self.sizes = sizes
        self.pass_name = pass_name
        self.timeout = timeout


def fs_type(path):
    try:
        p = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "-T", path], capture_output=True,
                           text=True, timeout=10)
        return p.stdout.strip() or "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def timed_step(conn, method, path, headers):
    """One timed request. Dirty pages of the previous step are written first (os.sync, untimed)
    so that a disk pass does not charge one server's write-back to the next step."""
    os.sync()
    t0 = time.perf_counter()
    r = conn.request(method, path, headers)
    dt = time.perf_counter() - t0
    dones = [int(h[DONE_HEADER]) for s, h, _ in r.interim if s == 102 and DONE_HEADER in h]
    totals = [int(h[TOTAL_HEADER]) for s, h, _ in r.interim if s == 102 and TOTAL_HEADER in h]
    m = dict(s=dt, status=r.status, n102=sum(1 for s, _, _ in r.interim if s == 102),
             # What keepdav's default sends for this duration: a 102 at 20 s, 40 s, ...
             n102_at20=int(dt // DEFAULT_INTERVAL_S))
    if r.interim:
        m["first102_s"] = r.interim[0][2]
    if dones:
        m["done"] = dones[-1]
        # 102s that repeat the previous count: the progress figure stalled meanwhile.
        m["repeat"] = sum(1 for x, y in zip(dones, dones[1:]) if x == y)
        check(dones == sorted(dones), f"{method}: Keepdav-Resources-Done went down: {dones}")
    if totals:
        m["total"] = totals[-1]
    return r, m


def expect_names(root, want, step):
    got = sorted(os.listdir(root))
    check(got == sorted(want), f"after {step} the root holds {got}, expected {sorted(want)}")


def expect_tree(path, files, dirs, size, step):
    got = count_tree(path)
    check(got == (files, dirs, size), f"after {step} {path} holds {got[0]} files, {got[1]} "
                                      f"folders, {got[2]} bytes; expected {files}, {dirs}, {size}")


def long_ops(srv, ctx):
    """The four steps of the module docstring; metrics '<pass>:<step>_<what>'."""
    files, dirs = data.tree_counts(ctx.sizes)
    size = files * ctx.sizes["tree_file_size"]
    base = f"http://127.0.0.1:{srv.port}"
    root = srv.root
    c = Connection(srv.port, timeout=ctx.timeout)
    out = {}

    def record(step, m, want):
        for k, v in m.items():
            out[f"{ctx.pass_name}:{step}_{k}"] = v
        check(m["status"] == want, f"{step}: answered {m['status']}, expected {want}")

    r, m = timed_step(c, "COPY", "/tree/", {"Destination": f"{base}/copy/", "Depth": "infinity",
                                            "Overwrite": "F"})
    record("copy", m, 201)
    expect_tree(os.path.join(root, "copy"), files, dirs, size, "COPY")
    expect_names(root, ["tree", "copy"], "COPY")

    # Overwrite: T must replace the destination, not merge into it (RFC 4918 9.8.4): a file
    # only the old copy has must be gone afterwards.
    r = c.request("PUT", "/copy/extra.txt", {"Content-Type": "text/plain"}, b"only in the old\n")
    check(r.status in (200, 201, 204), f"PUT of the extra file answered {r.status}")
    r, m = timed_step(c, "COPY", "/tree/", {"Destination": f"{base}/copy/", "Depth": "infinity",
                                            "Overwrite": "T"})
    record("copy_over", m, 204)
    check(not os.path.exists(os.path.join(root, "copy", "extra.txt")),
          "COPY with Overwrite: T merged into the old copy (its extra file survived)")
    expect_tree(os.path.join(root, "copy"), files, dirs, size, "COPY Overwrite: T")
    expect_names(root, ["tree", "copy"], "COPY Overwrite: T")

    r, m = timed_step(c, "MOVE", "/copy/", {"Destination": f"{base}/moved/", "Overwrite": "F"})
    record("move", m, 201)
    expect_tree(os.path.join(root, "moved"), files, dirs, size, "MOVE")
    expect_names(root, ["tree", "moved"], "MOVE")

    r, m = timed_step(c, "DELETE", "/moved/", {})
    c.close()
    record("delete", m, 204)
    expect_names(root, ["tree"], "DELETE")
    expect_tree(os.path.join(root, "tree"), files, dirs, size, "all steps (the source)")
    return Outcome(**out)


def server_log_102s(log_path):
    """{method: (resources, seconds, 102s sent, status)} from keepdav's long-operation lines;
    the second COPY is keyed COPY2."""
    seen = {}
    try:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            for line in f:
                mt = LOG_LINE.search(line)
                if mt:
                    key = mt.group(1) if mt.group(1) not in seen else mt.group(1) + "2"
                    seen[key] = (int(mt.group(3)), float(mt.group(4)), int(mt.group(5)),
                                 int(mt.group(6)))
    except OSError:
        pass
    return seen


def metric_rows(passes):
    """Rows for report.summarize: (metric, scenario, label, better, decimals)."""
    rows = []
    for p in passes:
        for step, label, _ in STEPS:
            for what, dec in (("s", 3), ("n102", 0), ("done", 0), ("repeat", 0),
                              ("n102_at20", 0), ("first102_s", 3)):
                rows.append((f"{p}:{step}_{what}", p, f"{p} {label} {what}", "lower", dec))
    return rows


def _median(summary, metric, server):
    c = summary.get(metric, {}).get(server)
    return None if c is None else c.get("median")


def _spread(c):
    if not c or c.get("median") in (None, 0) or c.get("n", 1) < 2:
        return ""
    return f" ±{(c['max'] - c['min']) / 2 / c['median'] * 100:.0f}%"


def _statuses(records, server, p, step):
    vals = sorted({r["metrics"].get(f"{p}:{step}_status") for r in records
                   if r["server"] == server and r["scenario"] == p} - {None})
    return "/".join(str(int(v)) for v in vals) or "-"


def _range(summary, metric, server):
    c = summary.get(metric, {}).get(server)
    if not c or c.get("median") is None:
        return "-"
    s = f"{c['median']:.0f}"
    if c["n"] > 1 and c["min"] != c["max"]:
        s += f" ({c['min']:.0f}-{c['max']:.0f})"
    return s


def table(summary, records, passes, present, fs_types, rounds, resources):
    lines = []
    kd, ap = "keepdav" in present, "apache" in present
    for p in passes:
        lines.append(f"{p} ({fs_types[p]}): medians of {rounds} round(s), ± = half the min-max "
                     f"spread as a % of the median")
        head = (f'{"step":<34}{"keepdav s":>15}{"apache s":>15}{"kd/apache":>10}'
                f'{"status kd, ap":>15}{"102s kd":>14}{"same Done":>11}{"last Done":>22}'
                f'{"102s ap":>8}{"102s @20s":>10}')
        lines.append(head)
        lines.append("-" * len(head))
        for step, label, _ in STEPS:
            m = f"{p}:{step}_s"
            ck = summary.get(m, {}).get("keepdav")
            ca = summary.get(m, {}).get("apache")
            tk, ta = _median(summary, m, "keepdav"), _median(summary, m, "apache")
            cell_k = f"{tk:.4f}{_spread(ck)}" if tk is not None else ("fails" if kd else "")
            cell_a = f"{ta:.4f}{_spread(ca)}" if ta is not None else ("fails" if ap else "")
            ratio = f"{tk / ta:.2f}" if tk and ta else "-"
            st = f"{_statuses(records, 'keepdav', p, step)}, {_statuses(records, 'apache', p, step)}"
            n102 = _range(summary, f"{p}:{step}_n102", "keepdav")
            done = _range(summary, f"{p}:{step}_done", "keepdav")
            same = _range(summary, f"{p}:{step}_repeat", "keepdav")
            n102a = _range(summary, f"{p}:{step}_n102", "apache")
            at20 = _range(summary, f"{p}:{step}_n102_at20", "keepdav")
            lines.append(f"{label:<34}{cell_k:>15}{cell_a:>15}{ratio:>10}{st:>15}{n102:>14}"
                         f"{same:>11}{done:>22}{n102a:>8}{at20:>10}")
        lines.append("")
    lines.append(f"102s kd: interim responses keepdav's client received, median (range) "
                 f"(--processing=always, first after {INTERVAL_MS} ms, then every {INTERVAL_MS} "
                 f"ms); same Done: 102s whose Keepdav-Resources-Done repeated the previous one "
                 f"(progress stalled); last Done: the last Keepdav-Resources-Done value (the tree "
                 f"is {resources:,} resources); 102s ap: what Apache sent; 102s @20s: what "
                 f"keepdav's default (first after 20 s, then every 20 s) sends for the measured "
                 f"times: none for an operation under 20 s. kd/apache < 1: keepdav is faster.")
    reasons = sorted({f"  {r['server']:<8} {r['scenario']} round {r['round']}: {r['status']}: "
                      f"{r['reason']}" for r in records if r["status"] != "ok"})
    if reasons:
        lines.append("failures:")
        lines.extend(reasons)
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--data", required=True, help="the benchmark's tmpfs")
    ap.add_argument("--disk", required=True, help="a dir on the disk (the realistic pass)")
    ap.add_argument("--keepdav-bin", required=True)
    ap.add_argument("--results-dir", required=True)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--servers", default=",".join(SERVERS))
    ap.add_argument("--out", help="results path without extension")
    ap.add_argument("--keepdav-rev", default="")
    a = ap.parse_args()

    sizes = data.SMOKE if a.smoke else data.FULL
    rounds = max(1, min(a.rounds or (1 if a.smoke else 3), 10))
    wanted = [s.strip() for s in a.servers.split(",") if s.strip()]
    for s in wanted:
        if s not in SERVERS:
            sys.exit(f"bench: --long-ops compares {', '.join(SERVERS)}; not {s!r}")
    present, skipped = [], {}
    for s in wanted:
        ok, why = servers.availability(s, a.keepdav_bin)
        (present.append(s) if ok else skipped.__setitem__(s, why))
    files, dirs = data.tree_counts(sizes)
    passes = {"tmpfs": a.data, "disk": a.disk}
    fs_types = {p: fs_type(d) for p, d in passes.items()}
    meta = dict(
        benchmark="long-ops", started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        smoke=a.smoke, rounds=rounds, servers=present, skipped=skipped,
        tree=dict(files=files, folders=dirs, file_size=sizes["tree_file_size"]),
        passes={p: dict(dir=d, fs=fs_types[p]) for p, d in passes.items()},
        keepdav=a.keepdav_rev, keepdav_bin=os.path.abspath(a.keepdav_bin),
        keepdav_args=KEEPDAV_ARGS, cpus=os.cpu_count(), kernel=platform.release(),
        loadavg_at_start=os.getloadavg(),
        versions={"apache": bench.version(["apache2", "-v"])},
    )
    print(f"bench: long operations, servers {', '.join(present)}; {rounds} round(s); tree of "
          f"{files:,} files in {dirs} folders; passes: " +
          ", ".join(f"{p} ({fs_types[p]})" for p in passes) +
          (f"; skipped: {skipped}" if skipped else ""))
    print(f"bench: NOTE shared, noisy machine: {os.cpu_count()} cores, load average at start "
          f"{meta['loadavg_at_start'][0]:.2f}")

    seed = os.path.join(a.data, "longops-seed")
    t0 = time.monotonic()
    data.generate_tree(os.path.join(seed, "tree"), sizes, random.Random(4))  # issue 4
    print(f"bench: tree generated in {time.monotonic() - t0:.1f} s")

    pid_dir = os.path.join(a.work, "pids")
    os.makedirs(pid_dir, exist_ok=True)
    records = []
    keepdav_failed = []
    for p, pdir in passes.items():
        ctx = Context(sizes, p, timeout=60 if a.smoke else 600)
        for rnd in range(1, rounds + 1):
            k = (rnd - 1) % max(1, len(present))
            for name in present[k:] + present[:k]:
                root = os.path.join(pdir, "roots", name)
                state = os.path.join(pdir, "state", f"r{rnd}-{name}")
                work = os.path.join(a.work, f"{p}-r{rnd}-{name}")
                shutil.rmtree(root, ignore_errors=True)
                os.makedirs(root)
                shutil.copytree(os.path.join(seed, "tree"), os.path.join(root, "tree"))
                srv = servers.make(name, work, root, pid_dir, state, a.keepdav_bin, KEEPDAV_ARGS)
                print(f"bench: {p} round {rnd}: {name}", flush=True)
                try:
                    srv.start()
                    o = scenarios.run(p, long_ops, srv, ctx)
                except (RuntimeError, OSError) as e:
                    o = Outcome("fails", f"could not start: {e}")
                    o.rss_sum_mib = o.rss_max_mib = o.server_cpu_s = o.client_cpu_s = 0
                    o.wall_s = 0
                    o.rss_reset = False
                finally:
                    srv.stop()
                    shutil.rmtree(root, ignore_errors=True)
                    shutil.rmtree(state, ignore_errors=True)
                notes = list(o.notes)
                logged = server_log_102s(srv.log) if name == "keepdav" else {}
                if logged:
                    notes.append("keepdav log: " + "; ".join(
                        f"{m} {v[0]} resources {v[1]:.3f} s {v[2]} x 102 -> {v[3]}"
                        for m, v in logged.items()))
                records.append(dict(round=rnd, server=name, scenario=p, status=o.status,
                                    reason=o.reason, metrics=o.metrics, notes=notes,
                                    rss_sum_mib=o.rss_sum_mib, rss_max_mib=o.rss_max_mib,
                                    rss_reset=o.rss_reset, server_cpu_s=o.server_cpu_s,
                                    client_cpu_s=o.client_cpu_s, wall_s=o.wall_s))
                shown = "  ".join(
                    f"{step} {o.metrics[f'{p}:{step}_s']:.3f}s "
                    f"{int(o.metrics[f'{p}:{step}_status'])} "
                    f"{int(o.metrics[f'{p}:{step}_n102'])}x102"
                    + (f" done={int(o.metrics[f'{p}:{step}_done'])}"
                       f" same={int(o.metrics[f'{p}:{step}_repeat'])}"
                       if f"{p}:{step}_done" in o.metrics else "")
                    for step, _, _ in STEPS if f"{p}:{step}_s" in o.metrics)
                print(f"  {o.status:<5} {shown}" + (f" [{o.reason}]" if o.reason else ""),
                      flush=True)
                if logged:
                    print(f"  ({notes[-1]})", flush=True)
                if name == "keepdav" and o.status != "ok":
                    keepdav_failed.append(f"{p} round {rnd}: {o.reason}")

    meta["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    meta["loadavg_at_end"] = os.getloadavg()
    summary = report.summarize(records, present, metric_rows(list(passes)))
    print()
    print(f"Long operations on a tree of {files:,} files in {dirs} folders "
          f"({sizes['tree_file_size']} bytes each), keepdav {a.keepdav_rev} beside Apache "
          f"mod_dav; client and servers share {os.cpu_count()} cores on a shared machine "
          f"(load average {meta['loadavg_at_start'][0]:.2f} at start, "
          f"{meta['loadavg_at_end'][0]:.2f} at end).")
    print("On tmpfs these operations are sub-second: the disk pass is the realistic one.")
    print(table(summary, records, list(passes), present, fs_types, rounds, files + dirs + 1))
    base = a.out or os.path.join(a.results_dir, time.strftime("%Y%m%d-%H%M%S") + "-long-ops" +
                                 ("-smoke" if a.smoke else ""))
    if "keepdav" not in present and not keepdav_failed:
        keepdav_failed = ["keepdav did not run"]
    return report.finish(base, meta, records, summary, keepdav_failed,
                         metric_rows(list(passes)))


if __name__ == "__main__":
    # SIGTERM (from run.sh's trap) unwinds like an exception, so the running server is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
