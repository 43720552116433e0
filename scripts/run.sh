#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/run.sh - what "make run" runs: build physmap.ko and
# tools/physmapctl, boot the cloud kernel in QEMU, load the module, load a
# real QEMU memory map (the raw output of QEMU's "info mtree -f -d") and
# look a few telling addresses up in it, then print the map's stats:
#
#   physmapctl load [--page-shift N] --view VIEW MAP  <<EOF
#   lookup ADDR...
#   stats
#   EOF
#
# Environment:
#   PHYSMAP_MAP         map file as the guest sees it (default
#                       /physmap/testdata/qemu-7.2/q35_big.booted.dispatch.txt;
#                       testdata/ is at /physmap/testdata in the guest): raw
#                       "info mtree -f" output or a map file of testdata/
#   PHYSMAP_VIEW        flat view of raw output: memory (default), io, or an
#                       address space's name
#   PHYSMAP_ADDRS       addresses to look up (default: RAM, the reset vector
#                       in the BIOS ROM, MMIO sub-pages of the HPET and xHCI
#                       with the hole next to the HPET in its page, holes
#                       above RAM, above 4 GiB and at the top)
#   PHYSMAP_COMMANDS    commands of "physmapctl load" after the lookups, one
#                       per word (default: stats; add dump for the tree)
#   PHYSMAP_PAGE_SHIFT  passed as --page-shift if set
#   VM_TIMEOUT          guest time limit (default 600 s)
# Logs: build/run/console.log (kernel), build/run/results.log (guest output).
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
. scripts/env.sh
TOP=$PHYSMAP_TOP
cd "$TOP"
OUT=$PHYSMAP_BUILD/run
mkdir -p "$OUT"

scripts/deps.sh
physmap_env

echo "== module build"
make -j"$(nproc)" KDIR="$KDIR"

echo "== tools build"
ctl_missing=
if [ -f tools/Makefile ]; then
	make -C tools
elif [ -f tools/physmapctl.c ]; then
	${CC:-gcc} -O2 -Wall -static -I"$TOP" -o tools/physmapctl tools/physmapctl.c
else
	ctl_missing="there is no tools/physmapctl.c (nor tools/Makefile) yet"
fi
if [ -z "$ctl_missing" ] && [ ! -x tools/physmapctl ]; then
	ctl_missing="building tools/ did not produce tools/physmapctl"
fi
if [ -n "$ctl_missing" ]; then
	echo "run: physmapctl not available: $ctl_missing."
	echo "run: booting anyway, to load and unload the module."
fi

map=${PHYSMAP_MAP:-/physmap/testdata/qemu-7.2/q35_big.booted.dispatch.txt}
view=${PHYSMAP_VIEW:-memory}
addrs=${PHYSMAP_ADDRS:-0x1000 0x12345678 0xfffffff0 0xfed00000 0xfed003ff 0xfed00400 0xfeb7f030 0x80000000 0x100000000 0xffffffffffffffff}
commands=${PHYSMAP_COMMANDS:-stats}
case "$map" in
/physmap/testdata/*)
	if [ ! -f "testdata/${map#/physmap/testdata/}" ]; then
		echo "run: $map: no testdata/${map#/physmap/testdata/} in the repository" >&2
		exit 1
	fi ;;
esac
args="load ${PHYSMAP_PAGE_SHIFT:+--page-shift $PHYSMAP_PAGE_SHIFT }--view $view $map"
stdin="lookup $addrs"$'\n'
for c in $commands; do
	stdin+="$c"$'\n'
done

echo "== initramfs"
ctl=$TOP/tools/physmapctl
[ -z "$ctl_missing" ] || ctl=/nonexistent	# no stale binary
PHYSMAP_TESTS="" PHYSMAP_CTL=$ctl PHYSMAP_RUN_ARGS="$args" PHYSMAP_RUN_STDIN="$stdin" \
	scripts/mkinitramfs.sh "$PHYSMAP_BUILD/run.cpio.gz"

echo "== guest: physmapctl $args, with on stdin:"
printf '%s' "$stdin" | sed 's/^/    /'
rc=0
scripts/vm.sh -t "${VM_TIMEOUT:-600}" -o "$OUT" "$PHYSMAP_BUILD/run.cpio.gz" run || rc=$?
res=$OUT/results.log
con=$OUT/console.log

mark() { sed -n "s/^physmap: $1 //p" "$res" | tail -n 1; }
fail=0

echo "== guest output"
# everything but the markers of the taint bookkeeping
grep -v '^physmap: taint-' "$res" || true

echo "== result"
if [ "$rc" -ne 0 ] || ! grep -q '^physmap: results-end' "$res"; then
	echo "run: the guest did not finish (crash or hang), see $con"
	fail=1
fi
if [ "$(mark insmod)" != ok ]; then
	echo "run: insmod failed: $(mark insmod)"
	fail=1
fi
if [ -n "$ctl_missing" ]; then
	echo "run: physmapctl not available: $ctl_missing; only loaded and unloaded the module."
	fail=1
elif grep -q '^physmap: physmapctl missing' "$res"; then
	echo "run: physmapctl did not reach the initramfs"
	fail=1
else
	ctl_end=$(mark physmapctl-end)
	if [ "${ctl_end%% *}" != rc=0 ]; then
		echo "run: physmapctl failed (${ctl_end:-no exit status recorded})"
		fail=1
	fi
fi
if [ "$(mark rmmod)" != ok ]; then
	echo "run: rmmod failed: $(mark rmmod)"
	fail=1
fi
if hits=$(grep -nE "$PHYSMAP_CONSOLE_RE" "$con"); then
	echo "run: kernel trouble on the console ($con):"
	head -n 20 <<<"$hits" | sed "s/^/    /"
	fail=1
fi
echo "run: logs in $OUT/"
if [ "$fail" -ne 0 ]; then
	exit 1
fi
echo "run: ok"
