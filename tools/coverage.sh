#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Line and branch coverage of lib/, with clang's source-based coverage.
#
#   tools/coverage.sh [BUILD_DIR]        (default: build/coverage)
#
# Configures the `coverage` preset into BUILD_DIR (warnings are errors),
# builds it, runs its ctest suite without the labels bench, stress, lint and
# fuzz (see below), then prints the line and branch coverage of each lib/ file and
# the total, and writes under BUILD_DIR/coverage/:
#   report.txt   the same table, with regions and functions
#   missed.txt   every lib/ line that never ran and every branch direction
#                never taken, file:line
#   html/        the annotated sources (open html/index.html)
#   lcov.info    the same data in lcov's tracefile format
# Exits non-zero when a test failed (the figures are still printed) or a step
# failed; the percentages themselves never fail it.
#
# The build has GPUVM_DEBUG on (debug checks and gpuvm_verify are counted:
# they are code a debugging user runs). The profile is written in LLVM's
# continuous mode (%c, with -runtime-counter-relocation in the preset), so
# the forked children of the signalling tests, which end in abort() without
# writing a profile at exit, are counted too: their counters live in a file
# mapping that the child shares with its parent.
#
# Left out: bench (a tiny run of each benchmark; its timing is useless in a
# coverage build and it only repeats what the unit tests cover), stress
# (timing-driven threads: the counts would differ from run to run, and no
# line of lib/ is reached only by them), lint (static analysis, no lib/ code
# runs), fuzz (the time-bounded fuzzer runs: random inputs for a fixed time;
# their seed corpus and regression inputs still run, under other labels).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

dir=${1:-build/coverage}
out="$dir/coverage"

pick() {
	local t
	for t in "$@"; do
		if command -v "$t" >/dev/null 2>&1; then
			echo "$t"
			return 0
		fi
	done
	return 1
}
PROFDATA=$(pick llvm-profdata-14 llvm-profdata) ||
	{ echo "coverage: llvm-profdata-14 not found (run tools/bootstrap.sh)" >&2; exit 1; }
LLVMCOV=$(pick llvm-cov-14 llvm-cov) ||
	{ echo "coverage: llvm-cov-14 not found (run tools/bootstrap.sh)" >&2; exit 1; }

log="$dir/coverage-ctest.log"
# Nothing of an earlier run may pass for this one's: stale counts would be
# merged in, a stale log or summary read by tools/test-all.sh.
rm -rf "$dir/profraw" "$out" "$log"

echo "==> [coverage] configure"
cmake --preset coverage -B "$dir" -DGPUVM_WERROR=ON ||
	{ echo "coverage: configuring the coverage preset failed" >&2; exit 1; }
echo "==> [coverage] build"
cmake --build "$dir" -j2 ||
	{ echo "coverage: building the coverage preset failed" >&2; exit 1; }

abs=$(cd "$dir" && pwd)
mkdir -p "$abs/profraw" "$out"

echo "==> [coverage] test (labels bench, stress, lint and fuzz left out)"
LLVM_PROFILE_FILE="$abs/profraw/%p-%m%c.profraw" \
	ctest --test-dir "$dir" --output-on-failure -j2 -LE '^(bench|stress|lint|fuzz)$' 2>&1 |
	tee "$log"
test_rc=${PIPESTATUS[0]}

echo "==> [coverage] report"
shopt -s nullglob
raw=("$abs"/profraw/*.profraw)
if [ ${#raw[@]} -eq 0 ]; then
	echo "coverage: no profile was written (did any test run?)" >&2
	exit 1
fi
"$PROFDATA" merge -sparse "${raw[@]}" -o "$out/merged.profdata" ||
	{ echo "coverage: llvm-profdata merge failed" >&2; exit 1; }

# The shared library holds every lib/ function once; the counts of the
# static copies linked into the tests are merged into the same records
# (same function names and hashes), so this one object is enough.
obj="$abs/libgpuvm.so"
src="$PWD/lib"
covargs=(-instr-profile "$out/merged.profdata" "$obj")

"$LLVMCOV" report "${covargs[@]}" -show-branch-summary -show-region-summary "$src" \
	>"$out/report.txt" ||
	{ echo "coverage: llvm-cov report failed" >&2; exit 1; }
"$LLVMCOV" export -format=lcov "${covargs[@]}" "$src" >"$out/lcov.info" ||
	{ echo "coverage: llvm-cov export failed" >&2; exit 1; }
"$LLVMCOV" show -format=html -output-dir="$out/html" -show-branches=count \
	-show-line-counts-or-regions "${covargs[@]}" "$src" ||
	{ echo "coverage: llvm-cov show failed" >&2; exit 1; }

# missed.txt from the lcov data: DA:<line>,0 is a line that never ran;
# BRDA:<line>,<block>,<n>,0 a branch direction never taken (llvm-cov numbers
# the true side 0 and the false side 1).
awk -v root="$PWD/" '
	/^SF:/ { f = substr($0, 4); sub("^" root, "", f); next }
	/^DA:/ {
		split(substr($0, 4), a, ",")
		if (a[2] == "0") print f ":" a[1] ": line not run"
		next
	}
	/^BRDA:/ {
		split(substr($0, 6), a, ",")
		if (a[4] == "0" || a[4] == "-")
			print f ":" a[1] ": branch " (a[3] % 2 == 0 ? "true" : "false") " side never taken"
	}' "$out/lcov.info" | sort -t: -k1,1 -k2,2n -s >"$out/missed.txt"

# Per file and total: lines and branches only (report.txt has the rest).
# The report's columns are: file, regions (3), functions (3), lines (3),
# branches (3).
awk '
	$1 == "Filename" || NF != 13 || $8 == 0 { next }
	{
		lines_total = $8; lines_missed = $9; br_total = $11; br_missed = $12
		lp = lines_total ? sprintf("%.2f%%", 100 * (lines_total - lines_missed) / lines_total) : "-"
		bp = br_total ? sprintf("%.2f%%", 100 * (br_total - br_missed) / br_total) : "-"
		name = ($1 == "TOTAL") ? "lib/ total" : "lib/" $1
		printf "%-16s %5d/%-5d %7s   %5d/%-5d %7s\n", name,
			lines_total - lines_missed, lines_total, lp,
			br_total - br_missed, br_total, bp
		if ($1 == "TOTAL") {
			printf "coverage: lines %s (%d of %d), branches %s (%d of %d)\n", lp,
				lines_total - lines_missed, lines_total, bp,
				br_total - br_missed, br_total > "/dev/stderr"
		}
	}' "$out/report.txt" 2>"$out/summary.txt" |
	{
		printf "%-16s %-22s%s\n" "file" "      lines" "      branches"
		# the files by name, the total last
		sort -k1,1 | awk '$1 != "lib/" { print } $1 == "lib/" { t = $0 } END { print t }'
	}
cat "$out/summary.txt"
echo "coverage: report $out/report.txt, uncovered lines $out/missed.txt, HTML $out/html/index.html"

if [ "$test_rc" -ne 0 ]; then
	echo "coverage: FAILED: the coverage build's tests failed (log: $log)" >&2
	exit 1
fi
exit 0
