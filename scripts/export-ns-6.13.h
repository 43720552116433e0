/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scripts/export-ns-6.13.h - the symbol namespace macros as Linux 6.13
 * defines them, for a tree that predates them: make check's "ns string
 * build" passes it with -include (after kbuild's own forced includes) and
 * -DPHYSMAP_NS_STRING, so that a 6.1 tree compiles physmap.ko and
 * physmap_bench.ko the way 6.13 and later do. Since 6.13 the namespace is
 * a string literal, used as it is: a bare identifier no longer builds.
 * Debian 12 has no 6.13 headers to build against.
 */
/* the sources' own pr_fmt, defined before module.h brings printk.h's */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>
#include <linux/module.h>

#undef EXPORT_SYMBOL_NS
#undef EXPORT_SYMBOL_NS_GPL
#undef MODULE_IMPORT_NS
#define EXPORT_SYMBOL_NS(sym, ns)	__EXPORT_SYMBOL(sym, "", ns)
#define EXPORT_SYMBOL_NS_GPL(sym, ns)	__EXPORT_SYMBOL(sym, "_gpl", ns)
#define MODULE_IMPORT_NS(ns)		MODULE_INFO(import_ns, ns)
