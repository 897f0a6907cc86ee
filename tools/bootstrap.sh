#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Install what building and testing libgpuvm needs on Debian 12 that is not
# there yet. A machine that has everything is left alone, silently, so this
# is cheap to run before every build.
set -eu

# make: the generator CMake picks by default; clang + libclang-rt-14-dev:
# the tsan and asan presets; binutils: nm for the ABI test; llvm-14:
# llvm-profdata-14 and llvm-cov-14 for tools/coverage.sh; clang-tidy-14 and
# cppcheck: the lint tests.
PACKAGES="pkg-config make g++ clang libclang-rt-14-dev binutils liburcu-dev libcmocka-dev llvm-14 clang-tidy-14 cppcheck"

missing=""
for pkg in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $pkg" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "bootstrap: missing packages:$missing" >&2
	echo "bootstrap: not root and no sudo; install them and run again" >&2
	exit 1
fi

echo "bootstrap: installing$missing"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086 # one word per package
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
