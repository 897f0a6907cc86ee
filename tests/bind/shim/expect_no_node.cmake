# SPDX-License-Identifier: MIT
# Run example-umd_sparse on a node that does not exist: it must exit with
# status 1 and say why, not crash or claim success.
execute_process(COMMAND "${PROG}" "${NODE}"
	RESULT_VARIABLE rc
	OUTPUT_VARIABLE out
	ERROR_VARIABLE err)
if(NOT rc EQUAL 1)
	message(FATAL_ERROR "exit status ${rc}, want 1\nstdout: ${out}\nstderr: ${err}")
endif()
if(NOT err MATCHES "umd_sparse: cannot open ${NODE}: No such file or directory")
	message(FATAL_ERROR "no clear message\nstderr: ${err}")
endif()
if(out MATCHES "umd_sparse: ok")
	message(FATAL_ERROR "claims success\nstdout: ${out}")
endif()
