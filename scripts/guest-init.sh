#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# scripts/guest-init.sh - /init of the test initramfs (busybox sh, PID 1;
# the image: scripts/lib.sh's initramfs). physmap_job= on the kernel
# command line names the job:
#   tests   load /physmap.ko, run kselftest's /kselftest/run_kselftest.sh
#           (its runner, each collection's "settings" timeout), unload
#   debug   the same, and a kmemleak scan before rmmod and one after it;
#           then, with /physmap_kunit.ko, the KUnit suite physmap_tree:
#           load /physmap.ko again and /physmap_kunit.ko, whose loading
#           runs it, send its KTAP (debugfs) between markers, unload both,
#           a kmemleak scan. After taint-final: running KUnit taints the
#           kernel (N, TAINT_TEST) by design, which is no fault of physmap
#   run     load, physmapctl $(cat /physmap/run.args) </physmap/run.stdin, unload
#   follow  load, insmod the modules of /physmap/modules (virtio-serial's),
#           find the virtio-serial port named "qmp" (/sys/class/virtio-ports;
#           no udev here, so no /dev/virtio-ports/qmp), run
#           physmapctl follow --qmp /dev/vportNpM $(cat /physmap/run.args)
#           (scripts/qemu-follow.sh: the port reaches a client QEMU's QMP),
#           unload
# Kernel messages go to the console (ttyS0); what the host reads (the TAP
# and "physmap: ..." markers) to ttyS1. reboot -f ends QEMU (-no-reboot).

PATH=/physmap/tools:/bin:/sbin:/usr/bin:/usr/sbin
PHYSMAP_KO=/physmap.ko			# for tests that unload and reload it
PHYSMAP_MAPS=/physmap/testdata/qemu-7.2
export PATH PHYSMAP_KO PHYSMAP_MAPS
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
ln -s /proc/self/fd /dev/fd	# what udev would make; kselftest's runner
for i in 0:stdin 1:stdout 2:stderr; do ln -s "/proc/self/fd/${i%:*}" "/dev/${i#*:}"; done
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
for d in /dev/shm /tmp /run; do mount -t tmpfs tmpfs $d; done
mount -t debugfs debugfs /sys/kernel/debug	# physmap's files, fault injection
job=$(sed -n 's/.*physmap_job=\([a-z]*\).*/\1/p' /proc/cmdline)
stty -F /dev/ttyS1 raw -echo	# no CRs added
exec 3>/dev/ttyS1

mark() { echo "physmap: $*" >&3; }
taint() { cat /proc/sys/kernel/tainted; }
# the report between markers; kmemleak reports objects at least 5 s old
kmemleak() {
	sleep 6
	mark "kmemleak-scan-begin $1"
	if echo scan >/sys/kernel/debug/kmemleak; then
		cat /sys/kernel/debug/kmemleak >&3
		echo >&3
		mark "kmemleak-scan-end $1 ok"
	else
		mark "kmemleak-scan-end $1 unavailable"
	fi
}

# the KUnit suite's results between markers (scripts/ktap.awk reads them)
KUNIT_RESULTS=/sys/kernel/debug/kunit/physmap_tree/results
kunit() {
	if insmod /physmap.ko >&3 2>&3 && insmod /physmap_kunit.ko >&3 2>&3; then
		mark "kunit-insmod ok"
	else
		mark "kunit-insmod failed"
	fi
	mark "kunit-begin physmap_tree"
	[ -r $KUNIT_RESULTS ] && cat $KUNIT_RESULTS >&3
	echo >&3
	mark "kunit-end physmap_tree"
	if rmmod physmap_kunit >&3 2>&3 && rmmod physmap >&3 2>&3; then
		mark "kunit-rmmod ok"
	else
		mark "kunit-rmmod failed"
	fi
	kmemleak after-kunit
}

mark "begin job=$job kernel=$(uname -r) nproc=$(nproc)"
mark "taint-before-insmod $(taint)"
insmod /physmap.ko >&3 2>&3 && mark "insmod ok" || mark "insmod failed"
mark "taint-after-insmod $(taint)"
# type, octal mode, uid, gid
[ -c /dev/physmap ] && mark "dev c $(stat -c '%a %u %g' /dev/physmap)" || mark "dev missing"
case "$job" in
tests|debug)
	cd /kselftest && ./run_kselftest.sh >&3 2>&3
	echo >&3	# the markers start a line
	cd /
	[ "$job" = debug ] && kmemleak after-tests
	;;
run)
	mark "physmapctl-begin physmapctl $(cat /physmap/run.args)"
	# shellcheck disable=SC2046
	physmapctl $(cat /physmap/run.args) </physmap/run.stdin >&3 2>&3
	rc=$?
	echo >&3
	mark "physmapctl-end rc=$rc"
	;;
follow)
	while read -r m; do
		insmod "/physmap/modules/$m" >&3 2>&3 || mark "insmod $m failed"
	done </physmap/modules/order
	port=
	for i in $(seq 100); do
		for n in /sys/class/virtio-ports/*/name; do
			[ "$(cat "$n" 2>/dev/null)" = qmp ] || continue
			p=${n%/name}
			[ -c "/dev/${p##*/}" ] && port=/dev/${p##*/}
		done
		[ -n "$port" ] && break
		sleep 0.1
	done
	mark "follow-port ${port:-none} after $i tries"
	mark "physmapctl-begin physmapctl follow --qmp $port $(cat /physmap/run.args)"
	# shellcheck disable=SC2046
	physmapctl follow --qmp "$port" $(cat /physmap/run.args) >&3 2>&3
	rc=$?
	echo >&3
	mark "physmapctl-end rc=$rc"
	;;
esac
rmmod physmap >&3 2>&3 && mark "rmmod ok" || mark "rmmod failed"
[ -e /sys/module/physmap ] && mark "module still loaded"
mark "taint-final $(taint)"
[ "$job" = debug ] && kmemleak after-rmmod
[ "$job" = debug ] && [ -e /physmap_kunit.ko ] && kunit
mark "results-end"
exec 3>&-
sync
sleep 1		# let the UARTs drain
reboot -f
