#!/bin/bash
# Run every test/integration/test_*.sh (or those named) and print a summary.
# A test exits 0 (passed), 77 (skipped, with its reason) or anything else (failed).
# Each gets 300 s, or what a `# timeout: SECONDS` line in it says.
cd "$(dirname "$0")" || exit 1
: "${BUILD:?}"
[ "$(id -u)" = 0 ] || { echo "integration tests need root" >&2; exit 1; }
passed=0 failed=0 skipped=0 failures=""
tests=("$@"); [ ${#tests[@]} -gt 0 ] || tests=(test_*.sh)
for t in "${tests[@]}"; do
	start=$(date +%s%N)
	limit=$(sed -n 's/^# timeout: \([0-9][0-9]*\)$/\1/p' "$t" | head -1)
	timeout --kill-after=10 "${limit:-300}" bash "$t" >"/tmp/xht-log.$$" 2>&1; rc=$?
	d=$(( ($(date +%s%N) - start) / 100000000 )); dur="$((d/10)).$((d%10))"
	case $rc in
	0)  passed=$((passed+1)); echo "ok    $t (${dur}s)" ;;
	77) skipped=$((skipped+1)); echo "skip  $t: $(grep -m1 '^SKIP' "/tmp/xht-log.$$")" ;;
	*)  failed=$((failed+1)); failures+=" $t"; echo "FAIL  $t (rc=$rc, ${dur}s)"; sed 's/^/      /' "/tmp/xht-log.$$" | tail -40 ;;
	esac
done
rm -f "/tmp/xht-log.$$"
echo "integration: $passed passed, $failed failed, $skipped skipped"
[ $failed = 0 ]
