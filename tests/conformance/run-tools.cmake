# SPDX-License-Identifier: MIT
#
# cmake -DMODE=stats_svg|exit_status -DREPLAY=<gpuvm-replay> -DSVGCHECK=<svgcheck>
#       -DTRACES=<traces dir> -DWORK=<scratch dir> -P run-tools.cmake
#
# stats_svg:   --stats prints its summary on stderr after the listing, --svg
#              draws a well-formed picture of the final state.
# exit_status: 0 whenever the trace could be read, refused requests or not;
#              1 when it could not (or the output could not be written);
#              2 for bad usage.

foreach(v MODE REPLAY TRACES WORK)
	if(NOT DEFINED ${v})
		message(FATAL_ERROR "run-tools.cmake: -D${v}= is required")
	endif()
endforeach()
file(MAKE_DIRECTORY "${WORK}")
set(demo "${TRACES}/x11_tools_demo.trace")
set(demo_expected "${TRACES}/x11_tools_demo.expected")

# run(<name> <expected exit status> ARGS...): runs the tool, leaves its
# stdout and stderr in ${name}_out and ${name}_err in the caller's scope.
function(run name status)
	cmake_parse_arguments(PARSE_ARGV 2 R "" "INPUT" "ARGS")
	if(NOT R_INPUT)
		set(R_INPUT /dev/null)
	endif()
	execute_process(COMMAND "${REPLAY}" ${R_ARGS}
		INPUT_FILE "${R_INPUT}"
		OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
	if(NOT rc STREQUAL "${status}")
		message(FATAL_ERROR "${name}: gpuvm-replay ${R_ARGS} exited with '${rc}', "
			"expected ${status}\nstderr:\n${err}")
	endif()
	set(${name}_out "${out}" PARENT_SCOPE)
	set(${name}_err "${err}" PARENT_SCOPE)
endfunction()

function(expect_match name text regex)
	if(NOT text MATCHES "${regex}")
		message(FATAL_ERROR "${name}: no match for '${regex}' in:\n${text}")
	endif()
endfunction()

# The listing as the conformance tests compare it: error text cut off.
function(normalized var text)
	string(REGEX REPLACE "(^|\n)(error [A-Z0-9_]+)[^\n]*" "\\1\\2" text "${text}")
	set(${var} "${text}" PARENT_SCOPE)
endfunction()

file(READ "${demo_expected}" want)
normalized(want "${want}")

if(MODE STREQUAL "stats_svg")
	if(NOT DEFINED SVGCHECK)
		message(FATAL_ERROR "run-tools.cmake: -DSVGCHECK= is required")
	endif()
	set(svg "${WORK}/demo.svg")
	file(REMOVE "${svg}")

	# What the main job runs: listing thrown away, stats still on stderr.
	run(quiet 0 ARGS -q --stats --svg "${svg}" "${demo}")
	if(NOT quiet_out STREQUAL "")
		message(FATAL_ERROR "--quiet still wrote a listing:\n${quiet_out}")
	endif()
	set(e "${quiet_err}")
	expect_match(stats "${e}" "gpuvm-replay: 21 requests")
	expect_match(stats "${e}" "requests +21: vm 2 bo 3 map 10 \\(sparse 4\\) unmap 2 prefetch 1 unmap-bo 0 dump 3 unknown 0\n")
	expect_match(stats "${e}" "errors +2: ENOENT 1 EINVAL 1\n")
	expect_match(stats "${e}" "ops +20: map 9 remap 2 unmap 1 prefetch 8\n")
	expect_match(stats "${e}" "keep ratio 0\\.3333 \\(1 of 3 ")
	expect_match(stats "${e}" "bos +3\n")
	expect_match(stats "${e}" "vm gfx +mappings 8, peak 8")
	expect_match(stats "${e}" "vm copy +mappings 1, peak 2")

	execute_process(COMMAND "${SVGCHECK}" "${svg}" --va 9 --sparse 3 --reserved 1
			--bos 3 --bands 2
		RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
	if(NOT rc STREQUAL "0")
		message(FATAL_ERROR "svgcheck failed on ${svg}:\n${out}${err}")
	endif()
	message(STATUS "${out}")
	file(READ "${svg}" text)
	expect_match(svg "${text}" "<pattern id=\"sparse\"")
	expect_match(svg "${text}" "Condensed axes")
	expect_match(svg "${text}" ">0x7fff00000000<")

	# Stats go to stderr after the listing, which stays byte-exact on stdout.
	run(both 0 ARGS --stats --svg "${svg}" "${demo}")
	normalized(got "${both_out}")
	if(NOT got STREQUAL want)
		message(FATAL_ERROR "--stats --svg changed the listing:\n${both_out}")
	endif()
	expect_match(stats "${both_err}" "keep ratio 0\\.3333")

	# No mapping at all still draws a valid picture; an empty VM a band.
	file(WRITE "${WORK}/empty.trace" "vm e 0x0 0x0\nvm f 0x1000 0x1000 reserve 0x0 0x2000\n")
	run(empty 0 ARGS -q --svg "${svg}" "${WORK}/empty.trace")
	execute_process(COMMAND "${SVGCHECK}" "${svg}" --va 0 --reserved 1 --bos 0 --bands 2
		RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
	if(NOT rc STREQUAL "0")
		message(FATAL_ERROR "svgcheck failed on the empty picture:\n${out}${err}")
	endif()
elseif(MODE STREQUAL "exit_status")
	# A trace that can't be read: status 1, a message, no listing.
	run(missing 1 ARGS "${WORK}/no-such-file.trace")
	expect_match(missing "${missing_err}" "no-such-file.trace")
	if(NOT missing_out STREQUAL "")
		message(FATAL_ERROR "a missing trace still printed:\n${missing_out}")
	endif()
	run(directory 1 ARGS "${WORK}")
	run(bad_option 2 ARGS --frobnicate "${demo}")
	run(two_traces 2 ARGS "${demo}" "${demo}")
	run(missing_arg 2 ARGS "${demo}" -o)
	run(help 0 ARGS --help)
	expect_match(help "${help_out}" "usage: gpuvm-replay")

	# Refused requests are output, not failures.
	run(refused 0 ARGS "${TRACES}/x01_refuse_syntax.trace")
	expect_match(refused "${refused_out}" "error EINVAL")

	# stdin, "-" and -o give the same listing as a file argument.
	run(file 0 ARGS "${demo}")
	normalized(got "${file_out}")
	if(NOT got STREQUAL want)
		message(FATAL_ERROR "listing of ${demo} differs from ${demo_expected}")
	endif()
	run(stdin 0 INPUT "${demo}")
	run(dash 0 ARGS - INPUT "${demo}")
	if(NOT stdin_out STREQUAL file_out OR NOT dash_out STREQUAL file_out)
		message(FATAL_ERROR "reading stdin gives another listing than the file")
	endif()
	file(REMOVE "${WORK}/listing.txt")
	run(to_file 0 ARGS -o "${WORK}/listing.txt" "${demo}")
	file(READ "${WORK}/listing.txt" listing)
	if(NOT to_file_out STREQUAL "" OR NOT listing STREQUAL file_out)
		message(FATAL_ERROR "-o FILE did not get the listing (or stdout did)")
	endif()

	# Empty input: nothing to say, status 0.
	run(empty 0)
	if(NOT empty_out STREQUAL "")
		message(FATAL_ERROR "empty input printed:\n${empty_out}")
	endif()

	# Output that can't be written is an error too.
	run(bad_out 1 ARGS -o "${WORK}/no-such-dir/listing.txt" "${demo}")
	run(bad_svg 1 ARGS -q --svg "${WORK}/no-such-dir/x.svg" "${demo}")
	if(EXISTS /dev/full)
		run(full 1 ARGS -o /dev/full "${demo}")
	endif()
else()
	message(FATAL_ERROR "run-tools.cmake: unknown MODE ${MODE}")
endif()
