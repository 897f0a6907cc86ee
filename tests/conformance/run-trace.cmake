# SPDX-License-Identifier: MIT
#
# cmake -DREPLAY=<gpuvm-replay> -DTRACE=<x.trace> -DEXPECTED=<x.expected>
#       -DOUT=<work file prefix> [-DREPLAY_ARGS=<;-list>] -P run-trace.cmake
#
# Replays TRACE and compares the listing with EXPECTED byte for byte, except
# the free-form text after the errno name of an `error` line, which the trace
# format leaves out of the contract: both sides are cut to `error ENAME`.
# The run must exit 0 and write nothing to stderr (the replay tool reports
# library contract problems there).

foreach(v REPLAY TRACE EXPECTED OUT)
	if(NOT DEFINED ${v})
		message(FATAL_ERROR "run-trace.cmake: -D${v}= is required")
	endif()
endforeach()

execute_process(
	COMMAND "${REPLAY}" ${REPLAY_ARGS} "${TRACE}"
	OUTPUT_FILE "${OUT}.out"
	ERROR_VARIABLE err
	RESULT_VARIABLE rc)
if(NOT rc STREQUAL "0")
	message(FATAL_ERROR "gpuvm-replay exited with '${rc}' on ${TRACE}\n${err}")
endif()
if(NOT err STREQUAL "")
	message(FATAL_ERROR "gpuvm-replay wrote to stderr on ${TRACE}:\n${err}")
endif()

function(normalize in out)
	file(READ "${in}" text)
	# An error line keeps "error ENAME"; the rest of it is free-form.
	string(REGEX REPLACE "(^|\n)(error [A-Z0-9_]+)[^\n]*" "\\1\\2" text "${text}")
	file(WRITE "${out}" "${text}")
endfunction()

normalize("${OUT}.out" "${OUT}.got")
normalize("${EXPECTED}" "${OUT}.want")
file(READ "${OUT}.got" got HEX)
file(READ "${OUT}.want" want HEX)
if(got STREQUAL want)
	return()
endif()

# Mismatch: show where. diff -u if there is one, else the first differing line.
find_program(DIFF diff)
if(DIFF)
	execute_process(COMMAND "${DIFF}" -u "${OUT}.want" "${OUT}.got"
		OUTPUT_VARIABLE hint ERROR_VARIABLE hint)
else()
	file(STRINGS "${OUT}.want" wl)
	file(STRINGS "${OUT}.got" gl)
	list(LENGTH wl nw)
	list(LENGTH gl ng)
	set(hint "expected ${nw} lines, got ${ng}")
	set(i 0)
	while(i LESS nw AND i LESS ng)
		list(GET wl ${i} a)
		list(GET gl ${i} b)
		if(NOT a STREQUAL b)
			math(EXPR ln "${i} + 1")
			set(hint "first difference at line ${ln}:\n  expected: ${a}\n  got:      ${b}")
			break()
		endif()
		math(EXPR i "${i} + 1")
	endwhile()
endif()
string(LENGTH "${got}" gl)
string(LENGTH "${want}" wl)
math(EXPR gl "${gl} / 2")
math(EXPR wl "${wl} / 2")
# Plain message() keeps the diff's layout; FATAL_ERROR would re-wrap it.
message("listing of ${TRACE} differs from ${EXPECTED} "
	"(${gl} bytes vs ${wl} expected; error text ignored)\n"
	"${hint}\n"
	"full listing: ${OUT}.out")
message(FATAL_ERROR "conformance mismatch")
