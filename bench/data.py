"""The benchmark's data: sizes for a full and a smoke run, and the generator.

Generated once per run into seed/ (deterministic content: the same bytes for every server),
then copied into a fresh document root for each server and round.

Layout of a root:
  get/f0001.bin ..      4 KiB files (scenario 1)
  d1/f00001.txt ..      one folder of many small files (scenario 2, and checksums)
  dprops/f00001.txt ..  the same again, a dead property set on every tenth file by the
                        scenario before it lists them (propfind_d1_props, issue 15)
  explorer/quarterly-report-2026-0000.doc ..
                        a folder of files with 30-character names (explorer_listing)
  tree/dNN/sNN/fNNN     nested folders (scenarios 3 and 5)
  props/fNNN.txt        PROPPATCH targets (scenario 6), LOCK/UNLOCK targets (lock_unlock)
and beside the seed, src/big.bin (the PUT source of scenario 4) and seed100k/ (keepdav's
Depth infinity memory check, scenario 8).
"""

import os
import random

FULL = dict(
    get_files=100, get_size=4096,
    d1_files=10_000,
    dprops_files=10_000, dprops_every=10,
    explorer_files=2_500,
    tree=(20, 10, 100), tree_file_size=1024,  # 20 x 10 folders x 100 files = 20,000 files
    props_files=100, proppatch_requests=1_000, lock_requests=1_000,
    put_requests=2_000, put_size=1024,
    big_size=1 << 30,
    tree100k=(100, 1_000),  # 100 folders x 1,000 files
    wrk_seconds=10, latency_samples=5,
    # Scenario idle_1000: connections held open, how many come from each 127.0.0.x address
    # (below keepdav's --max-connections-per-client default of 64), new-client GETs timed.
    idle_connections=1_000, idle_per_address=50, idle_probes=20,
    # Scenario db_round_trips (keepdav-pg only): each kind of request, this many times.
    rt_repeats=20,
)

SMOKE = dict(
    get_files=10, get_size=4096,
    d1_files=200,
    dprops_files=200, dprops_every=10,
    explorer_files=50,
    tree=(2, 5, 20), tree_file_size=1024,
    props_files=10, proppatch_requests=50, lock_requests=50,
    put_requests=50, put_size=1024,
    big_size=16 << 20,
    tree100k=(10, 100),
    wrk_seconds=1, latency_samples=1,
    idle_connections=100, idle_per_address=50, idle_probes=5,
    rt_repeats=3,
)


def tree_counts(sizes):
    """(files, collections below the top) of the nested tree."""
    a, b, c = sizes["tree"]
    return a * b * c, a + a * b


def tree100k_counts(sizes):
    a, b = sizes["tree100k"]
    return a * b, a


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def generate_tree(top, sizes, rnd):
    """The nested tree (top/dNN/sNN/fNNN.dat, sizes["tree"]) with one random block per file;
    also the long-operation benchmark's data (bench/long_ops.py)."""
    a, b, c = sizes["tree"]
    block = rnd.randbytes(sizes["tree_file_size"])
    for i in range(a):
        for j in range(b):
            d = f"{top}/d{i:02d}/s{j:02d}"
            os.makedirs(d)
            for k in range(c):
                _write(f"{d}/f{k:03d}.dat", block)


def generate(base, sizes):
    """Create base/seed, base/seed100k and base/src/big.bin."""
    rnd = random.Random(6)  # issue 6
    seed = os.path.join(base, "seed")
    for d in ("get", "d1", "dprops", "explorer", "tree", "props"):
        os.makedirs(os.path.join(seed, d), exist_ok=True)

    for k in range(1, sizes["get_files"] + 1):
        _write(f"{seed}/get/f{k:04d}.bin", rnd.randbytes(sizes["get_size"]))

    for k in range(1, sizes["d1_files"] + 1):
        _write(f"{seed}/d1/f{k:05d}.txt", b"keepdav bench %d\n" % k)

    for k in range(1, sizes["dprops_files"] + 1):
        _write(f"{seed}/dprops/f{k:05d}.txt", b"keepdav bench %d\n" % k)

    for k in range(sizes["explorer_files"]):
        _write(f"{seed}/explorer/quarterly-report-2026-{k:04d}.doc", b"x" * (1000 + k))

    generate_tree(f"{seed}/tree", sizes, rnd)

    for k in range(sizes["props_files"]):
        _write(f"{seed}/props/f{k:03d}.txt", b"properties\n")

    big100k = os.path.join(base, "seed100k")
    a, b = sizes["tree100k"]
    for i in range(a):
        d = f"{big100k}/d{i:03d}"
        os.makedirs(d)
        for k in range(b):
            open(f"{d}/f{k:04d}", "wb").close()

    src = os.path.join(base, "src")
    os.makedirs(src, exist_ok=True)
    block = bytearray(rnd.randbytes(1 << 20))
    with open(f"{src}/big.bin", "wb") as f:
        left = sizes["big_size"]
        n = 0
        while left > 0:
            block[:8] = n.to_bytes(8, "little")  # no two MiB alike
            f.write(block[: min(left, len(block))])
            left -= len(block)
            n += 1
