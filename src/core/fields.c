// SPDX-License-Identifier: MIT
// fields.c -- generic handling of objects described by field tables: set
// from text with validation, copy, compare, free.
#include "core/core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD_PTR(object, field) ((char *)(object) + (field)->offset)

int strlist_push(strlist_t *list, const char *item)
{
    char *copy = strdup(item);
    char **items = realloc(list->items, (list->count + 1) * sizeof(*items));
    if (!copy || !items) {
        free(copy);
        if (items)
            list->items = items;
        return -ENOMEM;
    }
    items[list->count++] = copy;
    list->items = items;
    return 0;
}

void strlist_clear(strlist_t *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

static int64_t parse_int_field(const char *value, bool *ok)
{
    char *end;
    errno = 0;
    long long n = strtoll(value, &end, 10);
    *ok = errno == 0 && end != value && *end == '\0';
    return n;
}

int fields_set(const field_t *field, void *object, const char *value, char *err, size_t err_size)
{
    void *p = FIELD_PTR(object, field);
    if (field->check && field->check(value, err, err_size) < 0)
        return -EINVAL;
    switch (field->type) {
    case FIELD_STRING: {
        size_t len = strlen(value);
        if (field->max && len > (size_t)field->max) {
            snprintf(err, err_size, "%s: longer than %lld characters", field->name, (long long)field->max);
            return -EINVAL;
        }
        for (size_t i = 0; i < len; i++) {
            if ((unsigned char)value[i] < 0x20) {
                snprintf(err, err_size, "%s: control character at offset %zu", field->name, i);
                return -EINVAL;
            }
        }
        char *copy = strdup(value);
        if (!copy)
            return -ENOMEM;
        free(*(char **)p);
        *(char **)p = copy;
        return 0;
    }
    case FIELD_INT: {
        bool ok;
        int64_t n = parse_int_field(value, &ok);
        if (!ok) {
            snprintf(err, err_size, "%s: '%s' is not a whole number", field->name, value);
            return -EINVAL;
        }
        if (n < field->min || n > field->max) {
            snprintf(err, err_size, "%s: %lld is outside %lld..%lld", field->name, (long long)n,
                     (long long)field->min, (long long)field->max);
            return -EINVAL;
        }
        *(int64_t *)p = n;
        return 0;
    }
    case FIELD_BOOL:
        if (!strcmp(value, "true") || !strcmp(value, "1") || !strcmp(value, "yes")) {
            *(bool *)p = true;
        } else if (!strcmp(value, "false") || !strcmp(value, "0") || !strcmp(value, "no")) {
            *(bool *)p = false;
        } else {
            snprintf(err, err_size, "%s: '%s' is not true or false", field->name, value);
            return -EINVAL;
        }
        return 0;
    case FIELD_ENUM:
        for (int i = 0; field->choices[i]; i++) {
            if (!strcmp(field->choices[i], value)) {
                *(int *)p = i;
                return 0;
            }
        }
        snprintf(err, err_size, "%s: '%s' is not one of the choices", field->name, value);
        return -EINVAL;
    case FIELD_STRINGS: {
        strlist_t *list = p;
        if (field->max && list->count >= (size_t)field->max) {
            snprintf(err, err_size, "%s: at most %lld values", field->name, (long long)field->max);
            return -EINVAL;
        }
        return strlist_push(list, value);
    }
    }
    return -EINVAL;
}

void fields_clear(const field_t *fields, size_t count, void *object)
{
    for (size_t i = 0; i < count; i++) {
        void *p = FIELD_PTR(object, &fields[i]);
        if (fields[i].type == FIELD_STRING) {
            free(*(char **)p);
            *(char **)p = NULL;
        } else if (fields[i].type == FIELD_STRINGS) {
            strlist_clear(p);
        }
    }
}

int fields_copy(const field_t *fields, size_t count, void *dst, const void *src)
{
    for (size_t i = 0; i < count; i++) {
        const field_t *f = &fields[i];
        void *d = FIELD_PTR(dst, f);
        const void *s = (const char *)src + f->offset;
        switch (f->type) {
        case FIELD_STRING:
            *(char **)d = *(char *const *)s ? strdup(*(char *const *)s) : NULL;
            if (*(char *const *)s && !*(char **)d)
                goto oom;
            break;
        case FIELD_INT:
            *(int64_t *)d = *(const int64_t *)s;
            break;
        case FIELD_BOOL:
            *(bool *)d = *(const bool *)s;
            break;
        case FIELD_ENUM:
            *(int *)d = *(const int *)s;
            break;
        case FIELD_STRINGS: {
            const strlist_t *from = s;
            strlist_t *to = d;
            to->items = NULL;
            to->count = 0;
            for (size_t j = 0; j < from->count; j++)
                if (strlist_push(to, from->items[j]) < 0)
                    goto oom;
            break;
        }
        }
    }
    return 0;
oom:
    fields_clear(fields, count, dst);
    return -ENOMEM;
}

bool fields_equal(const field_t *f, const void *a, const void *b)
{
    const void *pa = (const char *)a + f->offset;
    const void *pb = (const char *)b + f->offset;
    switch (f->type) {
    case FIELD_STRING: {
        const char *sa = *(char *const *)pa, *sb = *(char *const *)pb;
        return strcmp(sa ? sa : "", sb ? sb : "") == 0;
    }
    case FIELD_INT:
        return *(const int64_t *)pa == *(const int64_t *)pb;
    case FIELD_BOOL:
        return *(const bool *)pa == *(const bool *)pb;
    case FIELD_ENUM:
        return *(const int *)pa == *(const int *)pb;
    case FIELD_STRINGS: {
        const strlist_t *la = pa, *lb = pb;
        if (la->count != lb->count)
            return false;
        for (size_t i = 0; i < la->count; i++)
            if (strcmp(la->items[i], lb->items[i]))
                return false;
        return true;
    }
    }
    return false;
}

const field_t *fields_find(const field_t *fields, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (!strcmp(fields[i].name, name))
            return &fields[i];
    return NULL;
}

int fields_check_name(const char *value, char *err, size_t err_size)
{
    if (parse_name_valid(value))
        return 0;
    snprintf(err, err_size, "name: '%.80s' must be 1-64 of a-z, 0-9, '-' and '_'", value);
    return -EINVAL;
}
