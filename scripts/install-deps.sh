#!/usr/bin/env bash
# Installs the Debian packages keepdav needs, and only those that are missing.
#
# Usage: scripts/install-deps.sh build|test|bench
#        scripts/install-deps.sh --list build|test|bench
#   build  compiler, CMake and the libraries the server links against (libpq-dev: the
#          PostgreSQL stores, --db=postgresql://)
#   test   build, plus GoogleTest and everything the interop tests drive (tests/interop/*.sh):
#          litmus, curl, cadaver, rclone, Node and npm, Python, davfs2, GNOME's gvfsd-dav
#          (gvfs-backends) with gio and gdbus (libglib2.0-bin) on a private D-Bus bus (dbus),
#          fuse3 (fusermount3, for rclone mount), postgresql-15 (initdb and pg_ctl in
#          /usr/lib/postgresql/15/bin, for the throwaway cluster of the PostgreSQL store
#          tests, tests/storage/pg_cluster.h), the reverse proxies the 102 Processing tests
#          start (haproxy, apache2), wrk and gnuplot for the benchmark's smoke test (which draws
#          its chart), chromium for the browser tests (tests/browser); then the `webdav` npm
#          package into tests/interop/node/node_modules and puppeteer-core (which downloads no
#          browser: it drives /usr/bin/chromium) into tests/browser/node_modules (npm ci from
#          each committed package-lock.json: the tests themselves never reach a registry)
#   bench  build, plus what bash bench/run.sh uses: wrk, gnuplot (the chart), the peers
#          (lighttpd with mod_webdav, Apache, nginx with dav-ext, rclone)
#   --list prints the profile's packages, one a line, and changes nothing (the test
#          install_deps_lists checks that it holds every package the interop tests name)
#
# As root it installs what is missing: non-interactively (no stdin needed, as in CI), waiting
# up to $KEEPDAV_APT_LOCK_TIMEOUT seconds (default 600) for another package manager's lock,
# with one `apt-get update` first and only when something is missing, and prints what it
# installs. As anyone else it prints the command to run and exits 1, so a caller never builds
# against a half-installed machine.
set -euo pipefail

list_only=0
if [[ "${1:-}" == --list ]]; then
  list_only=1
  shift
fi
profile="${1:-}"
lock_timeout="${KEEPDAV_APT_LOCK_TIMEOUT:-600}"

build_packages=(cmake g++ make pkg-config libpoco-dev libpugixml-dev libsqlite3-dev libssl-dev
  libcrypt-dev openssl libpq-dev)
# Keep in step with the tools tests/interop/*.sh require (interop_require_* in lib.sh name the
# package of each; the test install_deps_lists compares the two).
test_packages=("${build_packages[@]}" googletest libgtest-dev litmus curl cadaver python3
  nodejs npm rclone davfs2 fuse3 gvfs-backends libglib2.0-bin dbus procps haproxy apache2 apache2-utils wrk
  gnuplot-nox clang libclang-rt-14-dev fail2ban chromium postgresql-15)
bench_packages=("${build_packages[@]}" curl python3 wrk gnuplot-nox lighttpd
  lighttpd-mod-webdav lighttpd-mod-openssl apache2 nginx libnginx-mod-http-dav-ext rclone)

case "$profile" in
  build) wanted=("${build_packages[@]}") ;;
  test) wanted=("${test_packages[@]}") ;;
  bench) wanted=("${bench_packages[@]}") ;;
  *)
    echo "usage: $0 [--list] build|test|bench" >&2
    exit 2
    ;;
esac

if [[ $list_only -eq 1 ]]; then
  printf '%s\n' "${wanted[@]}"
  exit 0
fi

missing=()
for pkg in "${wanted[@]}"; do
  # The interop tests need a Node client and npm; ones already on PATH (e.g. from nodesource,
  # whose package is also named nodejs but may be pinned elsewhere) are enough.
  if [[ "$pkg" == nodejs ]] && command -v node >/dev/null 2>&1; then continue; fi
  if [[ "$pkg" == npm ]] && command -v npm >/dev/null 2>&1; then continue; fi
  # dpkg-query fails for a package it has never heard of; "deinstall ok
  # config-files" (removed, config kept) is as missing as that.
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

# The Node packages the interop tests import, pinned by tests/interop/node/package-lock.json,
# and the browser tests' puppeteer-core, pinned by tests/browser/package-lock.json. Any user can
# run this (it writes only below the source tree); npm ci again only when a lock file changed
# since the last install.
install_node_modules() {
  [[ "$profile" == test ]] || return 0
  local src dir
  src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  for dir in "$src/tests/interop/node" "$src/tests/browser"; do
    if [[ -f "$dir/node_modules/.package-lock.json" &&
      "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]]; then
      echo "install-deps: npm packages in $dir are installed"
      continue
    fi
    echo "install-deps: npm ci in $dir"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error </dev/null
  done
}

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all '$profile' packages are installed"
  install_node_modules
  exit 0
fi

# DPkg::Lock::Timeout makes apt-get install wait for dpkg's lock; --force-confdef/confold keep
# a changed config file without asking.
apt_options=(-o "DPkg::Lock::Timeout=$lock_timeout" -o Dpkg::Options::=--force-confdef
  -o Dpkg::Options::=--force-confold -o Dpkg::Use-Pty=0)
install_cmd=(apt-get "${apt_options[@]}" install -y --no-install-recommends "${missing[@]}")
if [[ "$(id -u)" -ne 0 ]]; then
  echo "install-deps: missing Debian packages: ${missing[*]}" >&2
  echo "install-deps: run as root:" >&2
  echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y" \
    "--no-install-recommends ${missing[*]}" >&2
  exit 1
fi

# apt-get update does not honour DPkg::Lock::Timeout for the lists lock (APT 2.6 fails at once
# with "Could not get lock /var/lib/apt/lists/lock"): wait for it here, then give up.
apt_update() {
  local deadline=$((SECONDS + lock_timeout)) out rc
  out="$(mktemp)"
  while :; do
    rc=0
    apt-get "${apt_options[@]}" update </dev/null >"$out" 2>&1 || rc=$?
    if [[ $rc -eq 0 ]] || ! grep -q 'Could not get lock' "$out" || ((SECONDS >= deadline)); then
      cat "$out"
      rm -f "$out"
      return "$rc"
    fi
    echo "install-deps: waiting for the package lock ($(grep -m1 'Could not get lock' "$out"))"
    sleep 5
  done
}

echo "install-deps: installing missing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt_update
"${install_cmd[@]}" </dev/null
echo "install-deps: installed:"
dpkg-query -W -f='  ${Package} ${Version}\n' "${missing[@]}"
install_node_modules
echo "install-deps: done"
