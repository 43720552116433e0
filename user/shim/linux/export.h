/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace: nothing to export. */
#define EXPORT_SYMBOL_NS_GPL(sym, ns)
