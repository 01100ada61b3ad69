#!/bin/bash
# Runs fail2ban-regex with scripts/fail2ban/keepdav.conf on sample lines: every failed-login line
# in the format of AuthFailureLimiter::FailedLoginLogLine must match (with the right address),
# lines that merely look similar must not. Exit 77 (skipped) without fail2ban.
set -u
filter="$1"
if ! command -v fail2ban-regex > /dev/null; then
  echo "SKIP: fail2ban-regex not found (Debian package fail2ban)"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/match.log" <<'LINES'
2026-12-02 08:40:01 keepdav: authentication failed for user "alice" from 192.0.2.7
2026-12-02 08:40:02 host keepdav[123]: keepdav: authentication failed for user "" from 2001:db8::1
2026-12-02 08:40:03 keepdav: authentication failed for user "a\x22b\x0akeepdav: x" from 198.51.100.9
LINES
cat > "$dir/nomatch.log" <<'LINES'
2026-12-02 08:40:04 keepdav: authenticated user "alice" from 192.0.2.7
2026-12-02 08:40:05 keepdav: authentication failed for user "bob" from nowhere
2026-12-02 08:40:06 keepdav: authentication failed for user "x" from 192.0.2.8" from 192.0.2.9 trailing
LINES
fail=0
out=$(fail2ban-regex "$dir/match.log" "$filter" 2>&1)
if ! grep -Eq 'Lines: 3 lines, 0 ignored, 3 matched, 0 missed' <<< "$out"; then
  echo "FAIL: not every failed-login line matched"; echo "$out"; fail=1
fi
addresses=$(fail2ban-regex -o ip "$dir/match.log" "$filter" 2>&1 | tr '\n' ' ')
if [ "$addresses" != "192.0.2.7 2001:db8::1 198.51.100.9 " ]; then
  echo "FAIL: addresses found: '$addresses'"; fail=1
fi
users=$(fail2ban-regex -o user "$dir/match.log" "$filter" 2>&1 | tr '\n' ' ')
if [ "$users" != "alice  a\\x22b\\x0akeepdav: x " ]; then
  echo "FAIL: users found: '$users'"; fail=1
fi
out=$(fail2ban-regex "$dir/nomatch.log" "$filter" 2>&1)
if ! grep -Eq 'Lines: 3 lines, 0 ignored, 0 matched, 3 missed' <<< "$out"; then
  echo "FAIL: a line that is not a failed login matched"; echo "$out"; fail=1
fi
exit $fail
