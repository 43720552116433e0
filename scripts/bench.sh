#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/bench.sh - "make bench": build physmap.ko, physmap_bench.ko and
# bench/pmbench, boot the cloud kernel in QEMU (TCG) to run "pmbench full"
# as a kselftest collection (physmap_bench, timeout 3300 s), and turn its
# result lines into
#
#   build/bench/physmap-bench.log     the raw result lines
#   Documentation/physmap-bench.txt   the tables (scripts/bench-table.awk)
#   Documentation/physmap-bench.png   ns per lookup against sections
#
# The guest gets VM_MEM (6G) and VM_SMP (1) and boots with VM_KDEBUG
# (slab_nomerge: the maple tree's slab cache is its own), no slub_debug.
# BENCH_OUT: where the tables and the plot go (Documentation/); VM_TIMEOUT
# (3600 s). BENCH_REPLOT=1 redoes them from the last run's results.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
OUT=$PHYSMAP_BUILD/bench
DOC=${BENCH_OUT:-$PHYSMAP_TOP/Documentation}
LOG=$OUT/physmap-bench.log
export VM_MEM=${VM_MEM:-6G} VM_SMP=${VM_SMP:-1} VM_KDEBUG=${VM_KDEBUG-slab_nomerge}
mkdir -p "$OUT" "$DOC"

if [ -z "${BENCH_REPLOT:-}" ]; then
	scripts/deps.sh
	physmap_env
	make -j"$(nproc)" KDIR="$KDIR"
	make -C tools
	build_pmbench
	rm -rf "$OUT/kselftest"
	bench_collection "$OUT/kselftest" physmap_bench full 3300
	initramfs "$OUT/initramfs.cpio.gz" physmap.ko "$OUT/kselftest"
	rc=0
	vm "$OUT" "$VMLINUZ" "$OUT/initramfs.cpio.gz" tests "${VM_TIMEOUT:-3600}" || rc=$?
	# pmbench full prints result lines, not TAP: the runner's verdict counts
	bin=$(awk -f scripts/ktap.awk "$OUT/results.log" | grep '^BIN ' || true)
	bad=$(grep -E '^physmap: .*failed|^# (E |.*mismatches=[1-9])' "$OUT/results.log" || true)
	if [ $rc -ne 0 ] || [ -n "$bad" ] || [[ "$bin" != *"(ok)"* ]]; then
		echo "bench: the run failed (QEMU exit $rc): $bin $bad" >&2
		exit 1
	fi
	if grep -nE "$PHYSMAP_CONSOLE_RE" "$OUT/console.log" >&2; then
		echo "bench: kernel trouble on the console ($OUT/console.log)" >&2
		exit 1
	fi
	{
		echo "# make bench, $(date -u +%Y-%m-%d), kernel $KVER under QEMU TCG"
		echo "# (VM_MEM=$VM_MEM VM_SMP=$VM_SMP); raw lines of bench/pmbench full"
		sed -n 's/^# \([RAPSCIVU] \)/\1/p' "$OUT/results.log"
	} >"$LOG"
fi

# QEMU's own dispatch for q35_big.booted: the memory and I/O views
qemu_bytes=$(awk -f scripts/qemu-dispatch-cost.awk testdata/qemu-7.2/q35_big.booted.dispatch.txt |
	awk -F'\t' '$2 == "\"memory\"," || $2 == "\"I/O\"," { b += $6 } END { print b + 0 }')
awk -v qemu_bytes="$qemu_bytes" -f scripts/bench-table.awk "$LOG" >"$DOC/physmap-bench.txt"

# ns per lookup (uniform over the span, and inside sections) against
# sections, for the synthetic maps
awk '$1 == "R" && $2 ~ /^map=synth-/ {
	for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	print v["struct"], v["sections"], v["span_ps"] / 1000, v["inside_ps"] / 1000
}' "$LOG" >"$OUT/plot.dat"
gnuplot <<EOF
set terminal pngcairo size 900,560 noenhanced
set output "$DOC/physmap-bench.png"
set title "ns per lookup against sections (synthetic maps, 48-bit span; QEMU TCG, same boot)"
set logscale xy
set xlabel "sections"
set ylabel "ns per lookup (TCG)"
set key top left
set grid
names = "physmap maple xarray bsearch"
plot for [k = 1:4] "< grep '^" . word(names, k) . " ' $OUT/plot.dat" using 2:3 \
	with linespoints linecolor k pointtype k title word(names, k) . " (uniform over span)", \
     for [k = 1:4] "< grep '^" . word(names, k) . " ' $OUT/plot.dat" using 2:4 \
	with linespoints linecolor k pointtype k dashtype 2 title word(names, k) . " (inside sections)"
EOF
cat "$DOC/physmap-bench.txt"
echo "bench: wrote $LOG, $DOC/physmap-bench.txt, $DOC/physmap-bench.png"
