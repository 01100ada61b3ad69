"""Benchmark driver; bench/run.sh prepares the machine and calls this.

Rounds x servers, order rotated each round (so no server always runs first or last); for each,
a fresh document root copied from the generated seed, a fresh server, every scenario in
scenarios.SCENARIOS, then stop. Prints the table, writes <results-dir>/<time>.json and .tsv.
Exit status: 1 if any keepdav scenario failed its correctness check (or keepdav did not start;
keepdav-pg and keepdav-pg2 count as keepdav), else 0. A peer's failures are reported, never
fatal: they are facts about the peer.
"""

import argparse
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import time

import chart
import data
import report
import scenarios
import servers


# Servers whose failed correctness checks fail the run: keepdav, with SQLite or PostgreSQL.
CHECKED = ("keepdav", servers.PG, servers.PG2)


class Context:
    def __init__(self, sizes, base, have_wrk, timeout):
        self.sizes = sizes
        self.base = base
        self.have_wrk = have_wrk
        self.timeout = timeout
        self.tls = None  # (cert, key) for big_file_https, or None and tls_why
        self.tls_why = ""


def make_certificate(work):
    """A self-signed P-256 certificate for 127.0.0.1, made once per run in the work dir:
    (cert, key) or (None, why)."""
    if shutil.which("openssl") is None:
        return None, "openssl not installed"
    d = os.path.join(work, "tls")
    os.makedirs(d, exist_ok=True)
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], capture_output=True, text=True,
                       timeout=60)
    if p.returncode != 0:
        return None, f"openssl req failed: {p.stderr.strip()[-200:]}"
    # Servers that drop privileges (nginx, Apache) read them as root, before they do.
    os.chmod(d, 0o755)
    os.chmod(cert, 0o644)
    return (cert, key), ""


def raise_open_files():
    """Scenario idle_1000 holds 1,000 sockets here and in the server (a child inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 8192 if hard == resource.RLIM_INFINITY else min(hard, 8192)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def version(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (p.stdout + p.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def git_describe(repo):
    try:
        h = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no",
                                "--", "storage", "webdav", "server"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return h + ("+local changes" if dirty else "")
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--data", required=True, help="tmpfs dir for seed data and roots")
    ap.add_argument("--keepdav-bin", required=True)
    ap.add_argument("--results-dir", required=True)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--servers", default=",".join(servers.ALL))
    ap.add_argument("--out", help="results path without extension")
    ap.add_argument("--scenarios", default="",
                    help="comma-separated scenario keys to run (default: all)")
    ap.add_argument("--keepdav-rev", default="", help="what the binary was built from")
    ap.add_argument("--baseline-bin", default="",
                    help="another keepdav binary, run as the peer 'keepdav-base'")
    a = ap.parse_args()

    sizes = data.SMOKE if a.smoke else data.FULL
    rounds = a.rounds or (1 if a.smoke else 2)
    rounds = max(1, min(rounds, 10))
    wanted = [s.strip() for s in a.servers.split(",") if s.strip()]
    if a.baseline_bin and servers.BASELINE not in wanted:
        wanted.insert(1, servers.BASELINE)
    for s in wanted:
        if s not in servers.ALL + servers.OPT_IN:
            sys.exit(f"bench: unknown server {s!r} "
                     f"(known: {', '.join(servers.ALL + servers.OPT_IN)})")
    present, skipped = [], {}
    for s in wanted:
        ok, why = servers.availability(s, a.keepdav_bin, a.baseline_bin)
        (present.append(s) if ok else skipped.__setitem__(s, why))
    have_wrk = shutil.which("wrk") is not None
    ctx = Context(sizes, a.data, have_wrk, timeout=60 if a.smoke else 300)
    raise_open_files()
    picked = [k for k in a.scenarios.split(",") if k]
    if not picked or "big_file_https" in picked:
        ctx.tls, ctx.tls_why = make_certificate(a.work)

    ncpu = os.cpu_count()
    meta = dict(
        started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), smoke=a.smoke,
        rounds=rounds, servers=present, skipped=skipped, sizes=sizes, cpus=ncpu,
        kernel=platform.release(), loadavg_at_start=os.getloadavg(),
        keepdav=a.keepdav_rev or git_describe(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))),
        keepdav_bin=os.path.abspath(a.keepdav_bin),
        baseline_bin=os.path.abspath(a.baseline_bin) if a.baseline_bin else None,
        versions={"lighttpd": version(["lighttpd", "-v"]), "nginx": version(["nginx", "-v"]),
                  "apache": version(["apache2", "-v"]),
                  "rclone": version(["rclone", "version"]), "wrk": version(["wrk", "-v"]),
                  "postgres": version([os.path.join(servers.PG_BIN, "postgres"), "-V"]),
                  "haproxy": version(["haproxy", "-v"])},
    )
    print(f"bench: servers {', '.join(present)}; {rounds} round(s); "
          f"{'smoke' if a.smoke else 'full'} data" +
          (f"; skipped: {skipped}" if skipped else ""))
    print(f"bench: NOTE load generator (wrk/curl/python) and server share the same {ncpu} "
          f"cores; load average at start {meta['loadavg_at_start'][0]:.2f}")
    if not have_wrk:
        print("bench: wrk not installed: GET req/s and PROPFIND req/s are skipped")

    t0 = time.monotonic()
    data.generate(a.data, sizes)
    print(f"bench: data generated in {time.monotonic() - t0:.1f} s")

    pid_dir = os.path.join(a.work, "pids")
    os.makedirs(pid_dir, exist_ok=True)
    records = []
    rss_notes = {}
    keepdav_failed = []
    for rnd in range(1, rounds + 1):
        k = (rnd - 1) % len(present)
        order = present[k:] + present[:k]
        for name in order:
            root = os.path.join(a.data, "roots", name)
            work = os.path.join(a.work, f"r{rnd}-{name}")
            if os.path.exists(root):
                shutil.rmtree(root)
            os.makedirs(os.path.dirname(root), exist_ok=True)
            shutil.copytree(os.path.join(a.data, "seed"), root)
            if name in ("keepdav", servers.BASELINE):
                shutil.copytree(os.path.join(a.data, "seed100k"),
                                os.path.join(root, "big-tree"))
            state = os.path.join(a.data, "state", f"r{rnd}-{name}")
            srv = servers.make(name, work, root, pid_dir, state, a.keepdav_bin,
                               baseline_bin=a.baseline_bin)
            rss_notes[name] = srv.rss_note
            print(f"bench: round {rnd}: {name}", flush=True)
            try:
                srv.start()
            except (RuntimeError, OSError) as e:
                print(f"  could not start: {e}")
                records.append(dict(round=rnd, server=name, scenario="start", status="fails",
                                    reason=str(e), metrics={}, notes=[], rss_sum_mib=0,
                                    rss_max_mib=0, server_cpu_s=0, client_cpu_s=0, wall_s=0))
                if name in CHECKED:
                    keepdav_failed.append(f"{name} start: {e}")
                srv.stop()
                continue
            try:
                for key, fn, only in scenarios.SCENARIOS:
                    if only and name not in only:
                        continue
                    if picked and key not in picked:
                        continue
                    o = scenarios.run(key, fn, srv, ctx)
                    rec = dict(round=rnd, server=name, scenario=key, status=o.status,
                               reason=o.reason, metrics=o.metrics, notes=o.notes,
                               rss_sum_mib=o.rss_sum_mib, rss_max_mib=o.rss_max_mib,
                               rss_reset=o.rss_reset, server_cpu_s=o.server_cpu_s,
                               client_cpu_s=o.client_cpu_s, wall_s=o.wall_s)
                    records.append(rec)
                    shown = ", ".join(f"{m}={v:,.4g}" for m, v in o.metrics.items())
                    extra = "; ".join(o.notes)
                    print(f"  {key:<17} {o.status:<5} {shown} rss={o.rss_sum_mib:.1f}MiB "
                          f"srvcpu={o.server_cpu_s:.2f}s wall={o.wall_s:.2f}s"
                          + (f" [{o.reason}]" if o.reason else "")
                          + (f" ({extra})" if extra else ""), flush=True)
                    if name in CHECKED and o.status != "ok":
                        keepdav_failed.append(f"{name} {key}: {o.reason}")
            finally:
                srv.stop()
                shutil.rmtree(root, ignore_errors=True)
                shutil.rmtree(state, ignore_errors=True)

    meta["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    meta["loadavg_at_end"] = os.getloadavg()
    summary = report.summarize(records, present, report.METRICS + report.RT_METRICS)
    print()
    print(f"Results: medians of {rounds} interleaved round(s), ± = half the min-max spread as a "
          f"% of the median. keepdav {meta['keepdav']}.")
    print(f"Load generator and servers share the same {ncpu} cores (tmpfs document roots).")
    print(report.table(summary, present, rss_notes, records))
    base = a.out or os.path.join(a.results_dir, time.strftime("%Y%m%d-%H%M%S") +
                                 ("-smoke" if a.smoke else ""))
    status = report.finish(base, meta, records, summary, keepdav_failed)
    if not a.out and not a.smoke:
        # The chart the README shows (bench/results/latest.png, tracked by git): full runs only.
        chart.publish_latest(base, a.results_dir)
    return status


if __name__ == "__main__":
    # SIGTERM (from run.sh's trap) unwinds like an exception, so the running server is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
