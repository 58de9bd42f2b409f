/* tap.h - a minimal TAP producer for Parley's C tests.
 *
 * A test file defines its cases with TEST(name) { ... } and lists them in
 * main with RUN(name); CHECK(cond) records a failure and goes on, REQUIRE(cond)
 * records it and leaves the case. tap_done() prints the plan and returns the
 * exit status. Cases run in one process, one after the other. */
#ifndef PARLEY_TAP_H
#define PARLEY_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed, tap_case_failed;

#define TEST(name) static void name(void)

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            printf("#   %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);      \
            tap_case_failed = 1;                                                     \
        }                                                                            \
    } while (0)

#define CHECKF(cond, ...)                                                            \
    do {                                                                             \
        if (!(cond)) {                                                               \
            printf("#   %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);      \
            printf(__VA_ARGS__);                                                     \
            putchar('\n');                                                           \
            tap_case_failed = 1;                                                     \
        }                                                                            \
    } while (0)

#define REQUIRE(cond)                                                                \
    do {                                                                             \
        if (!(cond)) {                                                               \
            printf("#   %s:%d: requirement failed: %s\n", __FILE__, __LINE__, #cond); \
            tap_case_failed = 1;                                                     \
            return;                                                                  \
        }                                                                            \
    } while (0)

#define RUN(name)                                                                    \
    do {                                                                             \
        tap_case_failed = 0;                                                         \
        fflush(stdout);                                                              \
        name();                                                                      \
        tap_count++;                                                                 \
        if (tap_case_failed)                                                         \
            tap_failed++;                                                            \
        printf("%s %d - %s\n", tap_case_failed ? "not ok" : "ok", tap_count, #name); \
        fflush(stdout);                                                              \
    } while (0)

static inline int tap_done(void)
{
    printf("1..%d\n", tap_count);
    return tap_failed ? 1 : 0;
}

#endif
