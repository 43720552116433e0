#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# scripts/guest-init.sh - /init of the test initramfs (busybox sh, PID 1).
#
# The job comes from the kernel command line: physmap_job=check|run|bench|debug|shell
# (no dot in the name, so the kernel does not take it for a module
# parameter). Results go to /dev/ttyS1 (QEMU's second serial port, a file on
# the host) as plain lines, with markers "physmap: ..." the host parses;
# kernel messages stay on the console, ttyS0. The guest ends with reboot -f,
# which makes QEMU (-no-reboot) exit.
#
# Guest layout (built by scripts/mkinitramfs.sh):
#   /physmap.ko                  the module
#   /physmap/selftests/<name>    test binaries; /physmap/tests.list says
#                                which to run, in order
#   /physmap/testdata/...        copy of testdata/
#   /physmap/tools/physmapctl    if built (on PATH)
#   /physmap/run.args            arguments of physmapctl for the run job
#   /physmap_bench.ko            the bench module, if built
#   /physmap/bench/pmbench       its driver: "smoke" in the check job (as
#                                the test bench_smoke), "full" in the bench
#                                job
#   /physmap/run.stdin           its stdin, if not empty (physmapctl load)
#   /physmap/tools/tests/...     libphysmap_test, physmapctl_test.sh (TAP,
#                                run by the check job after the selftests)

PATH=/physmap/tools:/bin:/sbin:/usr/bin:/usr/sbin
export PATH
# the module file, for tests that unload and reload it
PHYSMAP_KO=/physmap.ko
export PHYSMAP_KO

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1	# in case the initramfs had no node
mkdir -p /dev/pts /dev/shm /tmp /run
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
# the module's debugfs files (physmapctl dump, the tests), fault injection
mount -t debugfs debugfs /sys/kernel/debug

job=check
test_timeout=600
read -r cmdline </proc/cmdline
for w in $cmdline; do
	case "$w" in
	physmap_job=*) job=${w#*=} ;;
	physmap_timeout=*) test_timeout=${w#*=} ;;
	esac
done

# Results channel: ttyS1, raw so that lines are not rewritten (no CR added).
RES=/dev/ttyS1
if [ ! -c "$RES" ]; then
	echo "physmap-init: $RES missing, results go to the console" >/dev/console
	RES=/dev/console
fi
stty -F "$RES" raw -echo 2>/dev/null
exec 3>"$RES"

mark() { echo "physmap: $*" >&3; }

finish() {
	mark "results-end"
	exec 3>&-
	sync
	sleep 1		# let the UARTs drain
	reboot -f
	sleep 10
}

taint() { cat /proc/sys/kernel/tainted; }

# run_limited SECS CMD...: run CMD, at most SECS seconds. Sets $rc to its
# exit status and $why to "" or to "timed-out" (SIGTERM, then SIGKILL after
# 10 s) or "stuck" (still there after SIGKILL, e.g. blocked in the kernel:
# it is left behind so that the job can still report and end).
run_limited() {
	_secs=$1
	shift
	# A background job's stdin is /dev/null unless redirected, and busybox
	# ash does not take "<&0" for a redirection: pass run_limited's own
	# stdin on through fd 4.
	exec 4<&0
	"$@" <&4 4<&- &
	exec 4<&-
	_pid=$!
	_n=0
	why=
	while :; do
		# state letter from /proc/PID/stat (after the last ") ")
		_st=$(sed 's/.*) //' "/proc/$_pid/stat" 2>/dev/null | cut -c1)
		if [ -z "$_st" ] || [ "$_st" = Z ]; then
			break
		fi
		if [ "$_n" -eq $((_secs * 5)) ]; then
			why=timed-out
			kill -TERM "$_pid" 2>/dev/null
		elif [ "$_n" -eq $(((_secs + 10) * 5)) ]; then
			kill -KILL "$_pid" 2>/dev/null
		elif [ "$_n" -ge $(((_secs + 20) * 5)) ]; then
			why=stuck
			rc=124
			return
		fi
		sleep 0.2
		_n=$((_n + 1))
	done
	wait "$_pid"
	rc=$?
}

# insmod with the marker lines the host checks
load_module() {
	mark "taint-before-insmod $(taint)"
	run_limited 300 insmod /physmap.ko </dev/null >&3 2>&3
	if [ "$rc" = 0 ]; then
		mark "insmod ok"
	else
		mark "insmod failed rc=$rc $why"
	fi
	mark "taint-after-insmod $(taint)"
	# devtmpfs creates the node synchronously, but allow a moment
	i=0
	while [ ! -e /dev/physmap ] && [ $i -lt 20 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ -e /dev/physmap ]; then
		# e.g. "physmap: dev c 600 0 0": type, octal mode, uid, gid
		if [ -c /dev/physmap ]; then t=c; else t=other; fi
		mark "dev $t $(stat -c '%a %u %g' /dev/physmap)"
	else
		mark "dev missing"
	fi
}

unload_module() {
	mark "taint-end $(taint)"
	run_limited 120 rmmod physmap </dev/null >&3 2>&3
	if [ "$rc" = 0 ]; then
		mark "rmmod ok"
	else
		mark "rmmod failed rc=$rc $why"
	fi
	if [ -e /sys/module/physmap ]; then
		mark "module still loaded"
	fi
	mark "taint-final $(taint)"
}

job_check() {
	load_module
	cd /physmap || mark "no /physmap"
	PHYSMAP_MAPS=/physmap/testdata/qemu-7.2
	export PHYSMAP_MAPS
	if [ -s /physmap/tests.list ]; then
		while read -r t; do
			[ -n "$t" ] || continue
			mark "test-begin $t"
			run_limited "$test_timeout" "/physmap/selftests/$t" \
				</dev/null >&3 2>&3
			echo >&3	# the marker starts a line, whatever came before
			mark "test-end $t rc=$rc $why"
		done </physmap/tests.list
	else
		mark "no tests"
	fi
	# tools/tests: libphysmap and physmapctl against the device (TAP)
	for t in libphysmap_test physmapctl_test.sh; do
		[ -x "/physmap/tools/tests/$t" ] || continue
		mark "test-begin $t"
		run_limited "$test_timeout" "/physmap/tools/tests/$t" \
			</dev/null >&3 2>&3
		echo >&3
		mark "test-end $t rc=$rc $why"
	done
	if [ -f /physmap_bench.ko ] && [ -x /physmap/bench/pmbench ]; then
		bench_run bench_smoke "$test_timeout" smoke
	fi
	cd /
	[ "$job" = debug ] && kmemleak_scan after-tests
	unload_module
}

# bench_run NAME SECS MODE: physmap_bench.ko loaded around "pmbench MODE"
bench_run() {
	mark "test-begin $1"
	run_limited 60 insmod /physmap_bench.ko </dev/null >&3 2>&3
	run_limited "$2" /physmap/bench/pmbench "$3" \
		/physmap/testdata/qemu-7.2 </dev/null >&3 2>&3
	_brc=$rc
	_bwhy=$why
	echo >&3
	run_limited 60 rmmod physmap_bench </dev/null >&3 2>&3
	mark "test-end $1 rc=$_brc $_bwhy"
}

job_bench() {
	load_module
	cd /physmap || mark "no /physmap"
	if [ -f /physmap_bench.ko ] && [ -x /physmap/bench/pmbench ]; then
		bench_run bench "$test_timeout" full
	else
		mark "no bench"
	fi
	cd /
	unload_module
}

job_run() {
	load_module
	cd /physmap || mark "no /physmap"
	if command -v physmapctl >/dev/null; then
		args=$(cat /physmap/run.args 2>/dev/null)
		mark "physmapctl-begin physmapctl $args"
		# commands for "physmapctl load" on stdin, if make run gave any
		in=/dev/null
		[ -s /physmap/run.stdin ] && in=/physmap/run.stdin
		# shellcheck disable=SC2086
		run_limited 300 physmapctl $args <"$in" >&3 2>&3
		echo >&3
		mark "physmapctl-end rc=$rc $why"
	else
		mark "physmapctl missing"
	fi
	cd /
	unload_module
}

# The debug tier (scripts/check-debug.sh): the check job on the debug
# kernel (KASAN, lockdep, kmemleak, fault injection), and a kmemleak scan of what the tests left
# (before rmmod, while the module's symbols still resolve) and of what the
# unload left. The report goes between kmemleak-scan-begin/-end markers.
KMEMLEAK=/sys/kernel/debug/kmemleak
kmemleak_scan() {
	# kmemleak reports only objects at least 5 s old
	sleep 6
	mark "kmemleak-scan-begin $1"
	if [ -w "$KMEMLEAK" ] && echo scan >"$KMEMLEAK"; then
		cat "$KMEMLEAK" >&3
		echo >&3
		mark "kmemleak-scan-end $1 ok"
	else
		mark "kmemleak-scan-end $1 unavailable"
	fi
}

job_debug() {
	job_check
	kmemleak_scan after-rmmod
}

mark "begin job=$job kernel=$(uname -r) nproc=$(nproc)"
case "$job" in
check) job_check ;;
run) job_run ;;
bench) job_bench ;;
debug) job_debug ;;
shell)
	# interactive debugging (scripts/vm.sh -i): a shell on the console
	echo "physmap-init: shell; exit or reboot -f to stop" >/dev/console
	setsid cttyhack sh
	;;
*) mark "unknown job $job" ;;
esac
finish
