/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace stand-in for <linux/sched.h> and <linux/sched/signal.h>: no
 * scheduler to yield to, and a fatal signal a test can make pending after
 * the nth check (physmap_shim_fatal_nth()).
 */
#ifndef _PHYSMAP_SHIM_SCHED_H
#define _PHYSMAP_SHIM_SCHED_H
#include <stdbool.h>

void physmap_shim_fatal_nth(unsigned long nth);
bool physmap_shim_fatal_pending(void);

#define current			NULL
#define cond_resched()		do { } while (0)
#define fatal_signal_pending(task) physmap_shim_fatal_pending()
#endif
