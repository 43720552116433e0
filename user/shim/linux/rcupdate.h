/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace RCU: the kernel's API names mapped onto liburcu. */
#ifndef _PHYSMAP_SHIM_RCUPDATE_H
#define _PHYSMAP_SHIM_RCUPDATE_H
#include <urcu.h>
#define rcu_head		rcu_head
#endif
