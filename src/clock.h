/* clock: the monotonic clock, for durations and deadlines (never for timestamps shown to users:
 * those come from lb_time_now_us). */
#ifndef LB_CLOCK_H
#define LB_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t lb_monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline int64_t lb_monotonic_ms(void)
{
    return lb_monotonic_us() / 1000;
}

#endif
