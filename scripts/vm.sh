#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/vm.sh [-t SECONDS] [-o OUTDIR] [-i] INITRD [JOB [KERNEL-ARG...]]
#
# Boot $VMLINUZ (Debian's cloud kernel, see scripts/env.sh) with INITRD in
# QEMU, TCG only (nested KVM hangs), no network, no disk. /init runs JOB
# (check, run or shell; default check), chosen with physmap_job= on the
# kernel command line. Writes OUTDIR/console.log (ttyS0: kernel messages)
# and OUTDIR/results.log (ttyS1: what the guest reports), default OUTDIR:
# the current directory. The guest ends with reboot -f, and -no-reboot makes
# QEMU exit then; a guest still running after SECONDS (default
# $VM_TIMEOUT or 1500) is stopped and the script fails.
#
#   -i   interactive: console on this terminal (job shell by default)
#
# Environment: VM_TIMEOUT, VM_MEM (2G), VM_SMP (2), VM_KDEBUG (kernel debug
# options, default "slub_debug=FZP init_on_free=1"), QEMU (qemu-system-x86_64),
# QEMU_EXTRA (more QEMU arguments), PHYSMAP_TEST_TIMEOUT (per test binary in
# the guest, default 600 s).
set -euo pipefail

# shellcheck source=scripts/env.sh
. "$(dirname "$0")/env.sh"

timeout_s=${VM_TIMEOUT:-1500}
outdir=.
interactive=0
while getopts "t:o:i" opt; do
	case "$opt" in
	t) timeout_s=$OPTARG ;;
	o) outdir=$OPTARG ;;
	i) interactive=1 ;;
	*) echo "usage: $0 [-t SECONDS] [-o OUTDIR] [-i] INITRD [JOB [KERNEL-ARG...]]" >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -lt 1 ]; then
	echo "usage: $0 [-t SECONDS] [-o OUTDIR] [-i] INITRD [JOB [KERNEL-ARG...]]" >&2
	exit 2
fi
initrd=$1
shift
if [ $# -ge 1 ]; then
	job=$1
	shift
elif [ "$interactive" = 1 ]; then
	job=shell
else
	job=check
fi

if [ ! -r "${VMLINUZ:-}" ]; then
	echo "vm: no kernel image (VMLINUZ=${VMLINUZ:-}); run scripts/deps.sh" >&2
	exit 1
fi
[ -r "$initrd" ] || { echo "vm: no initramfs $initrd" >&2; exit 1; }

mkdir -p "$outdir"
console=$outdir/console.log
results=$outdir/results.log
rm -f "$console" "$results"

append="console=ttyS0 panic=-1 ${VM_KDEBUG-slub_debug=FZP init_on_free=1}"
append+=" physmap_job=$job physmap_timeout=${PHYSMAP_TEST_TIMEOUT:-600}"
[ $# -gt 0 ] && append+=" $*"

if [ "$interactive" = 1 ]; then
	con=(-serial mon:stdio)
else
	con=(-serial "file:$console")
fi

# shellcheck disable=SC2206
qemu=(
	"${QEMU:-qemu-system-x86_64}"
	-accel tcg -m "${VM_MEM:-2G}" -smp "${VM_SMP:-2}"
	-nodefaults -display none -no-reboot -nic none
	-kernel "$VMLINUZ" -initrd "$initrd" -append "$append"
	"${con[@]}" -serial "file:$results"
	${QEMU_EXTRA:-}
)
if [ "$interactive" = 0 ]; then
	qemu+=(-monitor none)
fi

echo "vm: booting $VMLINUZ, job $job, timeout ${timeout_s} s"
start=$(date +%s)
rc=0
if [ "$interactive" = 1 ]; then
	timeout --foreground -k 10 "$timeout_s" "${qemu[@]}" || rc=$?
else
	# --foreground: signal only QEMU (our child, by PID) on timeout
	timeout --foreground -k 10 "$timeout_s" "${qemu[@]}" </dev/null || rc=$?
fi
took=$(($(date +%s) - start))
touch "$console" "$results"
# the guest's output is raw; drop CRs anyway in case of a cooked tty
sed -i 's/\r$//' "$results"

case "$rc" in
0) echo "vm: guest finished in ${took} s" ;;
124|137)
	echo "vm: VM timed out after ${timeout_s} s (job $job); last console lines:" >&2
	tail -n 20 "$console" >&2
	exit 124 ;;
*)
	echo "vm: QEMU failed (exit $rc) after ${took} s" >&2
	exit "$rc" ;;
esac
