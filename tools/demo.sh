#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build the default preset and replay the recorded Vulkan session: prints
# the replay statistics and where the SVG map of the address space went.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/default
replay=$build/tools/gpuvm-replay/gpuvm-replay
trace=examples/traces/vulkan_session.trace
svg=$build/vulkan_session.svg

# The build's own output only matters when it fails.
mkdir -p "$build"
log=$build/demo-build.log
echo "demo: building libgpuvm and gpuvm-replay (log: $log)"
if ! { cmake --preset default && cmake --build --preset default -j2; } >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	echo "demo: the build failed; the full log is $log" >&2
	exit 1
fi

# The listing of every operation goes to stdout and is dropped; --stats
# prints the summary on stderr.
"$replay" --stats --svg "$svg" "$trace" >/dev/null
echo "demo: SVG map of the address space written to $svg"
