#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/debug-kernel.sh [-p] - build (once) the debug kernel of the debug
# test tier and print its tree's path on the last line of stdout.
#
# The kernel is Debian's linux-source-X.Y configured as tinyconfig plus
# debug/debug-kernel.config (the shared fragment with physmap's additions
# at the end: KASAN, lockdep+PROVE_RCU, DEBUG_ATOMIC_SLEEP,
# DEBUG_OBJECTS, kmemleak, UBSAN, failslab/fail_page_alloc, memcg,
# IA32_EMULATION). The tree lives outside the repo, in
#   $PHYSMAP_CACHE/debug-kernel-<first 16 hex of sha256(fragment)>
# so it is rebuilt only when the fragment changes (or the tree is
# incomplete: a stamp file is written last). An interrupted build is
# resumed by the next call. A lock serialises concurrent callers (never two
# kernel builds at once).
#
#   -p   only print the path the tree has (or would have); build nothing
#
# Out-of-tree modules then build with make -C <tree> M=<dir> modules.
# Needs: linux-source-X.Y bc bison flex libelf-dev libssl-dev cpio xz-utils
# (scripts/deps.sh installs them). Log: <tree>.log next to the tree.
set -euo pipefail

# shellcheck source=scripts/env.sh
. "$(dirname "$0")/env.sh"

FRAG=$PHYSMAP_TOP/debug/debug-kernel.config
[ -r "$FRAG" ] || { echo "debug-kernel: $FRAG missing" >&2; exit 1; }
HASH=$(sha256sum "$FRAG" | cut -c1-16)
TREE=$PHYSMAP_CACHE/debug-kernel-$HASH
STAMP=.physmap-debug-built

if [ "${1:-}" = -p ]; then
	echo "$TREE"
	exit 0
fi

built() {
	[ -f "$TREE/$STAMP" ] && [ -f "$TREE/arch/x86/boot/bzImage" ] &&
		[ -f "$TREE/Module.symvers" ]
}

if built; then
	echo "$TREE"
	exit 0
fi

mkdir -p "$PHYSMAP_CACHE"
exec 9>"$PHYSMAP_CACHE/debug-kernel.lock"
echo "debug-kernel: waiting for the build lock" >&2
flock 9
if built; then	# someone else built it while we waited
	echo "$TREE"
	exit 0
fi

if [ ! -r "$KSRC_TAR" ]; then
	echo "debug-kernel: $KSRC_TAR missing (scripts/deps.sh)" >&2
	exit 1
fi
for tool in bc bison flex make gcc xz; do
	command -v "$tool" >/dev/null ||
		{ echo "debug-kernel: $tool missing (scripts/deps.sh)" >&2; exit 1; }
done

WORK=$TREE
LOG=$TREE.log
JOBS=${DEBUG_KERNEL_JOBS:-$(nproc 2>/dev/null || echo 2)}
t0=$(date +%s)
echo "debug-kernel: building $TREE (10-20 min on 2 cores), log $LOG" >&2
{
	# a half-extracted or half-built tree from an interrupted run is
	# reused: extraction is redone only if the Makefile is missing, and
	# make picks up where it stopped
	if [ ! -f "$WORK/Makefile" ]; then
		rm -rf "$WORK"
		mkdir -p "$WORK"
		echo "extracting $KSRC_TAR"
		tar -xJf "$KSRC_TAR" -C "$WORK" --strip-components=1
	fi
	cd "$WORK"
	cp "$FRAG" .physmap-fragment.config
	make -s tinyconfig
	scripts/kconfig/merge_config.sh -m .config .physmap-fragment.config
	make -s olddefconfig
	# every option of the fragment must have survived olddefconfig
	bad=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF "$line" .config ||
				{ echo "option lost: $line"; bad=1; } ;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			if grep -q "^$opt=" .config; then
				echo "option set although unset in fragment: $opt"
				bad=1
			fi ;;
		esac
	done <.physmap-fragment.config
	[ "$bad" = 0 ] || { echo "fragment did not survive olddefconfig"; exit 1; }
	make -j"$JOBS" bzImage modules
	touch "$STAMP"
} >"$LOG" 2>&1 || {
	echo "debug-kernel: build failed; last lines of $LOG:" >&2
	tail -n 30 "$LOG" >&2
	exit 1
}
echo "debug-kernel: built in $(($(date +%s) - t0)) s" >&2
echo "$TREE"
