#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/check.sh - everything "make check" runs; ends with the line
# "N passed, N failed" and fails if anything failed or no test ran.
#
# Counted items (one each, passed or failed):
#   module build     make KDIR=$KDIR from clean; fails on errors, on compiler
#                    warnings in the project's files and on modpost WARNINGs
#   selftests build  make -C selftests KSFT_DIR=<cached kselftest dir>
#   tools build      make -C tools (only if tools/Makefile or physmapctl.c)
#   bench build      bench/pmbench (physmap_bench.ko comes with the module
#                    build); the guest runs "pmbench smoke" as the TAP test
#                    bench_smoke after the selftests
#   physmapctl       one item per TAP line of tools/tests/host_test.sh: every
#                    --help, usage and file error, the missing-module message
#                    (no /dev/physmap on the host), the map readers against
#                    testdata/, progress on a terminal, make tools without a
#                    kernel, make install + a program built from the .pc
#   dkms build       dkms add + build of a copy of the sources against the
#                    cloud kernel headers (-k $KVER), every dkms tree and key
#                    in a scratch directory, removed afterwards
#   checkpatch       checkpatch.pl --strict over the module's sources and
#                    physmap_ioctl.h; any ERROR/WARNING/CHECK line fails
#   sparse           make C=2; any warning/error in the project's files fails
#   user unit/asan/valgrind/fuzz   make -C user test-*: the tree core built
#                    in userspace (unit tests, ASan+UBSan, valgrind, libFuzzer)
#   in-tree build    selftests/* + physmap_ioctl.h dropped into a copy of
#                    tools/testing/selftests as physmap/, built without
#                    KSFT_DIR both as "make -C tools/testing/selftests
#                    TARGETS=physmap" and "make -C .../physmap" (lib.mk)
#   guest run        the VM ran the check job to its end marker
#   insmod+devnode   insmod succeeded; /dev/physmap is a char device 0600 0:0
#   tests ran        at least one TAP test passed or failed
#   console clean    no BUG/WARNING/Oops/panic/Call Trace/... on the console
#   taint            no taint bit beyond O and E at insmod, none added later
#   rmmod            rmmod physmap succeeded and the module is gone
# plus every TAP result of the selftests: "ok" passed ("ok ... # SKIP" is
# skipped, not counted), "not ok" failed; a binary that dies before all its
# planned tests reported, exits non-zero with no failing line, or prints no
# TAP at all counts as failed tests too.
#
# Environment: VM_TIMEOUT (guest, default 1500 s), PHYSMAP_TEST_TIMEOUT (per
# test binary; default: timeout= of selftests/settings, else 600 s), and the
# overrides of scripts/env.sh and scripts/mkinitramfs.sh.
# Logs: build/logs/, build/console.log, build/results.log.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/env.sh
. scripts/env.sh
TOP=$PHYSMAP_TOP
cd "$TOP" || exit 1
BUILD=$PHYSMAP_BUILD
LOGS=$BUILD/logs
mkdir -p "$LOGS"
rm -f "$LOGS"/*.log "$BUILD/console.log" "$BUILD/results.log"
JOBS=$(nproc 2>/dev/null || echo 2)
T0=$(date +%s)

PASSED=0
FAILED=0
SUMMARY=()
CHECK_TIER=
# shellcheck source=scripts/check-lib.sh
. scripts/check-lib.sh


# is_elf FILE
is_elf() { [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }

# Compiler/sparse diagnostics attributed to the project's own files (at the
# top of the repo, with the absolute path kbuild uses, or relative).
proj_diags() {
	awk -v top="$TOP/" '{
		l = $0
		if (index(l, top) == 1) l = substr(l, length(top) + 1)
		else if (substr(l, 1, 2) == "./") l = substr(l, 3)
		if (l ~ /^[^\/: ][^: ]*\.[ch]:[0-9]+(:[0-9]+)?: (warning|error)/) print
	}' "$1"
}

finish() {
	local tap_total=$((TAP_PASS + TAP_FAIL))
	step "summary"
	printf '%s\n' "${SUMMARY[@]}"
	if [ -n "${BIN_SUMMARY:-}" ]; then
		echo "  selftests:"
		printf '%s\n' "$BIN_SUMMARY"
	fi
	echo "  TAP: $TAP_PASS passed, $TAP_FAIL failed, $TAP_SKIP skipped"
	echo "  logs: $LOGS/, $BUILD/console.log, $BUILD/results.log"
	echo "  took $(($(date +%s) - T0)) s"
	PASSED=$((PASSED + TAP_PASS))
	FAILED=$((FAILED + TAP_FAIL))
	echo "$PASSED passed, $FAILED failed"
	if [ "$FAILED" -gt 0 ] || [ "$tap_total" -eq 0 ]; then
		exit 1
	fi
	exit 0
}
TAP_PASS=0
TAP_FAIL=0
TAP_SKIP=0

# --- dependencies --------------------------------------------------------
step "deps"
if ! scripts/deps.sh >"$LOGS/deps.log" 2>&1; then
	show "$LOGS/deps.log"
	item deps fail "scripts/deps.sh failed"
	finish
fi
cat "$LOGS/deps.log"
physmap_env	# pick up what deps may have installed

# --- module build --------------------------------------------------------
step "module build (KDIR=$KDIR)"
make -C "$KDIR" M="$TOP" clean >/dev/null 2>&1
rm -f physmap.ko
make -j"$JOBS" KDIR="$KDIR" >"$LOGS/build.log" 2>&1
rc=$?
diags=$(proj_diags "$LOGS/build.log"; grep -E '^WARNING: modpost:' "$LOGS/build.log")
if [ $rc -ne 0 ] || [ ! -f physmap.ko ]; then
	show "$LOGS/build.log"
	item "module build" fail "make failed (rc=$rc), see build/logs/build.log"
elif [ -n "$diags" ]; then
	indent <<<"$diags"
	item "module build" fail "$(echo "$diags" | wc -l) warning lines"
else
	item "module build" pass "physmap.ko, no warnings"
fi

# --- selftests build -----------------------------------------------------
step "selftests build (KSFT_DIR=$KSFT_DIR)"
if [ -f selftests/Makefile ]; then
	make -C selftests KSFT_DIR="$KSFT_DIR" clean >/dev/null 2>&1
	if make -j"$JOBS" -C selftests KSFT_DIR="$KSFT_DIR" >"$LOGS/selftests.log" 2>&1; then
		nw=$(grep -c 'warning:' "$LOGS/selftests.log")
		if [ "$nw" -gt 0 ]; then
			item "selftests build" pass "$nw compiler warnings, see build/logs/selftests.log"
		else
			item "selftests build" pass "no compiler warnings"
		fi
	else
		show "$LOGS/selftests.log"
		item "selftests build" fail "see build/logs/selftests.log"
	fi
else
	item "selftests build" fail "no selftests/Makefile"
fi

# --- tools build (only once tools exist) ---------------------------------
build_tools() {
	if [ -f tools/Makefile ]; then
		make -C tools clean >/dev/null 2>&1
		make -C tools
	else
		${CC:-gcc} -O2 -Wall -static -I"$TOP" -o tools/physmapctl tools/physmapctl.c
	fi
}
if [ -f tools/Makefile ] || [ -f tools/physmapctl.c ]; then
	step "tools build"
	if build_tools >"$LOGS/tools.log" 2>&1 && [ -x tools/physmapctl ]; then
		item "tools build" pass "tools/physmapctl"
	else
		show "$LOGS/tools.log"
		item "tools build" fail "see build/logs/tools.log"
	fi
fi

# --- bench driver (the bench module is built with physmap.ko) -------------
step "bench build"
rm -f bench/pmbench
if ${CC:-gcc} -O2 -Wall -Wextra -static -I"$TOP" -I"$TOP/selftests" \
	-o bench/pmbench bench/pmbench.c selftests/physmap_maps.c \
	>"$LOGS/bench.log" 2>&1 && [ -f bench/physmap_bench.ko ]; then
	item "bench build" pass "bench/physmap_bench.ko, bench/pmbench"
else
	show "$LOGS/bench.log"
	item "bench build" fail "see build/logs/bench.log (and build.log for physmap_bench.ko)"
fi

# --- physmapctl and libphysmap on the host (no device) --------------------
if [ -x tools/tests/host_test.sh ] && [ -x tools/physmapctl ]; then
	step "physmapctl host tests"
	KDIR="$KDIR" tools/tests/host_test.sh >"$LOGS/host_test.log" 2>&1
	while IFS= read -r l; do
		case "$l" in
		"ok "*"# SKIP"*) echo "check: SKIP ${l#ok }" ;;
		"ok "*) item physmapctl pass "${l#ok * - }" ;;
		"not ok "*) item physmapctl fail "${l#not ok * - }" ;;
		esac
	done <"$LOGS/host_test.log"
	if ! grep -qE '^(not )?ok ' "$LOGS/host_test.log"; then
		show "$LOGS/host_test.log"
		item physmapctl fail "tools/tests/host_test.sh reported nothing"
	fi
fi

# --- dkms add/build against the cloud kernel headers ---------------------
# A copy of the sources, and dkms's source, dkms and install trees and its
# signing key, all in a scratch directory removed afterwards: the machine's
# /usr/src and /var/lib/dkms stay as they were.
dkms_check() {
	local t ver ko vermagic rc=0
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)
	[ -n "$ver" ] || { echo "no PACKAGE_VERSION in dkms.conf"; return 1; }
	t=$(mktemp -d "${TMPDIR:-/tmp}/physmap-dkms.XXXXXX") || return 1
	mkdir -p "$t/src/physmap-$ver" "$t/dkms" "$t/install"
	cp Kbuild Makefile dkms.conf physmap_*.c physmap_*.h "$t/src/physmap-$ver/"
	local o=(--sourcetree "$t/src" --dkmstree "$t/dkms" --installtree "$t/install")
	export mok_signing_key=$t/mok.key mok_certificate=$t/mok.pub
	if dkms add -m physmap -v "$ver" "${o[@]}" &&
			dkms build -m physmap -v "$ver" -k "$KVER" "${o[@]}"; then
		ko=$(find "$t/dkms/physmap/$ver/$KVER" -name 'physmap.ko*' | head -n 1)
		vermagic=$(modinfo -F vermagic "$ko" 2>/dev/null)
		echo "built: ${ko#"$t"/} vermagic: $vermagic"
		dkms status "${o[@]}"
		if [ -z "$ko" ] || [ "${vermagic%% *}" != "$KVER" ]; then
			echo "no physmap.ko for $KVER"
			rc=1
		fi
	else
		rc=1
		cat "$t"/dkms/physmap/"$ver"/build/make.log 2>/dev/null
	fi
	unset mok_signing_key mok_certificate
	rm -rf "$t"
	return $rc
}
if [ -f dkms.conf ]; then
	step "dkms add/build (-k $KVER)"
	before=$(ls -d /var/lib/dkms/physmap /usr/src/physmap-* 2>/dev/null)
	if ! command -v dkms >/dev/null; then
		item "dkms build" fail "dkms not installed (scripts/deps.sh)"
	elif dkms_check >"$LOGS/dkms.log" 2>&1; then
		after=$(ls -d /var/lib/dkms/physmap /usr/src/physmap-* 2>/dev/null)
		if [ "$before" != "$after" ]; then
			item "dkms build" fail "left behind: $after"
		else
			item "dkms build" pass "$(grep '^built: ' "$LOGS/dkms.log" | sed 's/^built: //')"
		fi
	else
		show "$LOGS/dkms.log"
		item "dkms build" fail "see build/logs/dkms.log"
	fi
fi

# --- checkpatch ----------------------------------------------------------
step "checkpatch --strict"
cp_files=(physmap_main.c physmap_tree.c physmap_tree.h physmap_ioctl.h
	bench/physmap_bench.c bench/physmap_bench_gen.h)
for f in physmap_*.c physmap_*.h; do
	[ -f "$f" ] || continue
	case "$f" in *.mod.c) continue ;; esac	# kbuild's, not ours
	case " ${cp_files[*]} " in *" $f "*) ;; *) cp_files+=("$f") ;; esac
done
missing=()
present=()
for f in "${cp_files[@]}"; do
	if [ -f "$f" ]; then present+=("$f"); else missing+=("$f"); fi
done
rc=0
if [ ${#present[@]} -gt 0 ]; then
	perl "$CHECKPATCH" --no-tree --strict --terse -f "${present[@]}" \
		>"$LOGS/checkpatch.log" 2>&1 || rc=$?
else
	: >"$LOGS/checkpatch.log"
fi
findings=$(grep -E ': (ERROR|WARNING|CHECK):' "$LOGS/checkpatch.log")
if [ -n "$findings" ]; then
	indent <<<"$findings"
	item checkpatch fail "$(echo "$findings" | wc -l) findings"
elif [ ${#missing[@]} -gt 0 ]; then
	item checkpatch fail "missing: ${missing[*]}"
elif [ $rc -ne 0 ]; then
	show "$LOGS/checkpatch.log"
	item checkpatch fail "checkpatch.pl exited $rc"
else
	item checkpatch pass "${present[*]}"
fi

# --- sparse --------------------------------------------------------------
step "sparse (make C=2)"
make -C "$KDIR" M="$TOP" C=2 modules >"$LOGS/sparse.log" 2>&1
rc=$?
diags=$(proj_diags "$LOGS/sparse.log")
nchecked=$(grep -cE '^ +CHECK +' "$LOGS/sparse.log")
if [ -n "$diags" ]; then
	indent <<<"$diags"
	item sparse fail "$(echo "$diags" | wc -l) warning/error lines"
elif [ $rc -ne 0 ]; then
	show "$LOGS/sparse.log"
	item sparse fail "make C=2 failed (rc=$rc)"
elif [ "$nchecked" -eq 0 ]; then
	show "$LOGS/sparse.log"
	item sparse fail "sparse checked no file"
else
	item sparse pass "$nchecked files checked"
fi

# --- selftests dropped into a kernel tree --------------------------------
step "in-tree selftests build (tools/testing/selftests/physmap)"
intree() {
	local scratch=$BUILD/intree dest f
	rm -rf "$scratch"
	mkdir -p "$scratch"
	cp -a "$KSRC_CACHE/." "$scratch/" || return 1
	dest=$scratch/tools/testing/selftests/physmap
	mkdir -p "$dest"
	cp -a selftests/. "$dest/" || return 1
	cp physmap_ioctl.h "$dest/" || return 1
	# leave out what the standalone build produced: sources only
	find "$dest" -type f -name '*.o' -delete
	while IFS= read -r -d '' f; do
		if is_elf "$f"; then rm -f "$f"; fi
	done < <(find "$dest" -type f -print0)
	# As in a kernel tree: no KSFT_DIR, the Makefile must find ../lib.mk.
	# First the way kselftest's own Makefile builds a target, then in the
	# directory itself.
	echo "== make -C tools/testing/selftests TARGETS=physmap"
	env -u KSFT_DIR make -j"$JOBS" -C "$dest/.." TARGETS=physmap || return 1
	built_elf "$dest" || return 1
	while IFS= read -r -d '' f; do
		if is_elf "$f"; then rm -f "$f"; fi
	done < <(find "$dest" -type f -print0)
	echo "== make -C tools/testing/selftests/physmap"
	env -u KSFT_DIR make -j"$JOBS" -C "$dest" || return 1
	built_elf "$dest"
}
# built_elf DIR: some executable ELF file was built in DIR
built_elf() {
	local f
	while IFS= read -r -d '' f; do
		if is_elf "$f"; then return 0; fi
	done < <(find "$1" -type f -perm -u+x -print0)
	echo "in-tree: no binary built in $1"
	return 1
}
if [ ! -d selftests ]; then
	item "in-tree build" fail "no selftests/"
elif intree >"$LOGS/intree.log" 2>&1; then
	item "in-tree build" pass "build/intree/tools/testing/selftests/physmap"
else
	show "$LOGS/intree.log"
	item "in-tree build" fail "see build/logs/intree.log"
fi

# --- the tree core in userspace (make test-user) -------------------------
# Unit tests, the random differential test, ASan+UBSan, valgrind, and a
# bounded libFuzzer run (FUZZ_SECONDS, default 60) with the corpus replay.
for t in unit asan valgrind fuzz; do
	step "userspace tree core: $t"
	if make -C user "test-$t" >"$LOGS/user-$t.log" 2>&1; then
		item "user $t" pass "$(grep -hE '^(# unit_test|random_test|replay):|^qemu_baseline: [0-9]+ of|stat::number_of_executed_units' "$LOGS/user-$t.log" | tr -s ' ' | paste -sd ';' -)"
	else
		show "$LOGS/user-$t.log"
		item "user $t" fail "see build/logs/user-$t.log"
	fi
done

# --- the guest -----------------------------------------------------------
VM_ITEMS=("guest run" "insmod+devnode" "tests ran" "console clean" taint rmmod)
vm_not_run() {
	local i
	for i in "${VM_ITEMS[@]}"; do
		item "$i" fail "not run: $1"
	done
	finish
}

# Per test binary time limit in the guest: PHYSMAP_TEST_TIMEOUT, else the
# kselftest "settings" file (timeout=N), else 600 s. The whole guest gets
# VM_TIMEOUT, default 1500 s (at least that limit + 300 s).
if [ -z "${PHYSMAP_TEST_TIMEOUT:-}" ]; then
	PHYSMAP_TEST_TIMEOUT=$(sed -n 's/^timeout=\([0-9][0-9]*\)$/\1/p' selftests/settings 2>/dev/null | tail -n 1)
	PHYSMAP_TEST_TIMEOUT=${PHYSMAP_TEST_TIMEOUT:-600}
fi
export PHYSMAP_TEST_TIMEOUT
if [ -z "${VM_TIMEOUT:-}" ]; then
	VM_TIMEOUT=1500
	if [ $((PHYSMAP_TEST_TIMEOUT + 300)) -gt "$VM_TIMEOUT" ]; then
		VM_TIMEOUT=$((PHYSMAP_TEST_TIMEOUT + 300))
	fi
fi

step "initramfs"
if [ ! -f physmap.ko ]; then
	vm_not_run "no physmap.ko"
fi
if ! scripts/mkinitramfs.sh "$BUILD/check.cpio.gz" >"$LOGS/initramfs.log" 2>&1; then
	show "$LOGS/initramfs.log"
	vm_not_run "initramfs build failed"
fi
cat "$LOGS/initramfs.log"

step "guest: check job (per test binary ${PHYSMAP_TEST_TIMEOUT} s)"
RES=$BUILD/results.log
CON=$BUILD/console.log
scripts/vm.sh -t "$VM_TIMEOUT" -o "$BUILD" "$BUILD/check.cpio.gz" check \
	2>&1 | tee "$LOGS/vm.log"
vmrc=${PIPESTATUS[0]}



touch "$RES" "$CON"
if grep -q '^physmap: results-end' "$RES"; then
	item "guest run" pass "check job finished ($(grep -m1 '^physmap: begin' "$RES" | sed 's/^physmap: begin //'))"
elif [ "$vmrc" -eq 124 ]; then
	item "guest run" fail "VM timed out after $VM_TIMEOUT s; no results end marker"
else
	item "guest run" fail "no results end marker: the guest crashed or hung (vm.sh rc=$vmrc), see build/console.log"
fi

ins=$(marker insmod)
dev=$(marker dev)
if [ "$ins" = ok ] && [ "$dev" = "c 600 0 0" ]; then
	item "insmod+devnode" pass "/dev/physmap crw------- root root"
else
	item "insmod+devnode" fail "insmod: ${ins:-no record}; /dev/physmap: ${dev:-no record} (want: c 600 0 0)"
fi

parsed=$(parse_results)
BIN_SUMMARY=$(echo "$parsed" | sed -n 's/^BIN /    /p')
read -r TAP_PASS TAP_FAIL TAP_SKIP <<<"$(echo "$parsed" | sed -n 's/^TOTAL //p')"
if echo "$parsed" | grep -q '^NOTOK '; then
	echo "failing tests:"
	echo "$parsed" | sed -n 's/^NOTOK /    /p'
fi
if [ $((TAP_PASS + TAP_FAIL)) -gt 0 ]; then
	item "tests ran" pass "$((TAP_PASS + TAP_FAIL + TAP_SKIP)) TAP results from $(echo "$parsed" | grep -c '^BIN ') binaries"
else
	item "tests ran" fail "no TAP test passed or failed ($(echo "$parsed" | grep -c '^BIN ') binaries)"
fi

# Kernel trouble on the console (PHYSMAP_CONSOLE_RE, scripts/env.sh).
hits=$(grep -nE "$PHYSMAP_CONSOLE_RE" "$CON")
if [ ! -s "$CON" ]; then
	item "console clean" fail "no console output"
elif [ -n "$hits" ]; then
	echo "kernel trouble on the console (build/console.log):"
	head -n 20 <<<"$hits" | indent
	item "console clean" fail "$(echo "$hits" | wc -l) matching lines, first: $(echo "$hits" | head -n 1 | cut -c1-100)"
else
	item "console clean" pass "$(wc -l <"$CON") lines, nothing matched"
fi

# Taint: loading an unsigned out-of-tree module sets O (4096) and E (8192);
# any other bit that appears at insmod, or any bit that appears after it, is
# a failure.
t_before=$(marker taint-before-insmod)
t_after=$(marker taint-after-insmod)
t_final=$(marker taint-final)
[ -n "$t_final" ] || t_final=$(marker taint-end)
if ! num "$t_before" || ! num "$t_after" || ! num "$t_final"; then
	item taint fail "not recorded (before=${t_before:-?} after-insmod=${t_after:-?} final=${t_final:-?})"
else
	at_insmod=$(((t_after & ~t_before) & ~(4096 | 8192)))
	later=$((t_final & ~t_after))
	if [ "$at_insmod" -ne 0 ]; then
		item taint fail "insmod set $at_insmod ($(taint_letters "$at_insmod")) beyond O/E"
	elif [ "$later" -ne 0 ]; then
		item taint fail "$t_after -> $t_final: new bits $later ($(taint_letters "$later")) after insmod"
	else
		item taint pass "before $t_before, after insmod $t_after ($(taint_letters "$t_after")), final $t_final"
	fi
fi

rm_st=$(marker rmmod)
if [ "$rm_st" = ok ] && ! grep -q '^physmap: module still loaded' "$RES"; then
	item rmmod pass "module unloaded"
else
	item rmmod fail "${rm_st:-no record}$(grep -q '^physmap: module still loaded' "$RES" && echo ', module still loaded')"
fi

# --- the debug kernel tier (scripts/check-debug.sh) ----------------------
# KASAN, lockdep, kmemleak, fault injection, 32-bit selftests; its items
# and TAP results count here too. PHYSMAP_DEBUG_TIER=0 leaves it out.
if [ "${PHYSMAP_DEBUG_TIER:-1}" != 0 ]; then
	step "debug tier (scripts/check-debug.sh)"
	scripts/check-debug.sh 2>&1 | tee "$LOGS/debug-tier.log"
	dline=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$LOGS/debug-tier.log" | tail -n 1)
	if [ -n "$dline" ]; then
		PASSED=$((PASSED + $(echo "$dline" | cut -d' ' -f1)))
		FAILED=$((FAILED + $(echo "$dline" | cut -d' ' -f3)))
		while IFS= read -r l; do
			SUMMARY+=("$l")
		done < <(sed -n 's/^\(  \(PASS\|FAIL\)  debug .*\)$/\1/p' "$LOGS/debug-tier.log")
		SUMMARY+=("  (debug tier: $dline, TAP included; see build/logs/debug-tier.log)")
	else
		item "debug tier" fail "scripts/check-debug.sh ended without a count"
	fi
fi

finish
