/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace: no seq_file; the dump is kernel-only. */
