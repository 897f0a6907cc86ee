# SPDX-License-Identifier: MIT
#
# Installs BUILD_DIR into WORK_DIR/prefix, then configures, builds and runs
# tests/install/consumer three times: find_package(gpuvm) with gpuvm::gpuvm,
# the same with gpuvm::gpuvm_static, and pkg-config libgpuvm. The consumer
# gets the compiler and flags of this build, so a sanitized library is
# linked into a sanitized program.
cmake_minimum_required(VERSION 3.25)

foreach(var IN ITEMS BUILD_DIR WORK_DIR CONSUMER_DIR GENERATOR C_COMPILER)
	if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
		message(FATAL_ERROR "run-consumer: -D${var}=... is required")
	endif()
endforeach()

function(run what)
	execute_process(COMMAND ${ARGN}
		RESULT_VARIABLE rc
		OUTPUT_VARIABLE out
		ERROR_VARIABLE out)
	if(NOT rc EQUAL 0)
		message(FATAL_ERROR "install_consumer: ${what} failed (${rc}):\n${out}")
	endif()
	set(run_output "${out}" PARENT_SCOPE)
endfunction()

set(prefix "${WORK_DIR}/prefix")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

run("cmake --install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")
message(STATUS "installed into ${prefix}")

file(GLOB_RECURSE pcfiles "${prefix}/*/pkgconfig/libgpuvm.pc")
list(LENGTH pcfiles n)
if(NOT n EQUAL 1)
	message(FATAL_ERROR "install_consumer: expected one libgpuvm.pc under ${prefix}, found: ${pcfiles}")
endif()
get_filename_component(pcdir "${pcfiles}" DIRECTORY)

foreach(mode IN ITEMS cmake cmake-static pkgconfig)
	set(bin "${WORK_DIR}/${mode}")
	set(ENV{PKG_CONFIG_PATH} "${pcdir}")
	run("configure (${mode})" "${CMAKE_COMMAND}"
		-S "${CONSUMER_DIR}" -B "${bin}" -G "${GENERATOR}"
		"-DCMAKE_C_COMPILER=${C_COMPILER}"
		"-DCMAKE_C_FLAGS=${C_FLAGS}"
		"-DCMAKE_BUILD_TYPE=${BUILD_TYPE}"
		"-DCMAKE_PREFIX_PATH=${prefix}"
		-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
		"-DGPUVM_CONSUMER_MODE=${mode}"
		"-DGPUVM_EXPECT_PREFIX=${prefix}")
	run("build (${mode})" "${CMAKE_COMMAND}" --build "${bin}")
	run("run (${mode})" "${bin}/gpuvm_consumer")
	string(STRIP "${run_output}" run_output)
	message(STATUS "${mode}: ${run_output}")
endforeach()
message(STATUS "install_consumer: all three consumers built and ran")
