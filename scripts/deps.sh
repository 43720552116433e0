#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/deps.sh - the one setup step: install from Debian what the builds,
# the checks, the guests and make bench need (apt-get, only when something
# is missing), and extract the parts of linux-source-X.Y the checks use
# (kselftest, tools/include, checkpatch) into $KSRC_CACHE once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PKGS=(
	build-essential perl sparse kmod	# builds, checkpatch, make C=2, modinfo
	cpio xz-utils busybox-static qemu-system-x86	# the guest
	linux-image-cloud-amd64 linux-headers-cloud-amd64	# 6.1: the cloud tier
	linux-image-6.12-cloud-amd64 linux-headers-6.12-cloud-amd64	# and 6.12's
	rsync				# kselftest's make install
	clang libclang-rt-14-dev liburcu-dev valgrind	# make test-user
	dkms pkgconf			# dkms build; a program built from libphysmap.pc
	bc bison flex libelf-dev libssl-dev	# the debug kernel
	gcc-multilib libc6-dev-i386	# 32-bit selftests (compat ioctls)
	linux-headers-686-pae:i386	# the 32-bit module build (i386 packages)
	gnuplot-nox			# make bench's plot
	python3				# follow's fake QEMU, qemu follow's driver
)

missing() {
	local p
	for p in "$@"; do
		[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" = "ii " ] || echo "$p"
	done
}
install() {
	local sudo=()
	[ "$(id -u)" = 0 ] || sudo=(sudo -n)
	echo "deps: installing $*"
	"${sudo[@]}" apt-get update -q </dev/null
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "$@" </dev/null
}

mapfile -t m < <(missing "${PKGS[@]}")
if [ ${#m[@]} -gt 0 ] && ! dpkg --print-foreign-architectures | grep -qx i386; then
	echo "deps: adding the i386 architecture (linux-headers-686-pae:i386)"
	if [ "$(id -u)" = 0 ]; then dpkg --add-architecture i386; else sudo -n dpkg --add-architecture i386; fi
fi
[ ${#m[@]} -eq 0 ] || install "${m[@]}"
physmap_env	# a kernel may have just come
if [ -z "$KDIR" ] || [ ! -r "$VMLINUZ" ]; then
	echo "deps: no /usr/src/linux-headers-6.1.*-cloud-amd64 with its /boot/vmlinuz-*" >&2
	exit 1
fi
if [ -z "$KDIR612" ] || [ ! -r "$VMLINUZ612" ]; then
	echo "deps: no /usr/src/linux-headers-6.12.*-cloud-amd64 with its /boot/vmlinuz-*" >&2
	exit 1
fi
mapfile -t m < <(missing "$KSRC_NAME" "$KSRC612_NAME")
[ ${#m[@]} -eq 0 ] || install "${m[@]}"

# the parts of the kernel source used, and the files that say they are there
MEMBERS=(tools/testing/selftests tools/include tools/build tools/scripts
	scripts/checkpatch.pl scripts/spelling.txt scripts/const_structs.checkpatch
	scripts/subarch.include scripts/kernel-doc
	Documentation/process/coding-style.rst
	Documentation/userspace-api/ioctl/ioctl-number.rst)
NEEDED=(tools/testing/selftests/lib.mk tools/testing/selftests/kselftest_harness.h
	tools/include/linux/types.h scripts/checkpatch.pl scripts/spelling.txt
	scripts/const_structs.checkpatch scripts/subarch.include scripts/kernel-doc)
cache_ok() {
	local f
	for f in "${NEEDED[@]}"; do [ -e "$1/$f" ] || return 1; done
}
# extract NAME: those parts of /usr/src/NAME.tar.xz into $PHYSMAP_CACHE/NAME
tmp=''
trap 'rm -rf "$tmp"' EXIT
extract() {
	cache_ok "$PHYSMAP_CACHE/$1" && return
	echo "deps: extracting kernel source parts into $PHYSMAP_CACHE/$1 (about 40 s)"
	mkdir -p "$PHYSMAP_CACHE"
	tmp=$(mktemp -d "$PHYSMAP_CACHE/.extract.XXXXXX")
	tar -xJf "/usr/src/$1.tar.xz" -C "$tmp" "${MEMBERS[@]/#/$1/}"
	cache_ok "$tmp/$1" || { echo "deps: /usr/src/$1.tar.xz: parts missing" >&2; exit 1; }
	# complete it in place: other worktrees may be using files in there
	mkdir -p "$PHYSMAP_CACHE/$1"
	cp -a "$tmp/$1/." "$PHYSMAP_CACHE/$1/"
	rm -rf "$tmp"
}
extract "$KSRC_NAME"
extract "$KSRC612_NAME"	# kernel-doc -Wall, kselftest_harness.h of 6.12
[ -d "$KDIR32" ] || { echo "deps: no /usr/src/linux-headers-*-686-pae" >&2; exit 1; }
echo "deps: KDIR=$KDIR VMLINUZ=$VMLINUZ KDIR612=$KDIR612 VMLINUZ612=$VMLINUZ612 KSFT_DIR=$KSFT_DIR KDIR32=$KDIR32"
