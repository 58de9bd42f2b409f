/* timer.c - heap-allocated one-shot libuv timers that free themselves.
 *
 * libuv handles may only be freed from their close callback, so both the
 * expiry path and the cancel path end in uv_close() -> free. */
#include <stdlib.h>

#include "server.h"
#include "timer.h"

struct ptimer {
    uv_timer_t handle;
    ptimer_fn fn;
    void *arg;
};

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_fire(uv_timer_t *h)
{
    ptimer *t = h->data;
    ptimer_fn fn = t->fn;
    void *arg = t->arg;
    uv_close((uv_handle_t *)&t->handle, on_closed);
    fn(arg);
}

ptimer *ptimer_start(uint64_t ms, ptimer_fn fn, void *arg)
{
    ptimer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->fn = fn;
    t->arg = arg;
    t->handle.data = t;
    if (uv_timer_init(&server.loop, &t->handle)) {
        free(t);
        return NULL;
    }
    if (uv_timer_start(&t->handle, on_fire, ms, 0)) {
        uv_close((uv_handle_t *)&t->handle, on_closed);
        return NULL;
    }
    return t;
}

void ptimer_cancel(ptimer *t)
{
    if (!t)
        return;
    uv_timer_stop(&t->handle);
    uv_close((uv_handle_t *)&t->handle, on_closed);
}
