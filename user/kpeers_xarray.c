// SPDX-License-Identifier: GPL-2.0
/*
 * lib/xarray.c of the installed linux-source, compiled natively the way the
 * kernel's harness (tools/testing/radix-tree/xarray.c) compiles it, but
 * without XA_DEBUG and the test suite: the code the kernel runs. Built with
 * the harness's include path, never with physmap's shim.
 */
#include "test.h"

#define module_init(x)
#define module_exit(x)
#define MODULE_AUTHOR(x)
#define MODULE_LICENSE(x)
#define dump_stack()	assert(0)

#include "lib/xarray.c"
