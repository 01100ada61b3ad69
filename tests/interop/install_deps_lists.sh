#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# scripts/install-deps.sh test must install what the interop tests drive (issue 16: its list
# once promised davfs2, gvfsd-dav, dbus and fuse3 and held none of them, so those tests were
# skipped on every fresh machine). Each interop script names what it needs with
# interop_require_command / interop_require_file CMD PACKAGE (lib.sh); this test checks that
#   - every PACKAGE named there is in `scripts/install-deps.sh --list test`;
#   - where the program is installed and dpkg knows its file, PACKAGE really brings it (the
#     package itself or one it depends on, two levels down: apache2 -> apache2-bin);
#   - no interop script skips on its own (a bare `exit 77` or "SKIPPED:" outside lib.sh and the
#     two tests of the rule), so every skip goes through lib.sh: under CI=true a missing package
#     fails;
#   - the packages issue 16 names, and gnuplot for the benchmark chart, are listed;
#   - libpq-dev (build) and postgresql-15 (test) for the PostgreSQL stores (issue 15).
#
# Usage: install_deps_lists.sh SOURCE_DIR
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 SOURCE_DIR" >&2
  exit 2
fi
src="$1"
here="$src/tests/interop"
# shellcheck disable=SC2034 # read by lib.sh
INTEROP_NAME=install_deps_lists
# shellcheck source=lib.sh
source "$here/lib.sh"

mapfile -t test_list < <(bash "$src/scripts/install-deps.sh" --list test)
mapfile -t bench_list < <(bash "$src/scripts/install-deps.sh" --list bench)
in_list() { # in_list NAME ITEM...
  local name="$1" item
  shift
  for item in "$@"; do [[ "$item" == "$name" ]] && return 0; done
  return 1
}
note "install-deps --list test: ${test_list[*]}"

# Depends and Pre-Depends of an installed package, names only.
depends_of() {
  dpkg-query -W -f='${Depends},${Pre-Depends}' "$1" 2>/dev/null | tr ',|' '\n\n' |
    sed -e 's/([^)]*)//g' -e 's/:any//g' -e 's/^ *//' -e 's/ *$//' | grep -v '^$' || true
}
# brought_by FILE PACKAGE: FILE is in the file list of PACKAGE or of a package PACKAGE depends on
# (two levels). Prints that package; else the package dpkg says FILE belongs to and status 1, or
# status 2 when dpkg knows no owner. (dpkg-query -L reads one list; dpkg -S reads them all, so it
# runs only when the answer is no.)
brought_by() {
  local file="$1" pkg="$2" owner="" path dep
  local -a level1 level2=()
  # ships PACKAGE: FILE (or its name without /usr) is in PACKAGE's file list. grep without -q
  # reads the whole list: with -q, dpkg-query's SIGPIPE would fail the pipeline.
  ships() {
    dpkg-query -L "$1" 2>/dev/null | grep -xF -e "$file" -e "${file#/usr}" >/dev/null
  }
  if ships "$pkg"; then
    echo "$pkg"
    return 0
  fi
  mapfile -t level1 < <(depends_of "$pkg")
  for dep in "${level1[@]}"; do
    if ships "$dep"; then
      echo "$dep"
      return 0
    fi
  done
  for dep in "${level1[@]}"; do
    mapfile -t -O "${#level2[@]}" level2 < <(depends_of "$dep")
  done
  for dep in "${level2[@]}"; do
    if ships "$dep"; then
      echo "$dep"
      return 0
    fi
  done
  for path in "$file" "${file#/usr}"; do
    owner="$(dpkg -S "$path" 2>/dev/null | sed -n '1s/:.*//p' | sed 's/,.*//')" || true
    [[ -n "$owner" ]] && break
  done
  [[ -n "$owner" ]] || return 2
  echo "$owner"
  return 1
}

requirements=0
# The interop scripts and the browser test (tests/browser), which uses the same lib.sh.
for script in "$here"/*.sh "$here"/../browser/*.sh; do
  name="$(basename "$script")"
  [[ "$name" == lib.sh ]] && continue
  while read -r kind target pkg; do
    requirements=$((requirements + 1))
    check "$name needs $target: package $pkg is in install-deps' test list" \
      in_list "$pkg" "${test_list[@]}"
    # Resolve the program where it can be, and ask dpkg who ships it.
    file=""
    if [[ "$kind" == interop_require_command ]]; then
      file="$(command -v "$target" 2>/dev/null || true)"
    elif [[ "$target" != *'$'* ]]; then
      file="$target"
    fi
    [[ -n "$file" && -e "$file" ]] || {
      note "$target is not on this machine (or a variable): package not cross-checked"
      continue
    }
    file="$(readlink -f "$file")"
    rc=0
    owner="$(brought_by "$file" "$pkg")" || rc=$?
    if [[ $rc -eq 2 ]]; then
      note "$file is not from a Debian package here: $pkg not cross-checked"
    else
      check "$name: $file comes with $pkg (dpkg: $owner)" [ "$rc" -eq 0 ]
    fi
  done < <(sed -n 's/^[[:space:]]*\(interop_require_command\|interop_require_file\) \([^ ]*\) \([^ ]*\)$/\1 \2 \3/p' "$script" |
    tr -d '"')
done
check "the interop scripts declare their requirements ($requirements found)" [ "$requirements" -ge 15 ]

own_skips="$(grep -lE '^[[:space:]]*exit 77|echo .*SKIPPED[:]' "$here"/*.sh "$here"/../browser/*.sh | grep -vE '/(lib|skip_policy|install_deps_lists)\.sh$' || true)"
check "no interop script skips around lib.sh's rule (${own_skips:-none})" [ -z "$own_skips" ]

for pkg in davfs2 gvfs-backends dbus fuse3 gnuplot-nox; do
  check "issue 16: $pkg is in install-deps' test list" in_list "$pkg" "${test_list[@]}"
done
# Issue 15: the PostgreSQL stores link libpq; their tests start a cluster with initdb and pg_ctl
# from /usr/lib/postgresql/15/bin (tests/storage/pg_cluster.cc), which postgresql-15 ships.
mapfile -t build_list < <(bash "$src/scripts/install-deps.sh" --list build)
check "issue 15: libpq-dev is in install-deps' build list" in_list libpq-dev "${build_list[@]}"
check "issue 15: postgresql-15 is in install-deps' test list" in_list postgresql-15 "${test_list[@]}"
if [[ -x /usr/lib/postgresql/15/bin/initdb ]]; then
  rc=0
  owner="$(brought_by /usr/lib/postgresql/15/bin/initdb postgresql-15)" || rc=$?
  check "initdb comes with postgresql-15 (dpkg: ${owner:-none})" [ "$rc" -eq 0 ]
fi
check "the bench list has gnuplot-nox (bench/run.sh draws its chart with it)" \
  in_list gnuplot-nox "${bench_list[@]}"
unknown_rc=0
bash "$src/scripts/install-deps.sh" --list nosuch >/dev/null 2>&1 || unknown_rc=$?
check "install-deps rejects an unknown profile with exit 2 (exit $unknown_rc)" [ "$unknown_rc" -eq 2 ]

echo "install_deps_lists: $checks checks, $failures not ok"
[[ $failures -eq 0 ]]
