#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/run.sh - "make run": build physmap.ko and physmapctl, boot the
# cloud kernel in QEMU, load the module and a real QEMU memory map, look a
# few telling addresses up, print the map's stats:
#
#   physmapctl load [--page-shift N] --view VIEW MAP <<EOF
#   lookup ADDR...
#   COMMAND...
#   EOF
#
# Environment:
#   PHYSMAP_MAP         the map as the guest sees it (testdata/ is
#                       /physmap/testdata): raw "info mtree -f" output or a
#                       map file (/physmap/testdata/qemu-7.2/q35_big.booted.dispatch.txt)
#   PHYSMAP_VIEW        the flat view of raw output: memory (default), io, or
#                       an address space's name
#   PHYSMAP_ADDRS       addresses to look up (default: RAM, the reset vector,
#                       the HPET's and an xHCI sub-page and the hole beside
#                       the HPET, holes above RAM, above 4 GiB and at the top)
#   PHYSMAP_COMMANDS    commands after the lookups (default: stats; dump)
#   PHYSMAP_PAGE_SHIFT  --page-shift, if set
#   VM_TIMEOUT          the guest's time limit (600 s)
# Logs: build/run/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
OUT=$PHYSMAP_BUILD/run
RES=$OUT/results.log
mkdir -p "$OUT"

scripts/deps.sh
physmap_env
echo "== build"
make -j"$(nproc)" KDIR="$KDIR"
make -C tools

map=${PHYSMAP_MAP:-/physmap/testdata/qemu-7.2/q35_big.booted.dispatch.txt}
PHYSMAP_RUN_ARGS="load ${PHYSMAP_PAGE_SHIFT:+--page-shift $PHYSMAP_PAGE_SHIFT }--view ${PHYSMAP_VIEW:-memory} $map"
PHYSMAP_RUN_STDIN="lookup ${PHYSMAP_ADDRS:-0x1000 0x12345678 0xfffffff0 0xfed00000 0xfed003ff 0xfed00400 0xfeb7f030 0x80000000 0x100000000 0xffffffffffffffff}"$'\n'
# shellcheck disable=SC2086 # one command per word
PHYSMAP_RUN_STDIN+=$(printf '%s\n' ${PHYSMAP_COMMANDS:-stats})$'\n'
export PHYSMAP_RUN_ARGS PHYSMAP_RUN_STDIN
initramfs "$OUT/initramfs.cpio.gz" physmap.ko

echo "== guest: physmapctl $PHYSMAP_RUN_ARGS, with on stdin:"
printf '%s' "$PHYSMAP_RUN_STDIN" | indent
rc=0
vm "$OUT" "$VMLINUZ" "$OUT/initramfs.cpio.gz" run "${VM_TIMEOUT:-600}" || rc=$?
echo "== guest output"
grep -v '^physmap: taint-' "$RES" || true

echo "== result"
fail=
grep -q '^physmap: results-end' "$RES" || fail+=" the guest did not finish (QEMU exit $rc);"
[ "$(marker insmod)" = ok ] || fail+=" insmod failed;"
[ "$(marker physmapctl-end)" = rc=0 ] || fail+=" physmapctl: $(marker physmapctl-end);"
[ "$(marker rmmod)" = ok ] || fail+=" rmmod failed;"
if grep -nE "$PHYSMAP_CONSOLE_RE" "$OUT/console.log" | head -n 20 | indent | grep .; then
	fail+=" kernel trouble on the console;"
fi
echo "run: logs in $OUT/"
[ -z "$fail" ] || { echo "run: failed:$fail"; exit 1; }
echo "run: ok"
