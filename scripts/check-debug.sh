#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/check-debug.sh - the debug tier of "make check" ("make
# check-debug" runs it alone): physmap.ko and every selftest (64-bit, and
# 32-bit through compat_ioctl when gcc -m32 works) on a debug kernel with
# KASAN, lockdep+PROVE_RCU, DEBUG_ATOMIC_SLEEP, DEBUG_OBJECTS, kmemleak,
# UBSAN and fault injection (scripts/debug-kernel.sh builds it once, cached
# outside the repo). Ends with "N passed, N failed" like check.sh, which
# adds these counts to its own.
#
# Counted items (prefixed "debug"):
#   kernel           the debug kernel tree is there (built if missing)
#   module build     physmap.ko built against it, in build/debug/module (a
#                    copy of the sources: the cloud-kernel build at the top
#                    is left alone); no warnings
#   selftests build  the selftests (64-bit)
#   selftests -m32   the same built with gcc -m32 into build/debug/selftests32,
#                    run as <name>_m32 (all but physmap_stress_test)
#   guest run, insmod+devnode, tests ran, taint, rmmod   as in check.sh
#   console clean    check.sh's patterns plus KASAN, lockdep, RCU,
#                    sleep-in-atomic, UBSAN, DEBUG_OBJECTS and kmemleak
#                    wording; allocation-failure reports are expected
#                    between the fault test's physmap-fault begin/end
#                    markers, and only Call Trace lines there are let pass
#   kmemleak         scans after the tests and after rmmod both ran and
#                    report no object allocated by the module
#   fault counts     the fault test reported its counts
# plus every TAP result.
#
# Environment: DEBUG_VM_TIMEOUT (default 2400 s), PHYSMAP_TEST_TIMEOUT
# (default: selftests/settings), and scripts/env.sh's overrides.
# Logs: build/debug/{logs/,console.log,results.log}.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/env.sh
. scripts/env.sh
TOP=$PHYSMAP_TOP
cd "$TOP" || exit 1
OUT=$PHYSMAP_BUILD/debug
LOGS=$OUT/logs
mkdir -p "$LOGS"
rm -f "$LOGS"/*.log "$OUT/console.log" "$OUT/results.log"
T0=$(date +%s)
PASSED=0
FAILED=0
SUMMARY=()
TAP_PASS=0
TAP_FAIL=0
TAP_SKIP=0

CHECK_TIER="debug "
# shellcheck source=scripts/check-lib.sh
. scripts/check-lib.sh

finish() {
	step "summary"
	printf '%s\n' "${SUMMARY[@]}"
	[ -n "${BIN_SUMMARY:-}" ] && { echo "  selftests:"; printf '%s\n' "$BIN_SUMMARY"; }
	[ -n "${COUNTS:-}" ] && { echo "  counts:"; printf '%s\n' "$COUNTS"; }
	echo "  TAP: $TAP_PASS passed, $TAP_FAIL failed, $TAP_SKIP skipped"
	echo "  logs: $LOGS/, $OUT/console.log, $OUT/results.log"
	echo "  took $(($(date +%s) - T0)) s"
	PASSED=$((PASSED + TAP_PASS))
	FAILED=$((FAILED + TAP_FAIL))
	echo "$PASSED passed, $FAILED failed"
	if [ "$FAILED" -gt 0 ] || [ $((TAP_PASS + TAP_FAIL)) -eq 0 ]; then
		exit 1
	fi
	exit 0
}

VM_ITEMS=("guest run" "insmod+devnode" "tests ran" "console clean" taint
	  rmmod kmemleak "fault counts")
not_run() {
	local i
	for i in "${VM_ITEMS[@]}"; do
		item "$i" fail "not run: $1"
	done
	finish
}

# --- deps and the kernel -------------------------------------------------
step "deps"
if ! scripts/deps.sh >"$LOGS/deps.log" 2>&1; then
	show "$LOGS/deps.log"
	item deps fail "scripts/deps.sh failed"
	not_run "deps failed"
fi
physmap_env

step "debug kernel (scripts/debug-kernel.sh)"
TREE=$(scripts/debug-kernel.sh 2> >(tee "$LOGS/debug-kernel.log" >&2) | tail -n 1)
BZ=$TREE/arch/x86/boot/bzImage
if [ -n "$TREE" ] && [ -f "$BZ" ] && [ -f "$TREE/Module.symvers" ]; then
	item kernel pass "$TREE ($(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$TREE/include/generated/utsrelease.h"))"
else
	item kernel fail "scripts/debug-kernel.sh failed, see $LOGS/debug-kernel.log"
	not_run "no debug kernel"
fi

# --- module --------------------------------------------------------------
step "module build against the debug kernel"
MOD=$OUT/module
rm -rf "$MOD"
mkdir -p "$MOD"
cp Kbuild physmap_*.c physmap_*.h "$MOD/"
make -C "$TREE" M="$MOD" PHYSMAP_BENCH=n modules >"$LOGS/build.log" 2>&1
rc=$?
diags=$(grep -E '(warning|error):|^WARNING: modpost' "$LOGS/build.log")
if [ $rc -ne 0 ] || [ ! -f "$MOD/physmap.ko" ]; then
	show "$LOGS/build.log"
	item "module build" fail "make failed (rc=$rc)"
	not_run "no module"
elif [ -n "$diags" ]; then
	indent <<<"$diags"
	item "module build" fail "$(echo "$diags" | wc -l) warning lines"
else
	item "module build" pass "$MOD/physmap.ko, no warnings"
fi

# --- selftests, 64-bit and 32-bit ----------------------------------------
step "selftests build (64-bit and -m32)"
tests=()
if make -C selftests KSFT_DIR="$KSFT_DIR" >"$LOGS/selftests.log" 2>&1; then
	list=$(make -s --no-print-directory -C selftests KSFT_DIR="$KSFT_DIR" \
		--eval 'physmap-print-progs: ; @echo $(TEST_GEN_PROGS)' \
		physmap-print-progs 2>/dev/null)
	for t in $list; do
		tests+=("$TOP/selftests/$t")
	done
	item "selftests build" pass "$list"
else
	show "$LOGS/selftests.log"
	item "selftests build" fail "see $LOGS/selftests.log"
fi
S32=$OUT/selftests32
rm -rf "$S32"
mkdir -p "$S32"
if make -C selftests KSFT_DIR="$KSFT_DIR" OUTPUT="$S32" CC="gcc -m32 -Wno-pointer-to-int-cast" \
		>"$LOGS/selftests32.log" 2>&1; then
	n=0
	for t in ${list:-}; do
		# the stress test is about load, not argument layouts: once
		[ "$t" = physmap_stress_test ] && continue
		if [ -x "$S32/$t" ]; then
			mv "$S32/$t" "$S32/${t}_m32"
			tests+=("$S32/${t}_m32")
			n=$((n + 1))
		fi
	done
	item "selftests -m32" pass "$n binaries ($(file -b "$S32/physmap_test_m32" 2>/dev/null | cut -d, -f1-2))"
else
	show "$LOGS/selftests32.log"
	item "selftests -m32" fail "gcc -m32 -static failed (gcc-multilib, libc6-dev-i386), see $LOGS/selftests32.log"
fi

# --- the guest -----------------------------------------------------------
step "initramfs"
# No bench module here: the one at the top is built for the cloud kernel.
if ! PHYSMAP_KO=$MOD/physmap.ko PHYSMAP_TESTS="${tests[*]}" \
		PHYSMAP_BENCH_KO=/nonexistent \
		scripts/mkinitramfs.sh "$OUT/check.cpio.gz" >"$LOGS/initramfs.log" 2>&1; then
	show "$LOGS/initramfs.log"
	not_run "initramfs build failed"
fi
cat "$LOGS/initramfs.log"

if [ -z "${PHYSMAP_TEST_TIMEOUT:-}" ]; then
	PHYSMAP_TEST_TIMEOUT=$(sed -n 's/^timeout=\([0-9][0-9]*\)$/\1/p' selftests/settings 2>/dev/null | tail -n 1)
	PHYSMAP_TEST_TIMEOUT=${PHYSMAP_TEST_TIMEOUT:-600}
fi
export PHYSMAP_TEST_TIMEOUT
VM_T=${DEBUG_VM_TIMEOUT:-2400}

step "guest: debug job on $BZ"
RES=$OUT/results.log
CON=$OUT/console.log
# no ACPI in this kernel: two sockets, or the guest sees one CPU
VMLINUZ=$BZ PHYSMAP_VMLINUZ_SET=1 VM_SMP=${DEBUG_VM_SMP:-2,sockets=2} \
	scripts/vm.sh -t "$VM_T" -o "$OUT" "$OUT/check.cpio.gz" debug \
	2>&1 | tee "$LOGS/vm.log"
vmrc=${PIPESTATUS[0]}
touch "$RES" "$CON"

if grep -q '^physmap: results-end' "$RES"; then
	item "guest run" pass "debug job finished ($(grep -m1 '^physmap: begin' "$RES" | sed 's/^physmap: begin //'))"
elif [ "$vmrc" -eq 124 ]; then
	item "guest run" fail "VM timed out after $VM_T s"
else
	item "guest run" fail "no results end marker (vm.sh rc=$vmrc), see $CON"
fi

ins=$(marker insmod)
dev=$(marker dev)
if [ "$ins" = ok ] && [ "$dev" = "c 600 0 0" ]; then
	item "insmod+devnode" pass "/dev/physmap crw------- root root"
else
	item "insmod+devnode" fail "insmod: ${ins:-no record}; /dev/physmap: ${dev:-no record}"
fi

# TAP per binary, as check.sh counts it
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
	item "tests ran" fail "no TAP test passed or failed"
fi

# Console: check.sh's patterns plus the debug checkers' own wording. The
# fault test provokes allocation-failure reports (with a stack trace)
# between its markers: there, only "Call Trace:" is let pass.
DEBUG_RE="$PHYSMAP_CONSOLE_RE|KASAN|suspicious rcu_dereference|suspicious RCU usage|possible circular locking|possible recursive locking|inconsistent lock state|lock held when returning|sleeping function called from invalid context|ODEBUG|suspected memory leak|kmemleak: .*disabled|lockdep is turned off|DEBUG_LOCKS_WARN_ON"
hits=$(awk -v re="$DEBUG_RE" '
	/physmap-fault: begin/ { infault = 1 }
	/physmap-fault: end/ { infault = 0 }
	$0 ~ re {
		if (infault && $0 ~ /Call Trace:/) next
		print NR ": " $0
	}' "$CON")
if [ ! -s "$CON" ]; then
	item "console clean" fail "no console output"
elif [ -n "$hits" ]; then
	echo "kernel trouble on the console ($CON):"
	head -n 20 <<<"$hits" | indent
	item "console clean" fail "$(echo "$hits" | wc -l) matching lines, first: $(echo "$hits" | head -n 1 | cut -c1-100)"
else
	item "console clean" pass "$(wc -l <"$CON") lines, no KASAN/lockdep/RCU/UBSAN/ODEBUG/BUG/WARNING"
fi

t_before=$(marker taint-before-insmod)
t_after=$(marker taint-after-insmod)
t_final=$(marker taint-final)
if ! num "$t_before" || ! num "$t_after" || ! num "$t_final"; then
	item taint fail "not recorded (${t_before:-?} ${t_after:-?} ${t_final:-?})"
elif [ $(((t_after & ~t_before) & ~(4096 | 8192))) -ne 0 ] ||
     [ $((t_final & ~t_after)) -ne 0 ]; then
	item taint fail "before $t_before, after insmod $t_after, final $t_final"
else
	item taint pass "before $t_before, after insmod $t_after, final $t_final"
fi

rm_st=$(marker rmmod)
if [ "$rm_st" = ok ] && ! grep -q '^physmap: module still loaded' "$RES"; then
	item rmmod pass "module unloaded"
else
	item rmmod fail "${rm_st:-no record}"
fi

# kmemleak: one block per "unreferenced object" line, up to the next one or
# the end marker; a block that names physmap is the module's leak.
leaks() {
	awk -v label="$1" '
	$0 ~ "^physmap: kmemleak-scan-begin " label "$" { on = 1; next }
	on && /^physmap: kmemleak-scan-end / { on = 0; ok = ($NF == "ok"); next }
	on && /unreferenced object/ { n++; cur = n }
	on && cur && /physmap/ { mod[cur] = 1 }
	END {
		m = 0
		for (i in mod) m++
		printf "%s %d %d\n", (ok ? "ok" : "missing"), n + 0, m
	}' "$RES"
}
read -r s1 all1 mod1 <<<"$(leaks after-tests)"
read -r s2 all2 mod2 <<<"$(leaks after-rmmod)"
kdetail="after tests: $all1 unreferenced objects, $mod1 from physmap; after rmmod: $all2, $mod2 from physmap"
if [ "$s1" != ok ] || [ "$s2" != ok ]; then
	item kmemleak fail "scan did not run ($s1/$s2); $kdetail"
elif [ "$mod1" -ne 0 ] || [ "$mod2" -ne 0 ]; then
	item kmemleak fail "$kdetail (see $RES)"
else
	item kmemleak pass "$kdetail"
fi

# counts the tests print for the record: fault, stress, fuzz
COUNTS=$(awk '/^physmap: test-begin / { bin = $3 }
	/^# physmap-(fault|stress|fuzz|storm|memcg|rmmod)[ :]/ { sub(/^# /, ""); print "    " bin ": " $0 }' "$RES")
nfault=$(grep -c '^# physmap-fault ' "$RES")
if [ "$nfault" -gt 0 ]; then
	item "fault counts" pass "$nfault lines (see counts)"
else
	item "fault counts" fail "the fault test reported no counts"
fi

finish
