#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The capture/replay round trip for one driver:
#
#   capture_replay.sh DRIVER TRACE_LIB SHIM_LIB PROGRAM OKLINE REPLAY WORKDIR [RUNTIME]
#
# (RUNTIME: a shared sanitizer runtime to preload first, GCC sanitizer
# builds only; empty otherwise.)
#
# 0. runs PROGRAM preloaded but without GPUVM_TRACE_OUT: it must work and
#    no file may appear; with GPUVM_TRACE_OUT in a missing directory it must
#    work too, and the capture must say it is not capturing;
# 1. runs PROGRAM (example-umd_sparse, capture_threads) on the emulated
#    render node with the capture in front of it:
#      LD_PRELOAD="TRACE_LIB SHIM_LIB" GPUVM_DRMSHIM_DRIVER=DRIVER
#      GPUVM_TRACE_OUT=t.trace GPUVM_DRMSHIM_DUMP=shim.dump
#    and requires its last line to be OKLINE ("umd_sparse: ok") and no
#    sanitizer report;
# 2. replays t.trace with gpuvm-replay and requires no `error` line;
# 3. extracts the dump blocks ("> dump vmX" .. "end") of the replay listing
#    and requires them byte-equal to the blocks of shim.dump, VM by VM: each
#    VM is dumped exactly once on each side (when it goes), so only the order
#    between the VMs dumped at one close or at exit may differ. shim.dump must
#    hold at least one mapping of a buffer object (on xe a NULL one, `-@`);
# 4. proves the comparison can fail: drops, one at a time, each `map` of a
#    buffer object from the trace, and requires that at least one such
#    altered trace replays to dumps that differ from shim.dump.
set -u

drv=$1 trace_lib=$2 shim_lib=$3 example=$4 okline=$5 replay=$6 work=$7 rt=${8:-}
prog=$(basename "$example")
preload="$trace_lib $shim_lib"
[ -n "$rt" ] && preload="$rt $preload"

fail() {
	echo "FAIL ($drv, $prog): $*" >&2
	exit 1
}

show() {
	for f in "$@"; do
		[ -f "$f" ] || continue
		echo "---- $f" >&2
		sed -n '1,200p' "$f" >&2
	done
}

# The dump blocks of a listing or dump file, in order.
blocks() {
	awk '/^> dump /{p = 1} p {print} /^end$/{p = 0}' "$1"
}

# split_blocks FILE DIR: each block of FILE into DIR/<vm name>; fails when a
# VM is dumped twice or a block is not closed.
split_blocks() {
	rm -rf "$2" && mkdir "$2" || return 1
	awk -v dir="$2" '
		/^> dump / { if (f != "" || seen[$3]++) bad = 1; f = dir "/" $3 }
		f != "" { print > f }
		/^end$/ { if (f != "") close(f); f = "" }
		END { exit bad || f != "" }' "$1"
}

# same_blocks A B: the blocks of A and B are byte-equal VM by VM.
same_blocks() {
	split_blocks "$1" "$1.d" && split_blocks "$2" "$2.d" && diff -r "$1.d" "$2.d" >/dev/null
}

for f in "$trace_lib" "$shim_lib" "$example" "$replay"; do
	[ -e "$f" ] || fail "missing $f"
done

rm -rf "$work" || fail "cannot clean $work"
mkdir -p "$work" || fail "cannot create $work"
cd "$work" || fail "cannot enter $work"

# 0. without GPUVM_TRACE_OUT the capture is inert: the example still runs
#    and no trace appears
mkdir off || fail "cannot create $work/off"
(cd off && unset GPUVM_TRACE_OUT GPUVM_DRMSHIM_DUMP && LD_PRELOAD="$preload" \
	GPUVM_DRMSHIM_DRIVER="$drv" "$example" >example.out 2>example.err)
rc=$?
if [ $rc -ne 0 ] || ! [ "$(tail -n 1 off/example.out)" = "$okline" ]; then
	show off/example.out off/example.err
	fail "without GPUVM_TRACE_OUT the example failed ($rc)"
fi
[ "$(cd off && LC_ALL=C ls | tr '\n' ' ')" = "example.err example.out " ] ||
	fail "without GPUVM_TRACE_OUT files appeared: $(ls off)"

# 0b. an unwritable GPUVM_TRACE_OUT: a message, and the program still works
(cd off && unset GPUVM_DRMSHIM_DUMP && LD_PRELOAD="$preload" GPUVM_DRMSHIM_DRIVER="$drv" \
	GPUVM_TRACE_OUT="$work/no/such/dir/t.trace" "$example" >bad.out 2>bad.err)
rc=$?
if [ $rc -ne 0 ] || [ "$(tail -n 1 off/bad.out)" != "$okline" ]; then
	show off/bad.out off/bad.err
	fail "with an unwritable GPUVM_TRACE_OUT the program failed ($rc)"
fi
grep -q '^libgpuvm-trace: .*not capturing$' off/bad.err ||
	fail "no message for an unwritable GPUVM_TRACE_OUT"

# 1. the example, captured
LD_PRELOAD="$preload" GPUVM_DRMSHIM_DRIVER="$drv" \
	GPUVM_TRACE_OUT=t.trace GPUVM_DRMSHIM_DUMP=shim.dump \
	"$example" >example.out 2>example.err
rc=$?
if [ $rc -ne 0 ]; then
	show example.out example.err t.trace shim.dump
	fail "$example exited with $rc"
fi
if [ "$(tail -n 1 example.out)" != "$okline" ]; then
	show example.out example.err
	fail "$prog did not end with '$okline'"
fi
if grep -q 'Sanitizer\|runtime error' example.out example.err off/example.err off/bad.err; then
	show example.err off/example.err off/bad.err
	fail "sanitizer report"
fi
[ -s t.trace ] || fail "no trace written"
[ -s shim.dump ] || fail "no shim dump written"

# 2. the replay
"$replay" -o replay.out t.trace 2>replay.err
rc=$?
if [ $rc -ne 0 ]; then
	show replay.err t.trace
	fail "gpuvm-replay exited with $rc"
fi
if grep -q '^error' replay.out; then
	grep -n '^error' replay.out >&2
	show t.trace
	fail "gpuvm-replay refused requests of the captured trace"
fi

# 3. the comparison
blocks replay.out >replay.dump
blocks shim.dump >shim.blocks
grep -q '^> dump vm' shim.blocks || fail "shim.dump has no dump block"
grep -q '^va 0x[0-9a-f]*+0x[0-9a-f]*:bo[0-9]*@0x' shim.blocks ||
	fail "shim.dump maps no buffer object"
if [ "$drv" = xe ]; then
	grep -q '^va 0x[0-9a-f]*+0x[0-9a-f]*:-@0x' shim.blocks ||
		fail "shim.dump has no NULL (sparse) mapping"
fi
split_blocks shim.blocks shim.blocks.d || fail "shim.dump dumps a VM twice or is cut short"
split_blocks replay.dump replay.dump.d || fail "the replay dumps a VM twice or is cut short"
if ! same_blocks replay.dump shim.blocks; then
	diff -ru shim.blocks.d replay.dump.d >&2
	fail "the replayed dumps differ from the emulated node's"
fi
# shim.dump holds nothing but dump blocks
cmp -s shim.dump shim.blocks || fail "shim.dump holds lines outside dump blocks"

# 4. the comparison can fail
n_maps=$(grep -c '^map vm[0-9]* [^ ]* [^ ]* bo[0-9]' t.trace)
[ "$n_maps" -gt 0 ] || fail "the trace maps no buffer object"
i=1 caught=0
while [ $i -le "$n_maps" ]; do
	awk -v k="$i" '/^map vm[0-9]* [^ ]* [^ ]* bo[0-9]/ { if (++n == k) next } {print}' \
		t.trace >altered.trace
	"$replay" -o altered.out altered.trace 2>/dev/null || fail "replay of altered.trace failed"
	blocks altered.out >altered.dump
	if ! same_blocks altered.dump shim.blocks; then
		caught=1
		break
	fi
	i=$((i + 1))
done
[ $caught -eq 1 ] || fail "no altered trace (one map dropped) changed the dumps"

echo "capture_replay $drv $prog: ok ($(grep -c '^va ' shim.blocks) mappings in" \
	"$(grep -c '^> dump' shim.blocks) dumps, $n_maps maps of objects traced;" \
	"dropping map $i of them is detected)"
