"""Medians, spread and keepdav's ratios; the printed table and the TSV/JSON files."""

import json
import statistics

from scenarios import RT_KINDS

# (metric, scenario it comes from, label, better: "higher" or "lower", decimals)
METRICS = [
    ("get_rps", "get", "GET 4 KiB, req/s (wrk 2 thr/32 conn)", "higher", 0),
    ("get_p99_ms", "get", "GET 4 KiB, p99 latency, ms", "lower", 2),
    ("pf1_rps", "propfind_d1", "PROPFIND D1 10k, req/s (4 conn)", "higher", 1),
    ("pf1_ms", "propfind_d1", "PROPFIND D1 10k, single request, ms", "lower", 1),
    ("pf1_cpu_ms", "propfind_d1", "  server CPU per request under wrk, ms", "lower", 2),
    ("pf1_db_ms", "propfind_d1", "  of which PostgreSQL, ms", "lower", 2),
    ("pfp_rps", "propfind_d1_props", "PROPFIND D1 10k, 1k dead props, req/s", "higher", 1),
    ("pfp_ms", "propfind_d1_props", "  the same, single request, ms", "lower", 1),
    ("pfp_cpu_ms", "propfind_d1_props", "  server CPU per request under wrk, ms", "lower", 2),
    ("pfp_db_ms", "propfind_d1_props", "  of which PostgreSQL, ms", "lower", 2),
    ("pfinf_s", "propfind_inf", "PROPFIND Dinf 20k tree, s", "lower", 3),
    ("rss:propfind_inf", "propfind_inf", "  peak RSS during it, MiB", "lower", 1),
    ("put_mibs", "big_file", "PUT 1 GiB, MiB/s (median of 3)", "higher", 0),
    ("https_put_mibs", "big_file_https", "PUT 1 GiB over HTTPS, MiB/s", "higher", 0),
    ("sums_first_s", "big_file", "  keepdav: its checksums, computed at first ask, s", "lower", 2),
    ("sums_stored_s", "big_file", "  keepdav: the same asked again (stored), s", "lower", 3),
    ("get_mibs", "big_file", "GET 1 GiB, MiB/s (median of 3)", "higher", 0),
    ("https_get_mibs", "big_file_https", "GET 1 GiB over HTTPS, MiB/s", "higher", 0),
    ("put_cpu_gib", "big_file", "  server CPU s per GiB PUT", "lower", 2),
    ("https_put_cpu_gib", "big_file_https", "  server CPU s per GiB PUT, HTTPS", "lower", 2),
    ("get_cpu_gib", "big_file", "  server CPU s per GiB GET", "lower", 2),
    ("https_get_cpu_gib", "big_file_https", "  server CPU s per GiB GET, HTTPS", "lower", 2),
    ("idle_rss_mib", "idle_1000", "1,000 idle conns: RSS, MiB (target < 64)", "lower", 1),
    ("rss:idle_1000", "idle_1000", "  peak RSS while opening them, MiB", "lower", 1),
    ("idle_get_ms", "idle_1000", "  new client's GET beside them, ms", "lower", 2),
    ("idle_get_max_ms", "idle_1000", "  slowest of those GETs, ms", "lower", 2),
    ("copy_s", "copy_move_delete", "COPY tree, s", "lower", 3),
    ("move_ms", "copy_move_delete", "MOVE tree (median of 5), ms", "lower", 2),
    ("delete_s", "copy_move_delete", "DELETE tree, s", "lower", 3),
    ("proppatch_rps", "proppatch", "PROPPATCH x1000, 1 conn, req/s", "higher", 0),
    ("proppatch_cpu_ms", "proppatch", "  server CPU per PROPPATCH, ms", "lower", 3),
    ("proppatch_db_ms", "proppatch", "  of which PostgreSQL, ms", "lower", 3),
    ("lock_rps", "lock_unlock", "LOCK + UNLOCK x1000, 1 conn, pairs/s", "higher", 0),
    ("lock_cpu_ms", "lock_unlock", "  server CPU per pair, ms", "lower", 3),
    ("lock_db_ms", "lock_unlock", "  of which PostgreSQL, ms", "lower", 3),
    ("put_many_rps", "mkcol_put", "MKCOL + PUT 1 KiB x2000, 1 conn, req/s", "higher", 0),
    ("rss:get", "get", "peak RSS, GET 4 KiB, MiB", "lower", 1),
    ("rss:propfind_d1", "propfind_d1", "peak RSS, PROPFIND D1, MiB", "lower", 1),
    ("rss:copy_move_delete", "copy_move_delete", "peak RSS, COPY/MOVE/DELETE, MiB", "lower", 1),
    ("rss:proppatch", "proppatch", "peak RSS, PROPPATCH, MiB", "lower", 1),
    ("rss:mkcol_put", "mkcol_put", "peak RSS, MKCOL + PUT, MiB", "lower", 1),
    ("rss:big_file", "big_file", "peak RSS, PUT/GET 1 GiB, MiB", "lower", 1),
    ("rss:big_file_https", "big_file_https", "peak RSS, PUT/GET 1 GiB HTTPS, MiB", "lower", 1),
    ("explorer_bytes", "explorer_listing", "Explorer allprop D1 2.5k files, bytes/entry",
     "lower", 0),
    ("ck_cold_ms", "checksums", "keepdav PROPFIND D1 10k oc:checksums, cold, ms", "lower", 1),
    ("ck_sums_ms", "checksums", "  the same, sums stored, ms", "lower", 1),
    ("ck_plain_ms", "checksums", "  the same without oc:checksums, ms", "lower", 1),
    ("ck_ratio", "checksums", "  plain / with sums (target at least 0.8)", "higher", 2),
    ("pf100k_s", "propfind_100k", "keepdav PROPFIND Dinf 100k entries, s", "lower", 2),
    ("rss:propfind_100k", "propfind_100k", "  peak RSS during it, MiB (target < 64)", "lower", 1),
]


# Scenario db_round_trips (keepdav-pg): PostgreSQL round trips per request; summarized with
# METRICS (bench.py passes both) and shown in a section of their own, not in the chart.
RT_METRICS = [(f"rt_{k}_{v}", "db_round_trips", f"{label}, {v}", "lower", 1)
              for k, label in RT_KINDS for v in ("med", "max", "us")]

# Issue 15's targets: (metric, server, against, target). The ratio is server / against for
# "higher" rows (rates), against / server for "lower" ones (CPU per request), so that at least
# the target meets it; None: shown, no target.
TARGETS = [
    ("pfp_rps", "keepdav-pg", "keepdav", 0.8),
    ("pfp_rps", "keepdav-pg2", "keepdav", 0.8),
    ("pfp_cpu_ms", "keepdav-pg", "keepdav", None),
    ("pf1_rps", "keepdav-pg", "keepdav", None),
    ("pf1_rps", "keepdav-pg2", "keepdav", None),
    ("proppatch_rps", "keepdav-pg", "apache", 1.0),
    ("proppatch_rps", "keepdav-pg2", "apache", 1.0),
    ("proppatch_cpu_ms", "keepdav-pg", "apache", None),
    ("proppatch_rps", "keepdav-pg", "keepdav", None),
    ("lock_rps", "keepdav-pg", "keepdav", None),
    ("lock_rps", "keepdav-pg2", "keepdav", None),
    ("lock_rps", "keepdav-pg", "apache", None),
]


def values(records, server, metric, scenario):
    """Values over rounds, and the reasons of rounds where the scenario did not run."""
    vals, reasons = [], []
    for r in records:
        if r["server"] != server or r["scenario"] != scenario:
            continue
        if r["status"] != "ok":
            reasons.append(f'{r["status"]}: {r["reason"]}')
            continue
        if metric.startswith("rss:"):
            v = r["rss_sum_mib"]
        else:
            v = r["metrics"].get(metric)
        if v is not None:
            vals.append(v)
    return vals, reasons


def summarize(records, servers, metrics=METRICS):
    """{metric: {server: {median, min, max, n, reason}}}; metrics as in METRICS (bench/long_ops.py
    passes its own)."""
    out = {}
    for metric, scenario, *_ in metrics:
        row = {}
        for s in servers:
            vals, reasons = values(records, s, metric, scenario)
            if vals:
                row[s] = dict(median=statistics.median(vals), min=min(vals), max=max(vals),
                              n=len(vals), reason="; ".join(sorted(set(reasons))))
            elif reasons:
                row[s] = dict(median=None, reason=reasons[0])
        out[metric] = row
    return out


def advantage(kd, peer, better):
    """How many times better keepdav is than the peer: > 1 means keepdav is ahead."""
    if kd is None or peer is None or kd <= 0 or peer <= 0:
        return None
    return kd / peer if better == "higher" else peer / kd


def _fmt(v, dec):
    if v is None:
        return "-"
    return f"{v:,.{dec}f}"


def _cell(c, dec):
    if c is None:
        return ""
    if c["median"] is None:
        r = c["reason"]
        return "n/a" if r.startswith("n/a") else "fails"
    s = _fmt(c["median"], dec)
    if c["n"] > 1 and c["median"]:
        spread = (c["max"] - c["min"]) / 2 / c["median"] * 100
        s += f" ±{spread:.0f}%"
    if c.get("reason"):
        s += "*"
    return s


def table(summary, servers, rss_notes, records=None):
    peers = [s for s in servers if s != "keepdav"]
    lines = []
    w0 = 42
    head = f'{"scenario":<{w0}} {"better":<7}' + "".join(f"{s:>17}" for s in servers)
    lines.append(head)
    lines.append("-" * len(head))
    for metric, _, label, better, dec in METRICS:
        row = summary.get(metric, {})
        if not row:
            continue
        lines.append(f"{label:<{w0}} {better:<7}" +
                     "".join(f"{_cell(row.get(s), dec):>17}" for s in servers))
    lines.append("")
    lines.append("keepdav's advantage over each peer (peer/keepdav for 'lower is better' rows, "
                 "keepdav/peer for 'higher'): > 1.00x means keepdav is ahead")
    # Columns wide enough for the longest peer name (keepdav-pg2) and a space.
    wc = max([13] + [len(p) + 4 for p in peers])
    head = f'{"scenario":<{w0}}' + "".join(f"{'vs ' + s:>{wc}}" for s in peers) + \
        f'{"vs best peer":>15}'
    lines.append(head)
    lines.append("-" * len(head))
    for metric, _, label, better, dec in METRICS:
        row = summary.get(metric, {})
        kd = row.get("keepdav", {}).get("median")
        if not row or kd is None or not peers:
            continue
        cells, ratios = [], []
        for p in peers:
            a = advantage(kd, row.get(p, {}).get("median"), better)
            cells.append(f"{a:.2f}x" if a is not None else "-")
            if a is not None:
                ratios.append(a)
        best = f"{min(ratios):.2f}x" if ratios else "-"
        lines.append(f"{label:<{w0}}" + "".join(f"{c:>{wc}}" for c in cells) + f"{best:>15}")
    lines.extend(targets_section(summary, servers, records))
    lines.extend(round_trips_section(summary, servers))
    lines.append("")
    lines.append("peak RSS = VmHWM reset before each scenario (/proc/PID/clear_refs), summed "
                 "over the server's processes: " +
                 "; ".join(f"{s}: {n}" for s, n in rss_notes.items()))
    reasons = []
    for metric, _, label, *_ in METRICS:
        for s, c in summary.get(metric, {}).items():
            if c.get("reason"):
                reasons.append(f"  {s:<9} {label.strip()}: {c['reason']}")
    if reasons:
        lines.append("n/a and failures (* = some rounds only):")
        lines.extend(sorted(set(reasons)))
    return "\n".join(lines)


def round_ratios(records, metric, scenario, srv, against, better):
    """The ratio of srv to against in each round where both have the figure (the two ran
    minutes apart, while the medians of rounds may come from different load)."""
    out = []
    for rnd in sorted({r["round"] for r in records}):
        v = {}
        for r in records:
            if r["round"] == rnd and r["scenario"] == scenario and r["status"] == "ok":
                v[r["server"]] = r["metrics"].get(metric)
        a, b = v.get(srv), v.get(against)
        if a and b:
            out.append(a / b if better == "higher" else b / a)
    return out


def targets_section(summary, servers, records=None):
    """Issue 15's ratios (TARGETS) whose two servers both have a median; with records, also
    the ratio in each round and their median."""
    rows = {m: (scenario, label.strip(), better) for m, scenario, label, better, _ in METRICS}
    out = []
    for metric, srv, against, target in TARGETS:
        if srv not in servers or against not in servers:
            continue
        scenario, label, better = rows[metric]
        row = summary.get(metric, {})
        a = row.get(srv, {}).get("median")
        b = row.get(against, {}).get("median")
        if not a or not b:
            continue
        ratio = a / b if better == "higher" else b / a
        verdict = ""
        if target is not None:
            verdict = f"  target at least {target:.2f}x: {'met' if ratio >= target else 'MISSED'}"
        per = round_ratios(records or [], metric, scenario, srv, against, better)
        rounds = ""
        if len(per) > 1:
            rounds = (f"  per round {' '.join(f'{x:.2f}' for x in per)}, median "
                      f"{statistics.median(per):.2f}x")
        out.append(f"  {label:<40} {srv + ' vs ' + against:<24} {ratio:5.2f}x{verdict}{rounds}")
    if out:
        out = ["", "Several instances (issue 15): ratios of the medians, > 1.00x: the first server "
                   "is ahead (rates: first/second; CPU per request: second/first)"] + out
    return out


def round_trips_section(summary, servers):
    """Scenario db_round_trips: median and max PostgreSQL round trips per kind of request."""
    out = []
    for s in servers:
        rows = []
        for kind, label in RT_KINDS:
            med = summary.get(f"rt_{kind}_med", {}).get(s, {}).get("median")
            mx = summary.get(f"rt_{kind}_max", {}).get(s, {}).get("max")
            us = summary.get(f"rt_{kind}_us", {}).get(s, {}).get("median")
            if med is None or mx is None:
                continue
            rows.append(f"  {label:<52} {med:>6g} {mx:>6g} {us / 1e3:>10.2f}")
        if rows:
            out += ["", f"{s}: PostgreSQL round trips per request (scenario db_round_trips, a "
                        f"--log-level=debug twin, untimed; over rounds: median of medians, "
                        f"max of maxima)",
                    f"  {'request':<52} {'median':>6} {'max':>6} {'server ms':>10}"] + rows
    for s, c in summary.get(f"rt_{RT_KINDS[0][0]}_med", {}).items():
        if c.get("median") is None:
            out += ["", f"{s}: PostgreSQL round trips not measured: {c.get('reason')}"]
    return out


def finish(path_base, meta, records, summary, keepdav_failed, metrics=METRICS):
    """Writes the result files and the chart (bench/chart.py: a missing gnuplot is said, not
    fatal), says where, lists keepdav's failed checks; the exit status. metrics as in
    summarize."""
    import chart  # chart imports this module

    write_files(path_base, meta, records, summary)
    print(f"\nbench: results written to {path_base}.json and {path_base}.tsv")
    paths, why = chart.draw(path_base, summary, meta["servers"],
                            chart.title_of(meta, path_base), metrics)
    if why:
        print(f"bench: no chart: {why}")
    else:
        print(f"bench: chart drawn to {' and '.join(paths)}")
    if keepdav_failed:
        print("bench: FAILED correctness checks of keepdav:")
        for f in keepdav_failed:
            print(f"  {f}")
        return 1
    return 0


def write_files(path_base, meta, records, summary):
    with open(path_base + ".json", "w") as f:
        json.dump(dict(meta=meta, summary=summary, records=records), f, indent=1)
    with open(path_base + ".tsv", "w") as f:
        f.write("round\tserver\tscenario\tmetric\tvalue\tstatus\treason\n")
        for r in records:
            items = list(r["metrics"].items()) + [("rss_sum_mib", r["rss_sum_mib"]),
                                                  ("rss_max_mib", r["rss_max_mib"]),
                                                  ("server_cpu_s", r["server_cpu_s"]),
                                                  ("client_cpu_s", r["client_cpu_s"]),
                                                  ("wall_s", r["wall_s"])]
            for k, v in items:
                reason = r["reason"].replace("\t", " ").replace("\n", " ")
                f.write(f'{r["round"]}\t{r["server"]}\t{r["scenario"]}\t{k}\t{v:.6g}\t'
                        f'{r["status"]}\t{reason}\n')
