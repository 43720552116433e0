#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/qemu-follow.sh OUT - physmapctl follow against a running QEMU
# that nobody here wrote: make check's "qemu follow" items (cloud tier).
# Needs physmap.ko and tools/physmapctl built; writes TAP on stdout, logs
# and both QEMUs' consoles in OUT.
#
# Two QEMUs, both TCG, one CPU each at a time on the build machine:
#   the client   q35, SeaBIOS, Debian's cloud kernel ($VMLINUZ) with an
#                initramfs that only sleeps; two pcie-root-ports (rp1, rp2)
#                for hot-plug; two QMP sockets: qmp-follow.sock for
#                physmapctl, qmp-drive.sock for scripts/qmp-hotplug.py.
#                SeaBIOS assigns the BARs of the boot's devices; the
#                kernel (acpiphp, with the built-in nvme driver) those of
#                each hot-plugged nvme, and acks each unplug
#   the guest    physmap.ko, job "follow" (scripts/guest-init.sh): its
#                virtio-serial port "qmp" is a chardev socket connected to
#                qmp-follow.sock, on which it runs
#                physmapctl follow --check --list --interval 500
# scripts/qmp-hotplug.py (on the host, through qmp-drive.sock) plugs and
# unplugs nvme devices; after each change it waits for the flat view to
# settle and for follow's map, replayed from its lines in the guest's
# results.log, to be that view; then it quits the client, and follow ends
# at EOF. follow --check has held every commit against the view it read.
#
# Environment: FOLLOW_TIMEOUT, the limit of each QEMU and of the driver
# (240 s); KERNEL (the client's and the guest's, $VMLINUZ).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$(realpath -m "${1:?usage: scripts/qemu-follow.sh OUT}")
LIMIT=${FOLLOW_TIMEOUT:-240}
KERNEL=${KERNEL:-$VMLINUZ}
KVER_OF_KERNEL=${KERNEL##*/vmlinuz-}
CTL=$PHYSMAP_TOP/tools/physmapctl
CLIENT_PID='' DRIVER_PID=''
n=0

# kill what this script started, by PID, if it still runs
cleanup() {
	local p
	for p in $DRIVER_PID $CLIENT_PID; do
		kill "$p" 2>/dev/null
	done
}
trap cleanup EXIT

ok() {	# ok STATUS DESCRIPTION [FILE]: a TAP line; FILE's last lines if not ok
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		[ -z "${3:-}" ] || [ ! -f "$3" ] || tail -n 12 "$3" | sed 's/^/# /'
	fi
}

# client_initramfs FILE: static busybox, and an /init that says it is up
# and sleeps; PID 1 never ends
client_initramfs() {
	local root a
	root=$(mktemp -d "${TMPDIR:-/tmp}/physmap-client.XXXXXX") || return 1
	mkdir -p "$root"/{bin,proc,sys,dev}
	cp /bin/busybox "$root/bin/"
	for a in sh mount cat sleep cut; do ln -s busybox "$root/bin/$a"; done
	mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null
	cat >"$root/init" <<'EOF'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
echo "physmap-client: up after $(cut -d' ' -f1 /proc/uptime) s"
while :; do sleep 3600; done
EOF
	chmod +x "$root/init"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		gzip -6 >"$1"
	rm -rf "$root"
}

echo "TAP version 13"
T0=$SECONDS
rm -rf "$OUT" && mkdir -p "$OUT"
if [ ! -f physmap.ko ] || [ ! -x "$CTL" ]; then
	ok 1 "physmap.ko and tools/physmapctl are built"
	echo "1..$n"
	exit 1
fi
mods=$(kmods "$KVER_OF_KERNEL" virtio_pci virtio_console | tr '\n' ' ')
client_initramfs "$OUT/client.cpio.gz" &&
	PHYSMAP_KMODS=$mods PHYSMAP_RUN_ARGS="--check --list --interval 500" \
	initramfs "$OUT/initramfs.cpio.gz" physmap.ko >"$OUT/initramfs.log" 2>&1
ok $? "initramfs of the client (busybox) and of the guest (physmap.ko, physmapctl, virtio_console and what it needs)" "$OUT/initramfs.log"

timeout -k 5 "$LIMIT" qemu-system-x86_64 -M q35 -accel tcg -m 512M -smp 1 \
	-nodefaults -display none -no-reboot -monitor none \
	-kernel "$KERNEL" -initrd "$OUT/client.cpio.gz" \
	-append "console=ttyS0 panic=-1" -serial "file:$OUT/client-console.log" \
	-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x10 \
	-device pcie-root-port,id=rp2,bus=pcie.0,chassis=2,addr=0x11 \
	-qmp "unix:$OUT/qmp-follow.sock,server=on,wait=off" \
	-qmp "unix:$OUT/qmp-drive.sock,server=on,wait=off" \
	</dev/null >"$OUT/client.log" 2>&1 &
CLIENT_PID=$!
for _ in $(seq 100); do
	[ -S "$OUT/qmp-follow.sock" ] && [ -S "$OUT/qmp-drive.sock" ] && break
	sleep 0.1
done
[ -S "$OUT/qmp-follow.sock" ] && [ -S "$OUT/qmp-drive.sock" ]
ok $? "the client QEMU listens on its two QMP sockets" "$OUT/client.log"

python3 scripts/qmp-hotplug.py --qmp "$OUT/qmp-drive.sock" \
	--results "$OUT/results.log" --client-console "$OUT/client-console.log" \
	--physmapctl "$CTL" --tmp "$OUT" --timeout "$LIMIT" \
	>"$OUT/driver.tap" 2>"$OUT/driver.log" &
DRIVER_PID=$!

VM_MEM=512M VM_SMP=1 vm "$OUT" "$KERNEL" "$OUT/initramfs.cpio.gz" follow "$LIMIT" \
	-device virtio-serial-pci,id=vser0 \
	-chardev "socket,id=qmp0,path=$OUT/qmp-follow.sock" \
	-device virtserialport,bus=vser0.0,chardev=qmp0,name=qmp >"$OUT/vm.log" 2>&1
vmrc=$?
wait "$DRIVER_PID"
DRIVER_PID=''
wait "$CLIENT_PID"
clientrc=$?
CLIENT_PID=''

# the driver's results, numbered on
while IFS= read -r line; do
	if [[ $line =~ ^(not\ )?ok\ [0-9]+\ -\ (.*)$ ]]; then
		n=$((n + 1))
		echo "${BASH_REMATCH[1]}ok $n - ${BASH_REMATCH[2]}"
	else
		echo "$line"
	fi
done <"$OUT/driver.tap"
[ -s "$OUT/driver.log" ] && sed 's/^/# driver: /' "$OUT/driver.log" | tail -n 12

RES=$OUT/results.log
grep -q '^physmap: results-end' "$RES" && [ "$vmrc" -eq 0 ]
ok $? "the guest ran its job and ended (QEMU exit $vmrc; the client's $clientrc, 0 after quit)" "$OUT/vm.log"
rc=$(marker physmapctl-end)
[ "$rc" = "rc=0" ] && grep -q '^physmapctl: QEMU closed the connection after' "$RES"
ok $? "follow ended at the end of QMP with status 0 ($rc) on $(marker follow-port)" "$RES"
commits=$(grep -c '^generation [0-9]*: .*; check: ' "$RES")
clean=$(grep -c '^generation [0-9]*: .*; check: [0-9]* addresses, 0 mismatches$' "$RES")
addrs=$(sed -n 's/^generation [0-9]*: .*; check: \([0-9]*\) addresses.*/\1/p' "$RES" |
	awk '{ s += $1 } END { print s + 0 }')
[ "$commits" -ge 6 ] && [ "$commits" = "$clean" ]
ok $? "follow --check after every commit: $commits commits, ${addrs:-0} addresses looked up, $((commits - clean)) with mismatches" "$RES"
hits=$(grep -cE "$PHYSMAP_CONSOLE_RE" "$OUT/console.log")
[ -s "$OUT/console.log" ] && [ "$hits" -eq 0 ] && [ "$(marker rmmod)" = ok ]
ok $? "the guest's console is clean ($hits lines of kernel trouble), rmmod $(marker rmmod)" "$OUT/console.log"
echo "# qemu follow took $((SECONDS - T0)) s"
echo "1..$n"
