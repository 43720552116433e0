#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/tests/install_test.sh - "make tools" in a clean copy of the sources
# with no kernel tree, then "make install" against KDIR into a scratch root:
# the tool, libraries, headers and libphysmap.pc, a program built there with
# pkg-config, and the module where that kernel's kbuild puts an external
# module (INSTALL_MOD_DIR: extra/ on 6.1, updates/ on 6.12; compressed as
# its CONFIG_MODULE_COMPRESS_* says; depmod only with a System.map), and
# no other module. TAP. Sourced by host_test.sh (its numbering), or run on
# its own: KDIR=... tools/tests/install_test.sh (make check's 6.12 tier).
if ! declare -F ok >/dev/null; then
	set -uo pipefail
	TOP=$(cd "$(dirname "$0")/../.." && pwd)
	. "$TOP/tools/tests/tap.sh"
	INSTALL_TEST_PLAN=1
fi

# kbuild_mod_dir KDIR: INSTALL_MOD_DIR's default in KDIR's kbuild
# (scripts/Makefile.modinst, here or in the tree Debian's Makefile includes)
kbuild_mod_dir() {
	local f dirs=$1
	dirs+=" $(sed -n 's/^include \(.*\)\/Makefile$/\1/p' "$1/Makefile" 2>/dev/null)"
	for f in $dirs; do
		f=$f/scripts/Makefile.modinst
		[ -f "$f" ] && { sed -n 's/^INSTALL_MOD_DIR ?= *//p' "$f" | head -n 1; return; }
	done
	echo extra
}
# kbuild_mod_suffix KDIR: the suffix modules_install gives a module
kbuild_mod_suffix() {
	case $(grep -E '^CONFIG_MODULE_COMPRESS_(GZIP|XZ|ZSTD)=y' "$1/.config" 2>/dev/null) in
	*GZIP*) echo .gz ;;
	*XZ*) echo .xz ;;
	*ZSTD*) echo .zst ;;
	esac
}

mkdir -p "$T/src"
(cd "$TOP" && git ls-files -z 2>/dev/null | xargs -0 -I{} cp --parents {} "$T/src/") ||
	cp -a "$TOP/." "$T/src/"
make -C "$T/src" tools KDIR=/nonexistent >"$T/log" 2>&1 &&
	[ -x "$T/src/tools/physmapctl" ] && [ -f "$T/src/tools/libphysmap.a" ] &&
	[ -f "$T/src/tools/libphysmap.so.0.1.0" ]
ok $? "make tools in a clean copy, with no kernel tree (KDIR=/nonexistent)" "$T/log"

if [ -n "${KDIR:-}" ] && [ -d "$KDIR" ]; then
	d=$T/root
	before=$(find /lib/modules -name 'physmap.ko*' 2>/dev/null)
	# DESTDIR alone must keep the module inside it, whatever the
	# environment says (make check runs under make)
	INSTALL_MOD_PATH='' make -C "$T/src" install DESTDIR="$d" PREFIX=/usr \
		KDIR="$KDIR" >"$T/log" 2>&1
	rc=$?
	after=$(find /lib/modules -name 'physmap.ko*' 2>/dev/null)
	if [ "$before" != "$after" ]; then
		echo "make install put a module outside DESTDIR: $after" >>"$T/log"
		rc=1
	fi
	kver=$(find "$d/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | head -n 1)
	[ $rc -eq 0 ] && [ -n "$kver" ] &&
		[ -x "$d/usr/bin/physmapctl" ] && [ -f "$d/usr/lib/libphysmap.a" ] &&
		[ -L "$d/usr/lib/libphysmap.so" ] && [ -f "$d/usr/lib/libphysmap.so.0.1.0" ] &&
		[ -f "$d/usr/include/physmap/libphysmap.h" ] &&
		[ -f "$d/usr/include/physmap/physmap_ioctl.h" ] &&
		grep -q '^prefix=/usr$' "$d/usr/lib/pkgconfig/libphysmap.pc"
	ok $? "make install DESTDIR=... PREFIX=/usr: tool, libraries, headers, .pc" "$T/log"
	# where kbuild puts an external module, on this kernel
	want=$(kbuild_mod_dir "$KDIR")/physmap.ko$(kbuild_mod_suffix "$KDIR")
	echo "kbuild of $KDIR installs external modules as $want" >>"$T/log"
	[ $rc -eq 0 ] && [ -f "$d/lib/modules/$kver/$want" ]
	ok $? "make install: the module where kbuild puts it, lib/modules/$kver/$want" "$T/log"
	# kbuild runs depmod only with a System.map in the build tree
	# (Debian's headers have none)
	if [ -e "$KDIR/System.map" ]; then
		[ -f "$d/lib/modules/$kver/modules.dep" ]
		ok $? "make install: depmod ran (KDIR has a System.map)" "$T/log"
	else
		[ ! -e "$d/lib/modules/$kver/modules.dep" ] && grep -q 'Skipping depmod' "$T/log"
		ok $? "make install: depmod skipped, as kbuild says (KDIR has no System.map)" "$T/log"
	fi
	# the benchmark module is a test, not for users
	mods=$(find "$d/lib/modules" -name '*.ko*' -printf '%f\n' 2>/dev/null | sort | tr '\n' ' ')
	echo "installed modules: $mods" >>"$T/log"
	[ "$mods" = "physmap.ko$(kbuild_mod_suffix "$KDIR") " ]
	ok $? "make install installs physmap.ko and no other module" "$T/log"

	cat >"$T/user.c" <<'EOC'
#include <errno.h>
#include <stdio.h>
#include <physmap/libphysmap.h>

int main(void)
{
	int fd = physmap_open("/nonexistent/physmap");

	if (fd != -1 || errno != ENOENT)
		return 1;
	printf("%s\n", physmap_open_hint(errno));
	return 0;
}
EOC
	pc() {
		PKG_CONFIG_SYSROOT_DIR=$d PKG_CONFIG_LIBDIR=$d/usr/lib/pkgconfig \
			pkg-config "$@" libphysmap
	}
	# shellcheck disable=SC2046
	cc -Wall -Werror "$T/user.c" $(pc --cflags --libs) -o "$T/user" >"$T/log" 2>&1 &&
		LD_LIBRARY_PATH=$d/usr/lib "$T/user" | grep -q 'sudo modprobe physmap' &&
		readelf -d "$T/user" | grep -q 'NEEDED.*libphysmap.so.0'
	ok $? "a program built with pkg-config --cflags --libs libphysmap links the shared library and runs" "$T/log"
	# shellcheck disable=SC2046
	cc -Wall -Werror -static "$T/user.c" $(pc --cflags --libs --static) -o "$T/user" >"$T/log" 2>&1 &&
		"$T/user" | grep -q 'sudo modprobe physmap'
	ok $? "the same, linked statically" "$T/log"
else
	echo "ok $((n += 1)) # SKIP make install: no KDIR"
fi

[ -z "${INSTALL_TEST_PLAN:-}" ] || echo "1..$n"
