/*
 * The planner: which kernel of the registry runs a problem, and on how many threads.
 * Its thresholds are registry/dc_tuning.h.
 */
#ifndef DC_PLANNER_H
#define DC_PLANNER_H

#include "../problem/dc_problem.h"

/* The kernel id (DC_K_*) for problem p (p->taps built), before dc_kernel_resolve. */
DC_API int dc_planner_pick(const dc_problem *p);

/* The threads kernel kid (resolved) should use for p when nt are asked for: one for
 * small calls, never more than there are output rows. */
DC_API int dc_planner_threads(const dc_problem *p, int kid, int nt);

/* The tuning constants, for build_info: the i-th name and value, i < dc_tuning_count(). */
DC_API int dc_tuning_count(void);
DC_API const char *dc_tuning_name(int i);
DC_API long long dc_tuning_value(int i);

#endif /* DC_PLANNER_H */
