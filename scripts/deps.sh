#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/deps.sh - install what the build, the checks and the VM need, and
# extract the parts of the Debian kernel source the checks use.
#
# Idempotent: dpkg-query decides what is missing; apt-get runs (update once,
# then install) only when something is. The linux-source parts (kselftest
# lib.mk and harness, tools/include, checkpatch.pl and its data files) are
# extracted into ${PHYSMAP_CACHE:-$HOME/.cache/physmap}/linux-source-X.Y
# unless already there. Ends by printing the paths settled on.
set -euo pipefail

# shellcheck source=scripts/env.sh
. "$(dirname "$0")/env.sh"

# Packages, by what they are for. linux-source-X.Y is added once the kernel
# version is known.
PKGS=(
	build-essential			# gcc, make, libc.a for static tests
	perl				# checkpatch.pl
	sparse				# make C=2
	kmod				# modinfo on the host
	cpio xz-utils			# initramfs, linux-source tarball
	busybox-static			# the guest userspace
	qemu-system-x86			# the guest
	"linux-image-$PHYSMAP_FLAVOUR"	# the guest kernel
	"linux-headers-$PHYSMAP_FLAVOUR" # its build tree
	clang libclang-rt-14-dev	# libFuzzer (make test-user)
	liburcu-dev valgrind		# userspace RCU, memcheck (make test-user)
	dkms				# make check: dkms add/build of dkms.conf
	pkgconf				# make check: a program built from libphysmap.pc
	bc bison flex libelf-dev libssl-dev # the debug kernel (debug-kernel.sh)
	gcc-multilib libc6-dev-i386	# 32-bit selftests (compat ioctls)
)

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
}

APT_UPDATED=0
apt_install() {
	local sudo=()
	if [ "$(id -u)" != 0 ]; then
		if command -v sudo >/dev/null; then
			sudo=(sudo -n)
		else
			echo "deps: missing packages ($*) and not root; install them" >&2
			exit 1
		fi
	fi
	echo "deps: installing $*"
	if [ "$APT_UPDATED" = 0 ]; then
		"${sudo[@]}" apt-get update -q </dev/null
		APT_UPDATED=1
	fi
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "$@" </dev/null
}

missing_of() {
	local p out=()
	for p in "$@"; do
		installed "$p" || out+=("$p")
	done
	echo "${out[*]}"
}

# shellcheck disable=SC2207
missing=($(missing_of "${PKGS[@]}"))
if [ "${#missing[@]}" -gt 0 ]; then
	apt_install "${missing[@]}"
	physmap_env	# a kernel may have just been installed
fi

if [ -z "$KDIR" ] || [ -z "$KVER" ]; then
	echo "deps: no /usr/src/linux-headers-*-$PHYSMAP_FLAVOUR with a matching /boot/vmlinuz-*" >&2
	exit 1
fi
if [ ! -r "$VMLINUZ" ]; then
	echo "deps: kernel image $VMLINUZ not readable" >&2
	exit 1
fi

if ! installed "$KSRC_NAME"; then
	apt_install "$KSRC_NAME"
fi
if [ ! -r "$KSRC_TAR" ]; then
	echo "deps: $KSRC_TAR missing although $KSRC_NAME is installed" >&2
	exit 1
fi

# The parts of the kernel source used: kselftest framework (lib.mk, harness,
# kselftest.h) with what lib.mk reaches for, checkpatch with its data files
# and the docs it points to.
MEMBERS=(
	tools/testing/selftests
	tools/include
	tools/build
	tools/scripts
	scripts/checkpatch.pl
	scripts/spelling.txt
	scripts/const_structs.checkpatch
	scripts/subarch.include
	Documentation/process/coding-style.rst
	Documentation/userspace-api/ioctl/ioctl-number.rst
)
# Files whose presence says the cache is complete.
NEEDED=(
	tools/testing/selftests/lib.mk
	tools/testing/selftests/kselftest_harness.h
	tools/testing/selftests/kselftest.h
	tools/include/linux/types.h
	scripts/checkpatch.pl
	scripts/spelling.txt
	scripts/const_structs.checkpatch
	scripts/subarch.include
)

cache_ok() {
	local f
	for f in "${NEEDED[@]}"; do
		[ -e "$KSRC_CACHE/$f" ] || return 1
	done
}

if ! cache_ok; then
	echo "deps: extracting kernel source parts into $KSRC_CACHE (about 40 s)"
	mkdir -p "$PHYSMAP_CACHE"
	tmp=$(mktemp -d "$PHYSMAP_CACHE/.extract.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	tar -xJf "$KSRC_TAR" -C "$tmp" --ignore-failed-read \
		"${MEMBERS[@]/#/$KSRC_NAME/}" 2>"$tmp/tar.err" || true
	grep -v 'Not found in archive\|Exiting with failure' "$tmp/tar.err" >&2 || true
	if ! KSRC_CACHE=$tmp/$KSRC_NAME cache_ok; then
		echo "deps: extraction from $KSRC_TAR incomplete" >&2
		exit 1
	fi
	if [ -d "$KSRC_CACHE" ]; then
		# complete it in place: others may be using files in there
		cp -a "$tmp/$KSRC_NAME/." "$KSRC_CACHE/"
	else
		mv "$tmp/$KSRC_NAME" "$KSRC_CACHE"
	fi
	rm -rf "$tmp"
	trap - EXIT
fi

for tool in gcc make perl sparse cpio gzip qemu-system-x86_64 timeout dkms pkg-config; do
	if ! command -v "$tool" >/dev/null; then
		echo "deps: $tool not found after installing packages" >&2
		exit 1
	fi
done
if [ ! -x /bin/busybox ]; then
	echo "deps: /bin/busybox missing (busybox-static)" >&2
	exit 1
fi

physmap_print_env
