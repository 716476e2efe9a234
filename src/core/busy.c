// SPDX-License-Identifier: MIT
// busy.c -- what the event loop is busy with, so that when it runs late the
// lag watchdog (src/app/app.c) can say which channel or request held it.
// Steps are marked where the loop hands control to antenne's own code (a
// channel's timer and input, an HTTP request, a job's completion); only the
// loop's thread marks them, so the state is plain statics. Nested marks
// belong to the outermost step.
#include "core/core.h"

#include <stdio.h>
#include <string.h>

static unsigned depth;
static uint64_t step_start_us;
static char step_name[BUSY_NAME_MAX];
static char longest_name[BUSY_NAME_MAX];
static uint64_t longest_us;
static bool any_ended;

void busy_begin(const char *what, const char *name)
{
    if (depth++)
        return;
    snprintf(step_name, sizeof(step_name), "%s %s", what, name);
    step_start_us = clock_mono_us();
}

void busy_end(void)
{
    if (!depth || --depth)
        return;
    uint64_t took = clock_mono_us() - step_start_us;
    if (!any_ended || took > longest_us) {
        any_ended = true;
        longest_us = took;
        memcpy(longest_name, step_name, sizeof(longest_name));
    }
}

const char *busy_current(void)
{
    return depth ? step_name : "";
}

uint64_t busy_take_longest(char *name, size_t size)
{
    uint64_t took = longest_us;
    snprintf(name, size, "%s", any_ended ? longest_name : "");
    longest_us = 0;
    any_ended = false;
    return took;
}
