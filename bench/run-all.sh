#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Build the default preset, run every benchmark once, and write
#   bench/out/results.json   every program's JSON, merged
#   bench/out/*.txt          each run's `name value unit` lines
#   bench/out/cdf/NAME/*.dat latency CDFs of each run (bench.h's format)
#   bench/out/*.svg          plots, drawn by gnuplot:
#     a-unlink-cdf.svg       (a) unlink latency CDF and tail, with the floor and
#                            the locked path
#     b-map-requests.svg     (b) map requests/s against mapping count, libgpuvm
#                            and the sorted-array baseline
#     c-find-first.svg       (c) find_first p50 against mapping count, libgpuvm
#                            (address-order and shuffled index) and the sorted
#                            array, for hit / random / ascending addresses
#     c-find-first-cdf.svg   (c) find_first latency CDF at the largest size
# bench/README.md says what each figure means. Installs gnuplot-nox when it is
# missing (as tools/bootstrap.sh does for the build's packages). Takes a few
# minutes; run it on an otherwise idle machine.
#
#   bench/run-all.sh [--sizes "10000 100000 1000000"] [--quick] [--plot-only]
#
# --quick: smaller runs (sizes 10000 100000, fewer requests), for trying the
# script out; its figures are not the ones to quote. --plot-only: redraw the
# plots from what bench/out holds (same --sizes), without building or running.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bench/out"
build="$root/build/default"
sizes="10000 100000 1000000"
quick=0
plot_only=0

while [ $# -gt 0 ]; do
	case "$1" in
	--sizes) sizes="$2"; shift 2 ;;
	--quick) quick=1; sizes="10000 100000"; shift ;;
	--plot-only) plot_only=1; shift ;;
	-h|--help) sed -n '3,27p' "$0"; exit 0 ;;
	*) echo "run-all: unknown option $1" >&2; exit 2 ;;
	esac
done

# ------------------------------------------------------------ gnuplot
if ! command -v gnuplot >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ]; then
		SUDO=""
	elif command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "run-all: gnuplot is missing; install gnuplot-nox and run again" >&2
		exit 1
	fi
	echo "run-all: installing gnuplot-nox"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends gnuplot-nox
fi

cd "$root"
failed=""
if [ "$plot_only" = 0 ]; then
# ------------------------------------------------------------ build
"$root/tools/bootstrap.sh"
cmake --preset default >/dev/null
cmake --build --preset default

rm -rf "$out"
mkdir -p "$out/json" "$out/cdf"

# run NAME PROGRAM ARGS...: stdout to out/NAME.txt (and the terminal), JSON
# to out/json/NAME.json, CDFs to out/cdf/.
run() {
	name=$1
	prog="$build/bench/$2"
	shift 2
	echo "== $name" >&2
	if [ ! -x "$prog" ]; then
		echo "run-all: $prog is not built" >&2
		failed="$failed $name"
		return 0
	fi
	mkdir -p "$out/cdf/$name"
	if ! "$prog" "$@" --json "$out/json/$name.json" --cdf-dir "$out/cdf/$name" \
		>"$out/$name.txt"; then
		failed="$failed $name"
	fi
	cat "$out/$name.txt"
}

start=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
if [ "$quick" = 1 ]; then
	run unlink bench-unlink --n 50000 --m 1000 --last 10000
else
	run unlink bench-unlink
fi
for n in $sizes; do
	if [ "$quick" = 1 ]; then
		run "engine-$n" bench-engine -n "$n" -r 50000 -l 50000
	else
		run "engine-$n" bench-engine -n "$n"
	fi
done
if [ "$quick" = 1 ]; then
	run replay bench-replay --frames 2800 --runs 3
else
	run replay bench-replay
fi
end=$(date +%s)
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------ merge
{
	printf '{\n  "date": "%s",\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf '  "commit": "%s",\n' "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	printf '  "host": "%s",\n' "$(uname -n)"
	printf '  "cpu": "%s",\n' "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	printf '  "ncpus": %s,\n' "$(getconf _NPROCESSORS_ONLN)"
	printf '  "seconds": %s,\n' "$((end - start))"
	printf '  "loadavg_start": "%s",\n  "loadavg_end": "%s",\n' "$load_start" "$load_end"
	printf '  "quick": %s,\n' "$([ "$quick" = 1 ] && echo true || echo false)"
	printf '  "programs": {'
	sep=""
	for f in "$out"/json/*.json; do
		[ -e "$f" ] || continue
		printf '%s\n    "%s": ' "$sep" "$(basename "$f" .json)"
		sed '2,$s/^/    /' "$f"
		sep=","
	done
	printf '\n  }\n}\n'
} >"$out/results.json"
fi

# ------------------------------------------------------------ plots
# val FILE NAME: the value of a `name value unit` line, or NaN.
val() {
	awk -v k="$2" '$1 == k { v = $2 } END { print (v == "" ? "NaN" : v) }' "$1" 2>/dev/null ||
		echo NaN
}

: >"$out/b.dat"
: >"$out/c.dat"
echo "# mappings built built_sorted_array applied applied_sorted_array" >>"$out/b.dat"
echo "# mappings then p50 ns: {address_order shuffled sorted_array} x {hit random ascending}" \
	>>"$out/c.dat"
for n in $sizes; do
	f="$out/engine-$n.txt"
	[ -s "$f" ] || continue
	echo "$n $(val "$f" map_built) $(val "$f" map_built_sorted_array)" \
		"$(val "$f" map_applied) $(val "$f" map_applied_sorted_array)" >>"$out/b.dat"
	line="$n"
	for k in hit random ascending; do
		line="$line $(val "$f" "find_first_address_order_${k}_p50")"
		line="$line $(val "$f" "find_first_shuffled_${k}_p50")"
		line="$line $(val "$f" "find_first_sorted_array_${k}_p50")"
	done
	echo "$line" >>"$out/c.dat"
done
largest=$(for n in $sizes; do echo "$n"; done | sort -n | tail -1)

cd "$out"
gnuplot <<EOF
set terminal svg size 1200,680 dynamic noenhanced font 'sans,12' background rgb 'white'
set grid
set key left top
set style line 1 lc rgb '#1f77b4' lw 2
set style line 2 lc rgb '#d62728' lw 2
set style line 3 lc rgb '#2ca02c' lw 2
set style line 4 lc rgb '#ff7f0e' lw 2
set style line 5 lc rgb '#9467bd' lw 2
set style line 6 lc rgb '#8c564b' lw 2
set style line 7 lc rgb '#7f7f7f' lw 2 dt 2

# (a) unlink latency CDF: left the body, right the tail
cdf(f) = 'cdf/unlink/' . f . '.dat'
cdfc(f) = 'cdf/engine-$largest/' . f . '.dat'
set output 'a-unlink-cdf.svg'
set multiplot layout 1,2 title 'bench-unlink (a): per-call latency, N = 200 000 mappings over M = 1 000 BOs (N = M = 50 000 for _last)'
set logscale x
set xlabel 'latency (ns, timer overhead subtracted)'
set ylabel 'fraction of calls <= latency'
set yrange [0:1]
set xrange [10:100000]
set bmargin 10
set key at screen 0.5, screen 0.17 center top vertical maxrows 4 Left reverse width 2
plot cdf('unlink_defer_1t') u 1:2 w l ls 1 t 'unlink_defer 1 thread', \
     cdf('unlink_defer_2t_disjoint') u 1:2 w l ls 3 t 'unlink_defer 2 threads, disjoint BOs', \
     cdf('unlink_defer_2t_shared') u 1:2 w l ls 4 t 'unlink_defer 2 threads, shared BOs', \
     cdf('unlink_defer_last') u 1:2 w l ls 5 t 'unlink_defer, last reference (N = M)', \
     cdf('remove_unlink_defer_1t') u 1:2 w l ls 6 t 'remove + unlink_defer', \
     cdf('unlink_locked_1t') u 1:2 w l ls 2 t 'baseline: locked unlink + put', \
     cdf('floor_1t') u 1:2 w l ls 7 t 'baseline: floor (lock/unlock + dec + push)'
set logscale y
set yrange [1e-6:1]
set xrange [10:*]
set format y '%g'
set ylabel 'fraction of calls > latency (tail, log)'
unset key
plot cdf('unlink_defer_1t') u 1:(1-\$2) w l ls 1 t 'unlink_defer 1 thread', \
     cdf('unlink_defer_2t_disjoint') u 1:(1-\$2) w l ls 3 t 'unlink_defer 2 threads, disjoint', \
     cdf('unlink_defer_2t_shared') u 1:(1-\$2) w l ls 4 t 'unlink_defer 2 threads, shared', \
     cdf('unlink_defer_last') u 1:(1-\$2) w l ls 5 t 'unlink_defer, last reference', \
     cdf('remove_unlink_defer_1t') u 1:(1-\$2) w l ls 6 t 'remove + unlink_defer', \
     cdf('unlink_locked_1t') u 1:(1-\$2) w l ls 2 t 'baseline: locked', \
     cdf('floor_1t') u 1:(1-\$2) w l ls 7 t 'baseline: floor'
unset multiplot
unset logscale
set xrange [*:*]
set yrange [*:*]
set bmargin

# (b) map requests against mapping count
set output 'b-map-requests.svg'
set terminal svg size 900,560 dynamic noenhanced font 'sans,12' background rgb 'white'
set title 'bench-engine (b): random map requests (1-32 pages), median of 5 chunks'
set logscale xy
set xlabel 'mappings in the VM'
set ylabel 'requests/s'
set xrange [5000:2000000]
set xtics ('10k' 10000, '100k' 100000, '1M' 1000000)
set format y '%g'
set yrange [20:3e7]
set key inside bottom left vertical Left reverse
plot 'b.dat' u 1:2 w lp ls 1 pt 7 t 'libgpuvm: ops built + freed', \
     'b.dat' u 1:4 w lp ls 2 pt 7 t 'libgpuvm: ops built, applied, freed', \
     'b.dat' u 1:3 w lp ls 1 dt 2 pt 6 t 'sorted array: ops built', \
     'b.dat' u 1:5 w lp ls 2 dt 2 pt 6 t 'sorted array: built + applied (memmove)'

# (c) find_first p50 against mapping count, one panel per address kind
set output 'c-find-first.svg'
set terminal svg size 1350,520 dynamic noenhanced font 'sans,12' background rgb 'white'
unset title
set multiplot layout 1,3 title 'bench-engine (c): gpuva_find_first(addr, 4 KiB) median latency (TSC, overhead subtracted)'
set ylabel 'p50 latency (ns)'
set logscale x
unset logscale y
set yrange [0:*]
set offsets graph 0, graph 0, graph 0.4, graph 0
set key inside top left vertical Left reverse
do for [k=0:2] {
	set title (k == 0 ? 'addresses in a mapping (hit)' : k == 1 ? 'random addresses' : 'ascending addresses')
	plot 'c.dat' u 1:(column(2+3*k)) w lp ls 1 pt 7 t 'libgpuvm, address-order index', \
	     'c.dat' u 1:(column(3+3*k)) w lp ls 2 pt 7 t 'libgpuvm, shuffled index', \
	     'c.dat' u 1:(column(4+3*k)) w lp ls 3 dt 2 pt 6 t 'sorted array + binary search'
}
unset multiplot
set offsets

# (c) the CDF at the largest size
set output 'c-find-first-cdf.svg'
set terminal svg size 900,560 dynamic noenhanced font 'sans,12' background rgb 'white'
set title 'bench-engine (c): find_first latency CDF, $largest mappings'
unset logscale
set logscale x
set xrange [50:200000]
set format x '%g'
set xtics auto
set yrange [0:1]
set xlabel 'latency (ns, timer overhead subtracted)'
set ylabel 'fraction of calls <= latency'
set key inside right center vertical Left reverse maxrows 5
plot cdfc('find_first_address_order_random') u 1:2 w l ls 1 t 'libgpuvm, address-order index: random', \
     cdfc('find_first_shuffled_random') u 1:2 w l ls 2 t 'libgpuvm, shuffled index: random', \
     cdfc('find_first_sorted_array_random') u 1:2 w l ls 3 dt 2 t 'sorted array: random', \
     cdfc('find_first_shuffled_hit') u 1:2 w l ls 4 t 'libgpuvm, shuffled index: hit', \
     cdfc('find_first_sorted_array_hit') u 1:2 w l ls 5 dt 2 t 'sorted array: hit'
EOF
cd "$root"

[ "$plot_only" = 1 ] ||
	echo "run-all: $((end - start)) s of benchmarks; results in bench/out/results.json" >&2
echo "run-all: plots in bench/out/*.svg" >&2
if [ -n "$failed" ]; then
	echo "run-all: FAILED:$failed" >&2
	exit 1
fi
