#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Long fuzzing runs (docs/fuzzing.md).
#
#   tools/fuzz.sh [--time SECONDS] [--jobs N] [--build-dir DIR] [--no-build]
#                 [TARGET...]
#
# TARGET is fuzz_trace or fuzz_api (default: both, one after the other),
# each run for SECONDS (default 3600) with N parallel workers (default 1).
# Builds the asan preset (clang, ASan+UBSan, debug checks) with the
# libFuzzer targets into DIR (default build/fuzz). The corpus grows in
# build/fuzz-corpus/
# (git-ignored, kept between runs; the seeds and tests/regress/<target>/ are
# read as extra corpus directories, never written). Crashes, leaks and
# timeouts land in build/fuzz-artifacts/<target>/; the script ends by
# telling how to reproduce each and how to keep it as a regression test.
# Exits 1 when anything was found.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)

seconds=3600
jobs=1
build=1
bdir=build/fuzz
targets=()

usage() {
	sed -n '4,18p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--time)
		seconds=${2:?--time needs a number of seconds}
		shift 2
		;;
	--jobs)
		jobs=${2:?--jobs needs a number}
		shift 2
		;;
	--build-dir)
		bdir=${2:?--build-dir needs a directory}
		shift 2
		;;
	--no-build)
		build=0
		shift
		;;
	-h | --help)
		usage 0
		;;
	fuzz_trace | fuzz_api)
		targets+=("$1")
		shift
		;;
	*)
		echo "fuzz.sh: unknown argument '$1'" >&2
		usage 2
		;;
	esac
done
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_trace fuzz_api)
case "$seconds$jobs" in
*[!0-9]*)
	echo "fuzz.sh: --time and --jobs take whole numbers" >&2
	exit 2
	;;
esac

case "$bdir" in
/*) ;;
*) bdir="$root/$bdir" ;;
esac
if [ "$build" = 1 ]; then
	echo "==> building the asan preset with the libFuzzer targets in $bdir"
	cmake --preset asan -B "$bdir" -DGPUVM_FUZZ=ON >/dev/null || exit 1
	cmake --build "$bdir" -j2 --target "${targets[@]}" \
		$(printf '%s-run ' "${targets[@]}") fuzz_api_corpus || exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

found=()
for t in "${targets[@]}"; do
	bin="$bdir/tests/fuzz/$t"
	if [ ! -x "$bin" ]; then
		echo "fuzz.sh: $bin is missing (is the compiler clang with -fsanitize=fuzzer?)" >&2
		exit 1
	fi
	corpus="$root/build/fuzz-corpus/$t"
	arts="$root/build/fuzz-artifacts/$t"
	mkdir -p "$corpus" "$arts"
	extra=()
	case "$t" in
	fuzz_trace)
		# the conformance traces, without their .expected listings
		seeds="$root/build/fuzz-seeds/fuzz_trace"
		mkdir -p "$seeds"
		cp "$root"/tests/conformance/traces/*.trace "$seeds"/
		extra=(-dict="$root/tests/fuzz/fuzz_trace.dict")
		;;
	fuzz_api)
		seeds="$bdir/tests/fuzz/seeds/fuzz_api"
		;;
	esac
	par=()
	if [ "$jobs" -gt 1 ]; then
		par=(-jobs="$jobs" -workers="$jobs")
	fi
	regress=()
	if [ -n "$(ls -A "$root/tests/regress/$t" 2>/dev/null)" ]; then
		regress=("$root/tests/regress/$t")
	fi

	echo "==> $t: $seconds s, $jobs job(s); corpus $corpus"
	log="$arts/fuzz.log"
	# findings of earlier runs stay in $arts; only this run's are reported
	stamp="$arts/.start"
	touch "$stamp"
	# libFuzzer writes its per-job logs (fuzz-N.log) into the working directory
	(cd "$arts" && "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 \
		-print_final_stats=1 -artifact_prefix="$arts/" "${par[@]}" "${extra[@]}" \
		"$corpus" "$seeds" "${regress[@]}") >"$log" 2>&1
	rc=$?
	if [ "$jobs" -gt 1 ]; then
		cat "$arts"/fuzz-*.log >>"$log" 2>/dev/null
		rm -f "$arts"/fuzz-*.log
	fi
	grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
		"$log" | sed "s/^/    /"
	echo "    corpus: $(find "$corpus" -type f | wc -l) inputs; exit status $rc; log $log"
	while IFS= read -r f; do
		found+=("$t:$f")
	done < <(find "$arts" -maxdepth 1 -type f -newer "$stamp" \
		\( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
done

if [ ${#found[@]} -eq 0 ]; then
	echo "==> nothing found"
	exit 0
fi
echo
echo "==> found ${#found[@]} input(s) that break a check:"
for e in "${found[@]}"; do
	t=${e%%:*}
	f=${e#*:}
	echo "  $f"
	echo "    reproduce: $bdir/tests/fuzz/$t-run $f"
	[ "$t" = fuzz_api ] && echo "               (FUZZ_API_TRACE=1 prints each op and the state after it)"
	echo "    minimize:  $bdir/tests/fuzz/$t -minimize_crash=1 -runs=200000 -exact_artifact_path=$f.min $f"
done
echo
echo "Once the bug is fixed, keep each input as a regression test, named after what it broke:"
echo "  cp FILE tests/regress/TARGET/<what-it-broke>   # e.g. tests/regress/fuzz_api/remap-link-order"
echo "ctest runs it in every build (ctest -L regress); see docs/fuzzing.md."
exit 1
