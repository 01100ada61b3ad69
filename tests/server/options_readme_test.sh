#!/usr/bin/env bash
# The README's options table says what `keepdav --help` says: the same options, spelled the same
# way (--name=ARG), with the same defaults. --help formats its defaults from a default-constructed
# KeepdavOptions (server/option_table.h), so this also checks the README against the code.
#
# usage: options_readme_test.sh KEEPDAV_BINARY README.md
# Fails naming every option that differs.
set -euo pipefail
keepdav=$1
readme=$2

# "--name=ARG<TAB>default" per option, sorted. --help: "  --name=ARG   description (default: X)".
from_help() {
  "$keepdav" --help | while IFS= read -r line; do
    [[ $line =~ ^\ \ (--[a-z0-9-]+(=[A-Z]+)?)\  ]] || continue
    option=${BASH_REMATCH[1]}
    fallback=
    if [[ $line =~ .*\(default:\ (.*)\)$ ]]; then fallback=${BASH_REMATCH[1]}; fi
    printf '%s\t%s\n' "$option" "$fallback"
  done | sort
}

# README rows in the "## Options" section: | `--name=ARG` | default | meaning |. Backticks in the
# default cell are markup, not part of the value.
from_readme() {
  sed -n '/^## Options$/,/^## /p' "$readme" | while IFS= read -r line; do
    [[ $line =~ ^\|\ \`(--[a-z0-9-]+(=[A-Z]+)?)\`\ \|([^|]*)\| ]] || continue
    option=${BASH_REMATCH[1]}
    fallback=${BASH_REMATCH[3]//\`/}
    fallback=${fallback#"${fallback%%[! ]*}"}
    fallback=${fallback%"${fallback##*[! ]}"}
    printf '%s\t%s\n' "$option" "$fallback"
  done | sort
}

help_rows=$(from_help)
readme_rows=$(from_readme)
if [[ -z $help_rows || -z $readme_rows ]]; then
  echo "FAIL: no options parsed (--help: $(wc -l <<<"$help_rows"), README: $(wc -l <<<"$readme_rows"))"
  exit 1
fi
differences=$(diff <(echo "$help_rows") <(echo "$readme_rows") || true)
if [[ -n $differences ]]; then
  echo "FAIL: the README's options table differs from keepdav --help"
  echo "(< is --help, > is README.md; columns: option, default)"
  echo "$differences"
  exit 1
fi
echo "OK: $(wc -l <<<"$help_rows") options, README matches --help"
