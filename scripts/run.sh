#!/usr/bin/env bash
# Builds keepdav (Release, no tests) and serves sample-data/ at
# http://127.0.0.1:8080/. Extra arguments go to the server, e.g.
#   bash scripts/run.sh --read-only
#   bash scripts/run.sh --port=9000 --root=/srv/dav
# (a later --root/--port overrides the defaults given here).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DKEEPDAV_TESTS=OFF
cmake --build build -j"$(nproc)"

echo "run: serving sample-data/ at http://127.0.0.1:8080/ (Ctrl-C stops)"
exec build/server/keepdav --root=sample-data --port=8080 "$@"
