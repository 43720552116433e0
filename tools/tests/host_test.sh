#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/tests/host_test.sh - libphysmap and physmapctl on the build host,
# without the module: every --help, usage and file error with its exit
# status and message, the missing-module message (the host has no
# /dev/physmap), the map readers against testdata/ (map files, "info mtree
# -f" dumps, monitor transcripts, files in no format), progress on a terminal,
# follow --dry-run against a fake QEMU (tools/tests/fake_qmp.py: QMP on a
# unix socket and on a pty), and tools/tests/install_test.sh ("make tools"
# without a kernel, "make install" against KDIR). TAP; make check counts
# every result.
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

# --- follow against a fake QEMU (tools/tests/fake_qmp.py) -------------------
# The fake answers "info mtree -f" with its files in turn and sends an
# event after each but the last; follow --dry-run prints the updates
# without /dev/physmap (the guest runs follow against a real QEMU:
# scripts/qemu-follow.sh). T1 is a real dump (CRLF line ends); T2 is T1
# with, in the memory view, hpet gone, ioapic shrunk and a section added
# whose name needs JSON's escapes (\u00e9, a surrogate pair, \", \\).
FAKE=$TOP/tools/tests/fake_qmp.py
T1=$MON/q35_nodefaults.qmp.txt
sed -e '/^FlatView #1/,/^FlatView #2/{/: hpet\r$/d' \
    -e 's/^  00000000fec00000-00000000fec00fff \(.*\)$/  00000000fec00000-00000000fec007ff \1/' \
    -e 's/^\(  00000000fffc0000-.*\)$/  00000000fe000000-00000000fe003fff (prio 1, i\/o): virtio-pci-common-r\xc3\xa9seau \xf0\x9f\x98\x80 "q" \\\\x @0000000000001000\r\n\1/}' \
    "$T1" >"$T/t2.txt"
# fake ARGS...: the fake in the background, once its socket or pty is there
fake() {
	rm -f "$T/ready"
	python3 "$FAKE" --ready "$T/ready" "$@" 2>"$T/fake.err" &
	FAKE_PID=$!
	for _ in $(seq 100); do [ -e "$T/ready" ] && return; sleep 0.05; done
}
# follow_run WANT-RC ARGS...: physmapctl follow ARGS exits WANT-RC, under a
# time limit; the fake is gone after it (killed if it stays)
follow_run() {
	local want=$1 rc
	shift
	timeout 20 "$CTL" follow "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	kill "$FAKE_PID" 2>/dev/null
	wait "$FAKE_PID" 2>/dev/null
	[ "$rc" -eq "$want" ]
}
e_acute=$(printf '\303\251') smiley=$(printf '\360\237\230\200')
cat >"$T/want" <<EOF
generation 1: 8 sections loaded
event DEVICE_ADDED dev1
- #5 fec00000 fec00fff i/o ioapic
- #6 fed00000 fed003ff i/o hpet
+ #5 fe000000 fe003fff i/o virtio-pci-common-r${e_acute}seau $smiley "q" \\\\x @0000000000001000
+ #6 fec00000 fec007ff i/o ioapic
generation 2: 2 removed, 2 added, 8 sections
event DEVICE_DELETED dev2
- #5 fe000000 fe003fff i/o virtio-pci-common-r${e_acute}seau $smiley "q" \\\\x @0000000000001000
- #6 fec00000 fec007ff i/o ioapic
+ #5 fec00000 fec00fff i/o ioapic
+ #6 fed00000 fed003ff i/o hpet
generation 3: 2 removed, 2 added, 8 sections
EOF
fake --unix "$T/qmp.sock" --log "$T/cmds" "$T1" "$T/t2.txt" "$T1"
follow_run 0 --qmp "$T/qmp.sock" --dry-run --interval 0 && cmp -s "$T/want" "$T/out"
ok $? "follow --dry-run on a unix socket: the first map, then per event the sections that went and came, the summaries" "$T/out" "$T/err"
grep -q "^physmapctl: following $T/qmp.sock, QEMU 7.2.22, view memory; dry run, no device$" "$T/err" &&
	grep -q '^physmapctl: QEMU closed the connection after 2 updates, generation 3$' "$T/err"
ok $? "follow: what it follows, and why it ended (EOF: status 0)" "$T/err"
python3 - "$T/cmds" <<'PY'
import json, sys
cmds = [json.loads(l) for l in open(sys.argv[1])]
names = [c["execute"] for c in cmds]
ids = [c["id"] for c in cmds]
assert names == ["qmp_capabilities", "query-version"] + 3 * ["human-monitor-command"], names
assert all(c["arguments"] == {"command-line": "info mtree -f"} for c in cmds[2:])
assert len(set(ids)) == len(ids) and all(i.startswith("physmapctl-") for i in ids)
PY
ok $? "follow's QMP: qmp_capabilities, query-version, then human-monitor-command \"info mtree -f\", each with its own id" "$T/cmds"

# through a character device (a pty in raw mode), after noise that is no
# JSON and a reply nobody here asked for; --count stops it
fake --pty "$T/pty" --stay --noise "$T1" "$T/t2.txt"
follow_run 0 --qmp "$T/pty" --dry-run --interval 0 --count 1 && head -n 7 "$T/want" | cmp -s - "$T/out"
ok $? "follow --count 1 on a character device (a pty): noise skipped, stops after one update" "$T/out" "$T/err"
fake --unix "$T/qmp.sock" --stay "$T1"
follow_run 0 --qmp "$T/qmp.sock" --dry-run --count 0 --list &&
	"$CTL" parse "$T1" | awk '{ print "+ #" NR " " $0 }' | cmp -s - <(grep '^+' "$T/out") &&
	[ "$(tail -n 1 "$T/out")" = "generation 1: 8 sections loaded" ]
ok $? "follow --list --count 0: the first map's sections as + lines, with the indexes ADD gives; then it stops" "$T/out" "$T/err"

fake --unix "$T/qmp.sock" "$T1" "$T/t2.txt" "$T1"
follow_run 0 --qmp "$T/qmp.sock" --dry-run --interval 0 --json --list &&
python3 - "$T/out" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert {"generation": 1, "loaded": 8} in lines
assert {"event": "DEVICE_ADDED", "device": "dev1", "path": "/machine/peripheral/dev1"} in lines
assert {"generation": 3, "removed": 2, "added": 2, "sections": 8} in lines
added = [l for l in lines if "added" in l and "start" in l]
assert any(l["name"] == 'virtio-pci-common-r\u00e9seau \U0001F600 "q" \\\\x'
           and l["offset"] == "0x1000" and l["start"] == "0xfe000000"
           and l["last"] == "0xfe003fff" and l["kind"] == "i/o" for l in added), added
# a cookie is the number of its name: 1, 2, ... as first met, in every read
names = {}
for l in lines:
    if "start" in l:
        assert names.setdefault(l["name"], l["cookie"]) == l["cookie"], l
assert sorted(names.values()) == list(range(1, len(names) + 1)), names
assert sorted(names, key=names.get)[:2] == ["pc.ram", "pc.rom"], names
PY
ok $? "follow --json: an object a line, the name unescaped and escaped again; a cookie is its name's number, the same in every read" "$T/out" "$T/err"

# polling: no event needed; a read that changes nothing prints nothing
fake --unix "$T/qmp.sock" --stay "$T1" "$T1" "$T1" "$T/t2.txt" "$T/t2.txt" "$T1"
follow_run 0 --qmp "$T/qmp.sock" --dry-run --interval 50 --count 2 &&
	[ "$(grep -c '^generation' "$T/out")" -eq 3 ] && grep -q '^generation 2: 2 removed, 2 added, 8 sections$' "$T/out" &&
	grep -q '^generation 3: 2 removed, 2 added, 8 sections$' "$T/out"
ok $? "follow --interval: reads on the timer too; unchanged reads print nothing" "$T/out" "$T/err"

fake --unix "$T/qmp.sock" --stay "$T1"
timeout 20 "$CTL" follow --qmp "$T/qmp.sock" --dry-run --interval 0 >"$T/out" 2>"$T/err" &
F=$!
for _ in $(seq 100); do grep -q '^generation 1' "$T/out" && break; sleep 0.05; done
kill -TERM "$F"
wait "$F"
rc=$?
kill "$FAKE_PID" 2>/dev/null
wait "$FAKE_PID" 2>/dev/null
[ "$rc" -eq 0 ] && grep -q '^physmapctl: stopped by a signal after 0 updates, generation 1$' "$T/err"
ok $? "follow: SIGTERM ends it with status 0" "$T/err"

fake --unix "$T/qmp.sock" --hmp-error "$T1"
follow_run 6 --qmp "$T/qmp.sock" --dry-run &&
	grep -q '^physmapctl: human-monitor-command: fake_qmp.py says no (GenericError)$' "$T/err"
ok $? "follow: an error reply is exit 6, with its desc and class" "$T/err"
printf 'hello\n' >"$T/unk"
fake --unix "$T/qmp.sock" "$T/unk"
follow_run 2 --qmp "$T/qmp.sock" --dry-run &&
	grep -q "^physmapctl: QEMU's info mtree -f: not a map file, an \"info mtree -f\" dump" "$T/err"
ok $? "follow: an answer in no known format is exit 2, said so" "$T/err"
fake --unix "$T/qmp.sock" "$T1"
follow_run 2 --qmp "$T/qmp.sock" --dry-run --view nosuch && grep -q 'no flat view of address space "nosuch"' "$T/err"
ok $? "follow --view of a missing address space: exit 2" "$T/err"
if [ ! -e /dev/physmap ]; then
	fake --unix "$T/qmp.sock" "$T1"
	follow_run 3 --qmp "$T/qmp.sock" &&
		grep -q '^physmapctl: cannot open /dev/physmap: No such file or directory$' "$T/err" &&
		grep -qE '^physmapctl: is physmap loaded\? try: sudo modprobe physmap$' "$T/err"
	ok $? "follow without /dev/physmap (no --dry-run): exit 3, the modprobe hint" "$T/err"
else
	echo "ok $((n += 1)) - # SKIP this host has a /dev/physmap"
fi
err_is 6 "^physmapctl: $T/none: No such file or directory$" "follow --qmp of nothing: exit 6" follow --qmp "$T/none" --dry-run
err_is 6 "^physmapctl: $T1: neither a unix socket nor a character device" "follow --qmp of a regular file: exit 6" follow --qmp "$T1" --dry-run

# --- follow: usage -----------------------------------------------------------
run 0 follow --help && grep -q '^usage: physmapctl follow --qmp PATH' "$T/out" &&
	for o in --qmp --interval --check --count --list --dry-run; do grep -q -- "^  $o " "$T/out" || exit 1; done
ok $? "follow --help: --qmp and every option of follow" "$T/out"
err_is 1 "^physmapctl: follow: missing --qmp PATH" "follow without --qmp" follow --dry-run
err_is 1 "^physmapctl: follow: --check needs the device" "follow --check --dry-run" follow --qmp x --check --dry-run
err_is 1 "^physmapctl: bad --interval 'x'" "follow --interval x" follow --qmp x --interval x
err_is 1 "^physmapctl: bad --count '-1'" "follow --count -1" follow --qmp x --count -1
err_is 1 "^physmapctl: follow: unexpected argument 'FILE'" "follow with an argument" follow --qmp x FILE
err_is 1 "^physmapctl: lookup takes no --qmp, --interval, --count, --check, --dry-run or --list option" "follow's options elsewhere" lookup --check "$MEM" 0

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
