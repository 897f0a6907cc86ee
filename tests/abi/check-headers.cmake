# SPDX-License-Identifier: MIT
#
# Compile every public header alone, twice in a row (include guard), as C11
# or C++17 with warnings as errors:
#   cmake -DLANG=C|CXX -DCOMPILER=... -DINCLUDE_DIR=... -DWORK_DIR=... -P check-headers.cmake
# The header list is read when the test runs, so a new header is checked
# without reconfiguring.
cmake_minimum_required(VERSION 3.25)

foreach(var IN ITEMS LANG COMPILER INCLUDE_DIR WORK_DIR)
	if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
		message(FATAL_ERROR "check-headers: -D${var}=... is required")
	endif()
endforeach()

if(LANG STREQUAL "C")
	set(ext c)
	set(flags -std=c11 -Wall -Wextra -Werror -pedantic)
elseif(LANG STREQUAL "CXX")
	set(ext cpp)
	set(flags -std=c++17 -Wall -Wextra -Werror)
else()
	message(FATAL_ERROR "check-headers: LANG must be C or CXX, not ${LANG}")
endif()

file(GLOB headers RELATIVE "${INCLUDE_DIR}" "${INCLUDE_DIR}/gpuvm.h" "${INCLUDE_DIR}/gpuvm/*.h")
list(SORT headers)
if(NOT headers)
	message(FATAL_ERROR "check-headers: no header in ${INCLUDE_DIR}")
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(failed "")
foreach(h IN LISTS headers)
	string(MAKE_C_IDENTIFIER "${h}" id)
	set(tu "${WORK_DIR}/${id}.${ext}")
	# The declaration after the includes keeps -pedantic quiet about an
	# empty translation unit should a header ever expand to nothing.
	file(WRITE "${tu}" "#include <${h}>\n#include <${h}>\nint gpuvm_header_check_${id};\n")
	execute_process(
		COMMAND "${COMPILER}" ${flags} "-I${INCLUDE_DIR}" -fsyntax-only "${tu}"
		RESULT_VARIABLE rc
		OUTPUT_VARIABLE out
		ERROR_VARIABLE out)
	if(rc EQUAL 0)
		message(STATUS "ok    ${LANG} ${h}")
	else()
		message(STATUS "FAIL  ${LANG} ${h}\n${out}")
		list(APPEND failed "${h}")
	endif()
endforeach()

if(failed)
	list(JOIN failed ", " failed)
	message(FATAL_ERROR "check-headers: ${LANG}: does not compile alone: ${failed}")
endif()
list(LENGTH headers n)
message(STATUS "check-headers: ${LANG}: all ${n} public headers compile alone")
