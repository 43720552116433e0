#!/usr/bin/awk -f
# SPDX-License-Identifier: GPL-2.0
#
# Tables of the benchmark from its raw lines (build/bench/physmap-bench.log,
# written by scripts/bench.sh; line formats in physmap_bench.c and
# bench/pmbench.c):
#
#   awk -v qemu_bytes=N -f scripts/bench-table.awk build/bench/physmap-bench.log
#
# qemu_bytes: what QEMU's dispatch holds for q35_big.booted, memory + io
# (scripts/qemu-dispatch-cost.awk); the bytes target is a quarter of it.
#
# Ratios are physmap's time over the other structure's, per stream: below 1,
# physmap is faster. Targets (issue 4), on the uniform streams (inside and
# span): <= 0.5 against the maple tree, <= 0.7 against the XArray, <= 0.5
# against binary search from 256 sections up.

function kv(   i, a) {
	delete v
	for (i = 2; i <= NF; i++) {
		split($i, a, "=")
		v[a[1]] = a[2]
	}
}

function ns(ps) { return sprintf("%.1f", ps / 1000) }

function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }

$1 == "R" {
	kv()
	m = v["map"]; s = v["struct"]
	if (!(m in seen)) { seen[m] = 1; maps[++nm] = m }
	sect[m] = v["sections"]
	in_ps[m, s] = v["inside_ps"]; span_ps[m, s] = v["span_ps"]
	loc_ps[m, s] = v["local_ps"]; build[m, s] = v["build_ns"]
	if ("bytes" in v) bytes[m, s] = v["bytes"]
}
# bytes pmbench counted from /sys/kernel/slab (the maple tree's)
$1 == "S" { kv(); bytes[v["map"], v["struct"]] = v["bytes"] }
$1 == "P" { kv(); nodes[v["map"]] = v["nodes"]; depth[v["map"]] = v["depth"]; subp[v["map"]] = v["subpages"] }
$1 == "C" { kv(); commit[++nc] = $0 }
$1 == "I" { kv(); iop[v["what"]] = v["ps_per_addr"]; iomap = v["map"] }
$1 == "U" { kv(); upd[++nu] = $0 }

END {
	split("physmap maple xarray bsearch", st, " ")
	print "Lookups: ns per lookup (QEMU TCG; compare within this table only),"
	print "ratio = physmap's time / the structure's (below 1: physmap faster)."
	print "Streams: in = uniform inside sections, span = uniform over 0..highest"
	print "byte, loc = 16 lookups per section. xarray: page-granular view (4 KiB"
	print "pages; a page shared by sections answers one of them)."
	print ""
	printf "%-26s %-8s %8s %8s %8s %8s %6s %6s %6s %12s %10s\n", "map", "struct",
	       "sections", "in ns", "span ns", "loc ns", "r.in", "r.span", "r.loc",
	       "bytes", "build ms"
	for (i = 1; i <= nm; i++) {
		m = maps[i]
		for (k = 1; k <= 4; k++) {
			s = st[k]
			if (!((m, s) in in_ps)) continue
			printf "%-26s %-8s %8d %8s %8s %8s %6s %6s %6s %12d %10.2f\n",
			       (k == 1 ? m : ""), s, sect[m], ns(in_ps[m, s]),
			       ns(span_ps[m, s]), ns(loc_ps[m, s]),
			       (k == 1 ? "" : ratio(in_ps[m, "physmap"], in_ps[m, s])),
			       (k == 1 ? "" : ratio(span_ps[m, "physmap"], span_ps[m, s])),
			       (k == 1 ? "" : ratio(loc_ps[m, "physmap"], loc_ps[m, s])),
			       bytes[m, s], build[m, s] / 1e6
		}
		printf "%-26s physmap: %d nodes, %d sub-pages, depth %d\n", "",
		       nodes[m], subp[m], depth[m]
	}

	print ""
	print "Lookup targets on the uniform streams (in, span):"
	for (i = 1; i <= nm; i++) {
		m = maps[i]; miss = ""
		for (k = 2; k <= 4; k++) {
			s = st[k]
			lim = (s == "xarray" ? 0.7 : 0.5)
			if (s == "bsearch" && sect[m] < 256) continue
			if (!((m, s) in in_ps)) continue
			if (in_ps[m, "physmap"] > lim * in_ps[m, s])
				miss = miss sprintf(" %s.in=%s", s, ratio(in_ps[m, "physmap"], in_ps[m, s]))
			if (span_ps[m, "physmap"] > lim * span_ps[m, s])
				miss = miss sprintf(" %s.span=%s", s, ratio(span_ps[m, "physmap"], span_ps[m, s]))
		}
		printf "  %-26s %s\n", m, (miss == "" ? "all hold" : "missed:" miss)
		if (miss == "") held++; else missed++
	}
	printf "  %d maps hold every lookup target, %d miss one or more\n", held, missed

	if (qemu_bytes > 0) {
		b = bytes["q35_big.booted.memory", "physmap"] + bytes["q35_big.booted.io", "physmap"]
		print ""
		printf "Bytes, q35_big.booted memory + io: physmap %d, QEMU's dispatch %d, ratio %.3f (target <= 0.25): %s\n",
		       b, qemu_bytes, b / qemu_bytes, (b <= qemu_bytes / 4 ? "holds" : "missed")
	}

	if (nc) {
		print ""
		print "Commit: add every section, then commit (physmap, in the kernel)"
		printf "%10s %12s %12s %12s %10s %10s\n", "sections", "add ms", "commit ms",
		       "bytes", "nodes", "sub-pages"
		for (i = 1; i <= nc; i++) {
			$0 = commit[i]; kv()
			printf "%10d %12.1f %12.1f %12d %10d %10d\n", v["sections"],
			       v["add_ns"] / 1e6, v["commit_ns"] / 1e6, v["bytes"],
			       v["nodes"], v["subpages"]
		}
	}

	if ("null" in iop) {
		print ""
		printf "Ioctl path (%s, ns per address; per block of 4096 addresses the fastest of 5 runs):\n", iomap
		printf "  null ioctl (ENOTTY)  %8.1f\n", iop["null"] / 1000
		printf "  LOOKUP               %8.1f   %.2fx null (target <= 1.3)\n",
		       iop["lookup"] / 1000, iop["lookup"] / iop["null"]
		n = split("1 16 256 4096", bs, " ")
		for (i = 1; i <= n; i++)
			printf "  LOOKUP_BATCH %-6s  %8.1f   %.3fx LOOKUP%s\n", bs[i],
			       iop["batch" bs[i]] / 1000,
			       iop["batch" bs[i]] / iop["lookup"],
			       (bs[i] == 4096 ? " (target <= 0.05)" : "")
	}

	if (nu) {
		print ""
		print "Live updates through the ioctls (wall clock, one run each): a full build"
		print "(BEGIN, every ADD, COMMIT) against update transactions of it"
		print "(BEGIN_UPDATE, REMOVE, ADD, COMMIT): the first, which copies the map and"
		print "builds it with room for updates, and the next, from the pending map the"
		print "first kept (issue 14's target: 1/1000)"
		printf "%10s %12s %12s %10s %12s %10s %12s\n", "sections",
		       "build ms", "first ms", "ratio", "next ms", "ratio", "bytes"
		for (i = 1; i <= nu; i++) {
			$0 = upd[i]; kv()
			printf "%10d %12.1f %12.1f %10.3f %12.3f %10.5f %12d\n",
			       v["sections"], v["build_ns"] / 1e6,
			       v["update_ns"] / 1e6,
			       v["update_ns"] / v["build_ns"], v["next_ns"] / 1e6,
			       v["next_ns"] / v["build_ns"], v["bytes"]
		}
	}
}
