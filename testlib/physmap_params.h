/* SPDX-License-Identifier: GPL-2.0 */
/*
 * physmap_params.h - physmap.ko's module parameters as the tests know them:
 * where they are, and the default of max_sections (physmap_main.c), which
 * a selftest assumes when it cannot read the parameter and the tree core's
 * userspace tests and benchmarks pass as their limit. Header only and
 * without includes, so that user/ can read it beside the kernel shim.
 */
#ifndef _PHYSMAP_PARAMS_H
#define _PHYSMAP_PARAMS_H

#define PM_PARAM_DIR		"/sys/module/physmap/parameters/"
#define PM_MAX_SECTIONS_PARAM	PM_PARAM_DIR "max_sections"
#define PM_MAX_MAP_PARAM	PM_PARAM_DIR "max_map_mb"
#define PM_BACKLOG_PARAM	PM_PARAM_DIR "retire_backlog_mb"

/* max_sections of a module loaded without it */
#define PM_MAX_SECTIONS_DEFAULT	1000000U

#endif /* _PHYSMAP_PARAMS_H */
