#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/tests/host_test.sh - libphysmap and physmapctl on the build host,
# without the module: every --help, usage and file error with its exit
# status and message, the missing-module message (the host has no
# /dev/physmap), the map readers against testdata/ (map files, "info mtree
# -f" dumps, monitor transcripts, files in no format), progress on a terminal,
# and tools/tests/install_test.sh ("make tools" without a kernel, "make
# install" against KDIR). TAP; make check counts every result.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
CTL=$TOP/tools/physmapctl
MAPS=$TOP/testdata/qemu-7.2
MEM=$MAPS/q35_big.booted.memory.txt
MON=$MAPS/monitor
. "$TOP/tools/tests/tap.sh"
# run WANT-RC ARGS...: physmapctl ARGS exits WANT-RC (output in $T/out, $T/err)
run() {
	local want=$1
	shift
	"$CTL" "$@" >"$T/out" 2>"$T/err" </dev/null
	[ $? -eq "$want" ]
}
# err_is WANT-RC REGEX DESCRIPTION ARGS...: the exit status and a line on
# stderr (described without the scratch directory and the anchors)
err_is() {
	local want=$1 re=$2 what=$3
	shift 3
	run "$want" "$@" && grep -qE -- "$re" "$T/err"
	ok $? "$(printf '%s' "$what: exit $want, ${re//"$T"/TMP}" | sed 's/[$^\\]//g')" "$T/err"
}

echo "TAP version 13"

# --- help ---------------------------------------------------------------
run 0 --help && grep -q '^usage: physmapctl ' "$T/out" &&
	for c in load lookup stats dump parse; do
		grep -q "^  physmapctl $c " "$T/out" || exit 1
	done && grep -q 'Exit status' "$T/out" && [ ! -s "$T/err" ]
ok $? "physmapctl --help: usage of every command and the exit statuses"
run 0 -h && cmp -s "$T/out" <("$CTL" --help)
ok $? "physmapctl -h is --help"
for c in load lookup stats dump parse help; do
	run 0 "$c" --help && grep -q "^usage: physmapctl $c" "$T/out" &&
		cp "$T/out" "$T/h1" && run 0 help "$c" && cmp -s "$T/h1" "$T/out"
	ok $? "physmapctl $c --help, and help $c, print the help of $c"
done
run 0 load --help && grep -q 'reload' "$T/out" && grep -q 'quit' "$T/out"
ok $? "load --help lists the stdin commands"
run 0 --version && grep -qE '^physmapctl [0-9]+\.[0-9]+\.[0-9]+$' "$T/out"
ok $? "--version"

# --- usage errors: exit 1 -----------------------------------------------
err_is 1 "^physmapctl: missing command" "no command"
err_is 1 "^Try 'physmapctl --help'" "no command, hint"
err_is 1 "^physmapctl: unknown command 'frob'" "unknown command" frob
err_is 1 "^physmapctl: unknown option '--frob'" "unknown option" lookup --frob "$MEM" 0
err_is 1 "^physmapctl: option '--page-shift' needs a value" "option without its value" lookup "$MEM" 0 --page-shift
err_is 1 "^physmapctl: lookup: missing FILE" "lookup without FILE" lookup
err_is 1 "^physmapctl: lookup: missing ADDR" "lookup without ADDR" lookup "$MEM"
err_is 1 "^physmapctl: lookup: bad address 'xyz'" "bad address" lookup "$MEM" 0x10 xyz
err_is 1 "^physmapctl: lookup: bad address '0x10000000000000000'" "address past 64 bits" lookup "$MEM" 0x10000000000000000
err_is 1 "^physmapctl: lookup: bad address '-1'" "negative address" lookup "$MEM" -- -1
for ps in 9 17 x -1; do
	err_is 1 "^physmapctl: bad --page-shift '$ps': want 0, or 10..16" "--page-shift $ps" stats --page-shift "$ps" "$MEM"
done
err_is 1 "^physmapctl: stats: unexpected argument 'extra'" "stats with two files" stats "$MEM" extra
err_is 1 "^physmapctl: parse takes no --page-shift option" "parse --page-shift" parse --page-shift 12 "$MEM"
err_is 1 "^physmapctl: unknown command 'frob'" "help of an unknown command" help frob
err_is 1 "^physmapctl: empty --view" "empty --view" parse --view= "$MEM"

# --- file errors: exit 2, line and what -----------------------------------
bad() {	# bad LINE-CONTENT REGEX DESCRIPTION: line 3 of a file is LINE-CONTENT
	printf '0 fff ram a\n\n%s\n' "$1" >"$T/bad"
	err_is 2 "^physmapctl: $T/bad:3: $2" "$3" parse "$T/bad"
}
err_is 2 "^physmapctl: $T/none: No such file or directory" "missing file" lookup "$T/none" 0
bad 'zz fff ram b' "bad start address" "bad start address"
bad '1000 1zz ram b' "bad last address" "bad last address"
bad '2000 1fff ram b' "last address below start address" "last below start"
bad '1000 1fff ram' "missing kind or name" "missing name"
bad '1000 1fff ram b @00000000000000zz' "bad @offset" "bad @offset"
bad '0 ffffffffffffffff ram all' "range covers the whole 64-bit space" "the whole 64-bit space"
bad '1000 1fff ramramramramram b' "kind too long" "kind too long"
printf '0 fff ram a\n1000 1fff ram b\n1800 27ff i/o c\n' >"$T/ovl"
err_is 2 "^physmapctl: $T/ovl:3: \[0x1800-0x27ff\] c overlaps line 2 \[0x1000-0x1fff\] b$" "overlapping sections: both lines" parse "$T/ovl"
: >"$T/empty"
err_is 2 "^physmapctl: $T/empty: no sections" "empty file" parse "$T/empty"
err_is 2 "^physmapctl: $T: " "a directory" parse "$T"
printf 'address-space: memory\n  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n' >"$T/mtree"
err_is 2 "^physmapctl: $T/mtree:1: this is \"info mtree\" output" "info mtree without -f" parse "$T/mtree"
err_is 2 "no flat view of address space \"nosuch\" \(the file has \"memory\", " "--view of a missing address space" parse --view nosuch "$MAPS/pc.booted.dispatch.txt"
cat >"$T/mtree" <<'EOM'
FlatView #0
 AS "memory", root: system
 Root memory region: system
  0000000000000000-000000000009ffff (prio 0, ram): pc.ram
  00000000000a0000-00000000000bffff (prio 1 i/o): vga-lowmem

FlatView #1
 AS "I/O", root: io
 Root memory region: io
  0000000000000000-0000000000000007 (prio 0, i/o): dma-chan
EOM
err_is 2 "^physmapctl: $T/mtree:5: bad priority" "bad line in the wanted flat view" parse --view memory "$T/mtree"
run 0 parse --view io "$T/mtree" && [ "$(cat "$T/out")" = "0 7 i/o dma-chan" ]
ok $? "a bad line in a flat view not asked for is not read" "$T/err"

err_is 2 "/pc.booted.dispatch.txt:343: QEMU rendered no flat view of address space \"PIIX4_PM\"" "--view of an address space QEMU rendered no view of" parse --view PIIX4_PM "$MAPS/pc.booted.dispatch.txt"

# --- the readers against testdata ------------------------------------------
diffs=
for f in "$MAPS"/*.memory.txt "$MAPS"/*.io.txt; do
	"$CTL" parse "$f" 2>&1 | cmp -s - "$f" || diffs+=" $(basename "$f")"
done
[ -z "$diffs" ]
ok $? "parse of every testdata map prints it back unchanged${diffs:+:$diffs}"
for v in memory io; do
	diffs=
	for f in "$MAPS"/*.dispatch.txt; do
		"$CTL" parse --view "$v" "$f" 2>&1 |
			cmp -s - "${f%.dispatch.txt}.$v.txt" || diffs+=" $(basename "$f")"
	done
	[ -z "$diffs" ]
	ok $? "parse --view $v of raw 'info mtree -f -d' output equals the $v maps${diffs:+:$diffs}"
done
"$CTL" --json parse "$MEM" >"$T/out" 2>&1
[ "$(grep -c '^{"line":[0-9]*,"start":"0x[0-9a-f]*","last":"0x[0-9a-f]*","kind":"[^"]*","name":"[^"]*","offset":"0x[0-9a-f]*"}$' "$T/out")" -eq "$(grep -c . "$MEM")" ]
ok $? "parse --json: one object per section" "$T/out"

# --- monitor transcripts ----------------------------------------------------
# testdata/qemu-7.2/monitor: one stopped q35 machine's "info mtree -f" through
# QMP (the plain dump) and typed into -monitor stdio on pipes (the same QEMU),
# on a terminal, and a synthetic transcript (see its README.md)
for v in memory io cpu-smm-0; do
	"$CTL" parse --view "$v" "$MON/q35_nodefaults.qmp.txt" >"$T/plain" 2>&1
	diffs=
	for f in stdio pty synthetic; do
		[ "$f" = synthetic ] && p=$MON/synthetic.txt || p=$MON/q35_nodefaults.$f.txt
		"$CTL" parse --view "$v" "$p" 2>&1 | cmp -s - "$T/plain" || diffs+=" $f"
	done
	[ -s "$T/plain" ] && ! grep -q physmapctl "$T/plain" && [ -z "$diffs" ]
	ok $? "parse --view $v of monitor transcripts equals the plain dump of the same machine${diffs:+:$diffs}" "$T/plain"
done
"$CTL" --json parse "$MON/q35_nodefaults.stdio.txt" >"$T/out" 2>&1
bad_lines=$(sed -n 's/^{"line":\([0-9]*\),"start":"0x\([0-9a-f]*\)",.*/\1 \2/p' "$T/out" |
	while read -r l a; do
		sed -n "${l}p" "$MON/q35_nodefaults.stdio.txt" |
			grep -q "^  $(printf '%016x' "0x$a")-" || echo "$l"
	done)
[ "$(grep -c . "$T/out")" -eq 8 ] && [ -z "$bad_lines" ]
ok $? "a transcript's cookies are the lines of the file the ranges are on${bad_lines:+: not$bad_lines}" "$T/out"
# line 21 of the transcript is a range of the memory view
sed '21s/(prio 0, /(prio x, /' "$MON/q35_nodefaults.stdio.txt" >"$T/mon"
err_is 2 "^physmapctl: $T/mon:21: bad priority$" "a bad line in a transcript's flat view: its line" parse "$T/mon"
sed '9s/(prio 1, rom)/(prio 1 rom)/' "$MON/synthetic.txt" >"$T/mon"
err_is 2 "^physmapctl: $T/mon:9: bad priority$" "a bad line in a transcript with CRLF and escapes: its line" parse --view cpu-smm-0 "$T/mon"
sed '8s/^  0000/  zzzz/' "$MON/synthetic.txt" >"$T/mon"
err_is 2 "^physmapctl: $T/mon:8: bad range" "a bad first range after the prompt's FlatView line: its line" parse --view cpu-smm-0 "$T/mon"
run 0 parse --view io "$MON/q35_nodefaults.stdio.txt" && [ "$(tail -n 1 "$T/out")" = "5659 ffff i/o io @0000000000005659" ]
ok $? "the prompt after the dump ends it (the I/O view is the last one)" "$T/err"
{ tr -d '\r' <"$MON/q35_nodefaults.qmp.txt"; echo '(qemu) quit'; echo 'not read'; } >"$T/mon"
run 0 parse --view io "$T/mon"
ok $? "a dump copied up to the next prompt" "$T/err"
printf 'QEMU 7.2.22 monitor - type '"'"'help'"'"' for more information\r\n(qemu) info version\r\n7.2.22\r\n(qemu) quit\r\n' >"$T/mon"
err_is 2 "^physmapctl: $T/mon: a monitor transcript without \"info mtree -f\" output$" "a transcript without info mtree -f" parse "$T/mon"
printf '(qemu) info mtree\naddress-space: memory\n  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n(qemu) quit\n' >"$T/mon"
err_is 2 "^physmapctl: $T/mon: a monitor transcript without \"info mtree -f\" output \(line 2 on is \"info mtree\" output, without -f\)$" "a transcript with info mtree, without -f" parse "$T/mon"
err_is 2 "no flat view of address space \"nosuch\" \(the file has \"cpu-smm-0\", \"memory\", " "--view of a missing address space in a transcript" parse --view nosuch "$MON/q35_nodefaults.stdio.txt"

# --- files in no known format -------------------------------------------------
unknown='not a map file, an "info mtree -f" dump or a monitor transcript'
printf 'hello world\n0 fff ram a\n' >"$T/unk"
err_is 2 "^physmapctl: $T/unk: $unknown \(line 1: \"hello world\"\)$" "a file in no known format" parse "$T/unk"
! grep -q 'want: <start>' "$T/err"
ok $? "no map-file syntax quoted for a file in no format" "$T/err"
printf '\n\n{"key": "value"}\n' >"$T/unk"
err_is 2 "^physmapctl: $T/unk: $unknown \(line 3: " "no known format: the first line that is not blank" parse "$T/unk"
printf 'qemu-system-x86_64: -M nosuch: unsupported machine type\n' >"$T/unk"
err_is 2 "^physmapctl: $T/unk: $unknown \(line 1: \"qemu-system-x86_64: -M nosuch: unsupport" "no known format: only QEMU's error" parse "$T/unk"
printf '1000 1fff ram\n' >"$T/unk"
err_is 2 "^physmapctl: $T/unk:1: missing kind or name" "a map file's bad first line: its line" parse "$T/unk"

# --- no device -----------------------------------------------------------
hint='^physmapctl: is physmap loaded\? try: sudo modprobe physmap$'
if [ ! -e /dev/physmap ]; then
	for c in "lookup $MEM 0" "stats $MEM" "dump $MEM" "load $MEM"; do
		# shellcheck disable=SC2086
		run 3 $c && grep -q '^physmapctl: cannot open /dev/physmap: No such file or directory$' "$T/err" &&
			grep -qE "$hint" "$T/err"
		ok $? "${c%% *} without /dev/physmap: exit 3, the modprobe hint" "$T/err"
	done
else
	echo "ok $((n += 1)) - # SKIP this host has a /dev/physmap"
fi
PHYSMAP_DEVICE=$T/none run 3 lookup "$MEM" 0 && grep -q "^physmapctl: cannot open $T/none: " "$T/err" &&
	grep -qE "$hint" "$T/err"
ok $? "PHYSMAP_DEVICE names the device" "$T/err"
err_is 4 "^physmapctl: begin: Inappropriate ioctl for device" "a device that is not physmap" lookup --device /dev/null "$MEM" 0
err_is 4 "^physmapctl: is /dev/null a physmap device" "a device that is not physmap, hint" lookup --device /dev/null "$MEM" 0
err_is 2 "^physmapctl: $T/ovl:3: " "a bad file is refused before the device is opened" lookup --device "$T/none" "$T/ovl" 0

# --- progress on a terminal ------------------------------------------------
awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "%x %x ram s%d\n", i * 4096, i * 4096 + 4095 - (i % 2) * 2048, i }' >"$T/big"
script -qec "$CTL lookup --device $T/none $T/big 0" /dev/null >"$T/tty" 2>&1
grep -q 'physmapctl: reading: [0-9]*/[0-9]* KiB ([0-9]*%)' "$T/tty" && grep -q 'is physmap loaded' "$T/tty"
ok $? "a million sections: progress on a terminal" "$T/tty"
script -qec "$CTL lookup -q --device $T/none $T/big 0" /dev/null >"$T/tty" 2>&1
! grep -q 'reading:' "$T/tty"
ok $? "--quiet: no progress on a terminal" "$T/tty"
run 3 lookup --device "$T/none" "$T/big" 0 && ! grep -q 'reading' "$T/err"
ok $? "no progress when stderr is not a terminal" "$T/err"

# --- building and installing: tools/tests/install_test.sh, in this TAP ----
. "$TOP/tools/tests/install_test.sh"

echo "1..$n"
