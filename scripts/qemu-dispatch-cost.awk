#!/usr/bin/awk -f
# SPDX-License-Identifier: GPL-2.0
#
# What QEMU's own AddressSpaceDispatch holds, from `info mtree -f -d`
# (testdata/qemu-7.2/*.dispatch.txt): per flat view, its phys_map nodes
# (2 KiB each), those reachable from the root, and its sub-page tables
# (sections named "(noname)" other than #0, 8 KiB each).
#
#   awk -f scripts/qemu-dispatch-cost.awk testdata/qemu-7.2/q35_big.booted.dispatch.txt
#
# Prints: view  first-AS  nodes  reachable  subpages  bytes(reachable*2K+subpages*8K)
function flush(   n, k, stack, top, cur) {
	if (view == "")
		return
	# Walk node references from the root to count reachable nodes.
	delete seen
	n = 0
	if (root != "") {
		top = 1; stack[1] = root
		while (top > 0) {
			cur = stack[top--]
			if (cur in seen)
				continue
			seen[cur] = 1; n++
			for (k in edge)
				if (index(k, cur SUBSEP) == 1)
					stack[++top] = substr(k, length(cur) + 2)
		}
	}
	printf "%s\t%s\t%d\t%d\t%d\t%d\n", view, as, nodes, n, subpages,
	       n * 2048 + subpages * 8192
}
/^FlatView/ { flush(); view = $2; as = ""; nodes = 0; subpages = 0; root = ""; cur_node = ""; delete edge }
/^ AS "/ && as == "" { as = $2 }
/^ *#[0-9]+ @/ && /\(noname\)/ && !/\[unassigned\]/ { subpages++ }
/Nodes \(/ { if (match($0, /ptr=\[[0-9]+\]/)) root = substr($0, RSTART + 5, RLENGTH - 6) }
/^ *\[[0-9]+\]$/ { nodes++; cur_node = $1; gsub(/[\[\]]/, "", cur_node) }
/ptr=\[[0-9]+\]/ && cur_node != "" { match($0, /ptr=\[[0-9]+\]/); edge[cur_node, substr($0, RSTART + 5, RLENGTH - 6)] = 1 }
END { flush() }
