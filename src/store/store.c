// SPDX-License-Identifier: MIT
// store.c -- the backend-neutral store: opening by URL, transactions, and
// field-described objects. SQL is generated from the field tables (columns
// named like the fields), values are always bound, never pasted into SQL.
// Every write bumps meta.revision in the same transaction, which is how a
// running server notices changes made by the CLI or another server.
//
// Every table of a kind has created_at and updated_at columns that default
// to the current time; fields flagged FIELD_AUTO are left out of inserts and
// updates, and an update sets updated_at.
#include "store/store_private.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FIELD_AT(object, field) ((char *)(object) + (field)->offset)

/* ---- errors ---------------------------------------------------------------- */

const char *store_last_error(store_t *store) { return store->error; }

int store_fail(store_t *store, int rc, const char *fmt, ...)
{
    char message[sizeof(store->error)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&store->error_lock);
    memcpy(store->error, message, sizeof(message));
    pthread_mutex_unlock(&store->error_lock);
    return rc;
}

void store_redact_url(const char *url, char *out, size_t out_size)
{
    /* scheme://user:password@host... : hide what lies between the first ':'
     * after "//" and the last '@' of the authority. */
    const char *auth = strstr(url, "//");
    const char *colon = NULL, *at = NULL;
    if (auth) {
        auth += 2;
        size_t end = strcspn(auth, "/?#");
        for (size_t i = 0; i < end; i++) {
            if (auth[i] == '@')
                at = auth + i;
            else if (auth[i] == ':' && !colon && !at)
                colon = auth + i;
        }
    }
    if (colon && at && colon < at)
        snprintf(out, out_size, "%.*s:***%s", (int)(colon - url), url, at);
    else
        snprintf(out, out_size, "%s", url);
    /* A password may also come as ?password=... */
    char *query = strstr(out, "password=");
    if (query && query > out && (query[-1] == '?' || query[-1] == '&')) {
        char *end = query + 9 + strcspn(query + 9, "&#");
        char rest[256];
        snprintf(rest, sizeof(rest), "%s", end);
        snprintf(query + 9, out_size - (size_t)(query + 9 - out), "***%s", rest);
    }
}

/* ---- statements and transactions ------------------------------------------- */

int store_exec(store_t *store, const char *sql, const store_arg_t *args, size_t count, int64_t *changes)
{
    store_rows_t *rows;
    int rc = store->backend->query(store, sql, args, count, &rows);
    if (rc < 0)
        return rc;
    while ((rc = store->backend->next(rows)) > 0)
        ;
    if (rc == 0 && changes)
        *changes = store->backend->changes(rows);
    store->backend->done(rows);
    return rc;
}

int store_query_int(store_t *store, const char *sql, const store_arg_t *args, size_t count, int64_t *value)
{
    store_rows_t *rows;
    int rc = store->backend->query(store, sql, args, count, &rows);
    if (rc < 0)
        return rc;
    rc = store->backend->next(rows);
    if (rc > 0)
        *value = store->backend->integer(rows, 0);
    store->backend->done(rows);
    return rc > 0 ? 0 : rc == 0 ? -ENOENT : rc;
}

int store_tx_begin(store_t *store)
{
    int rc = store->backend->script(store, store->backend->begin_write);
    store->in_tx = rc == 0;
    return rc;
}

int store_tx_end(store_t *store, int result, bool bump)
{
    if (result >= 0 && bump) {
        int rc = store_exec(store, STORE_BUMP_SQL, NULL, 0, NULL);
        if (rc < 0)
            result = rc;
    }
    if (result >= 0) {
        int rc = store->backend->script(store, "COMMIT");
        if (rc < 0)
            result = rc;
    }
    if (result < 0) {
        /* Keep the message of what failed, not of the rollback. */
        char message[sizeof(store->error)];
        pthread_mutex_lock(&store->error_lock);
        memcpy(message, store->error, sizeof(message));
        pthread_mutex_unlock(&store->error_lock);
        store->backend->script(store, "ROLLBACK");
        store_fail(store, 0, "%s", message);
    }
    store->in_tx = false;
    return result;
}

/* ---- opening ----------------------------------------------------------------- */

const char *store_backend(const store_t *store) { return store->backend->name; }

int store_open(const char *data_dir, const char *url, store_t **out, char *err, size_t err_size)
{
    const store_backend_t *backend;
    char *target = NULL;
    if (!url || !*url || !strcmp(url, "sqlite:")) {
        if (mkdir(data_dir, 0750) < 0 && errno != EEXIST) {
            int e = errno;
            snprintf(err, err_size, "cannot create data folder %s: %s", data_dir, strerror(e));
            return -e;
        }
        backend = &store_sqlite_backend;
        if (asprintf(&target, "%s/antenne.db", data_dir) < 0)
            target = NULL;
    } else if (!strncmp(url, "sqlite:", 7)) {
        backend = &store_sqlite_backend;
        target = strdup(url + 7);
    } else if (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13)) {
        backend = &store_pg_backend;
        target = strdup(url);
    } else {
        char shown[512];
        store_redact_url(url, shown, sizeof(shown));
        snprintf(err, err_size, "unknown database URL '%s': use sqlite:PATH or postgresql://...", shown);
        return -EINVAL;
    }
    store_t *store = calloc(1, sizeof(*store));
    if (!store || !target) {
        free(store);
        free(target);
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    store->backend = backend;
    store->target = target;
    pthread_mutex_init(&store->lock, NULL);
    pthread_mutex_init(&store->error_lock, NULL);
    int rc = backend->open(store, target, err, err_size);
    if (rc == 0)
        rc = store_migrate(store, err, err_size);
    if (rc < 0) {
        store_close(store);
        return rc;
    }
    *out = store;
    return 0;
}

void store_close(store_t *store)
{
    if (!store)
        return;
    if (store->db)
        store->backend->close(store);
    pthread_mutex_destroy(&store->lock);
    pthread_mutex_destroy(&store->error_lock);
    free(store->target);
    free(store);
}

int store_revision(store_t *store, int64_t *revision)
{
    pthread_mutex_lock(&store->lock);
    int rc = store_query_int(store, "SELECT value FROM meta WHERE key = 'revision'", NULL, 0, revision);
    pthread_mutex_unlock(&store->lock);
    return rc;
}

/* ---- objects ------------------------------------------------------------------- */

/* Reads column `col` of the current row into the object's field. */
static int read_column(store_t *store, store_rows_t *rows, int col, const field_t *field, void *object)
{
    void *p = FIELD_AT(object, field);
    const char *text = store->backend->text(rows, col);
    switch (field->type) {
    case FIELD_STRING:
        *(char **)p = text ? strdup(text) : NULL;
        return text && !*(char **)p ? -ENOMEM : 0;
    case FIELD_INT:
        *(int64_t *)p = store->backend->integer(rows, col);
        return 0;
    case FIELD_BOOL:
        *(bool *)p = store->backend->integer(rows, col) != 0;
        return 0;
    case FIELD_ENUM:
        *(int *)p = 0;
        for (int i = 0; text && field->choices[i]; i++)
            if (!strcmp(field->choices[i], text))
                *(int *)p = i;
        return 0;
    case FIELD_STRINGS: {
        strlist_t *list = p;
        json_error_t error;
        json_t *array = json_loads(text ? text : "[]", 0, &error);
        size_t i;
        json_t *item;
        json_array_foreach(array, i, item) {
            if (json_is_string(item) && strlist_push(list, json_string_value(item)) < 0) {
                json_decref(array);
                return -ENOMEM;
            }
        }
        json_decref(array);
        return 0;
    }
    }
    return -EINVAL;
}

/* The values of an object's fields, as arguments. Lists become JSON text,
 * owned here until field_values_free(). */
typedef struct field_values {
    store_arg_t *args;
    char **owned;
    size_t count;
} field_values_t;

static void field_values_free(field_values_t *v)
{
    for (size_t i = 0; i < v->count; i++)
        free(v->owned[i]);
    free(v->owned);
    free(v->args);
}

/* Appends the value of each field not flagged FIELD_AUTO. */
static int field_values_get(const store_kind_t *kind, const void *object, field_values_t *v)
{
    v->count = 0;
    v->args = calloc(kind->field_count, sizeof(*v->args));
    v->owned = calloc(kind->field_count, sizeof(*v->owned));
    if (!v->args || !v->owned)
        goto oom;
    for (size_t i = 0; i < kind->field_count; i++) {
        const field_t *field = &kind->fields[i];
        const void *p = (const char *)object + field->offset;
        store_arg_t *arg = &v->args[v->count];
        if (field->flags & FIELD_AUTO)
            continue;
        v->count++;
        switch (field->type) {
        case FIELD_STRING:
            *arg = store_arg_text(*(char *const *)p);
            break;
        case FIELD_INT:
            *arg = store_arg_int(*(const int64_t *)p);
            break;
        case FIELD_BOOL:
            *arg = store_arg_int(*(const bool *)p ? 1 : 0);
            break;
        case FIELD_ENUM: {
            int index = *(const int *)p, n = 0;
            while (field->choices[n])
                n++;
            if (index < 0 || index >= n)
                goto invalid;
            *arg = store_arg_text(field->choices[index]);
            break;
        }
        case FIELD_STRINGS: {
            const strlist_t *list = p;
            json_t *array = json_array();
            for (size_t j = 0; array && j < list->count; j++)
                json_array_append_new(array, json_string(list->items[j]));
            char *text = array ? json_dumps(array, JSON_COMPACT) : NULL;
            json_decref(array);
            if (!text)
                goto oom;
            v->owned[v->count - 1] = text;
            *arg = store_arg_text(text);
            break;
        }
        }
    }
    return 0;
invalid:
    field_values_free(v);
    return -EINVAL;
oom:
    field_values_free(v);
    return -ENOMEM;
}

static void append_columns(strbuf_t *sql, const store_kind_t *kind, bool with_auto)
{
    bool first = true;
    for (size_t i = 0; i < kind->field_count; i++) {
        if (!with_auto && (kind->fields[i].flags & FIELD_AUTO))
            continue;
        strbuf_printf(sql, "%s\"%s\"", first ? "" : ", ", kind->fields[i].name);
        first = false;
    }
}

/* Which objects select_objects() reads: one by name, or a page of those
 * whose name matches a LIKE pattern (limit 0: no limit). */
typedef struct object_filter {
    const char *name;
    const char *like;
    int64_t offset, limit;
} object_filter_t;

static void append_where(strbuf_t *sql, const store_kind_t *kind, const object_filter_t *filter)
{
    if (filter->name)
        strbuf_printf(sql, " WHERE \"%s\" = ?1", kind->fields[0].name);
    else if (filter->like)
        strbuf_printf(sql, " WHERE LOWER(\"%s\") LIKE ?1 ESCAPE '!'", kind->fields[0].name);
}

static int select_objects(store_t *store, const store_kind_t *kind, const object_filter_t *filter, void **objects,
                          size_t *count)
{
    strbuf_t sql;
    strbuf_init(&sql);
    strbuf_puts(&sql, "SELECT ");
    append_columns(&sql, kind, true);
    strbuf_printf(&sql, " FROM \"%s\"", kind->table);
    append_where(&sql, kind, filter);
    if (!filter->name)
        strbuf_printf(&sql, " ORDER BY \"%s\"%s", kind->fields[0].name, store->backend->collate);
    if (filter->limit)
        strbuf_printf(&sql, " LIMIT %lld OFFSET %lld", (long long)filter->limit, (long long)filter->offset);
    if (sql.failed) {
        strbuf_free(&sql);
        return -ENOMEM;
    }
    store_arg_t arg = store_arg_text(filter->name ? filter->name : filter->like);
    store_rows_t *rows;
    int rc = store->backend->query(store, sql.data, &arg, filter->name || filter->like ? 1 : 0, &rows);
    strbuf_free(&sql);
    if (rc < 0)
        return rc;
    char *array = NULL;
    size_t n = 0, cap = 0;
    int result = 0;
    while ((rc = store->backend->next(rows)) > 0) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char *grown = realloc(array, cap * kind->object_size);
            if (!grown) {
                result = -ENOMEM;
                break;
            }
            array = grown;
        }
        void *object = array + n * kind->object_size;
        memset(object, 0, kind->object_size);
        n++;
        for (size_t i = 0; i < kind->field_count && result == 0; i++)
            result = read_column(store, rows, (int)i, &kind->fields[i], object);
        if (result < 0)
            break;
    }
    if (result == 0 && rc < 0)
        result = rc;
    store->backend->done(rows);
    if (result < 0) {
        store_free_list(kind, array, n);
        return result;
    }
    *objects = array;
    *count = n;
    return 0;
}

int store_list(store_t *store, const store_kind_t *kind, void **objects, size_t *count)
{
    pthread_mutex_lock(&store->lock);
    int rc = select_objects(store, kind, &(object_filter_t){0}, objects, count);
    pthread_mutex_unlock(&store->lock);
    return rc;
}

static int count_objects(store_t *store, const store_kind_t *kind, const object_filter_t *filter, int64_t *total)
{
    strbuf_t sql;
    strbuf_init(&sql);
    strbuf_printf(&sql, "SELECT COUNT(*) FROM \"%s\"", kind->table);
    append_where(&sql, kind, filter);
    if (sql.failed) {
        strbuf_free(&sql);
        return -ENOMEM;
    }
    store_arg_t arg = store_arg_text(filter->like);
    store_rows_t *rows;
    int rc = store->backend->query(store, sql.data, &arg, filter->like ? 1 : 0, &rows);
    strbuf_free(&sql);
    if (rc < 0)
        return rc;
    rc = store->backend->next(rows);
    if (rc > 0)
        *total = store->backend->integer(rows, 0);
    store->backend->done(rows);
    return rc < 0 ? rc : 0;
}

int store_list_page(store_t *store, const store_kind_t *kind, const char *contains, int64_t offset, int64_t limit,
                    void **objects, size_t *count, int64_t *total)
{
    if (offset < 0 || limit < 0)
        return -EINVAL;
    /* "%contains%", lower case, with LIKE's own characters taken literally */
    char like[2 * 128 + 3];
    size_t n = 0;
    if (contains && *contains) {
        if (strlen(contains) > 128)
            return -EINVAL;
        like[n++] = '%';
        for (const char *c = contains; *c; c++) {
            if (*c == '%' || *c == '_' || *c == '!')
                like[n++] = '!';
            like[n++] = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
        }
        like[n++] = '%';
    }
    like[n] = '\0';
    object_filter_t filter = {.like = n ? like : NULL, .offset = offset, .limit = limit};
    pthread_mutex_lock(&store->lock);
    int rc = count_objects(store, kind, &filter, total);
    if (rc == 0)
        rc = select_objects(store, kind, &filter, objects, count);
    pthread_mutex_unlock(&store->lock);
    return rc;
}

void store_free_list(const store_kind_t *kind, void *objects, size_t count)
{
    if (!objects)
        return;
    for (size_t i = 0; i < count; i++)
        fields_clear(kind->fields, kind->field_count, (char *)objects + i * kind->object_size);
    free(objects);
}

int store_get(store_t *store, const store_kind_t *kind, const char *name, void *object)
{
    void *found = NULL;
    size_t count = 0;
    pthread_mutex_lock(&store->lock);
    int rc = select_objects(store, kind, &(object_filter_t){.name = name}, &found, &count);
    pthread_mutex_unlock(&store->lock);
    if (rc < 0)
        return rc;
    if (count == 0) {
        free(found);
        return store_fail(store, -ENOENT, "no %s named '%.80s'", kind->table, name);
    }
    memcpy(object, found, kind->object_size);
    free(found);
    return 0;
}

/* Runs one write with its values and bumps the revision when it changed a
 * row, in one transaction. Returns the rows changed or a negative errno. */
static int write_one(store_t *store, const char *sql, const store_arg_t *args, size_t count)
{
    pthread_mutex_lock(&store->lock);
    int64_t changes = 0;
    int rc = store_tx_begin(store);
    if (rc == 0) {
        rc = store_exec(store, sql, args, count, &changes);
        rc = store_tx_end(store, rc, rc == 0 && changes > 0);
    }
    pthread_mutex_unlock(&store->lock);
    return rc < 0 ? rc : (int)changes;
}

int store_insert(store_t *store, const store_kind_t *kind, const void *object)
{
    field_values_t values;
    int rc = field_values_get(kind, object, &values);
    if (rc < 0)
        return store_fail(store, rc, "cannot store %s '%.80s': %s", kind->table, *(char *const *)object,
                          strerror(-rc));
    strbuf_t sql;
    strbuf_init(&sql);
    strbuf_printf(&sql, "INSERT INTO \"%s\" (", kind->table);
    append_columns(&sql, kind, false);
    strbuf_puts(&sql, ") VALUES (");
    for (size_t i = 0; i < values.count; i++)
        strbuf_printf(&sql, "%s?%zu", i ? ", " : "", i + 1);
    strbuf_puts(&sql, ")");
    rc = sql.failed ? -ENOMEM : write_one(store, sql.data, values.args, values.count);
    strbuf_free(&sql);
    field_values_free(&values);
    if (rc == -EEXIST)
        store_fail(store, rc, "cannot add %s '%.80s': already taken (%s)", kind->table, *(char *const *)object,
                   store->error);
    return rc < 0 ? rc : 0;
}

int store_update(store_t *store, const store_kind_t *kind, const void *object)
{
    field_values_t values;
    int rc = field_values_get(kind, object, &values);
    if (rc < 0)
        return store_fail(store, rc, "cannot store %s '%.80s': %s", kind->table, *(char *const *)object,
                          strerror(-rc));
    strbuf_t sql;
    strbuf_init(&sql);
    strbuf_printf(&sql, "UPDATE \"%s\" SET ", kind->table);
    size_t n = 1; /* ?1 is the name */
    for (size_t i = 1; i < kind->field_count; i++)
        if (!(kind->fields[i].flags & FIELD_AUTO))
            strbuf_printf(&sql, "\"%s\" = ?%zu, ", kind->fields[i].name, ++n);
    strbuf_printf(&sql, "updated_at = %s WHERE \"%s\" = ?1", store->backend->now, kind->fields[0].name);
    rc = sql.failed ? -ENOMEM : write_one(store, sql.data, values.args, values.count);
    strbuf_free(&sql);
    field_values_free(&values);
    if (rc == 0)
        return store_fail(store, -ENOENT, "no %s named '%.80s'", kind->table, *(char *const *)object);
    return rc < 0 ? rc : 0;
}

int store_delete(store_t *store, const store_kind_t *kind, const char *name)
{
    strbuf_t sql;
    strbuf_init(&sql);
    strbuf_printf(&sql, "DELETE FROM \"%s\" WHERE \"%s\" = ?1", kind->table, kind->fields[0].name);
    store_arg_t arg = store_arg_text(name);
    int rc = sql.failed ? -ENOMEM : write_one(store, sql.data, &arg, 1);
    strbuf_free(&sql);
    if (rc == 0)
        return store_fail(store, -ENOENT, "no %s named '%.80s'", kind->table, name);
    return rc < 0 ? rc : 0;
}
