#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The capture's exact output, on a node nothing else emulates (msm):
#
#   capture_golden.sh TRACE_LIB FAKE_LIB PROGRAM REPLAY WORKDIR \
#                     EXPECTED_TRACE EXPECTED_REPLAY [RUNTIME]
#
# runs PROGRAM (capture_msm) with LD_PRELOAD="[RUNTIME] TRACE_LIB FAKE_LIB"
# and GPUVM_TRACE_OUT=t.trace, requires "capture_msm: ok", then requires the
# trace (pid and fd numbers replaced by N) to equal EXPECTED_TRACE and its
# gpuvm-replay listing to equal EXPECTED_REPLAY, byte for byte.
set -u

trace_lib=$1 fake_lib=$2 prog=$3 replay=$4 work=$5 exp_trace=$6 exp_replay=$7 rt=${8:-}
preload="$trace_lib $fake_lib"
[ -n "$rt" ] && preload="$rt $preload"

fail() {
	echo "FAIL (golden): $*" >&2
	exit 1
}

rm -rf "$work" && mkdir -p "$work" && cd "$work" || fail "cannot prepare $work"

LD_PRELOAD="$preload" GPUVM_TRACE_OUT=t.trace "$prog" >prog.out 2>prog.err
rc=$?
if [ $rc -ne 0 ] || [ "$(tail -n 1 prog.out)" != "capture_msm: ok" ]; then
	cat prog.out prog.err >&2
	fail "$prog failed ($rc)"
fi
if grep -q 'Sanitizer\|runtime error' prog.err; then
	cat prog.err >&2
	fail "sanitizer report"
fi
sed -e 's/from pid [0-9]*/from pid N/' -e 's/fd [0-9]*/fd N/g' t.trace >t.norm
if ! cmp -s t.norm "$exp_trace"; then
	diff -u "$exp_trace" t.norm >&2
	fail "the trace differs from $exp_trace"
fi
"$replay" -o replay.out t.trace || fail "gpuvm-replay failed"
if ! cmp -s replay.out "$exp_replay"; then
	diff -u "$exp_replay" replay.out >&2
	fail "the replay differs from $exp_replay"
fi
echo "capture_golden msm: ok ($(grep -c '' t.trace) trace lines)"
