#!/usr/bin/env bash
# Builds keepdav (Release, no tests) and serves sample-data/ at
# http://127.0.0.1:8080/. Extra arguments go to the server, e.g.
#   bash scripts/run.sh --read-only
#   bash scripts/run.sh --port=9000 --root=/srv/dav
# (a later --root/--port overrides the defaults given here).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh build
# build-run/, not build/: scripts/test.sh builds RelWithDebInfo with the tests in build/, and
# sharing one folder made each script rebuild everything after the other.
cmake -S . -B build-run -DCMAKE_BUILD_TYPE=Release -DKEEPDAV_TESTS=OFF
cmake --build build-run -j"$(nproc)"

echo "run: serving sample-data/ at http://127.0.0.1:8080/ (Ctrl-C stops)"
exec build-run/server/keepdav --root=sample-data --port=8080 "$@"
