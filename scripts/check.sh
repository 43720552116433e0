#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/check.sh [cloud] [cloud612] [debug] - "make check" (all three
# tiers; PHYSMAP_DEBUG_TIER=0: the cloud tiers alone) and "make check-debug"
# (debug). The summary ends with the counts of each tier, that is of each
# kernel.
# Every item below counts one, passed or failed, as does every TAP result
# from a guest (scripts/ktap.awk); the last line is "N passed, N failed",
# and the script fails if anything failed or no test ran.
#
# Cloud tier, Debian 12's own cloud kernel, 6.1 (KDIR): module build (no warning in the
# project's files, no modpost WARNING), ns string build (both modules with
# 6.13's symbol namespace macros, scripts/export-ns-6.13.h), 32-bit build
# (both modules against Debian's 686-pae headers, no warning, no libgcc
# division), selftests build (standalone), tools
# build, bench build, physmapctl (each result of tools/tests/host_test.sh),
# dkms build (add + build -k $KVER, every dkms tree and key in a scratch
# directory), checkpatch --strict, checkpatch tests (--strict over
# selftests/, tools/ and testlib/: no ERROR), kernel-doc (the kernel files,
# 6.1's -none and 6.12's -Wall -none: no line), sparse (make C=2), in-tree
# build (selftests/ as physmap/ in a copy of the kernel's selftests: lib.mk's
# build, then kselftest's "make TARGETS=physmap install", which the guest
# runs), in-tree build 6.12 (the same in linux-source-6.12's selftests),
# selftests skip (there, on the host, run_kselftest.sh: every test skips
# without /dev/physmap), selftests config (selftests/config lists every
# CONFIG_ option the tests name), user unit/asan/valgrind/fuzz (make -C user), and the guest's: guest
# run (its end marker came), insmod+devnode (a char device 0600 0:0), tests
# ran (every program of selftests/Makefile and of the collections added
# here ran), console clean ($PHYSMAP_CONSOLE_RE), taint (no bit but O and E at
# insmod, none after), rmmod. In the guest, run_kselftest.sh runs the
# collections physmap, physmap_tools (tools/tests) and physmap_bench
# (pmbench smoke), each test under the timeout of selftests/settings.
# Then "qemu follow" (each result of scripts/qemu-follow.sh, a guest run of
# its own): physmapctl follow --check in a guest with physmap.ko, on a
# virtio-serial port that reaches the QMP socket of a client QEMU (q35,
# the cloud kernel) in which nvme devices are hot-plugged and unplugged;
# after each change follow holds the client's new flat view.
#
# 6.12 tier, items prefixed "6.12 ", Debian's 6.12 cloud kernel
# (KDIR612): module build (physmap.ko and physmap_bench.ko, no warning),
# dkms build, install (each result of tools/tests/install_test.sh against
# its headers: updates/physmap.ko.xz there), and the guest's items, its
# kselftest install the cloud tier's in-tree build 6.12.
#
# Debug tier, items prefixed "debug", the kernel of scripts/debug-kernel.sh
# (KASAN, lockdep, kmemleak, UBSAN, fault injection): kernel, module build,
# selftests build (the kselftest install), selftests -m32 (all but the
# stress test, as the collection physmap_m32), the guest's items (the
# collections physmap, physmap_m32 and physmap_tools; Call Trace lines let
# pass between the fault test's begin/end markers), kmemleak (the scans
# after the tests and after rmmod ran and name no object of physmap), fault
# counts (the fault test printed them), kunit (the KUnit suite
# physmap_tree, physmap_kunit.ko: physmap_tree_cases.h, the cases of
# user/unit_test.c that the kernel can run; every case passed, the modules
# unloaded, no leak of physmap; its cases count as TAP results).
#
# Environment: VM_TIMEOUT (1500 s), DEBUG_VM_TIMEOUT (2400 s), FUZZ_SECONDS,
# KDIR. Logs: build/deps.log, build/logs/, build/debug/logs/; each guest's
# console.log and results.log in build/ and build/debug/.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

T0=$(date +%s)
PASSED=0 FAILED=0 TAP_PASS=0 TAP_FAIL=0 TAP_SKIP=0 SUMMARY=() BINS='' NOTES='' KERNELS=() TB=()
JOBS=$(nproc)
KSFT_TIMEOUT=$(sed -n 's/^timeout=//p' selftests/settings)

# tier_begin, tier_end LABEL: what one tier (one kernel) counted, for the
# summary's per-kernel lines
tier_begin() { TB=("$PASSED" "$FAILED" "$TAP_PASS" "$TAP_FAIL" "$TAP_SKIP"); }
tier_end() {
	KERNELS+=("$(printf '    %s\n      items: %d passed, %d failed; TAP: %d passed, %d failed, %d skipped' \
		"$1" $((PASSED - TB[0])) $((FAILED - TB[1])) $((TAP_PASS - TB[2])) \
		$((TAP_FAIL - TB[3])) $((TAP_SKIP - TB[4])))")
}

finish() {
	TIER=''
	step summary
	printf '%s\n' "${SUMMARY[@]}" "  per kernel:" "${KERNELS[@]}" "  test programs:"
	printf '%s' "$BINS"
	[ -z "${NOTES//$'\n'/}" ] || printf '  counts:\n%s' "$NOTES"
	echo "  TAP: $TAP_PASS passed, $TAP_FAIL failed, $TAP_SKIP skipped"
	echo "  logs: $PHYSMAP_BUILD/logs/, $PHYSMAP_BUILD/debug/logs/; took $(($(date +%s) - T0)) s"
	PASSED=$((PASSED + TAP_PASS)) FAILED=$((FAILED + TAP_FAIL))
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ] && [ $((TAP_PASS + TAP_FAIL)) -gt 0 ]
	exit
}

# run LOG CMD...: CMD with its output in $LOGS/LOG.log, shown if CMD fails
run() {
	"${@:2}" >"$LOGS/$1.log" 2>&1 && return
	local rc=$?
	show "$LOGS/$1.log"
	return $rc
}

# try NAME LOG DETAIL CMD...: an item, passed if CMD succeeds
try() {
	if run "$2" "${@:4}"; then item "$1" pass "$3"; else item "$1" fail "see $LOGS/$2.log"; fi
}

# warnings LOG: compiler and sparse diagnostics in the project's files,
# modpost WARNINGs
warnings() {
	awk -v top="$PWD/" '{ l = $0; if (index(l, top) == 1) l = substr(l, length(top) + 1); else sub(/^\.\//, "", l) }
		l ~ /^[^\/: ][^: ]*\.[ch]:[0-9]+(:[0-9]+)?: (warning|error)/ || /^WARNING: modpost/' "$1"
}

# build_item NAME LOG DETAIL CMD...: an item for a build: failed if CMD
# fails or LOG shows a warning (warnings()), else passed with DETAIL, in
# which %s stands for LOG's last line
build_item() {
	local d
	if ! run "$2" "${@:4}"; then
		item "$1" fail "see $LOGS/$2.log"
		return 1
	elif d=$(warnings "$LOGS/$2.log") && [ -n "$d" ]; then
		indent <<<"$d"
		item "$1" fail "$(wc -l <<<"$d") warning lines"
	else
		# shellcheck disable=SC2059
		item "$1" pass "$(printf "$3" "$(tail -n 1 "$LOGS/$2.log")")"
	fi
}

# tap_items NAME LOG: an item NAME for every result of the TAP in LOG
# (skips are shown, not counted); one failed item if there is none
tap_items() {
	local n=0 st desc
	while read -r _ st _ desc; do
		n=$((n + 1))
		case $st in
		skip) echo "check: SKIP $desc" ;;
		*) item "$1" "$st" "$desc" ;;
		esac
	done < <(awk -f scripts/ktap.awk "$2" | grep '^R ')
	[ "$n" -gt 0 ] || { show "$2"; item "$1" fail "no TAP result"; }
}

# module_sources DIR: DIR afresh, with what both modules build from
module_sources() {
	rm -rf "$1" && mkdir -p "$1/bench" "$1/testlib" &&
	cp Kbuild physmap_*.[ch] "$1/" && cp bench/Kbuild bench/physmap_bench*.[ch] "$1/bench/" &&
	cp testlib/physmap_prng.h "$1/testlib/"
}

# dkms_build [KVER]: add + build for KVER ($KVER), leaving /var/lib/dkms
# and /usr/src as they were
dkms_build() (
	KVER=${1:-$KVER}
	before=$(ls -d /var/lib/dkms/physmap /usr/src/physmap-* 2>/dev/null)
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)
	t=$(mktemp -d) && trap 'rm -rf "$t"' EXIT
	mkdir -p "$t/src/physmap-$ver" "$t/dkms" "$t/install"
	cp Kbuild Makefile dkms.conf physmap_*.c physmap_*.h "$t/src/physmap-$ver/"
	o=(--sourcetree "$t/src" --dkmstree "$t/dkms" --installtree "$t/install")
	export mok_signing_key=$t/mok.key mok_certificate=$t/mok.pub
	if ! dkms add -m physmap -v "$ver" "${o[@]}" ||
	   ! dkms build -m physmap -v "$ver" -k "$KVER" "${o[@]}"; then
		cat "$t/dkms/physmap/$ver/build/make.log"
		exit 1
	fi
	ko=$(find "$t/dkms/physmap/$ver/$KVER" -name 'physmap.ko*' | head -n 1)
	echo "built: ${ko#"$t"/} vermagic: $(modinfo -F vermagic "$ko")"
	[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$KVER" ] &&
		[ "$before" = "$(ls -d /var/lib/dkms/physmap /usr/src/physmap-* 2>/dev/null)" ]
)

# ns_string_build DIR: physmap.ko and physmap_bench.ko built in DIR (a copy
# of the sources) against $KDIR with 6.13's symbol namespace macros
# (scripts/export-ns-6.13.h) and PMT_NS forced to the string form; the
# namespace must come out as PHYSMAP in both modules
ns_string_build() (
	module_sources "$1" || return 1
	make -C "$KDIR" M="$1" \
		KCFLAGS="-DPHYSMAP_NS_STRING -include $PHYSMAP_TOP/scripts/export-ns-6.13.h" modules || return 1
	ns=$(objcopy -O binary -j __ksymtab_strings "$1/physmap.ko" /dev/stdout | tr '\0' '\n' | grep -cx PHYSMAP)
	imp=$(modinfo -F import_ns "$1/bench/physmap_bench.ko")
	echo "namespace strings in physmap.ko's __ksymtab_strings: $ns; physmap_bench.ko imports: $imp"
	[ "$ns" -gt 0 ] && [ "$imp" = PHYSMAP ]
)

# build32 DIR: physmap.ko and physmap_bench.ko built in DIR (a copy of the
# sources) against the 686-pae headers, ARCH=i386; neither may need libgcc's
# 64-bit division (__udivdi3, __umoddi3, __divdi3, __moddi3)
build32() (
	module_sources "$1" || exit 1
	make -C "$KDIR32" ARCH=i386 M="$1" modules || exit 1
	u=$(nm -u "$1/physmap.ko" "$1/bench/physmap_bench.ko" | grep -E '__(u?div|u?mod)di3')
	echo "libgcc division symbols: ${u:-none}"
	[ -z "$u" ] && echo "$(file -b "$1/physmap.ko" | cut -d, -f1-2)"
)

# ksft_install DEST [SRC]: selftests/ as physmap/ in a scratch copy of the
# kernel's selftests (those of SRC, the parts of a linux-source; default
# $KSRC_CACHE), built as lib.mk builds it, then installed with kselftest's
# own Makefile into DEST
ksft_install() (
	src=${2:-$KSRC_CACHE} it=$PHYSMAP_BUILD/intree${2:+-${2##*-}}
	k=$it/tools/testing/selftests
	unset KSFT_DIR
	rm -rf "$it" "$1" && mkdir -p "$it" &&
	cp -a "$src/." "$it/" && mkdir "$k/physmap" &&
	cp selftests/Makefile selftests/settings selftests/config selftests/*.[ch] testlib/*.[ch] \
	   tools/mapfile.[ch] tools/libphysmap.[ch] physmap_ioctl.h "$k/physmap/" &&
	make -j"$JOBS" -C "$k/physmap" && make -C "$k/physmap" clean &&
	make -j"$JOBS" -C "$k" TARGETS=physmap KSFT_INSTALL_PATH="$1" install &&
	[ -x "$1/physmap/physmap_test" ]
)

# host_skips DIR: with no /dev/physmap (the host), run_kselftest.sh of the
# kselftest install DIR runs every test of the collection physmap, and each
# skips as a whole (exit KSFT_SKIP, "1..0 # SKIP" and a reason)
host_skips() {
	local want got
	if [ -e /dev/physmap ]; then
		echo "check: SKIP selftests skip (the host has /dev/physmap)"
		return
	fi
	want=$(grep -c '^physmap:' "$1/kselftest-list.txt" 2>/dev/null)
	# through a pipe: the runner's parts reopen a regular file's stdout
	(cd "$1" && timeout 300 ./run_kselftest.sh -c physmap) 2>&1 | cat >"$LOGS/host-skips.log"
	got=$(grep -cE '^ok [0-9]+ selftests: physmap: .* # SKIP$' "$LOGS/host-skips.log")
	if [ "${want:-0}" -gt 0 ] && [ "$got" = "$want" ] &&
	   [ "$(grep -c '^# 1\.\.0 # SKIP .*physmap.ko is not loaded' "$LOGS/host-skips.log")" = "$want" ]; then
		item "selftests skip" pass "without /dev/physmap: $got of $want tests KSFT_SKIP, with the reason"
	else
		show "$LOGS/host-skips.log"
		item "selftests skip" fail "without /dev/physmap: $got of ${want:-0} tests skipped"
	fi
}

# ksft_config: what is wrong with selftests/config (kselftest's list of
# the options the tests need): a line not CONFIG_X=y|m, or a CONFIG_ option
# that the tests' sources name and it does not list
ksft_config() {
	local o
	[ -s selftests/config ] || { echo "no selftests/config"; return; }
	grep -vnE '^CONFIG_[A-Z0-9_]+=[ym]$' selftests/config
	for o in $(grep -ohE '\bCONFIG_[A-Z0-9_]+' selftests/*.[ch] testlib/*.[ch] | sort -u); do
		grep -q "^$o=" selftests/config || echo "$o: named by the tests, not in selftests/config"
	done
}

taint_letters() {
	local i out='' l=PFSRMBUDAWCIOELKXT
	for ((i = 0; i < ${#l}; i++)); do (($1 >> i & 1)) && out+=${l:i:1}; done
	echo "${out:-none}"
}

not_run() {
	local i
	for i in "guest run" insmod+devnode "tests ran" "console clean" taint rmmod \
		 ${TIER:+kmemleak "fault counts"}; do
		item "$i" fail "not run: $1"
	done
}

# expected_programs DIR: COLLECTION/TEST for every test the kselftest
# install DIR should run, sorted: the physmap collection's programs as
# selftests/Makefile names them (built or not), and every test of
# DIR/kselftest-list.txt (the collections added here)
expected_programs() {
	{
		sed -n 's/^TEST_GEN_PROGS *+\{0,1\}:\{0,1\}= *//p' selftests/Makefile |
			tr ' ' '\n' | sed -n 's|^\(.\)|physmap/\1|p'
		sed 's|:|/|' "$1/kselftest-list.txt" 2>/dev/null
	} | sort -u
}

# guest KERNEL JOB TIMEOUT: boot KERNEL with $OUT/initramfs.cpio.gz, judge
# what came back
guest() {
	local vmrc p f s hits b a want missing
	RES=$OUT/results.log CON=$OUT/console.log
	step "guest: job $2"
	vm "$OUT" "$1" "$OUT/initramfs.cpio.gz" "$2" "$3" 2>&1 | tee "$LOGS/vm.log"
	vmrc=${PIPESTATUS[0]}
	if grep -q '^physmap: results-end' "$RES"; then
		item "guest run" pass "$(marker begin)"
	else
		item "guest run" fail "no end marker (QEMU exit $vmrc, 124: timed out after $3 s), see $CON"
	fi
	if [ "$(marker insmod)" = ok ] && [ "$(marker dev)" = "c 600 0 0" ]; then
		item "insmod+devnode" pass "/dev/physmap crw------- root root"
	else
		item "insmod+devnode" fail "insmod: $(marker insmod); /dev/physmap: $(marker dev) (want c 600 0 0)"
	fi

	awk -v notes='^# physmap-(fault|stress|fuzz|storm|memcg|rmmod)[ :]' \
		-f scripts/ktap.awk "$RES" >"$LOGS/tap.txt"
	sed -n 's/^R fail /failed: /p' "$LOGS/tap.txt"
	BINS+=$(sed -n "s|^BIN |    $TIER|p" "$LOGS/tap.txt")$'\n'
	NOTES+=$(sed -n "s|^NOTE |    $TIER|p" "$LOGS/tap.txt")$'\n'
	read -r _ p f s < <(grep '^TOTAL ' "$LOGS/tap.txt")
	TAP_PASS=$((TAP_PASS + p)) TAP_FAIL=$((TAP_FAIL + f)) TAP_SKIP=$((TAP_SKIP + s))
	# every program the guest should have run, by name: a test that did
	# not build or did not run fails this item, whatever else printed TAP
	want=$(expected_programs "$OUT/kselftest")
	missing=$(comm -23 <(echo "$want") <(sed -n 's/^BIN \([^:]*\):.*/\1/p' "$LOGS/tap.txt" | sort -u))
	if [ -n "$missing" ] || ! ((p + f)); then
		item "tests ran" fail "$(grep -c . <<<"$missing") of $(grep -c . <<<"$want") expected programs did not run: $(echo $missing)"
	else
		item "tests ran" pass "$((p + f + s)) TAP results from $(grep -c . <<<"$want") of $(grep -c . <<<"$want") expected programs"
	fi

	# the fault test provokes allocation-failure reports between its
	# markers on the debug kernel: there, Call Trace lines are let pass
	hits=$(awk -v re="$PHYSMAP_CONSOLE_RE" -v faultok="$TIER" '
		/physmap-fault: begin/ { infault = 1 }
		/physmap-fault: end/ { infault = 0 }
		$0 ~ re && !(faultok != "" && infault && /Call Trace:/) { print NR ": " $0 }' "$CON")
	if [ ! -s "$CON" ] || [ -n "$hits" ]; then
		head -n 20 <<<"$hits" | indent
		item "console clean" fail "$(grep -c . <<<"$hits") lines of kernel trouble in $CON"
	else
		item "console clean" pass "$(wc -l <"$CON") lines, nothing matched"
	fi

	# loading an unsigned out-of-tree module sets O (4096) and E (8192)
	b=$(marker taint-before-insmod) a=$(marker taint-after-insmod) f=$(marker taint-final)
	if ! [[ "$b,$a,$f" =~ ^[0-9]+,[0-9]+,[0-9]+$ ]]; then
		item taint fail "not recorded (before '$b', after insmod '$a', final '$f')"
	elif (((a & ~b & ~12288) | (f & ~a))); then
		item taint fail "before $b, after insmod $a ($(taint_letters "$a")), final $f ($(taint_letters "$f"))"
	else
		item taint pass "before $b, after insmod $a ($(taint_letters "$a")), final $f"
	fi

	if [ "$(marker rmmod)" = ok ] && ! grep -q '^physmap: module still loaded' "$RES"; then
		item rmmod pass "module unloaded"
	else
		item rmmod fail "$(marker rmmod)$(grep -q '^physmap: module still loaded' "$RES" && echo ', module still loaded')"
	fi
}

tools_collection() {
	ksft_collection "$OUT/kselftest" physmap_tools "$KSFT_TIMEOUT" \
		tools/tests/libphysmap_test tools/tests/physmapctl_test.sh
}

# kmemleak LABEL: "ok|missing ALL PHYSMAP": the scan's unreferenced objects,
# and those whose report names physmap
kmemleak() {
	awk -v label="$1" '
	$0 == "physmap: kmemleak-scan-begin " label { on = 1; next }
	on && /^physmap: kmemleak-scan-end / { on = 0; ok = ($NF == "ok"); next }
	on && /unreferenced object/ { cur = ++n }
	on && cur && /physmap/ { mod[cur] = 1 }
	END { for (i in mod) m++; printf "%s %d %d\n", ok ? "ok" : "missing", n, m }' "$RES"
}

cloud_tier() {
	TIER='' OUT=$PHYSMAP_BUILD LOGS=$PHYSMAP_BUILD/logs
	local d rc n st desc t
	mkdir -p "$LOGS"
	rm -f "$LOGS"/*.log
	step "module build (KDIR=$KDIR)"
	make -C "$KDIR" M="$PWD" clean >/dev/null 2>&1
	build_item "module build" build "physmap.ko, no warnings" make -j"$JOBS" KDIR="$KDIR"

	step "ns string build (6.13's EXPORT_SYMBOL_NS_GPL, MODULE_IMPORT_NS)"
	build_item "ns string build" ns-string %s ns_string_build "$OUT/ns-string"

	step "32-bit build (KDIR32=$KDIR32, ARCH=i386)"
	build_item "32-bit build" build32 "physmap.ko, bench/physmap_bench.ko: %s" build32 "$OUT/build32"

	step "selftests build (KSFT_DIR=$KSFT_DIR)"
	make -C selftests clean >/dev/null 2>&1
	try "selftests build" selftests "standalone, -Werror" make -j"$JOBS" -C selftests KSFT_DIR="$KSFT_DIR"

	step "tools build"
	make -C tools clean >/dev/null 2>&1
	try "tools build" tools "libphysmap, tools/physmapctl, tools/tests/libphysmap_test" make -C tools

	step "bench build"
	try "bench build" bench "bench/physmap_bench.ko, bench/pmbench" build_pmbench

	step "physmapctl host tests (tools/tests/host_test.sh)"
	tools/tests/host_test.sh >"$LOGS/host_test.log" 2>&1
	tap_items physmapctl "$LOGS/host_test.log"

	step "dkms add/build (-k $KVER)"
	if run dkms dkms_build; then
		item "dkms build" pass "$(sed -n 's/^built: //p' "$LOGS/dkms.log")"
	else
		item "dkms build" fail "see $LOGS/dkms.log"
	fi

	step "checkpatch --strict"
	mapfile -t t < <(printf '%s\n' physmap_*.[ch] bench/physmap_bench*.[ch] | grep -v '\.mod\.c$')
	# an out-of-tree module builds on several kernels: PMT_NS is chosen
	# by LINUX_VERSION_CODE (physmap_tree.h)
	perl "$CHECKPATCH" --no-tree --strict --terse --ignore LINUX_VERSION_CODE \
		-f "${t[@]}" >"$LOGS/checkpatch.log" 2>&1
	rc=$?
	d=$(grep -E ': (ERROR|WARNING|CHECK):' "$LOGS/checkpatch.log")
	if [ -n "$d" ] || [ "$rc" -ne 0 ]; then
		show "$LOGS/checkpatch.log"
		item checkpatch fail "$(grep -c . <<<"$d") findings, exit $rc"
	else
		item checkpatch pass "${t[*]}"
	fi

	step "checkpatch --strict: selftests/, tools/, testlib/ (ERRORs fail)"
	mapfile -t t < <(git ls-files 'selftests/*.[ch]' 'tools/*.[ch]' 'testlib/*.[ch]')
	perl "$CHECKPATCH" --no-tree --strict --terse -f "${t[@]}" >"$LOGS/checkpatch-tests.log" 2>&1
	n=$(grep -c ': ERROR:' "$LOGS/checkpatch-tests.log")
	d="$(grep -c ': WARNING:' "$LOGS/checkpatch-tests.log") warnings, $(grep -c ': CHECK:' "$LOGS/checkpatch-tests.log") checks"
	if [ "$n" -ne 0 ] || [ ${#t[@]} -eq 0 ]; then
		grep ': ERROR:' "$LOGS/checkpatch-tests.log" | head -n 20 | indent
		item "checkpatch tests" fail "$n errors in ${#t[@]} files; $d"
	else
		item "checkpatch tests" pass "${#t[@]} files, 0 errors; $d"
	fi

	step "kernel-doc (-none with $KSRC_NAME's, -Wall -none with $KSRC612_NAME's)"
	mapfile -t t < <(printf '%s\n' physmap_*.[ch] bench/physmap_bench*.[ch] | grep -v '\.mod\.c$')
	perl "$KERNELDOC" -none "${t[@]}" >"$LOGS/kernel-doc.log" 2>&1
	rc=$?
	perl "$KERNELDOC612" -Wall -none "${t[@]}" >>"$LOGS/kernel-doc.log" 2>&1
	rc=$((rc | $?))
	if [ -s "$LOGS/kernel-doc.log" ] || [ "$rc" -ne 0 ]; then
		show "$LOGS/kernel-doc.log"
		item kernel-doc fail "$(grep -c . "$LOGS/kernel-doc.log") lines, exit $rc"
	else
		item kernel-doc pass "${t[*]}"
	fi

	step "sparse (make C=2)"
	make -C "$KDIR" M="$PWD" C=2 modules >"$LOGS/sparse.log" 2>&1
	rc=$?
	d=$(warnings "$LOGS/sparse.log")
	n=$(grep -cE '^ +CHECK +' "$LOGS/sparse.log")
	if [ -n "$d" ] || [ "$rc" -ne 0 ] || [ "$n" -eq 0 ]; then
		show "$LOGS/sparse.log"
		item sparse fail "$(grep -c . <<<"$d") warning lines, exit $rc, $n files checked"
	else
		item sparse pass "$n files checked"
	fi

	step "in-tree build (tools/testing/selftests/physmap, install)"
	try "in-tree build" intree "make -C .../physmap; make TARGETS=physmap install: $OUT/kselftest" \
		ksft_install "$OUT/kselftest"

	step "in-tree build 6.12 ($KSFT612_DIR/physmap, install), host skips, config"
	try "in-tree build 6.12" intree612 "make -C .../physmap; make TARGETS=physmap install: $OUT/kselftest-6.12" \
		ksft_install "$OUT/kselftest-6.12" "$KSRC612_CACHE"
	host_skips "$OUT/kselftest-6.12"
	if d=$(ksft_config) && [ -z "$d" ]; then
		item "selftests config" pass "$(grep -c . selftests/config) options, every CONFIG_ the tests name"
	else
		indent <<<"$d"
		item "selftests config" fail "$(grep -c . <<<"$d") problems"
	fi

	for t in unit asan valgrind fuzz; do
		step "userspace tree core: $t"
		if run "user-$t" make -C user "test-$t"; then
			item "user $t" pass "$(grep -hE '^(# unit_test|random_test|replay):|^qemu_baseline: [0-9]+ of|stat::number_of_executed_units' \
				"$LOGS/user-$t.log" | tr -s ' ' | paste -sd ';' -)"
		else
			item "user $t" fail "see $LOGS/user-$t.log"
		fi
	done

	step initramfs
	tools_collection
	bench_collection "$OUT/kselftest" physmap_bench smoke "$KSFT_TIMEOUT"
	if ! [ -f physmap.ko ] || ! initramfs "$OUT/initramfs.cpio.gz" physmap.ko "$OUT/kselftest"; then
		not_run "no physmap.ko or no initramfs"
		return
	fi
	guest "$VMLINUZ" tests "${VM_TIMEOUT:-1500}"

	step "qemu follow (scripts/qemu-follow.sh: physmapctl follow against a client QEMU)"
	scripts/qemu-follow.sh "$OUT/follow" >"$LOGS/qemu-follow.log" 2>&1
	tap_items "qemu follow" "$LOGS/qemu-follow.log"
}

# cloud612_tier: Debian's 6.12 cloud kernel, after the cloud tier (whose
# tools, pmbench and 6.12 kselftest install it uses): both modules built
# against its headers, dkms, make install where its kbuild puts modules,
# and its guest (the 6.12 kselftest install, the tools and bench
# collections, physmap.ko of this build)
cloud612_tier() {
	TIER="6.12 " OUT=$PHYSMAP_BUILD/6.12 LOGS=$PHYSMAP_BUILD/6.12/logs
	local d
	mkdir -p "$LOGS"
	rm -f "$LOGS"/*.log
	if [ -z "$KDIR612" ] || [ ! -r "$VMLINUZ612" ]; then
		item "module build" fail "no /usr/src/linux-headers-6.12.*-cloud-amd64 with its /boot/vmlinuz (scripts/deps.sh)"
		not_run "no 6.12 kernel"
		return
	fi
	step "module build (KDIR=$KDIR612)"
	module_sources "$OUT/module"
	build_item "module build" build "physmap.ko, bench/physmap_bench.ko ($KVER612), no warnings" \
		make -C "$KDIR612" M="$OUT/module" -j"$JOBS" modules

	step "dkms add/build (-k $KVER612)"
	if run dkms dkms_build "$KVER612"; then
		item "dkms build" pass "$(sed -n 's/^built: //p' "$LOGS/dkms.log")"
	else
		item "dkms build" fail "see $LOGS/dkms.log"
	fi

	step "make install (tools/tests/install_test.sh, KDIR=$KDIR612)"
	KDIR=$KDIR612 tools/tests/install_test.sh >"$LOGS/install_test.log" 2>&1
	tap_items install "$LOGS/install_test.log"

	step initramfs
	rm -rf "$OUT/kselftest"
	if [ ! -x "$PHYSMAP_BUILD/kselftest-6.12/physmap/physmap_test" ] || [ ! -f "$OUT/module/physmap.ko" ]; then
		not_run "no 6.12 kselftest install (the cloud tier's in-tree build 6.12) or no physmap.ko"
		return
	fi
	cp -a "$PHYSMAP_BUILD/kselftest-6.12" "$OUT/kselftest"
	tools_collection
	bench_collection "$OUT/kselftest" physmap_bench smoke "$KSFT_TIMEOUT" "$OUT/module/bench/physmap_bench.ko"
	if ! initramfs "$OUT/initramfs.cpio.gz" "$OUT/module/physmap.ko" "$OUT/kselftest"; then
		not_run "no initramfs"
		return
	fi
	guest "$VMLINUZ612" tests "${VM_TIMEOUT:-1500}"
}

debug_tier() {
	TIER="debug " OUT=$PHYSMAP_BUILD/debug LOGS=$PHYSMAP_BUILD/debug/logs
	local tree d list s1 all1 mod1 s2 all2 mod2
	mkdir -p "$LOGS"
	rm -f "$LOGS"/*.log
	step "kernel (scripts/debug-kernel.sh)"
	tree=$(scripts/debug-kernel.sh 2> >(tee "$LOGS/debug-kernel.log" >&2) | tail -n 1)
	if [ ! -f "$tree/arch/x86/boot/bzImage" ]; then
		item kernel fail "see $LOGS/debug-kernel.log"
		not_run "no debug kernel"
		return
	fi
	DEBUG_KVER=$(kver_of "$tree")
	item kernel pass "$tree ($DEBUG_KVER)"

	step "module build"
	rm -rf "$OUT/module"
	mkdir -p "$OUT/module"
	cp Kbuild physmap_*.c physmap_*.h "$OUT/module/"
	if ! run build make -C "$tree" M="$OUT/module" PHYSMAP_BENCH=n modules; then
		item "module build" fail "see $LOGS/build.log"
		not_run "no module"
		return
	elif d=$(grep -E '(warning|error):|^WARNING: modpost' "$LOGS/build.log"); then
		indent <<<"$d"
		item "module build" fail "$(wc -l <<<"$d") warning lines"
	else
		item "module build" pass "$OUT/module/physmap.ko, physmap_kunit.ko, no warnings"
	fi

	step "selftests build (kselftest install), and with gcc -m32"
	try "selftests build" selftests "$OUT/kselftest" ksft_install "$OUT/kselftest"
	rm -rf "$OUT/m32" && mkdir -p "$OUT/m32"
	if run selftests32 make -C selftests KSFT_DIR="$KSFT_DIR" OUTPUT="$OUT/m32" \
			CC="gcc -m32 -Wno-pointer-to-int-cast"; then
		# the stress test is about load, not argument layouts: once
		list=$(printf '%s\n' "$OUT"/m32/* | grep -v '/physmap_stress_test$')
		# shellcheck disable=SC2086
		ksft_collection "$OUT/kselftest" physmap_m32 "$KSFT_TIMEOUT" $list
		item "selftests -m32" pass "$(wc -w <<<"$list") programs ($(file -b "$OUT/m32/physmap_test" | cut -d, -f1-2))"
	else
		item "selftests -m32" fail "see $LOGS/selftests32.log"
	fi

	step initramfs
	make -C tools >"$LOGS/tools.log" 2>&1	# built already under make check
	tools_collection
	if ! initramfs "$OUT/initramfs.cpio.gz" "$OUT/module/physmap.ko" "$OUT/kselftest" \
		"$(ls "$OUT/module/physmap_kunit.ko" 2>/dev/null)"; then
		not_run "no initramfs"
		return
	fi
	# no ACPI in this kernel: two sockets, or the guest sees one CPU
	VM_SMP=2,sockets=2 guest "$tree/arch/x86/boot/bzImage" debug "${DEBUG_VM_TIMEOUT:-2400}"
	read -r s1 all1 mod1 < <(kmemleak after-tests)
	read -r s2 all2 mod2 < <(kmemleak after-rmmod)
	d="after tests: $all1 unreferenced objects, $mod1 of physmap; after rmmod: $all2, $mod2 of physmap"
	if [ "$s1 $s2 $mod1 $mod2" = "ok ok 0 0" ]; then
		item kmemleak pass "$d"
	else
		item kmemleak fail "scans: $s1, $s2; $d (see $RES)"
	fi
	if grep -q '^NOTE .*: physmap-fault ' "$LOGS/tap.txt"; then
		item "fault counts" pass "$(grep -c '^NOTE .*: physmap-fault ' "$LOGS/tap.txt") lines (see counts)"
	else
		item "fault counts" fail "the fault test printed no counts"
	fi
	kunit_item
}

# kunit_item: the KUnit suite physmap_tree (physmap_kunit.ko), which the
# debug guest ran after physmap's own tests: every case passed, both
# modules unloaded, and kmemleak's scan after it names nothing of physmap.
# Its cases are TAP results and kunit/physmap_tree a test program already:
# guest()'s scripts/ktap.awk reads the suite between its markers.
kunit_item() {
	local bin p f s how st all mod
	bin=$(sed -n 's|^BIN kunit/physmap_tree: ||p' "$LOGS/tap.txt")
	if [ ! -f "$OUT/module/physmap_kunit.ko" ]; then
		item kunit fail "no physmap_kunit.ko (a kernel without KUnit?)"
		return
	elif [ -z "$bin" ]; then
		item kunit fail "the suite did not run (kunit-insmod: $(marker kunit-insmod)); see $RES"
		return
	fi
	read -r p f s how < <(sed -E 's/^([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped \(([^)]*)\).*/\1 \2 \3 \4/' <<<"$bin")
	read -r st all mod < <(kmemleak after-kunit)
	if ((p > 0 && f == 0 && s == 0)) && [ "$how" = ok ] &&
	   [ "$(marker kunit-rmmod)" = ok ] && [ "$st $mod" = "ok 0" ]; then
		item kunit pass "$p cases passed; unloaded; kmemleak: $all unreferenced objects, none of physmap"
	else
		item kunit fail "$p cases passed, $f failed, $s skipped ($how); rmmod: $(marker kunit-rmmod); kmemleak: $st, $mod of physmap (see $RES)"
	fi
}

TIER='' LOGS=$PHYSMAP_BUILD
mkdir -p "$LOGS"
step deps
run deps scripts/deps.sh || { item deps fail "scripts/deps.sh failed"; finish; }
physmap_env
tiers=${*:-cloud cloud612 debug}
[ "${PHYSMAP_DEBUG_TIER:-1}" != 0 ] || tiers=${tiers/debug/}
for t in $tiers; do
	tier_begin
	"${t}_tier"
	case $t in
	cloud) tier_end "cloud $KVER: the host's checks and builds, and its guest" ;;
	cloud612) tier_end "cloud $KVER612: its builds, make install and its guest" ;;
	debug) tier_end "debug ${DEBUG_KVER:-(no kernel)}: KASAN, lockdep, kmemleak, fault injection" ;;
	esac
done
finish
