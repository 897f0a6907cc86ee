#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The exported ABI of libgpuvm is written down three times: GPUVM_EXPORT in
# the public headers, the global list of lib/libgpuvm.map, and the dynamic
# symbol table of libgpuvm.so. This script keeps them equal.
#
#   abi-symbols.sh exports INCLUDE_DIR      names declared with GPUVM_EXPORT
#   abi-symbols.sh map MAP                  global names of a version script
#   abi-symbols.sh dynsym NM LIB            defined dynamic symbols of LIB
#   abi-symbols.sh gen-map INCLUDE_DIR [OUT] a version script for the headers
#   abi-symbols.sh check NM LIB MAP INCLUDE_DIR
#
# POSIX sh, awk, sort and comm only: a fresh Debian has no python3.
set -eu

NODE=LIBGPUVM_0.1

die() {
	echo "abi-symbols: $*" >&2
	exit 2
}

# A declaration starts at the beginning of a line with GPUVM_EXPORT and may
# span lines; the name is the last identifier before the first "(" (or
# before ";" for a variable). Preprocessor and comment lines never start
# with the bare word, so the #define of the macro itself is skipped.
exports() {
	[ -d "$1" ] || die "no include directory $1"
	for h in "$1"/gpuvm.h "$1"/gpuvm/*.h; do
		[ -f "$h" ] && cat "$h"
	done | awk '
		/^[ \t]*GPUVM_EXPORT[ \t]/ {
			buf = $0
			while (buf !~ /[(;]/ && (getline line) > 0)
				buf = buf " " line
			sub(/[(;].*/, "", buf)
			n = split(buf, w, /[^A-Za-z0-9_]+/)
			for (i = n; i > 0; i--)
				if (w[i] != "") {
					print w[i]
					break
				}
		}' | LC_ALL=C sort -u
}

# Names between "global:" and "local:", one "name;" per line; C comments in
# the script are on their own lines.
map_globals() {
	[ -f "$1" ] || die "no version script $1"
	awk '
		/\/\*/, /\*\// { next }
		/^[ \t]*global:/ { g = 1; next }
		/^[ \t]*local:/ { g = 0; next }
		g && /^[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]*;/ {
			s = $0
			gsub(/[ \t;]/, "", s)
			print s
		}' "$1" | LC_ALL=C sort -u
}

# Defined dynamic symbols, without the version suffix nm prints, and
# without the absolute symbol that names the version node.
dynsym() {
	[ -f "$2" ] || die "no library $2"
	"$1" -D --defined-only "$2" | awk '
		NF >= 3 && $(NF - 1) != "A" {
			s = $NF
			sub(/@.*/, "", s)
			print s
		}' | LC_ALL=C sort -u
}

gen_map() {
	echo "/* SPDX-License-Identifier: MIT */"
	echo "/*"
	echo " * Exported symbols of libgpuvm.so. Generated from the GPUVM_EXPORT"
	echo " * declarations by tests/abi/abi-symbols.sh gen-map include; the"
	echo " * abi_symbols test fails when this list, the headers and the library"
	echo " * disagree. Symbols of a released node never move: new ones go in a"
	echo " * new node that inherits from this one."
	echo " */"
	echo "$NODE {"
	echo "global:"
	exports "$1" | sed 's/^/	/; s/$/;/'
	echo "local:"
	echo "	*;"
	echo "};"
}

# Print the lines only one side has, marked with the side's name.
diff_sets() {
	LC_ALL=C comm -3 "$1" "$2" | awk -v a="$3" -v b="$4" '
		/^\t/ { sub(/^\t/, ""); print "  only in " b ": " $0; next }
		{ print "  only in " a ": " $0 }'
}

check() {
	nm=$1 lib=$2 map=$3 inc=$4
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	exports "$inc" >"$tmp/headers"
	map_globals "$map" >"$tmp/map"
	dynsym "$nm" "$lib" >"$tmp/lib"
	[ -s "$tmp/headers" ] || die "no GPUVM_EXPORT declaration found in $inc"
	status=0
	if ! cmp -s "$tmp/headers" "$tmp/map"; then
		echo "FAIL: GPUVM_EXPORT declarations and $map differ:"
		diff_sets "$tmp/headers" "$tmp/map" headers map
		echo "  (regenerate with: tests/abi/abi-symbols.sh gen-map include > lib/libgpuvm.map)"
		status=1
	fi
	if ! cmp -s "$tmp/map" "$tmp/lib"; then
		echo "FAIL: $map and the dynamic symbols of $lib differ:"
		diff_sets "$tmp/map" "$tmp/lib" map library
		status=1
	fi
	if [ "$status" = 0 ]; then
		echo "abi-symbols: $(wc -l <"$tmp/lib" | tr -d ' ') symbols;" \
			"headers, version script and library agree"
	fi
	return "$status"
}

[ $# -ge 1 ] || die "usage: see the head of $0"
cmd=$1
shift
case "$cmd" in
exports) [ $# = 1 ] || die "usage: exports INCLUDE_DIR"; exports "$1" ;;
map) [ $# = 1 ] || die "usage: map MAP"; map_globals "$1" ;;
dynsym) [ $# = 2 ] || die "usage: dynsym NM LIB"; dynsym "$1" "$2" ;;
gen-map)
	[ $# = 1 ] || [ $# = 2 ] || die "usage: gen-map INCLUDE_DIR [OUT]"
	if [ $# = 2 ]; then
		gen_map "$1" >"$2.tmp" && mv "$2.tmp" "$2"
	else
		gen_map "$1"
	fi
	;;
check) [ $# = 4 ] || die "usage: check NM LIB MAP INCLUDE_DIR"; check "$@" ;;
*) die "unknown command $cmd" ;;
esac
