# SPDX-License-Identifier: MIT
#
# ctest driver of one libFuzzer target (label fuzz):
#   cmake -DFUZZER=<binary> -DNAME=<target> -DSEEDS=<a|b|...> -DWORK=<dir>
#         -DSECONDS=<n> [-DARGS=<opt|opt...>] -P run-fuzzer.cmake
#
# The corpus starts as a copy of the seeds in WORK (build tree): libFuzzer
# writes new inputs into its corpus directory, and the source tree must stay
# untouched. Fails when the fuzzer exits non-zero (a crash, a leak, a
# timeout, an out-of-memory) or leaves anything in WORK/artifacts.

foreach(var FUZZER NAME SEEDS WORK SECONDS)
	if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
		message(FATAL_ERROR "run-fuzzer.cmake: ${var} is not set")
	endif()
endforeach()
string(REPLACE "|" ";" seeds "${SEEDS}")
string(REPLACE "|" ";" args "${ARGS}")

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/corpus" "${WORK}/artifacts")
set(nseeds 0)
foreach(seed IN LISTS seeds)
	if(IS_DIRECTORY "${seed}")
		file(GLOB files LIST_DIRECTORIES false "${seed}/*")
	else()
		set(files "${seed}")
	endif()
	foreach(f IN LISTS files)
		get_filename_component(fname "${f}" NAME)
		if(fname MATCHES "^\\.")
			continue() # build stamps and the like
		endif()
		file(COPY "${f}" DESTINATION "${WORK}/corpus")
		math(EXPR nseeds "${nseeds} + 1")
	endforeach()
endforeach()
if(nseeds EQUAL 0)
	message(FATAL_ERROR "${NAME}: no seeds in ${SEEDS}")
endif()
message(STATUS "${NAME}: ${nseeds} seeds, fuzzing for ${SECONDS} s")

execute_process(
	COMMAND "${FUZZER}"
		-max_total_time=${SECONDS}
		-rss_limit_mb=2048
		-timeout=20
		-print_final_stats=1
		"-artifact_prefix=${WORK}/artifacts/"
		${args}
		"${WORK}/corpus"
	RESULT_VARIABLE rc)

file(GLOB found LIST_DIRECTORIES false "${WORK}/artifacts/*")
if(NOT rc EQUAL 0 OR found)
	string(REPLACE ";" "\n  " found_lines "${found}")
	message(FATAL_ERROR
		"${NAME}: the fuzzer failed (exit status ${rc}). Inputs it saved:\n"
		"  ${found_lines}\n"
		"Reproduce one with: ${NAME}-run FILE (in the build's tests/fuzz directory).\n"
		"Once fixed, keep it as a regression: cp FILE tests/regress/${NAME}/<what-it-broke> "
		"(docs/fuzzing.md).")
endif()
