# SPDX-License-Identifier: MIT
# Language level, options and warning flags shared by every target of the
# project (not by the installed package: nothing here is exported).

set(CMAKE_C_STANDARD 11)
set(CMAKE_C_STANDARD_REQUIRED ON)
set(CMAKE_C_EXTENSIONS OFF)
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)

option(GPUVM_BUILD_TESTS "Build the tests (needs cmocka)" ON)
option(GPUVM_WERROR "Turn compiler warnings into errors (CI builds)" OFF)

# Debug checks run gpuvm_verify() after each mutation: too slow for a
# release build, but wanted whenever someone is debugging.
if(CMAKE_BUILD_TYPE STREQUAL "Debug")
	set(_gpuvm_debug_default ON)
else()
	set(_gpuvm_debug_default OFF)
endif()
option(GPUVM_DEBUG_CHECKS "Define GPUVM_DEBUG: verify the VM after each mutation"
	${_gpuvm_debug_default})
unset(_gpuvm_debug_default)

if(GPUVM_DEBUG_CHECKS)
	add_compile_definitions(GPUVM_DEBUG)
endif()

if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
	add_compile_options(-Wall -Wextra)
	if(GPUVM_WERROR)
		add_compile_options(-Werror)
	endif()
endif()

# Stricter flags for the library's own sources: every non-static function
# must have a prototype in a header, and no local may hide another name.
function(gpuvm_library_warnings target)
	if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
		target_compile_options(${target} PRIVATE
			$<$<COMPILE_LANGUAGE:C>:-Wshadow -Wstrict-prototypes
				-Wmissing-prototypes -Wpointer-arith -Wvla>)
	endif()
endfunction()
