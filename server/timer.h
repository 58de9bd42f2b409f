/* timer.h - one-shot timers on the server's loop, for grace periods and
 * waiting-room timeouts.
 *
 * Ownership: a ptimer is owned by the loop. It frees itself after its
 * callback has run, or after ptimer_cancel(); the owner keeps the pointer
 * only to cancel it and must forget it in the callback. */
#ifndef PARLEYD_TIMER_H
#define PARLEYD_TIMER_H

#include <stdint.h>

typedef struct ptimer ptimer;
typedef void (*ptimer_fn)(void *arg);

/* Call fn(arg) once after ms milliseconds; NULL if libuv refused. */
ptimer *ptimer_start(uint64_t ms, ptimer_fn fn, void *arg);
/* Stop a pending timer; NULL is fine. fn will not be called. */
void ptimer_cancel(ptimer *t);

#endif
