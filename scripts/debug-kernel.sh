#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/debug-kernel.sh - build the debug tier's kernel once, print its
# tree on the last line of stdout: Debian's linux-source-X.Y as tinyconfig
# plus debug/debug-kernel.config (KASAN, lockdep+PROVE_RCU,
# DEBUG_ATOMIC_SLEEP, DEBUG_OBJECTS, kmemleak, UBSAN, failslab,
# fail_page_alloc, memcg, IA32_EMULATION), in
# $PHYSMAP_CACHE/debug-kernel-<16 hex of the fragment's sha256>, so that it
# is rebuilt only when the fragment changes. A stamp written last marks it
# complete; an interrupted build resumes; a lock keeps to one build at a
# time. Log: <tree>.log.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FRAG=$PHYSMAP_TOP/debug/debug-kernel.config
TREE=$PHYSMAP_CACHE/debug-kernel-$(sha256sum "$FRAG" | cut -c1-16)
built() { [ -f "$TREE/.physmap-debug-built" ]; }

mkdir -p "$PHYSMAP_CACHE"
exec 9>"$PHYSMAP_CACHE/debug-kernel.lock"
built || { echo "debug-kernel: waiting for the build lock" >&2; flock 9; }
if ! built; then
	echo "debug-kernel: building $TREE (about 6 min on 2 cores), log $TREE.log" >&2
	t0=$SECONDS
	if ! (
		[ -f "$TREE/Makefile" ] || { rm -rf "$TREE" && mkdir -p "$TREE" &&
			tar -xJf "$KSRC_TAR" -C "$TREE" --strip-components=1; }
		cd "$TREE"
		cp "$FRAG" .physmap-fragment.config
		make -s tinyconfig
		scripts/kconfig/merge_config.sh -m .config .physmap-fragment.config
		make -s olddefconfig
		# every option of the fragment must have survived olddefconfig
		bad=$(sed -n 's/^# \(CONFIG_[^ ]*\) is not set$/^\1=/p' .physmap-fragment.config |
			grep -f - .config || true)
		bad+=$(grep '^CONFIG_' .physmap-fragment.config | grep -vxF -f .config || true)
		[ -z "$bad" ] || { echo "options lost in olddefconfig: $bad"; exit 1; }
		make -j"$(nproc)" bzImage modules
		touch .physmap-debug-built
	) >"$TREE.log" 2>&1; then
		echo "debug-kernel: build failed; last lines of $TREE.log:" >&2
		tail -n 30 "$TREE.log" >&2
		exit 1
	fi
	echo "debug-kernel: built in $((SECONDS - t0)) s" >&2
fi
echo "$TREE"
