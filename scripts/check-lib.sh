#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/check-lib.sh - what check.sh and check-debug.sh share: counting
# items, printing steps, reading the guest's results. Sourced, not run.
#
# The sourcing script sets T0 (start time), RES (the guest's results log)
# before reading results, and CHECK_TIER ("" for the cloud tier, "debug " for the debug tier), and
# owns PASSED, FAILED and SUMMARY.

# item NAME pass|fail [DETAIL]
item() {
	local st
	if [ "$2" = pass ]; then
		PASSED=$((PASSED + 1))
		st=PASS
	else
		FAILED=$((FAILED + 1))
		st=FAIL
	fi
	SUMMARY+=("$(printf '  %s  %s%-16s %s' "$st" "${CHECK_TIER:-}" "$1" "${3:-}")")
	printf 'check: %s %s%s %s\n' "$st" "${CHECK_TIER:-}" "$1" "${3:-}"
}

# step TEXT: a heading, with the tier ("debug tier: ") and the time so far
step() {
	printf '\n== %s%s (%d s)\n' "${CHECK_TIER:+${CHECK_TIER}tier: }" "$*" \
		$(($(date +%s) - T0))
}

indent() { sed 's/^/    /'; }

# show the end of a log when a step failed
show() { echo "--- last lines of $1:"; tail -n "${2:-25}" "$1" | indent; }

# Per test binary: TAP lines at the start of a line only (the harness's
# own notes start with '#'). Prints one "BIN" line per binary, "NOTOK"
# lines, and "TOTAL pass fail skip".
parse_results() {
	awk '
	function done(name, rc, why,    seen, note) {
		seen = p + f + s
		note = (why != "" ? " " why ";" : "")
		if (planned > seen) {
			f += planned - seen
			note = note " " (planned - seen) " planned tests never reported;"
		}
		if (rc == "") {
			if (f == 0) f = 1
			note = note " did not finish (guest died?);"
		} else if (seen == 0 && rc == 4) {
			s++
			note = note " skipped as a whole;"
		} else if (seen == 0) {
			f++
			note = note " no TAP output;"
		} else if (rc != 0 && rc != 4 && f == 0) {
			f++
			note = note " exited rc=" rc " without a failing test;"
		}
		printf "BIN %s: %d passed, %d failed, %d skipped (rc=%s)%s\n", \
			name, p, f, s, (rc == "" ? "none" : rc), note
		P += p; F += f; S += s
		cur = ""
	}
	/^physmap: test-begin / { if (cur != "") done(cur, "", ""); cur = $3; p = f = s = 0; planned = -1; next }
	/^physmap: test-end / { rc = $4; sub(/^rc=/, "", rc); done(cur, rc, $5); next }
	cur == "" { next }
	/^1\.\.[0-9]+/ { if (planned < 0) planned = substr($1, 4) + 0; next }
	/^ok / { if ($0 ~ /# (SKIP|skip)/) s++; else p++; next }
	/^not ok / { if ($0 ~ /# (SKIP|skip)/) s++; else { f++; print "NOTOK " cur ": " $0 }; next }
	END { if (cur != "") done(cur, "", ""); printf "TOTAL %d %d %d\n", P, F, S }
	' "$RES"
}

marker() { sed -n "s/^physmap: $1 //p" "$RES" | tail -n 1; }

# taint bit letters, as in Documentation/admin-guide/tainted-kernels.rst
taint_letters() {
	local v=$1 i out="" l=PFSRMBUDAWCIOELKXT
	for ((i = 0; i < ${#l}; i++)); do
		if (((v >> i) & 1)); then out+=${l:i:1}; fi
	done
	echo "${out:-none}"
}

num() { [[ "$1" =~ ^[0-9]+$ ]]; }
