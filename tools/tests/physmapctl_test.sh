#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tools/tests/physmapctl_test.sh - physmapctl against /dev/physmap in the
# test guest (kselftest collection physmap_tools): lookups on real QEMU maps
# (map files and raw "info mtree -f" output) held against the map files,
# --json, stats, dump, the stdin commands of "load" (an update of the map
# included), device-side errors.
# TAP, busybox sh. PHYSMAPCTL (physmapctl on PATH), PHYSMAP_MAPS (the QEMU
# maps, /physmap/testdata/qemu-7.2).

# shellcheck disable=SC2046 # address lists are split on purpose

CTL=${PHYSMAPCTL:-physmapctl}
MAPS=${PHYSMAP_MAPS:-/physmap/testdata/qemu-7.2}
MEM=$MAPS/q35_big.booted.memory.txt
IO=$MAPS/q35_big.booted.io.txt
RAW=$MAPS/q35_big.booted.dispatch.txt
PARAM=/sys/module/physmap/parameters/max_sections
T=$(mktemp -d /tmp/physmapctl_test.XXXXXX)
trap 'rm -rf "$T"' EXIT

n=0
fails=0
ok() {	# ok STATUS DESCRIPTION: a TAP line; returns STATUS
	n=$((n + 1))
	[ "$1" -eq 0 ] && echo "ok $n - $2" || { echo "not ok $n - $2"; fails=$((fails + 1)); }
	return "$1"
}
note() { sed 's/^/# /' "$@"; }

# For every line of a map file: its start and last (cookie: the line),
# and the byte after it unless the next line starts there (unassigned).
# Writes "ADDR EXPECTED" lines; addresses at or above 2^63 are left out
# (shell arithmetic is signed).
expect_of() {
	ln=0
	prev_next=
	while read -r s l rest; do
		ln=$((ln + 1))
		if [ ${#s} -ge 16 ] || [ ${#l} -ge 16 ]; then
			continue
		fi
		if [ -n "$prev_next" ] && [ $((0x$s)) -ne $((prev_next)) ]; then
			printf '0x%x unassigned\n' $((prev_next))
		fi
		echo "0x$s $ln"
		echo "0x$l $ln"
		prev_next=$((0x$l + 1))
	done <"$1"
	[ -n "$prev_next" ] && printf '0x%x unassigned\n' $((prev_next))
}

# lookup output -> "ADDR EXPECTED-FORM" (cookie or unassigned)
got_of() {
	sed -n -e 's/^\(0x[0-9a-f]*\)  unassigned$/\1 unassigned/p' \
	       -e 's/^\(0x[0-9a-f]*\)  #.* cookie=\([0-9]*\) .*/\1 \2/p'
}

echo "TAP version 13"
echo "1..21"

expect_of "$MEM" >"$T/mem.expect"
cut -d' ' -f1 "$T/mem.expect" >"$T/mem.addrs"
"$CTL" lookup "$MEM" $(cat "$T/mem.addrs") >"$T/mem.out" 2>"$T/err"
rc=$?
got_of <"$T/mem.out" >"$T/mem.got"
cmp -s "$T/mem.expect" "$T/mem.got"
ok $(( rc != 0 || $? != 0 )) "lookup: every section's first and last byte and the hole after it, q35_big memory ($(wc -l <"$T/mem.expect") addresses)"
[ "$rc" -eq 0 ] || note "$T/err"

expect_of "$IO" >"$T/io.expect"
"$CTL" lookup "$IO" $(cut -d' ' -f1 "$T/io.expect") 2>"$T/err" | got_of >"$T/io.got"
cmp -s "$T/io.expect" "$T/io.got"
ok $? "lookup: every section of the I/O space, sub-pages all (q35_big io)"

# raw QEMU output: the same sections, named alike; cookies are other lines
"$CTL" lookup --view memory "$RAW" $(cat "$T/mem.addrs") >"$T/raw.out" 2>"$T/err"
rc=$?
sed 's/ cookie=[0-9]*//' "$T/mem.out" >"$T/a"
sed 's/ cookie=[0-9]*//' "$T/raw.out" >"$T/b"
cmp -s "$T/a" "$T/b"
ok $(( rc != 0 || $? != 0 )) "lookup --view memory on raw 'info mtree -f -d' output: same sections as the map file"
"$CTL" lookup --view io "$RAW" $(cut -d' ' -f1 "$T/io.expect") 2>&1 | sed 's/ cookie=[0-9]*//' >"$T/b"
"$CTL" lookup "$IO" $(cut -d' ' -f1 "$T/io.expect") 2>&1 | sed 's/ cookie=[0-9]*//' >"$T/a"
cmp -s "$T/a" "$T/b"
ok $? "lookup --view io on raw output: same sections as the io map file"

# the offset within the region: the line's @offset plus the distance
line=$(grep -n ' @' "$MEM" | head -n 1)
ln=${line%%:*}
set -- ${line#*:}
off=${line##*@}
addr=$(printf '0x%x' $((0x$1 + 0x10)))
want=$(printf '0x%x' $((0x$off + 0x10)))
"$CTL" lookup "$MEM" "$addr" >"$T/out" 2>&1
grep -q "^$addr  #$ln \[0x$1-0x$2\] $3 .*  cookie=$ln offset=$want\$" "$T/out"
ok $? "lookup: range, kind, name, cookie and offset within the region (line $ln)"
[ $? -eq 0 ] || note "$T/out"

for ps in 10 16; do
	"$CTL" lookup --page-shift $ps "$MEM" $(cat "$T/mem.addrs") >"$T/ps.out" 2>&1
	cmp -s "$T/mem.out" "$T/ps.out"
	ok $? "lookup --page-shift $ps: the same answers as page_shift 12"
done

"$CTL" --json lookup "$MEM" $(cat "$T/mem.addrs") >"$T/json" 2>&1
nj=$(grep -c '^{"addr":"0x[0-9a-f]*","generation":1,"index":[0-9]*.*}$' "$T/json")
nu=$(grep -c '"index":0}$' "$T/json")
wu=$(grep -c unassigned "$T/mem.expect")
nc=$(grep -c '"kind":"[a-z/]*","name":"[^"]*","cookie":[0-9]*,"offset":"0x[0-9a-f]*"}$' "$T/json")
[ "$nj" -eq "$(wc -l <"$T/mem.addrs")" ] && [ "$nu" -eq "$wu" ] &&
	[ $((nc + nu)) -eq "$nj" ]
ok $? "lookup --json: one object per address ($nj), $nu unassigned of $wu expected"

nsec=$(grep -c . "$MEM")
"$CTL" stats "$MEM" >"$T/stats" 2>&1
sections=$(sed -n 's/^sections: *//p' "$T/stats")
nodes=$(sed -n 's/^nodes: *\([0-9]*\).*/\1/p' "$T/stats")
subpages=$(sed -n 's/^subpages: *//p' "$T/stats")
[ "$sections" = "$nsec" ] && grep -q '^generation: *1$' "$T/stats" &&
	[ "${nodes:-0}" -gt 0 ]
ok $? "stats: $sections sections (file: $nsec lines), $nodes nodes, generation 1"
"$CTL" stats --json "$MEM" | grep -q "^{\"generation\":1,\"sections\":$nsec,\"nodes\":$nodes,"
ok $? "stats --json: the same figures"

"$CTL" dump "$MEM" >"$T/dump" 2>&1
rc=$?
dn=$(grep -c '^      \[[0-9]*\]$' "$T/dump")
ds=$(grep -c '^      #[0-9]* @' "$T/dump")
dsp=$(grep -c '^      S[0-9]* @' "$T/dump")
# every node's runs cover its slots exactly once (2^bits, from the header)
bits=$(sed -n 's/^    Nodes (\([0-9]*\) bits per level.*/\1/p' "$T/dump")
slots=$((1 << ${bits:-0}))
runs_ok=$(awk -v slots="$slots" '/^      \[/ { if (next_slot != "" && next_slot != slots) bad++; next_slot = 0; next }
	/^\t *[0-9]+(\.\.[0-9]+)? +skip=[0-9]+  ptr=/ { split($1, r, /\.\./); if (r[1] != next_slot) bad++;
		next_slot = (r[2] == "" ? r[1] : r[2]) + 1 }
	END { if (next_slot != slots) bad++; print bad + 0 }' "$T/dump")
[ "$rc" -eq 0 ] && [ "$dn" -eq "$nodes" ] && [ "$ds" -eq $((nsec + 1)) ] &&
	[ "$dsp" -eq "$subpages" ] && [ "$runs_ok" -eq 0 ] && [ "$slots" -gt 1 ] &&
	grep -q '^    Nodes ([0-9]* bits per level, [0-9]* levels) ptr=\[[0-9]*\] skip=[0-9]*$' "$T/dump"
ok $? "dump: $dn nodes (stats: $nodes), $ds sections, $dsp sub-pages, every node's $slots slots once"
[ $? -eq 0 ] || head -n 20 "$T/dump" | note

"$CTL" --json dump "$MEM" >"$T/dj" 2>&1
[ "$(wc -l <"$T/dj")" -eq 1 ] && grep -q '^{"file":.*"nodes":\[\[.*\]\]}$' "$T/dj"
ok $? "dump --json: one object"

# load: commands from stdin
a1=$(sed -n 1p "$T/mem.addrs")
printf '%s\n' "stats" "$a1" "lookup $a1 0x1" "# a comment" "" "reload" \
	"stats" "frobnicate" "quit" "$a1" | "$CTL" load "$MEM" >"$T/out" 2>"$T/err"
rc=$?
g=$(grep -c '^generation: ' "$T/out")
[ "$rc" -eq 5 ] && [ "$g" -eq 2 ] &&
	[ "$(sed -n 's/^generation: *//p' "$T/out" | tail -n 1)" = 2 ] &&
	[ "$(grep -c "^$a1  #" "$T/out")" -eq 2 ] &&
	grep -q '^physmapctl: stdin:8: .frobnicate. is neither a command nor an address' "$T/err" &&
	grep -q 'reloaded .*generation 2' "$T/err"
ok $? "load: lookups, stats, reload (generation 2), a bad command reported with its line (exit 5), quit"
[ $? -eq 0 ] || { echo "# rc=$rc"; note "$T/out" "$T/err"; }

printf '%s\n' "$a1" | "$CTL" --json load --quiet "$MEM" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -eq 0 ] && [ ! -s "$T/err" ] && grep -q "^{\"addr\":\"$a1\"" "$T/out"
ok $? "load --json --quiet: answers until end of input, exit 0, nothing on stderr"

# load: an update on stdin. The HPET's section (1 KiB) is removed; two
# sections in its range take its index and the next one; the rest of the
# range and the rest of the map are as before.
line=$(grep -n ' hpet$' "$MEM" | head -n 1)
ln=${line%%:*}
set -- ${line#*:}
hs=$((0x$1))
hl=$((0x$2))
x() { printf '0x%x' "$1"; }
a0=$(x "$hs")
a1ff=$(x $((hs + 0x1ff)))
a200=$(x $((hs + 0x200)))
a280=$(x $((hs + 0x280)))
a2ff=$(x $((hs + 0x2ff)))
a300=$(x $((hs + 0x300)))
alast=$(x "$hl")
first=$(sed -n 1p "$T/mem.addrs")
first_line=$(grep "^$first  #" "$T/mem.out")
printf '%s\n' "$a0" "remove $ln" "add $a0 200 4242" "add $a200 0x100 4243 0x10" \
	"$a0" "commit" "$a0 $a1ff $a280 $a300 $alast" "$first" "stats" |
	"$CTL" load --quiet "$MEM" >"$T/out" 2>"$T/err"
rc=$?
{
	echo "$a0  #$ln [$a0-$alast] $3 $4  cookie=$ln offset=0x0"
	echo "removed #$ln"
	echo "added #$ln [$a0-$a1ff]"
	echo "added #$((nsec + 1)) [$a200-$a2ff]"
	echo "$a0  #$ln [$a0-$alast] $3 $4  cookie=$ln offset=0x0"
	echo "committed generation 2, $((nsec + 1)) sections"
	echo "$a0  #$ln [$a0-$a1ff]  cookie=4242 offset=0x0"
	echo "$a1ff  #$ln [$a0-$a1ff]  cookie=4242 offset=0x1ff"
	echo "$a280  #$((nsec + 1)) [$a200-$a2ff]  cookie=4243 offset=0x90"
	echo "$a300  unassigned"
	echo "$alast  unassigned"
	echo "$first_line"
} >"$T/want"
head -n "$(wc -l <"$T/want")" "$T/out" | cmp -s - "$T/want"
ok $(( rc != 0 || $? != 0 )) "load: remove #$ln, add two sections in its range (#$ln, #$((nsec + 1))), commit: lookups before and after, exit 0"
[ $? -eq 0 ] || { echo "# rc=$rc; want:"; note "$T/want"; echo "# got:"; note "$T/out" "$T/err"; }
[ "$(sed -n 's/^sections: *//p' "$T/out")" = $((nsec + 1)) ] &&
	[ "$(sed -n 's/^generation: *//p' "$T/out")" = 2 ] && [ ! -s "$T/err" ]
ok $? "load: stats after the update: generation 2, $((nsec + 1)) sections"

printf '%s\n' "remove $ln" "add $a0 0x200 7" "commit" "$a0 $a300" |
	"$CTL" --json load --quiet "$MEM" >"$T/out" 2>"$T/err"
rc=$?
{
	echo "{\"removed\":$ln}"
	echo "{\"added\":$ln,\"start\":\"$a0\",\"last\":\"$a1ff\",\"cookie\":7,\"offset\":\"0x0\"}"
	echo "{\"committed\":true,\"generation\":2,\"sections\":$nsec}"
	echo "{\"addr\":\"$a0\",\"generation\":2,\"index\":$ln,\"start\":\"$a0\",\"last\":\"$a1ff\",\"cookie\":7,\"offset\":\"0x0\"}"
	echo "{\"addr\":\"$a300\",\"generation\":2,\"index\":0}"
} >"$T/want"
cmp -s "$T/out" "$T/want"
ok $(( rc != 0 || $? != 0 )) "load --json: remove, add, commit and a lookup of the added section (no kind, no name)"
[ $? -eq 0 ] || { echo "# rc=$rc"; note "$T/out" "$T/err"; }

printf '%s\n' "remove 0" "remove 99999" "add $a0 0x10" "remove $ln" "remove $ln" \
	"add" "$a0" | "$CTL" load --quiet "$MEM" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -eq 5 ] &&
	grep -q '^physmapctl: stdin:1: cannot remove #0: No such file or directory' "$T/err" &&
	grep -q '^physmapctl: stdin:2: cannot remove #99999: No such file or directory' "$T/err" &&
	grep -q "^physmapctl: stdin:3: cannot add \[$a0+0x10\]: File exists" "$T/err" &&
	grep -q "^physmapctl: stdin:5: cannot remove #$ln: No such file or directory" "$T/err" &&
	grep -q '^physmapctl: stdin:6: usage: add START SIZE' "$T/err" &&
	[ "$(grep -c . "$T/err")" -eq 5 ] &&
	[ "$(cat "$T/out")" = "removed #$ln
$a0  #$ln [$a0-$alast] $3 $4  cookie=$ln offset=0x0" ]
ok $? "load: a bad remove (index 0, none, removed twice) or add reported with its line, exit 5; reads on"
[ $? -eq 0 ] || { echo "# rc=$rc"; note "$T/out" "$T/err"; }

# device-side error: past max_sections
old=$(cat "$PARAM")
echo 10 >"$PARAM"
"$CTL" lookup "$MEM" 0 >"$T/out" 2>&1
rc=$?
echo "$old" >"$PARAM"
[ "$rc" -eq 4 ] && grep -q "^physmapctl: $MEM:11: cannot add .*: No space left on device" "$T/out" &&
	grep -q 'at most 10 sections' "$T/out"
ok $? "a map past max_sections: exit 4, the line that did not fit, the limit"
[ $? -eq 0 ] || note "$T/out"

# a long load: 150,000 sections; no progress when stderr is not a terminal
awk 'BEGIN { for (i = 0; i < 150000; i++)
	printf "%x %x ram s%d\n", i * 8192, i * 8192 + 4095 - (i % 3) * 1024, i }' >"$T/big"
"$CTL" lookup "$T/big" 0x2000 0x3000 0x124f67fe 0x124f6800 0x124f8000 >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -eq 0 ] && [ ! -s "$T/err" ] &&
	grep -q '^0x2000  #2 \[0x2000-0x2bff\] ram s1  cookie=2 offset=0x0$' "$T/out" &&
	grep -q '^0x3000  unassigned$' "$T/out" &&
	grep -q '^0x124f67fe  #37500 \[0x124f6000-0x124f67ff\] ram s37499  cookie=37500 offset=0x7fe$' "$T/out" &&
	grep -q '^0x124f6800  unassigned$' "$T/out" &&
	grep -q '^0x124f8000  #37501 ' "$T/out"
ok $? "150,000 sections load and answer; no progress on a pipe"
[ $? -eq 0 ] || note "$T/out" "$T/err"

"$CTL" lookup --device /dev/null "$MEM" 0 >"$T/out" 2>&1
[ $? -eq 4 ] && grep -q 'Inappropriate ioctl' "$T/out"
ok $? "--device on something else: exit 4, ENOTTY explained"

[ "$fails" -eq 0 ]
