#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Run the fuzz targets: usage run.sh DIR NAME...  (DIR holds fuzz_NAME).
#
# For each target: replay every input in test/fuzz/regressions/NAME/, then
# fuzz FUZZ_TIME seconds (default 30) from test/fuzz/corpus/NAME/ (read
# only: new inputs go to DIR/work/NAME/). Prints executions per target.
# Any crash, leak, sanitizer report or timeout fails the run; the input is
# kept in DIR/artifacts/NAME/ and belongs in regressions/NAME/ once fixed.
set -u
dir=$1
shift
src=$(cd "$(dirname "$0")" && pwd)
time=${FUZZ_TIME:-30}
failed=

for name in "$@"; do
	bin=$dir/fuzz_$name
	log=$dir/$name.log
	work=$dir/work/$name
	art=$dir/artifacts/$name/
	rm -rf "$work" "$art"
	mkdir -p "$work" "$art"
	: >"$log"

	regs=$(find "$src/regressions/$name" -type f ! -name '.*' 2>/dev/null | sort)
	if [ -n "$regs" ]; then
		# shellcheck disable=SC2086 # names without blanks, one per word
		if ! "$bin" $regs >>"$log" 2>&1; then
			tail -n 40 "$log"
			echo "fuzz $name: FAILED replaying a regression input (log: $log)"
			failed="$failed $name"
			continue
		fi
	fi

	dict=
	[ -f "$src/$name.dict" ] && dict=-dict=$src/$name.dict
	# nice: when make -j runs this next to the other suites, they keep the CPU
	# shellcheck disable=SC2086
	if ! nice -n 10 "$bin" -max_total_time="$time" -rss_limit_mb=2048 -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$art" $dict \
		"$work" "$src/corpus/$name" >>"$log" 2>&1; then
		tail -n 40 "$log"
		echo "fuzz $name: FAILED; input(s): $(find "$art" -type f | tr "\n" " ")"
		echo "  reproduce: $bin ARTIFACT; once fixed, copy it to test/fuzz/regressions/$name/"
		failed="$failed $name"
		continue
	fi
	final() { sed -n "s/^stat::$1: *//p" "$log"; }
	printf 'fuzz %-15s %10s executions in %ss (%s/s), %s new inputs, %s regression inputs, peak RSS %s MB\n' \
		"$name" "$(final number_of_executed_units)" "$time" "$(final average_exec_per_sec)" \
		"$(final new_units_added)" "$(printf '%s' "$regs" | grep -c .)" "$(final peak_rss_mb)"
done

if [ -n "$failed" ]; then
	echo "fuzz: FAILED:$failed"
	exit 1
fi
echo "fuzz: all targets passed"
