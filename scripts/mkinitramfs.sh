#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/mkinitramfs.sh OUT.cpio.gz - build the guest's initramfs (gzip,
# newc): static busybox with its applet links, /init (scripts/guest-init.sh),
# physmap.ko, the selftest binaries, tools/physmapctl if built, testdata/.
#
# Inputs (environment, all optional):
#   PHYSMAP_KO          module to load (default: physmap.ko at the top)
#   PHYSMAP_TESTS       test binaries to run, in order (space separated).
#                       Default: TEST_GEN_PROGS + TEST_CUSTOM_PROGS of
#                       selftests/Makefile, asked from make itself; if that
#                       fails, every executable in selftests/ without a dot
#                       in its name.
#   PHYSMAP_TEST_FILES  more files for /physmap/selftests, not run (default:
#                       TEST_GEN_PROGS_EXTENDED, TEST_GEN_FILES, TEST_FILES)
#   PHYSMAP_CTL         physmapctl binary (default: tools/physmapctl if any)
#   PHYSMAP_RUN_ARGS    arguments of physmapctl in the run job
#   PHYSMAP_RUN_STDIN   its stdin (commands of "physmapctl load")
#   BUSYBOX             static busybox (default: /bin/busybox)
#   PHYSMAP_BENCH_KO    bench module (default: bench/physmap_bench.ko,
#                       if built), put at /physmap_bench.ko
#   PHYSMAP_BENCH       its driver (default: bench/pmbench, if built), put at
#                       /physmap/bench/pmbench
#
# Binaries should be static; dynamic ones get their libraries (from ldd)
# copied in as well.
set -euo pipefail

# shellcheck source=scripts/env.sh
. "$(dirname "$0")/env.sh"

if [ $# -ne 1 ]; then
	echo "usage: $0 OUT.cpio.gz" >&2
	exit 2
fi
out=$(realpath -m "$1")

KO=${PHYSMAP_KO:-$PHYSMAP_TOP/physmap.ko}
BUSYBOX=${BUSYBOX:-/bin/busybox}
CTL=${PHYSMAP_CTL:-$PHYSMAP_TOP/tools/physmapctl}
SELFTESTS=$PHYSMAP_TOP/selftests

die() { echo "mkinitramfs: $*" >&2; exit 1; }

[ -r "$KO" ] || die "no module at $KO (build it first: make KDIR=$KDIR)"
[ -x "$BUSYBOX" ] || die "no busybox at $BUSYBOX (apt-get install busybox-static)"
if ! LC_ALL=C file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked'; then
	# "file" may be missing; then ldd decides
	if ldd "$BUSYBOX" >/dev/null 2>&1; then
		die "$BUSYBOX is not static (install busybox-static)"
	fi
fi

# Ask the selftests Makefile (kselftest lib.mk conventions) for its lists.
# Prints "RUN <progs>" and "EXTRA <files>"; relative names are relative to
# selftests/.
query_selftests() {
	# shellcheck disable=SC2016 # make expands these, not the shell
	make -s --no-print-directory -C "$SELFTESTS" KSFT_DIR="$KSFT_DIR" \
		--eval 'physmap-print-lists: ; @echo "RUN $(TEST_GEN_PROGS) $(TEST_CUSTOM_PROGS)"; echo "EXTRA $(TEST_GEN_PROGS_EXTENDED) $(TEST_GEN_FILES) $(TEST_FILES)"' \
		physmap-print-lists 2>/dev/null </dev/null
}

abs_in_selftests() {
	case "$1" in
	/*) echo "$1" ;;
	*) echo "$SELFTESTS/$1" ;;
	esac
}

tests=()
extra=()
if [ -n "${PHYSMAP_TESTS+x}" ]; then
	# shellcheck disable=SC2206
	tests=(${PHYSMAP_TESTS})
	# shellcheck disable=SC2206
	extra=(${PHYSMAP_TEST_FILES:-})
elif [ -f "$SELFTESTS/Makefile" ] && lists=$(query_selftests) &&
		echo "$lists" | grep -q '^RUN *[^ ]'; then
	for f in $(echo "$lists" | sed -n 's/^RUN //p'); do
		tests+=("$(abs_in_selftests "$f")")
	done
	for f in $(echo "$lists" | sed -n 's/^EXTRA //p'); do
		extra+=("$(abs_in_selftests "$f")")
	done
	# shellcheck disable=SC2206
	[ -n "${PHYSMAP_TEST_FILES:-}" ] && extra=(${PHYSMAP_TEST_FILES})
elif [ -d "$SELFTESTS" ]; then
	while IFS= read -r f; do
		tests+=("$f")
	done < <(find "$SELFTESTS" -maxdepth 1 -type f -perm -u+x ! -name '*.*' | sort)
fi

root=$(mktemp -d "${TMPDIR:-/tmp}/physmap-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,root} \
	"$root"/physmap/{selftests,tools}

# busybox and its applet links, made here rather than at boot
cp "$BUSYBOX" "$root/bin/busybox"
for a in $("$BUSYBOX" --list-full); do
	[ -e "$root/$a" ] || [ -L "$root/$a" ] || ln -s /bin/busybox "$root/$a"
done
# an initial console for /init (the kernel opens /dev/console before
# devtmpfs is mounted); needs root, /init copes without it
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

cp "$PHYSMAP_TOP/scripts/guest-init.sh" "$root/init"
chmod 755 "$root/init"
cp "$KO" "$root/physmap.ko"

# Copy the shared libraries a dynamic binary needs (none for static ones).
copy_libs() {
	local lib
	for lib in $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*' || true); do
		if [ -e "$lib" ] && [ ! -e "$root$lib" ]; then
			mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib"
		fi
	done
}

: >"$root/physmap/tests.list"
for t in "${tests[@]}"; do
	if [ ! -f "$t" ] || [ ! -x "$t" ]; then
		echo "mkinitramfs: warning: test $t not built, left out" >&2
		continue
	fi
	cp "$t" "$root/physmap/selftests/"
	copy_libs "$t"
	basename "$t" >>"$root/physmap/tests.list"
done
for f in "${extra[@]}"; do
	[ -e "$f" ] || continue
	cp -a "$f" "$root/physmap/selftests/"
	[ -x "$f" ] && copy_libs "$f"
done

if [ -x "$CTL" ]; then
	cp "$CTL" "$root/physmap/tools/physmapctl"
	copy_libs "$CTL"
	# device-side tests of libphysmap and physmapctl, if built
	for f in "$PHYSMAP_TOP"/tools/tests/libphysmap_test \
		 "$PHYSMAP_TOP"/tools/tests/physmapctl_test.sh; do
		[ -x "$f" ] || continue
		mkdir -p "$root/physmap/tools/tests"
		cp "$f" "$root/physmap/tools/tests/"
		copy_libs "$f"
	done
fi
BENCH_KO=${PHYSMAP_BENCH_KO:-$PHYSMAP_TOP/bench/physmap_bench.ko}
BENCH=${PHYSMAP_BENCH:-$PHYSMAP_TOP/bench/pmbench}
if [ -r "$BENCH_KO" ] && [ -x "$BENCH" ]; then
	mkdir -p "$root/physmap/bench"
	cp "$BENCH_KO" "$root/physmap_bench.ko"
	cp "$BENCH" "$root/physmap/bench/pmbench"
	copy_libs "$BENCH"
fi
if [ -d "$PHYSMAP_TOP/testdata" ]; then
	cp -a "$PHYSMAP_TOP/testdata" "$root/physmap/testdata"
fi
printf '%s\n' "${PHYSMAP_RUN_ARGS:-}" >"$root/physmap/run.args"
printf '%s' "${PHYSMAP_RUN_STDIN:-}" >"$root/physmap/run.stdin"

mkdir -p "$(dirname "$out")"
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet) | gzip -6 >"$out.tmp"
mv "$out.tmp" "$out"

n=$(grep -c . "$root/physmap/tests.list" || true)
echo "mkinitramfs: $out ($(du -k "$out" | cut -f1) KiB): $n test binaries$(
	[ "$n" -gt 0 ] && printf ' (%s)' "$(paste -sd' ' "$root/physmap/tests.list")")$(
	[ -x "$CTL" ] && echo ", physmapctl")"
