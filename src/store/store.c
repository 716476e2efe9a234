// SPDX-License-Identifier: MIT
// store.c -- SQLite storage of field-described objects. SQL is generated
// from the field tables (columns named like the fields), values are always
// bound, never pasted into SQL. Every write bumps meta.revision in the same
// transaction, which is how a running server notices changes made by the CLI
// or another process.
#include "store/store_private.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FIELD_AT(object, field) ((char *)(object) + (field)->offset)

const char *store_last_error(store_t *store) { return store->error; }

static int store_fail(store_t *store, int rc)
{
    snprintf(store->error, sizeof(store->error), "%s", sqlite3_errmsg(store->db));
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return -EBUSY;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return -EEXIST;
    return -EIO;
}

const char *store_backend(const store_t *store)
{
    (void)store;
    return "sqlite";
}

int store_open(const char *data_dir, const char *url, store_t **out, char *err, size_t err_size)
{
    if (url && *url) {
        snprintf(err, err_size, "database URLs are not supported yet");
        return -ENOTSUP;
    }
    if (mkdir(data_dir, 0750) < 0 && errno != EEXIST) {
        snprintf(err, err_size, "cannot create data folder %s: %s", data_dir, strerror(errno));
        return -errno;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/antenne.db", data_dir);
    store_t *store = calloc(1, sizeof(*store));
    if (!store)
        return -ENOMEM;
    int rc = sqlite3_open_v2(path, &store->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, err_size, "cannot open %s: %s", path, store->db ? sqlite3_errmsg(store->db) : "out of memory");
        store_close(store);
        return -EIO;
    }
    sqlite3_busy_timeout(store->db, 5000);
    char *msg = NULL;
    /* WAL: readers never block the writer, and a crash (kill -9) never
     * leaves a half-written database; NORMAL sync is durable across a
     * process crash. */
    if (sqlite3_exec(store->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, err_size, "cannot set up %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        store_close(store);
        return -EIO;
    }
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
    sqlite3_close(store->db);
    free(store);
}

int store_revision(store_t *store, int64_t *revision)
{
    sqlite3_stmt *stmt;
    int rc = sqlite3_prepare_v2(store->db, "SELECT value FROM meta WHERE key = 'revision'", -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return store_fail(store, rc);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *revision = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return rc == SQLITE_ROW ? 0 : store_fail(store, rc);
}

static void append_columns(strbuf_t *sql, const store_kind_t *kind, size_t from, const char *suffix)
{
    for (size_t i = from; i < kind->field_count; i++)
        strbuf_printf(sql, "%s\"%s\"%s", i > from ? ", " : "", kind->fields[i].name, suffix);
}

/* Reads column `col` of the current row into the object's field. */
static int read_column(sqlite3_stmt *stmt, int col, const field_t *field, void *object)
{
    void *p = FIELD_AT(object, field);
    const char *text = (const char *)sqlite3_column_text(stmt, col);
    switch (field->type) {
    case FIELD_STRING:
        *(char **)p = text ? strdup(text) : NULL;
        return text && !*(char **)p ? -ENOMEM : 0;
    case FIELD_INT:
        *(int64_t *)p = sqlite3_column_int64(stmt, col);
        return 0;
    case FIELD_BOOL:
        *(bool *)p = sqlite3_column_int(stmt, col) != 0;
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

static int bind_field(sqlite3_stmt *stmt, int index, const field_t *field, const void *object)
{
    const void *p = (const char *)object + field->offset;
    switch (field->type) {
    case FIELD_STRING: {
        const char *s = *(char *const *)p;
        return s ? sqlite3_bind_text(stmt, index, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(stmt, index);
    }
    case FIELD_INT:
        return sqlite3_bind_int64(stmt, index, *(const int64_t *)p);
    case FIELD_BOOL:
        return sqlite3_bind_int(stmt, index, *(const bool *)p);
    case FIELD_ENUM:
        return sqlite3_bind_text(stmt, index, field->choices[*(const int *)p], -1, SQLITE_STATIC);
    case FIELD_STRINGS: {
        const strlist_t *list = p;
        json_t *array = json_array();
        for (size_t i = 0; i < list->count; i++)
            json_array_append_new(array, json_string(list->items[i]));
        char *text = json_dumps(array, JSON_COMPACT);
        json_decref(array);
        if (!text)
            return SQLITE_NOMEM;
        return sqlite3_bind_text(stmt, index, text, -1, free);
    }
    }
    return SQLITE_MISUSE;
}

static int select_objects(store_t *store, const store_kind_t *kind, const char *name, void **objects,
                          size_t *count)
{
    strbuf_t sql;
    strbuf_init(&sql);
    strbuf_puts(&sql, "SELECT ");
    append_columns(&sql, kind, 0, "");
    strbuf_printf(&sql, " FROM %s", kind->table);
    if (name)
        strbuf_printf(&sql, " WHERE \"%s\" = ?1", kind->fields[0].name);
    strbuf_printf(&sql, " ORDER BY \"%s\"", kind->fields[0].name);
    if (sql.failed) {
        strbuf_free(&sql);
        return -ENOMEM;
    }
    sqlite3_stmt *stmt;
    int rc = sqlite3_prepare_v2(store->db, sql.data, -1, &stmt, NULL);
    strbuf_free(&sql);
    if (rc != SQLITE_OK)
        return store_fail(store, rc);
    if (name)
        sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    char *array = NULL;
    size_t n = 0, cap = 0;
    int result = 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
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
            result = read_column(stmt, (int)i, &kind->fields[i], object);
        if (result < 0)
            break;
    }
    if (result == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        result = store_fail(store, rc);
    sqlite3_finalize(stmt);
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
    return select_objects(store, kind, NULL, objects, count);
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
    void *found;
    size_t count;
    int rc = select_objects(store, kind, name, &found, &count);
    if (rc < 0)
        return rc;
    if (count == 0) {
        free(found);
        return -ENOENT;
    }
    memcpy(object, found, kind->object_size);
    free(found);
    return 0;
}

/* Runs one prepared write and bumps the revision, in one transaction.
 * Returns the number of rows changed or a negative errno. */
static int store_write(store_t *store, sqlite3_stmt *stmt)
{
    int rc = sqlite3_exec(store->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(stmt);
        return store_fail(store, rc);
    }
    rc = sqlite3_step(stmt);
    int changes = sqlite3_changes(store->db);
    int result = rc == SQLITE_DONE ? changes : store_fail(store, sqlite3_extended_errcode(store->db));
    sqlite3_finalize(stmt);
    if (result > 0) {
        rc = sqlite3_exec(store->db, "UPDATE meta SET value = value + 1 WHERE key = 'revision'", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            result = store_fail(store, rc);
    }
    if (result < 0) {
        sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
        return result;
    }
    rc = sqlite3_exec(store->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        result = store_fail(store, rc);
        sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return result;
}

static int prepare(store_t *store, strbuf_t *sql, sqlite3_stmt **stmt)
{
    if (sql->failed) {
        strbuf_free(sql);
        return -ENOMEM;
    }
    int rc = sqlite3_prepare_v2(store->db, sql->data, -1, stmt, NULL);
    strbuf_free(sql);
    return rc == SQLITE_OK ? 0 : store_fail(store, rc);
}

/* Prepares sql with every field bound as ?1..?N, runs it as a write, and
 * returns the rows changed or a negative errno. */
static int write_object(store_t *store, const store_kind_t *kind, strbuf_t *sql, const void *object)
{
    sqlite3_stmt *stmt;
    int rc = prepare(store, sql, &stmt);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < kind->field_count; i++) {
        if (bind_field(stmt, (int)i + 1, &kind->fields[i], object) != SQLITE_OK) {
            sqlite3_finalize(stmt);
            return -ENOMEM;
        }
    }
    return store_write(store, stmt);
}

int store_insert(store_t *store, const store_kind_t *kind, const void *object)
{
    strbuf_t sql;
    strbuf_init(&sql);
    strbuf_printf(&sql, "INSERT INTO %s (", kind->table);
    append_columns(&sql, kind, 0, "");
    strbuf_puts(&sql, ") VALUES (");
    for (size_t i = 0; i < kind->field_count; i++)
        strbuf_printf(&sql, "%s?%zu", i ? ", " : "", i + 1);
    strbuf_puts(&sql, ")");
    int rc = write_object(store, kind, &sql, object);
    return rc < 0 ? rc : 0;
}

int store_update(store_t *store, const store_kind_t *kind, const void *object)
{
    strbuf_t sql;
    strbuf_init(&sql);
    strbuf_printf(&sql, "UPDATE %s SET ", kind->table);
    for (size_t i = 1; i < kind->field_count; i++)
        strbuf_printf(&sql, "\"%s\" = ?%zu, ", kind->fields[i].name, i + 1);
    strbuf_printf(&sql, "updated_at = strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ','now') WHERE \"%s\" = ?1",
                  kind->fields[0].name);
    int rc = write_object(store, kind, &sql, object);
    return rc < 0 ? rc : rc == 0 ? -ENOENT : 0;
}

int store_delete(store_t *store, const store_kind_t *kind, const char *name)
{
    strbuf_t sql;
    strbuf_init(&sql);
    strbuf_printf(&sql, "DELETE FROM %s WHERE \"%s\" = ?1", kind->table, kind->fields[0].name);
    sqlite3_stmt *stmt;
    int rc = prepare(store, &sql, &stmt);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
    rc = store_write(store, stmt);
    return rc < 0 ? rc : rc == 0 ? -ENOENT : 0;
}
