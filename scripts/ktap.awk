#!/usr/bin/awk -f
# SPDX-License-Identifier: GPL-2.0
#
# scripts/ktap.awk - the harness's one TAP reader. Input: what kselftest's
# run_kselftest.sh printed in the guest (a header "# selftests: COLL: TEST",
# the test's own TAP nested under "# ", then the runner's "ok|not ok N
# selftests: COLL: TEST [# SKIP|# TIMEOUT N seconds|# exit=N]"), or a plain
# TAP stream (tools/tests/host_test.sh); and a KUnit suite's KTAP (its
# debugfs results) between the guest's markers "physmap: kunit-begin SUITE"
# and "physmap: kunit-end SUITE", read as the test program kunit/SUITE: its
# cases are the results nested one level ("    ok N case"), the suite's own
# line ("ok 1 SUITE") says how it ended. Prints
#   R pass|fail|skip TEST DESC   every result ("ok ... # SKIP" is a skip)
#   BIN COLL/TEST: P passed, F failed, S skipped (how it ended)
#   NOTE COLL/TEST: LINE         the test's comments that match -v notes=ERE
#   TOTAL P F S
# A test program adds one failure when it timed out, exited non-zero, or
# printed no TAP without a failing result of its own, and one per planned
# result it never printed; one that never ended (the guest died) fails.

function done(how,    seen, why) {
	seen = p + f + s
	if (plan > seen) {
		f += plan - seen
		why = why " " plan - seen " planned results missing;"
	}
	if (how == "died") {
		if (!f) f = 1
		why = why " did not end (guest died?);"
	} else if (!seen && how == "SKIP") {
		s++
		why = why " skipped as a whole;"
	} else if (!seen) {
		f++
		why = why " no TAP output;"
	} else if (how != "" && how != "SKIP" && !f) {
		f++
		why = why " " how " without a failing result;"
	}
	printf "BIN %s: %d passed, %d failed, %d skipped (%s)%s\n", cur, p, f, s,
	       how == "" ? "ok" : how, why
	P += p; F += f; S += s
	cur = ""; p = f = s = 0; plan = -1
}

BEGIN { plan = -1; cur = "" }
{ sub(/\r$/, "") }
/^physmap: kunit-begin [^ ]+$/ {
	if (cur != "") done("died")
	cur = "kunit/" $3
	plan = -1; kunit = 1; khow = ""
	next
}
kunit && /^physmap: kunit-end / { done(khow); kunit = 0; next }
kunit && /^(not )?ok [0-9]+ / {
	khow = /^not/ ? "not ok" : /# (SKIP|skip)/ ? "SKIP" : ""
	next
}
/^# selftests: [^ ]+: [^ ]+$/ {
	if (cur != "") done("died")
	kunit = 0
	cur = $3 "/" $4; sub(/:\//, "/", cur)
	plan = -1
	next
}
cur != "" && /^(not )?ok [0-9]+ selftests: / {
	how = /^not/ ? "not ok" : ""
	if (match($0, /# (SKIP|TIMEOUT [0-9]+ seconds|exit=[0-9]+)/))
		how = substr($0, RSTART + 2, RLENGTH - 2)
	done(how)
	next
}
{
	# one level of "# " in a test's own output, of four spaces in a
	# suite's, none in a plain stream
	line = $0
	if (kunit) {
		if (!sub(/^    /, "", line) || line ~ /^ /) next
	} else if (cur != "" && !sub(/^# /, "", line)) next
	if (line ~ /^1\.\.[0-9]+/ && plan < 0) plan = substr(line, 4) + 0
	if (line ~ /^(not )?ok /) {
		st = line ~ /# (SKIP|skip)/ ? "skip" : line ~ /^not/ ? "fail" : "pass"
		if (st == "pass") p++; else if (st == "fail") f++; else s++
		sub(/^(not )?ok [0-9]* *(- )?/, "", line)
		print "R", st, (cur == "" ? "-" : cur), line
	} else if (notes != "" && line ~ notes) {
		sub(/^# /, "", line)
		print "NOTE " cur ": " line
	}
}
END {
	if (cur != "") done("died")
	P += p; F += f; S += s
	printf "TOTAL %d %d %d\n", P, F, S
}
