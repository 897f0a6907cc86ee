# SPDX-License-Identifier: MIT
#
# cmake -DPROG=<tsan_defer_race> -DMODE=race|clean -DSUPP=<tests/tsan.supp> -P expect-tsan.cmake
#
# Runs PROG MODE with the project's suppressions and decides from TSan's
# output, not from the exit code alone:
#   race   passes only if TSan reports a data race whose two stacks are the
#          injected write (payload_write) and the cleanup's read
#          (payload_read): any other report, or none, fails;
#   clean  passes only if the program succeeds and TSan reports nothing.

foreach(var PROG MODE SUPP)
	if(NOT DEFINED ${var})
		message(FATAL_ERROR "expect-tsan.cmake: -D${var}= is required")
	endif()
endforeach()
if(NOT EXISTS "${SUPP}")
	message(FATAL_ERROR "expect-tsan.cmake: no suppression file ${SUPP}")
endif()

# halt_on_error: the first report is the one judged, nothing after it runs.
set(ENV{TSAN_OPTIONS} "halt_on_error=1:second_deadlock_stack=1:suppressions=${SUPP}")
execute_process(COMMAND "${PROG}" "${MODE}"
	OUTPUT_VARIABLE out
	ERROR_VARIABLE err
	RESULT_VARIABLE rc
	TIMEOUT 50)
set(all "${out}${err}")
message("${all}")

string(FIND "${all}" "WARNING: ThreadSanitizer" any_report)
if(MODE STREQUAL "race")
	string(FIND "${all}" "WARNING: ThreadSanitizer: data race" race)
	string(FIND "${all}" "payload_write" w)
	string(FIND "${all}" "payload_read" r)
	if(race EQUAL -1)
		message(FATAL_ERROR "FAIL: the injected race on a deferred vm_bo's payload was not "
			"reported (exit status ${rc}): a suppression or an annotation hides real races")
	endif()
	if(w EQUAL -1 OR r EQUAL -1)
		message(FATAL_ERROR "FAIL: TSan reported a race, but not the injected one "
			"(payload_write against payload_read)")
	endif()
	message("PASS: TSan reported the injected race")
elseif(MODE STREQUAL "clean")
	if(NOT any_report EQUAL -1)
		message(FATAL_ERROR "FAIL: TSan reported something without an injected race: "
			"a false positive across the deferred stack (are the __tsan_release/"
			"__tsan_acquire annotations of lib/defer.c in place?) or a real bug")
	endif()
	if(NOT rc EQUAL 0)
		message(FATAL_ERROR "FAIL: the program failed (exit status ${rc})")
	endif()
	message("PASS: no report without the injected race")
else()
	message(FATAL_ERROR "expect-tsan.cmake: MODE must be race or clean")
endif()
