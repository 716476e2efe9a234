// SPDX-License-Identifier: MIT
// log.c -- one-line structured log records on stderr.
#include "core/core.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static log_level_t log_threshold = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(log_level_t level) { log_threshold = level; }
log_level_t log_get_level(void) { return log_threshold; }

int log_level_parse(const char *name, log_level_t *out)
{
    for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (log_level_t)i;
            return 0;
        }
    }
    return -EINVAL;
}

void log_msg(log_level_t level, const char *area, const char *fmt, ...)
{
    if (level < log_threshold)
        return;
    char when[32];
    char line[2048];
    clock_format_iso(clock_wall_ms(), when, sizeof(when));
    int n = snprintf(line, sizeof(line), "%s %s %s: ", when, level_names[level], area);
    if (n < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : MIN((size_t)m, sizeof(line) - (size_t)n - 2));
    line[len++] = '\n';
    /* One write per record so lines from threads never interleave. */
    fwrite(line, 1, len, stderr);
}
