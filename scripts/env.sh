# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/env.sh - sourced by the other scripts; settles every path they use.
#
# Nothing here is hard-coded to a kernel version: the newest Debian
# linux-headers-*-$PHYSMAP_FLAVOUR tree that has a matching /boot/vmlinuz-*
# wins. Each variable can be preset in the environment to override it:
#
#   PHYSMAP_TOP      repository top (default: the parent of scripts/)
#   PHYSMAP_CACHE    cache of extracted linux-source parts ($HOME/.cache/physmap)
#   PHYSMAP_BUILD    scratch/log directory (build/ at the top, gitignored)
#   PHYSMAP_FLAVOUR  Debian kernel flavour (cloud-amd64)
#   KDIR             kernel build tree (/usr/src/linux-headers-$KVER)
#   KVER             kernel release (from $KDIR)
#   VMLINUZ          kernel booted in QEMU (/boot/vmlinuz-$KVER)
#   KSRC_NAME        linux-source package/tarball name (linux-source-X.Y)
#   KSRC_TAR         /usr/src/$KSRC_NAME.tar.xz
#   KSRC_CACHE       $PHYSMAP_CACHE/$KSRC_NAME (the extracted parts)
#   KSFT_DIR         $KSRC_CACHE/tools/testing/selftests (lib.mk, harness)
#   CHECKPATCH       $KSRC_CACHE/scripts/checkpatch.pl
#
# physmap_env may leave KDIR/KVER/VMLINUZ empty on a machine where the
# packages are not installed yet; scripts/deps.sh installs them and calls
# physmap_env again.

PHYSMAP_TOP=${PHYSMAP_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PHYSMAP_CACHE=${PHYSMAP_CACHE:-${HOME:-/root}/.cache/physmap}
PHYSMAP_BUILD=${PHYSMAP_BUILD:-$PHYSMAP_TOP/build}
PHYSMAP_FLAVOUR=${PHYSMAP_FLAVOUR:-cloud-amd64}
export PHYSMAP_TOP PHYSMAP_CACHE PHYSMAP_BUILD PHYSMAP_FLAVOUR

# Kernel trouble on the guest console (ERE, case-sensitive), anchored on the
# kernel's own wording so that e.g. "calibrate_delay ... loops_per_jiffy"
# does not match: BUG:/WARNING:/Oops:/panic/GPF, slub_debug reports
# ("BUG kmalloc-64 (Not tainted): ..."), BUG_ON(), traces, UBSAN, hung
# tasks, RCU stalls.
PHYSMAP_CONSOLE_RE='BUG: |BUG kmalloc|BUG [^ ]+ \((Not tainted|Tainted)|kernel BUG at|WARNING: |Oops: |general protection|Kernel panic|Call Trace:|UBSAN: |blocked for more than [0-9]+ seconds|self-detected stall|detected stalls on'
export PHYSMAP_CONSOLE_RE

# Scripts may run under "make check": a make level/flags inherited from the
# top make would change how nested makes behave (kselftest's lib.mk only
# sets OUTPUT when MAKELEVEL is 0). Make every nested make a top-level one.
unset MAKELEVEL MAKEFLAGS MFLAGS MAKEOVERRIDES GNUMAKEFLAGS

# Kernel release of a build tree: Debian's include/config/kernel.release
# holds the upstream version, utsrelease.h the real one (vermagic).
physmap_kver_of() {
	local f=$1/include/generated/utsrelease.h
	if [ -r "$f" ]; then
		sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$f"
	else
		basename "$1" | sed 's/^linux-headers-//'
	fi
}

physmap_env() {
	local d v
	# A KDIR from the caller (make check KDIR=...) wins. Otherwise take the
	# newest headers tree of the flavour that has a kernel image to boot.
	if [ -z "${KDIR:-}" ] || [ ! -d "${KDIR:-}" ]; then
		KDIR=
		for d in $(printf '%s\n' /usr/src/linux-headers-*-"$PHYSMAP_FLAVOUR" |
				sort -rV); do
			[ -d "$d" ] || continue
			v=$(physmap_kver_of "$d")
			if [ -n "$v" ] && [ -r "/boot/vmlinuz-$v" ]; then
				KDIR=$d
				break
			fi
		done
	fi
	KVER=
	VMLINUZ_DEFAULT=
	if [ -n "$KDIR" ]; then
		KVER=$(physmap_kver_of "$KDIR")
		VMLINUZ_DEFAULT=/boot/vmlinuz-$KVER
	fi
	if [ -z "${PHYSMAP_VMLINUZ_SET:-}" ]; then
		# remember whether the caller chose VMLINUZ, so that a second call
		# (after deps installed a kernel) can still fill in the default
		if [ -n "${VMLINUZ:-}" ]; then
			PHYSMAP_VMLINUZ_SET=1
		else
			PHYSMAP_VMLINUZ_SET=0
		fi
	fi
	if [ "$PHYSMAP_VMLINUZ_SET" = 0 ]; then
		VMLINUZ=$VMLINUZ_DEFAULT
	fi
	# linux-source-X.Y of the same major.minor as the kernel (Debian ships
	# exactly one per release); before anything is installed, the newest
	# tarball present, if any.
	if [ -z "${PHYSMAP_KSRC_SET:-}" ]; then
		if [ -n "${KSRC_NAME:-}" ]; then PHYSMAP_KSRC_SET=1; else PHYSMAP_KSRC_SET=0; fi
	fi
	if [ "$PHYSMAP_KSRC_SET" = 0 ]; then
		KSRC_NAME=
		if [ -n "$KVER" ]; then
			KSRC_NAME=linux-source-$(echo "$KVER" | sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p')
		else
			d=$(printf '%s\n' /usr/src/linux-source-*.tar.xz | sort -V | tail -n 1)
			[ -f "$d" ] && KSRC_NAME=$(basename "$d" .tar.xz)
		fi
	fi
	KSRC_TAR=/usr/src/$KSRC_NAME.tar.xz
	KSRC_CACHE=$PHYSMAP_CACHE/$KSRC_NAME
	KSFT_DIR=$KSRC_CACHE/tools/testing/selftests
	CHECKPATCH=$KSRC_CACHE/scripts/checkpatch.pl
	export KDIR KVER VMLINUZ KSRC_NAME KSRC_TAR KSRC_CACHE KSFT_DIR CHECKPATCH
	export PHYSMAP_VMLINUZ_SET PHYSMAP_KSRC_SET
}

physmap_print_env() {
	echo "physmap: top        $PHYSMAP_TOP"
	echo "physmap: KVER       ${KVER:-?}"
	echo "physmap: KDIR       ${KDIR:-?}"
	echo "physmap: VMLINUZ    ${VMLINUZ:-?}"
	echo "physmap: KSRC_TAR   ${KSRC_TAR:-?}"
	echo "physmap: KSRC_CACHE ${KSRC_CACHE:-?}"
	echo "physmap: KSFT_DIR   ${KSFT_DIR:-?}"
	echo "physmap: CHECKPATCH ${CHECKPATCH:-?}"
}

physmap_env
