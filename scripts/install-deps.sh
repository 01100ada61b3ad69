#!/usr/bin/env bash
# Installs the Debian packages keepdav needs, and only those that are missing.
#
# Usage: scripts/install-deps.sh build|test
#   build  compiler, CMake and the libraries the server links against
#   test   build, plus GoogleTest, the interop clients (litmus, curl, cadaver, rclone, node,
#          davfs2, GNOME's gvfsd-dav with dbus-run-session, fuse3 for rclone mount), the
#          reverse proxies the 102 Processing tests start (haproxy, apache2), and then the
#          `webdav` npm package into tests/interop/node/node_modules (npm ci from the committed
#          package-lock.json: the tests themselves never reach a registry)
#
# As root it installs what is missing (one `apt-get update` first, and only when
# something is missing). As anyone else it prints the command to run and exits 1,
# so a caller never builds against a half-installed machine.
set -euo pipefail

profile="${1:-}"
build_packages=(cmake g++ make pkg-config libpoco-dev libpugixml-dev libsqlite3-dev)
test_packages=("${build_packages[@]}" googletest libgtest-dev litmus curl cadaver python3
  haproxy apache2 rclone wrk)
# The 102 Processing interop tests need a Node client; a node already on PATH (e.g. from
# nodesource, whose package is also named nodejs but may be pinned elsewhere) is enough.
if ! command -v node >/dev/null 2>&1; then
  test_packages+=(nodejs)
fi
if ! command -v npm >/dev/null 2>&1; then
  test_packages+=(npm)
fi

case "$profile" in
  build) wanted=("${build_packages[@]}") ;;
  test) wanted=("${test_packages[@]}") ;;
  *)
    echo "usage: $0 build|test" >&2
    exit 2
    ;;
esac

missing=()
for pkg in "${wanted[@]}"; do
  # dpkg-query fails for a package it has never heard of; "deinstall ok
  # config-files" (removed, config kept) is as missing as that.
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

# The Node packages the interop tests import, pinned by tests/interop/node/package-lock.json.
# Any user can run this (it writes only below the source tree); npm ci again only when the lock
# file changed since the last install.
install_node_modules() {
  [[ "$profile" == test ]] || return 0
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/interop/node"
  if [[ -f "$dir/node_modules/.package-lock.json" &&
    "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]]; then
    echo "install-deps: npm packages in $dir are installed"
    return 0
  fi
  echo "install-deps: npm ci in $dir"
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
}

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all '$profile' packages are installed"
  install_node_modules
  exit 0
fi

install_cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
if [[ "$(id -u)" -ne 0 ]]; then
  echo "install-deps: missing Debian packages: ${missing[*]}" >&2
  echo "install-deps: run as root:" >&2
  echo "  apt-get update && DEBIAN_FRONTEND=noninteractive ${install_cmd[*]}" >&2
  exit 1
fi

echo "install-deps: installing missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
"${install_cmd[@]}"
install_node_modules
echo "install-deps: done"
