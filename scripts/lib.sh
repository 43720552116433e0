# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/lib.sh - sourced by the other scripts: the paths they use, and
# what they share (items and steps, the initramfs, booting the guest, a
# kselftest collection). Each path may be preset in the environment:
#
#   PHYSMAP_TOP      repository top (the parent of scripts/)
#   PHYSMAP_CACHE    extracted linux-source parts, debug kernel ($HOME/.cache/physmap)
#   PHYSMAP_BUILD    logs and scratch (build/, gitignored)
#   KDIR, KVER       the newest /usr/src/linux-headers-6.1.*-cloud-amd64 with
#                    a /boot/vmlinuz-* of its release (Debian 12's own
#                    kernel); VMLINUZ that image
#   KDIR612, KVER612, VMLINUZ612  the same for 6.12 (linux-*-6.12-cloud-amd64,
#                    the second cloud tier of make check)
#   KSRC_NAME        linux-source-X.Y of the same X.Y; KSRC_TAR its tarball,
#                    KSRC_CACHE its parts (scripts/deps.sh), KSFT_DIR their
#                    tools/testing/selftests, CHECKPATCH their checkpatch.pl
#   KSRC612_NAME     linux-source-6.12, for 6.12's kernel-doc (KERNELDOC612)
#                    and kselftest (KSFT612_DIR); KSRC612_CACHE its parts;
#                    KERNELDOC the kernel-doc of KSRC_CACHE
#   KDIR32           the 32-bit build's headers: those of KDIR's ABI for
#                    686-pae (linux-headers-686-pae:i386), else the newest

PHYSMAP_TOP=${PHYSMAP_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PHYSMAP_CACHE=${PHYSMAP_CACHE:-${HOME:-/root}/.cache/physmap}
PHYSMAP_BUILD=${PHYSMAP_BUILD:-$PHYSMAP_TOP/build}
export PHYSMAP_TOP PHYSMAP_CACHE PHYSMAP_BUILD
cd "$PHYSMAP_TOP" || exit 1

# Kernel trouble on a guest console, in the kernel's own words: BUG:,
# WARNING:, Oops, panics, GPFs, slub_debug reports, traces, UBSAN, hung
# tasks, RCU stalls, and the debug kernel's KASAN, lockdep, RCU,
# sleep-in-atomic, DEBUG_OBJECTS and kmemleak reports.
PHYSMAP_CONSOLE_RE='BUG: |BUG kmalloc|BUG [^ ]+ \((Not tainted|Tainted)|kernel BUG at|WARNING: |Oops: |general protection|Kernel panic|Call Trace:|UBSAN: |blocked for more than [0-9]+ seconds|self-detected stall|detected stalls on'
PHYSMAP_CONSOLE_RE+='|KASAN|suspicious rcu_dereference|suspicious RCU usage|possible circular locking|possible recursive locking|inconsistent lock state|lock held when returning|sleeping function called from invalid context|ODEBUG|suspected memory leak|kmemleak: .*disabled|lockdep is turned off|DEBUG_LOCKS_WARN_ON'

# Under "make check" every nested make must be a top-level one (kselftest's
# lib.mk sets OUTPUT only when MAKELEVEL is 0).
unset MAKELEVEL MAKEFLAGS MFLAGS MAKEOVERRIDES GNUMAKEFLAGS

# release of a build tree: Debian's utsrelease.h has the real one
kver_of() { sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$1/include/generated/utsrelease.h"; }

# cloud_kdir X.Y: the newest /usr/src/linux-headers-X.Y.*-cloud-amd64 whose
# release has a /boot/vmlinuz-*
cloud_kdir() {
	local d
	for d in $(printf '%s\n' /usr/src/linux-headers-"$1".*-cloud-amd64 | sort -rV); do
		if [ -r "/boot/vmlinuz-$(kver_of "$d" 2>/dev/null)" ]; then
			echo "$d"
			return
		fi
	done
}

physmap_env() {
	[ -d "${KDIR:-}" ] || KDIR=$(cloud_kdir 6.1)
	[ -d "${KDIR612:-}" ] || KDIR612=$(cloud_kdir 6.12)
	KVER612=$( [ -z "$KDIR612" ] || kver_of "$KDIR612")
	VMLINUZ612=/boot/vmlinuz-$KVER612
	KVER=$( [ -z "$KDIR" ] || kver_of "$KDIR")
	VMLINUZ=/boot/vmlinuz-$KVER
	KSRC_NAME=linux-source-$(echo "$KVER" | cut -d. -f1-2)
	KSRC_TAR=/usr/src/$KSRC_NAME.tar.xz
	KSRC_CACHE=$PHYSMAP_CACHE/$KSRC_NAME
	KSFT_DIR=$KSRC_CACHE/tools/testing/selftests
	CHECKPATCH=$KSRC_CACHE/scripts/checkpatch.pl
	KERNELDOC=$KSRC_CACHE/scripts/kernel-doc
	KSRC612_NAME=linux-source-6.12
	KSRC612_CACHE=$PHYSMAP_CACHE/$KSRC612_NAME
	KSFT612_DIR=$KSRC612_CACHE/tools/testing/selftests
	KERNELDOC612=$KSRC612_CACHE/scripts/kernel-doc
	if [ ! -d "${KDIR32:-}" ]; then
		KDIR32=/usr/src/linux-headers-${KVER%-cloud-amd64}-686-pae
		[ -d "$KDIR32" ] ||
			KDIR32=$(printf '%s\n' /usr/src/linux-headers-*-686-pae | sort -rV | head -n 1)
	fi
	export KDIR KVER VMLINUZ KDIR612 KVER612 VMLINUZ612 KSRC_NAME KSRC_TAR \
		KSRC_CACHE KSFT_DIR CHECKPATCH KDIR32 KERNELDOC KSRC612_NAME \
		KSRC612_CACHE KSFT612_DIR KERNELDOC612
}
physmap_env

# item NAME pass|fail [DETAIL]: one counted item ($TIER prefixes the name)
item() {
	local st=FAIL
	if [ "$2" = pass ]; then st=PASS; PASSED=$((PASSED + 1)); else FAILED=$((FAILED + 1)); fi
	SUMMARY+=("$(printf '  %s  %-22s %s' "$st" "${TIER:-}$1" "${3:-}")")
	echo "check: $st ${TIER:-}$1 ${3:-}"
}
step() { printf '\n== %s%s (%d s)\n' "${TIER:-}" "$*" $(($(date +%s) - T0)); }
indent() { sed 's/^/    /'; }
show() { echo "--- last lines of $1:"; tail -n 25 "$1" | indent; }

# ksft_collection DIR NAME TIMEOUT FILE...: FILEs as one more collection of
# the kselftest install DIR (kselftest's runner, made here if DIR has none),
# each run with TIMEOUT seconds (the collection's "settings")
ksft_collection() {
	local dir=$1 name=$2 f
	mkdir -p "$dir/kselftest" "$dir/$name"
	[ -e "$dir/run_kselftest.sh" ] || cp "$KSFT_DIR/run_kselftest.sh" "$dir/"
	[ -e "$dir/kselftest/runner.sh" ] || cp "$KSFT_DIR/kselftest/runner.sh" "$dir/kselftest/"
	echo "timeout=$3" >"$dir/$name/settings"
	shift 3
	for f in "$@"; do
		[ "$f" -ef "$dir/$name/${f##*/}" ] || cp "$f" "$dir/$name/"
		echo "$name:${f##*/}" >>"$dir/kselftest-list.txt"
	done
}

# bench/pmbench, the driver of the benchmark module (built with physmap.ko)
build_pmbench() {
	gcc -O2 -Wall -Wextra -static -I. -Itestlib -Itools -o bench/pmbench \
		bench/pmbench.c testlib/physmap_maps.c tools/mapfile.c \
		tools/libphysmap.c && [ -f bench/physmap_bench.ko ]
}

# bench_collection DIR NAME MODE TIMEOUT [KO]: a collection of one test,
# pmbench_MODE.sh: KO (bench/physmap_bench.ko) loaded around
# "bench/pmbench MODE" (smoke: TAP; full: the result lines of make bench)
bench_collection() {
	local t=$1/$2/pmbench_$3.sh
	mkdir -p "$1/$2"
	cp "${5:-bench/physmap_bench.ko}" bench/pmbench "$1/$2/"
	printf '#!/bin/sh\ninsmod ./physmap_bench.ko || exit 1\n./pmbench %s "$PHYSMAP_MAPS"\nrc=$?\nrmmod physmap_bench\nexit $rc\n' \
		"$3" >"$t"
	chmod +x "$t"
	ksft_collection "$1" "$2" "$4" "$t"
}

# initramfs OUT KO [KSELFTEST [KUNIT_KO]]: static busybox and its applets,
# coreutils' timeout (kselftest's runner uses --foreground) with its
# libraries, /init (scripts/guest-init.sh), KO as /physmap.ko, testdata/ and
# physmapctl in /physmap, a kselftest install as /kselftest, KUNIT_KO (the
# KUnit suite, physmap_kunit.ko; the debug job runs it) as
# /physmap_kunit.ko, the run and follow jobs' physmapctl arguments and the
# run job's stdin (PHYSMAP_RUN_ARGS, PHYSMAP_RUN_STDIN), and the kernel
# modules PHYSMAP_KMODS names (paths, in the order to load them) in
# /physmap/modules, their order in its file "order"
initramfs() {
	local root a
	root=$(mktemp -d "${TMPDIR:-/tmp}/physmap-initramfs.XXXXXX") || return 1
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,physmap/tools}
	for a in /usr/bin/timeout $(ldd /usr/bin/timeout | grep -o '/[^ ]*'); do
		mkdir -p "$root${a%/*}"
		cp -L "$a" "$root$a"
	done
	cp /bin/busybox "$root/bin/"
	for a in $(/bin/busybox --list-full); do
		[ -e "$root/$a" ] || [ -L "$root/$a" ] || ln -s /bin/busybox "$root/$a"
	done
	mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null # /init's, before devtmpfs
	cp scripts/guest-init.sh "$root/init"
	cp "$2" "$root/physmap.ko"
	cp -a testdata "$root/physmap/"
	cp tools/physmapctl "$root/physmap/tools/"
	[ -z "${3:-}" ] || cp -a "$3" "$root/kselftest"
	[ -z "${4:-}" ] || cp "$4" "$root/physmap_kunit.ko"
	printf '%s\n' "${PHYSMAP_RUN_ARGS:-}" >"$root/physmap/run.args"
	printf '%s' "${PHYSMAP_RUN_STDIN:-}" >"$root/physmap/run.stdin"
	if [ -n "${PHYSMAP_KMODS:-}" ]; then
		mkdir -p "$root/physmap/modules"
		for a in $PHYSMAP_KMODS; do
			cp "$a" "$root/physmap/modules/" && echo "${a##*/}" >>"$root/physmap/modules/order"
		done
	fi
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		gzip -6 >"$1"
	rm -rf "$root"
	echo "initramfs: $1 ($(du -k "$1" | cut -f1) KiB)"
}

# kmods KVER MODULE...: the .ko files of the MODULEs of kernel KVER and of
# the modules they need, once each, in the order insmod takes them
# (modules.dep lists what a module needs in the reverse order)
kmods() {
	local dir=/lib/modules/$1 m line dep deps seen=' '
	shift
	for m; do
		line=$(grep -E "(^|/)$m\.ko(\.[a-z]+)?:" "$dir/modules.dep") || {
			echo "kmods: no module $m in $dir/modules.dep" >&2
			return 1
		}
		deps=''
		for dep in ${line#*:}; do deps="$dep $deps"; done
		for dep in $deps ${line%%:*}; do
			case $seen in *" $dep "*) continue ;; esac
			seen+="$dep "
			echo "$dir/$dep"
		done
	done
}

# vm OUTDIR KERNEL INITRD JOB TIMEOUT [QEMU-ARG...]: boot KERNEL in QEMU (TCG:
# nested KVM hangs; no network, no disk, but what the QEMU-ARGs add); /init
# runs JOB (physmap_job=, see scripts/guest-init.sh). The console (ttyS0) goes to OUTDIR/console.log,
# what the guest reports (ttyS1) to OUTDIR/results.log. Returns QEMU's exit
# status, 124 if the guest ran past TIMEOUT seconds. Environment: VM_MEM
# (2G), VM_SMP (2), VM_KDEBUG (slub_debug=FZP init_on_free=1).
vm() {
	local t0=$SECONDS rc=0
	rm -f "$1/console.log" "$1/results.log"
	echo "vm: booting $2, job $4, timeout $5 s"
	timeout --foreground -k 10 "$5" qemu-system-x86_64 -accel tcg \
		-m "${VM_MEM:-2G}" -smp "${VM_SMP:-2}" -nodefaults -display none \
		-no-reboot -nic none -monitor none -kernel "$2" -initrd "$3" \
		-append "console=ttyS0 panic=-1 ${VM_KDEBUG-slub_debug=FZP init_on_free=1} physmap_job=$4" \
		-serial "file:$1/console.log" -serial "file:$1/results.log" "${@:6}" </dev/null || rc=$?
	touch "$1/console.log" "$1/results.log"
	[ $rc -eq 0 ] && echo "vm: guest finished in $((SECONDS - t0)) s" ||
		echo "vm: QEMU exited $rc after $((SECONDS - t0)) s"
	return $rc
}

# marker NAME: the last "physmap: NAME ..." line of $RES, without the prefix
marker() { sed -n "s/^physmap: $1 //p" "$RES" | tail -n 1; }
