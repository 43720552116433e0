#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/bench.sh - what "make bench" runs: build physmap.ko,
# physmap_bench.ko and bench/pmbench, boot the cloud kernel in QEMU (TCG)
# with the bench job, and turn what the guest printed into
#
#   Documentation/physmap-bench.log   the raw result lines
#   Documentation/physmap-bench.txt   the tables (scripts/bench-table.awk)
#   Documentation/physmap-bench.png   ns/lookup against sections (gnuplot)
#
# The guest gets VM_MEM (default 6G) and VM_SMP (default 1) and boots
# without slub_debug/init_on_free (VM_KDEBUG, default slab_nomerge, so that
# the maple tree's slab cache is its own). BENCH_OUT changes where the three
# files go (default Documentation/). VM_TIMEOUT: default 3600 s.
# BENCH_REPLOT=1 skips the build and the guest and redoes the three files
# from the last run's build/bench/results.log.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
. scripts/env.sh
TOP=$PHYSMAP_TOP
cd "$TOP"
OUT=$PHYSMAP_BUILD/bench
DOC=${BENCH_OUT:-$TOP/Documentation}
mkdir -p "$OUT" "$DOC"

if [ -z "${BENCH_REPLOT:-}" ]; then
scripts/deps.sh
physmap_env
fi
# gnuplot draws the plot; only "make bench" needs it
if ! command -v gnuplot >/dev/null; then
	sudo=()
	[ "$(id -u)" = 0 ] || sudo=(sudo -n)
	"${sudo[@]}" apt-get update -q </dev/null
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends gnuplot-nox </dev/null
fi

res=$OUT/results.log
if [ -z "${BENCH_REPLOT:-}" ]; then
echo "== module build"
make -j"$(nproc)" KDIR="$KDIR"
echo "== bench/pmbench"
${CC:-gcc} -O2 -Wall -Wextra -static -I"$TOP" -I"$TOP/selftests" \
	-o bench/pmbench bench/pmbench.c selftests/physmap_maps.c

echo "== initramfs"
PHYSMAP_TESTS="" scripts/mkinitramfs.sh "$PHYSMAP_BUILD/bench.cpio.gz"

echo "== guest: bench job"
rc=0
VM_MEM=${VM_MEM:-6G} VM_SMP=${VM_SMP:-1} VM_KDEBUG=${VM_KDEBUG-slab_nomerge} \
	PHYSMAP_TEST_TIMEOUT=${PHYSMAP_TEST_TIMEOUT:-3300} \
	scripts/vm.sh -t "${VM_TIMEOUT:-3600}" -o "$OUT" \
	"$PHYSMAP_BUILD/bench.cpio.gz" bench || rc=$?
if [ "$rc" -ne 0 ] || ! grep -q '^physmap: test-end bench rc=0' "$res"; then
	echo "bench: the bench job did not finish cleanly (vm.sh rc=$rc):" >&2
	grep '^physmap: ' "$res" >&2 || true
	exit 1
fi
if hits=$(grep -nE "$PHYSMAP_CONSOLE_RE" "$OUT/console.log"); then
	echo "bench: kernel trouble on the console ($OUT/console.log):" >&2
	head -n 20 <<<"$hits" >&2
	exit 1
fi
if grep -qE '^E |mismatches=[1-9]|ioctl_mismatches=[1-9]' "$res"; then
	echo "bench: errors or disagreeing answers:" >&2
	grep -E '^E |mismatches=[1-9]|ioctl_mismatches=[1-9]' "$res" >&2
	exit 1
fi
fi

{
	echo "# make bench, $(date -u +%Y-%m-%d), kernel $KVER under QEMU TCG"
	echo "# (VM_MEM=${VM_MEM:-6G} VM_SMP=${VM_SMP:-1}); raw lines of bench/pmbench full"
	grep -E '^[RAPCIV] ' "$res"
} >"$DOC/physmap-bench.log"
# QEMU's own dispatch for q35_big.booted: the memory and I/O views
qemu_bytes=$(awk -f scripts/qemu-dispatch-cost.awk \
	testdata/qemu-7.2/q35_big.booted.dispatch.txt |
	awk -F'\t' '$2 == "\"memory\"," || $2 == "\"I/O\"," { b += $6 } END { print b + 0 }')
awk -v qemu_bytes="$qemu_bytes" -f scripts/bench-table.awk \
	"$DOC/physmap-bench.log" >"$DOC/physmap-bench.txt"

# ns per lookup (uniform over the span, and inside sections) against the
# number of sections, for the synthetic maps
awk '$1 == "R" && $2 ~ /^map=synth-/ {
	for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	print v["struct"], v["sections"], v["span_ps"] / 1000, v["inside_ps"] / 1000
}' "$DOC/physmap-bench.log" >"$OUT/plot.dat"
gnuplot <<EOF
set terminal pngcairo size 900,560 noenhanced
set output "$DOC/physmap-bench.png"
set title "ns per lookup against sections (synthetic maps, 48-bit span; QEMU TCG, same boot)"
set logscale x
set logscale y
set xlabel "sections"
set ylabel "ns per lookup (TCG)"
set key top left
set grid
names = "physmap maple xarray bsearch"
plot for [k = 1:4] \
	"< grep '^" . word(names, k) . " ' $OUT/plot.dat" using 2:3 \
	with linespoints linecolor k pointtype k \
	title word(names, k) . " (uniform over span)", \
     for [k = 1:4] \
	"< grep '^" . word(names, k) . " ' $OUT/plot.dat" using 2:4 \
	with linespoints linecolor k pointtype k dashtype 2 \
	title word(names, k) . " (inside sections)"
EOF
cat "$DOC/physmap-bench.txt"
echo "bench: wrote $DOC/physmap-bench.{log,txt,png}"
