#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Configure, build and test the default, tsan and asan presets with warnings
# as errors, stopping at the first failure. Ends with one line per build and
# then "N passed, N failed" summed over the builds.
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

	# ctest ends with "NN% tests passed, F tests failed out of T".
	line=$(grep -E '[0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
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

	if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
		if [ -z "$line" ]; then
			reason="ctest ran no test or did not finish"
		elif [ "$failed" -eq 0 ]; then
			reason="ctest exited with status $rc"
		else
			reason="$failed of $total tests failed"
		fi
		fail "$p: $reason (log: $log)" "$p: $passed passed, $failed failed; $reason"
	fi
	summary+=("$p: $passed passed, $failed failed")
done

finish
exit 0
