// SPDX-License-Identifier: MIT
// parse.c -- strict parsing of numbers and names from untrusted text.
#include "core/core.h"

#include <errno.h>
#include <string.h>

int parse_u64_n(const char *str, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
    if (len == 0 || len > 20)
        return -EINVAL;
    uint64_t value = 0;
    for (size_t i = 0; i < len; i++) {
        if (str[i] < '0' || str[i] > '9')
            return -EINVAL;
        unsigned digit = (unsigned)(str[i] - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return -ERANGE;
        value = value * 10 + digit;
    }
    if (value < min || value > max)
        return -ERANGE;
    *out = value;
    return 0;
}

int parse_u64(const char *str, uint64_t min, uint64_t max, uint64_t *out)
{
    return parse_u64_n(str, strlen(str), min, max, out);
}

bool parse_name_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}
