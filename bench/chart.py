"""The run's chart: keepdav's advantage over each peer, one bar group per scenario, drawn by
gnuplot (Debian gnuplot-nox) as PNG and SVG beside the run's JSON and TSV.

Each bar is report.advantage(keepdav, peer): peer/keepdav for "lower is better" rows,
keepdav/peer for "higher", so a bar above the 1.0 line means keepdav is ahead. The axis is
logarithmic (a 2x lead and a 2x lag are bars of the same length), labelled in ratios, with 1.0
drawn across. A peer without a figure for a row (n/a, failed) has no bar there.

draw() is called by report.finish for every run; as a command it draws the chart of a results
file that exists already:
    python3 bench/chart.py bench/results/20261202-071500.json   # writes ...071500.png and .svg
"""

import json
import math
import os
import shutil
import subprocess
import sys

import report

# Short x-axis names for report.METRICS (its labels are table rows, some continuing the one
# above); a metric not listed here uses its label.
SHORT = {
    "get_rps": "GET 4 KiB req/s",
    "get_p99_ms": "GET 4 KiB p99",
    "pf1_rps": "PROPFIND D1 req/s",
    "pf1_ms": "PROPFIND D1 one req",
    "pfp_rps": "D1 dead props req/s",
    "pfp_ms": "D1 dead props one req",
    "explorer_bytes": "Explorer bytes/entry",
    "ck_cold_ms": "oc:checksums cold",
    "ck_sums_ms": "oc:checksums stored",
    "ck_plain_ms": "D1 without sums",
    "ck_ratio": "plain/sums",
    "pfinf_s": "PROPFIND Dinf",
    "rss:propfind_inf": "RSS PROPFIND Dinf",
    "put_mibs": "PUT 1 GiB",
    "sums_first_s": "1 GiB sums, first",
    "sums_stored_s": "1 GiB sums, stored",
    "get_mibs": "GET 1 GiB",
    "https_put_mibs": "PUT 1 GiB HTTPS",
    "https_get_mibs": "GET 1 GiB HTTPS",
    "put_cpu_gib": "CPU/GiB PUT",
    "get_cpu_gib": "CPU/GiB GET",
    "https_put_cpu_gib": "CPU/GiB PUT HTTPS",
    "https_get_cpu_gib": "CPU/GiB GET HTTPS",
    "idle_rss_mib": "RSS 1000 idle",
    "rss:idle_1000": "peak RSS 1000 idle",
    "idle_get_ms": "GET beside 1000 idle",
    "idle_get_max_ms": "max GET beside idle",
    "rss:big_file_https": "RSS 1 GiB HTTPS",
    "copy_s": "COPY tree",
    "move_ms": "MOVE tree",
    "delete_s": "DELETE tree",
    "proppatch_rps": "PROPPATCH",
    "lock_rps": "LOCK+UNLOCK",
    "put_many_rps": "MKCOL+PUT x2000",
    "rss:get": "RSS GET",
    "rss:propfind_d1": "RSS PROPFIND D1",
    "rss:copy_move_delete": "RSS COPY/MOVE/DEL",
    "rss:proppatch": "RSS PROPPATCH",
    "rss:mkcol_put": "RSS MKCOL+PUT",
    "rss:big_file": "RSS 1 GiB",
    "pf100k_s": "PROPFIND Dinf 100k",
    "rss:propfind_100k": "RSS PROPFIND 100k",
}
NOTE = ("\nbar = peer/keepdav for times and memory, keepdav/peer for rates: above 1.0x keepdav "
        "is ahead; no bar: the peer has no figure (n/a or failed)")
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]


def groups(summary, servers, metrics=report.METRICS):
    """[(label, {peer: ratio})] for every row where keepdav and at least one peer have a
    median; the peers in the order of servers."""
    peers = [s for s in servers if s != "keepdav"]
    out = []
    for metric, _, label, better, _ in metrics:
        row = summary.get(metric, {})
        kd = row.get("keepdav", {}).get("median")
        ratios = {}
        for p in peers:
            a = report.advantage(kd, row.get(p, {}).get("median"), better)
            if a is not None:
                ratios[p] = a
        if ratios:
            out.append((SHORT.get(metric, label.strip()), ratios))
    return out


def _quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def script(rows, peers, title, png, svg):
    """The gnuplot program for rows (see groups): one box per (row, peer), log2 of the ratio
    on a linear axis whose tics are labelled in ratios."""
    n = len(peers)
    width = 0.8 / n
    logs = [math.log2(r) for _, ratios in rows for r in ratios.values()]
    lo = min(-1.0, math.floor(min(logs)) - 0.25)
    hi = max(1.0, math.ceil(max(logs)) + 0.25)
    # Every block and plot below holds at least one point: gnuplot 5.4.4 crashes on a
    # "with labels" plot whose points are all undefined.
    blocks, plots = [], []
    for j, p in enumerate(peers):
        bars, up, down = [], [], []
        for i, (_, ratios) in enumerate(rows):
            if p in ratios:
                x = i + (j - (n - 1) / 2) * width
                point = f"{x:.4f} {math.log2(ratios[p]):.6f} {ratios[p]:.2f}"
                bars.append(point)
                (up if ratios[p] >= 1 else down).append(point)
        if not bars:
            continue
        color = COLORS[j % len(COLORS)]
        blocks.append("\n".join([f"$bars{j} << EOD", *bars, "EOD"]))
        plots.append(f"$bars{j} using 1:2:({width:.4f}) with boxes fillstyle solid 0.85 "
                     f"lc rgb '{color}' title {_quote('vs ' + p)}")
        # The ratio at the end of each bar: above one that goes up, below one that goes down.
        for name, points, align, offset in (("up", up, "left", "0.3"),
                                            ("down", down, "right", "-0.3")):
            if points:
                blocks.append("\n".join([f"${name}{j} << EOD", *points, "EOD"]))
                plots.append(f"${name}{j} using 1:2:3 with labels rotate by 90 {align} "
                             f"offset 0,{offset} font ',7' textcolor rgb '#444444' notitle")
    tics = ", ".join(f'"{2 ** k:g}x{" even" if k == 0 else ""}" {k}'
                     for k in range(math.floor(lo), math.ceil(hi) + 1))
    xtics = ", ".join(f"{_quote(label)} {i}" for i, (label, _) in enumerate(rows))
    common = [
        "set encoding utf8",
        f"set title {_quote(title + NOTE)} noenhanced",
        "set ylabel \"keepdav's advantage (log scale)\" noenhanced",
        f"set yrange [{lo:.2f}:{hi:.2f}]",
        f"set ytics ({tics})",
        f"set xrange [-0.6:{len(rows) - 0.4:.2f}]",
        f"set xtics ({xtics}) rotate by -40 left noenhanced font ',9' nomirror",
        "set grid ytics lc rgb '#dddddd'",
        "set key top left noenhanced",
        "set border 3",
        "set arrow from graph 0, first 0 to graph 1, first 0 nohead lw 2 lc rgb '#000000' front",
        "set bmargin 9",
    ]
    body = "\n".join(blocks) + "\n" + "\n".join(common) + "\n"
    plot = "plot " + ", \\\n     ".join(plots) + "\n"
    size = max(900, 90 * len(rows) + 200)
    return (body +
            f"set terminal pngcairo size {size},680 font 'DejaVu Sans,10'\n"
            f"set output {_quote(png)}\n" + plot +
            f"set terminal svg size {size},680 dynamic font 'DejaVu Sans,10'\n"
            f"set output {_quote(svg)}\n" + plot + "unset output\n")


def draw(path_base, summary, servers, title, metrics=report.METRICS):
    """Writes path_base.png and path_base.svg; returns (paths, None) or ([], reason)."""
    gnuplot = shutil.which("gnuplot")
    if gnuplot is None:
        return [], "gnuplot is not installed (Debian gnuplot-nox: bash scripts/install-deps.sh bench)"
    peers = [s for s in servers if s != "keepdav"]
    rows = groups(summary, servers, metrics)
    if "keepdav" not in servers or not rows:
        return [], "no scenario has figures for keepdav and a peer"
    used = [p for p in peers if any(p in ratios for _, ratios in rows)]
    png, svg = path_base + ".png", path_base + ".svg"
    prog = script(rows, used, title, png, svg)
    with open(path_base + ".gnuplot", "w") as f:
        f.write(prog)
    done = subprocess.run([gnuplot, path_base + ".gnuplot"], capture_output=True, text=True,
                          timeout=60)
    if done.returncode != 0:
        return [], f"gnuplot failed: {done.stderr.strip()[-500:]}"
    os.remove(path_base + ".gnuplot")
    return [png, svg], None


def publish_latest(path_base, results_dir):
    """Copies the run's chart to results_dir/latest.png and .svg, the ones the README shows."""
    for ext in (".png", ".svg"):
        if os.path.exists(path_base + ext):
            shutil.copyfile(path_base + ext, os.path.join(results_dir, "latest" + ext))
            print(f"bench: {os.path.join(results_dir, 'latest' + ext)} is this run's chart now")


def title_of(meta, path_base):
    kind = "smoke run (tiny data, 1 round)" if meta.get("smoke") else \
        f"{meta.get('rounds', '?')} rounds"
    return (f"keepdav {meta.get('keepdav', '?')} vs each peer, {kind}, "
            f"{meta.get('started', os.path.basename(path_base))}, {meta.get('cpus', '?')} cores")


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) >= 2 else 2
    status = 0
    for path in argv[1:]:
        with open(path) as f:
            results = json.load(f)
        base = path[:-5] if path.endswith(".json") else path
        meta = results["meta"]
        paths, why = draw(base, results["summary"], meta["servers"], title_of(meta, base))
        if why:
            print(f"chart: {path}: not drawn: {why}", file=sys.stderr)
            status = 1
        else:
            print(f"chart: {' and '.join(paths)}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
