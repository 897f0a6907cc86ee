#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Configure, build and test the default, tsan and asan presets with warnings
# as errors, then the coverage build (tools/coverage.sh: its tests, and the
# line and branch coverage of lib/, printed but never a failure), stopping at
# the first failure. Ends with one line per build and then "N passed,
# N failed" summed over the builds.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

PRESETS=(default tsan asan)
total_passed=0
total_failed=0
summary=()

finish() {
	echo
	echo "==> summary"
	local line
	for line in "${summary[@]}"; do
		echo "$line"
	done
	echo "$total_passed passed, $total_failed failed"
}

fail() {
	echo "test-all: FAILED: $1" >&2
	summary+=("$2")
	finish
	exit 1
}

# tally NAME RC LOG WHY [NOTE]: count the passed and failed tests of the
# ctest output in LOG and add NAME's summary line (with NOTE); stop with a
# failure when RC is not 0 (WHY says why when no test failed) or when LOG
# has no result line.
tally() {
	local name=$1 rc=$2 log=$3 why=$4 note=${5:-} line failed total passed reason

	# ctest ends with "NN% tests passed, F tests failed out of T".
	line=$(grep -E '[0-9]+ tests? failed out of [0-9]+' "$log" 2>/dev/null | tail -n 1)
	if [ -n "$line" ]; then
		failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
		total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
		passed=$((total - failed))
	else
		failed=0
		passed=0
	fi
	total_passed=$((total_passed + passed))
	total_failed=$((total_failed + failed))
	[ -n "$note" ] && note="; $note"

	if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
		if [ -z "$line" ]; then
			reason="ctest ran no test or did not finish"
		elif [ "$failed" -eq 0 ]; then
			reason=$why
		else
			reason="$failed of $total tests failed"
		fi
		fail "$name: $reason (log: $log)" "$name: $passed passed, $failed failed; $reason$note"
	fi
	summary+=("$name: $passed passed, $failed failed$note")
}

for p in "${PRESETS[@]}"; do
	echo "==> [$p] configure"
	cmake --preset "$p" -DGPUVM_WERROR=ON ||
		fail "configuring the $p preset (see above)" "$p: configure failed"

	echo "==> [$p] build"
	cmake --build --preset "$p" -j2 ||
		fail "building the $p preset (see above)" "$p: build failed"

	echo "==> [$p] test"
	log="build/$p/test-all.log"
	ctest --preset "$p" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	tally "$p" "$rc" "$log" "ctest exited with status $rc"
done

# Coverage: configures, builds and tests the coverage preset itself (without
# the labels bench, stress, lint and fuzz; see the script) and prints the
# figures; it fails only when a step or a test does.
echo "==> [coverage] tools/coverage.sh"
tools/coverage.sh build/coverage
tally coverage "$?" build/coverage/coverage-ctest.log "tools/coverage.sh failed (see above)" \
	"$(sed -n 's/^coverage: //p' build/coverage/coverage/summary.txt 2>/dev/null)"

finish
exit 0
