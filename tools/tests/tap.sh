# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tools/tests/tap.sh - sourced by the host's TAP scripts (host_test.sh,
# install_test.sh): a scratch directory $T, removed at exit, and ok().
T=$(mktemp -d "${TMPDIR:-/tmp}/physmap-${0##*/}.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0
ok() {	# ok STATUS DESCRIPTION [FILE...]: FILEs' last lines if not ok
	n=$((n + 1))
	[ "$1" -eq 0 ] && { echo "ok $n - $2"; return; }
	echo "not ok $n - $2"
	shift 2
	for f; do [ -f "$f" ] && tail -n 8 "$f" | sed 's/^/# /'; done
}
