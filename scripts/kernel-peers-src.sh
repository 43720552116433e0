#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/kernel-peers-src.sh - the kernel's maple tree and XArray sources for
# the native benchmark (make bench-user), from the installed linux-source
# package, into a cache directory; never into the repository.
#
#   scripts/kernel-peers-src.sh --print   print "DIR TARBALL", extract nothing
#   scripts/kernel-peers-src.sh           extract into DIR unless it is there
#
# DIR is $PHYSMAP_CACHE/linux-source-6.1-peers (6.1's source, whichever
# kernel make check boots). It holds, from that tarball: lib/maple_tree.c,
# lib/xarray.c, lib/radix-tree.c, include/linux, tools/include,
# tools/arch/x86/include, tools/lib/{find_bit,slab}.c and
# tools/testing/radix-tree, the userspace harness the kernel builds the two
# structures with (liburcu for RCU). The copy is then prepared the way the
# harness's Makefile would, plus one fix:
#
# - generated/map-shift.h: XA_CHUNK_SHIFT 6, the kernel's (the harness
#   defaults to 3: 8-slot XArray nodes); generated/bit-length.h: 64-bit;
# - tools/testing/radix-tree/radix-tree.c: lib/radix-tree.c with "static"
#   dropped, as the harness makes it (radix_tree_node_cachep, the XArray's
#   node cache, becomes visible);
# - linux.c: kmem_cache_alloc_bulk() allocated size x count bytes for each
#   object (fixed upstream in 2023, "radix tree test suite: fix allocation
#   calculation in kmem_cache_alloc_bulk()"); unfixed, the maple tree's bulk
#   allocations spread its nodes and a lookup on 1,000,000 ranges took 691 ns
#   instead of 368.
#
# A stamp file records the tarball it came from; a new tarball (a package
# update) or a new version of this script extracts again. Extraction goes to
# a temporary directory renamed into place, so a reader never sees half.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

# Bump when what is extracted or patched changes.
PEERS_VERSION=1

# The peers come from 6.1's source whichever kernel the tiers boot: the
# table in Documentation/physmap-lookup.rst compares against those, and 6.1's
# harness is the one this script prepares. PEERS_SRC picks another.
KSRC_NAME=${PEERS_SRC:-linux-source-6.1}
KSRC_TAR=/usr/src/$KSRC_NAME.tar.xz
DIR=$PHYSMAP_CACHE/$KSRC_NAME-peers
STAMP=$DIR/.physmap-peers

if [ "${1:-}" = --print ]; then
	echo "$DIR $KSRC_TAR"
	exit 0
fi

if [ ! -r "$KSRC_TAR" ]; then
	echo "kernel-peers: $KSRC_TAR missing: install $KSRC_NAME (scripts/deps.sh does)" >&2
	exit 1
fi
want="$PEERS_VERSION $(stat -c '%s %Y' "$KSRC_TAR") $KSRC_TAR"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
	exit 0
fi

MEMBERS=(
	lib/maple_tree.c
	lib/xarray.c
	lib/radix-tree.c
	include/linux
	tools/include
	tools/arch/x86/include
	tools/lib/find_bit.c
	tools/lib/slab.c
	tools/testing/radix-tree
)

echo "kernel-peers: extracting the maple tree and XArray from $KSRC_TAR into $DIR (about 15 s)"
mkdir -p "$PHYSMAP_CACHE"
tmp=$(mktemp -d "$PHYSMAP_CACHE/.peers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -xJf "$KSRC_TAR" -C "$tmp" "${MEMBERS[@]/#/$KSRC_NAME/}"
src=$tmp/$KSRC_NAME
rt=$src/tools/testing/radix-tree

echo "#define XA_CHUNK_SHIFT 6" >"$rt/generated/map-shift.h"
echo "#define CONFIG_64BIT 1" >"$rt/generated/bit-length.h"
sed -e 's/^static //' -e 's/__always_inline //' -e 's/inline //' \
	"$src/lib/radix-tree.c" >"$rt/radix-tree.c"

# The allocation fix: one object's size per object, not size x count.
sed -i 's/cachep->size \* size)/cachep->size)/' "$rt/linux.c"
if grep -q 'cachep->size \* size' "$rt/linux.c"; then
	echo "kernel-peers: could not patch kmem_cache_alloc_bulk() in linux.c" >&2
	exit 1
fi

echo "$want" >"$src/.physmap-peers"
if [ -d "$DIR" ]; then
	old=$(mktemp -d "$PHYSMAP_CACHE/.peers-old.XXXXXX")
	mv "$DIR" "$old/"
	mv "$src" "$DIR"
	rm -rf "$old"
else
	mv "$src" "$DIR"
fi
rm -rf "$tmp"
trap - EXIT
echo "kernel-peers: $DIR ready"
