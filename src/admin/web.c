// SPDX-License-Identifier: MIT
// web.c -- the web UI's files (the operator UI at /admin/, the viewer portal
// at /), read into memory at start so that serving them never touches the
// disk on the event loop. Each answer carries a Content-Security-Policy that
// allows nothing but this server (and images from anywhere, for channel
// logos); a file.gz beside a file is sent to clients that accept gzip.
#include "admin/admin.h"
#include "http/http.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define WEB_MAX_BYTES (32u << 20)   /* all files together */
#define WEB_MAX_FILES 2048
#define WEB_MAX_DEPTH 6

#define WEB_SECURITY_HEADERS                                                                                           \
    "Content-Security-Policy: default-src 'self'; img-src 'self' data: http: https:; media-src 'self' blob:; "        \
    "worker-src 'self' blob:; connect-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; "           \
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'\r\n"                                                  \
    "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nX-Frame-Options: DENY\r\n"

typedef struct web_file {
    char *path;                /* as in URLs: "/admin/index.html" */
    block_t *data;
    block_t *gzip;             /* its .gz, or NULL */
    const char *type;
    char etag[24];
} web_file_t;

struct admin_web {
    web_file_t *files;         /* sorted by path */
    size_t count;
    uint64_t bytes;
};

static const struct {
    const char *ext, *type;
} web_types[] = {
    {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},              {".png", "image/png"},
    {".ico", "image/x-icon"},               {".json", "application/json"},
    {".woff2", "font/woff2"},               {".webmanifest", "application/manifest+json"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < ARRAY_SIZE(web_types); i++)
        if (!strcmp(dot, web_types[i].ext))
            return web_types[i].type;
    return NULL;
}

static block_t *read_file(const char *path, uint64_t *budget)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f)
        return NULL;
    block_t *b = NULL;
    if (fstat(fileno(f), &st) == 0 && (uint64_t)st.st_size <= *budget && (b = block_new((uint32_t)st.st_size, 0))) {
        b->size = (uint32_t)fread(b->data, 1, (size_t)st.st_size, f);
        *budget -= b->size;
    }
    fclose(f);
    return b;
}

static int compare_files(const void *a, const void *b)
{
    return strcmp(((const web_file_t *)a)->path, ((const web_file_t *)b)->path);
}

/* Adds every servable file below dir/rel (recursively). */
static int scan(admin_web_t *web, const char *dir, const char *rel, int depth, uint64_t *budget, char *err,
                size_t err_size)
{
    char here[4096];
    snprintf(here, sizeof(here), "%s%s", dir, rel);
    DIR *d = opendir(here);
    if (!d) {
        snprintf(err, err_size, "cannot open %s: %s", here, strerror(errno));
        return -errno;
    }
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue; /* (also . and ..) */
        char sub[4096], full[8192];
        snprintf(sub, sizeof(sub), "%s/%s", rel, de->d_name);
        snprintf(full, sizeof(full), "%s%s", dir, sub);
        struct stat st;
        if (stat(full, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < WEB_MAX_DEPTH)
                rc = scan(web, dir, sub, depth + 1, budget, err, err_size);
            continue;
        }
        const char *type = type_of(de->d_name);
        if (!S_ISREG(st.st_mode) || !type)
            continue;
        if (web->count == WEB_MAX_FILES) {
            snprintf(err, err_size, "more than %u files in %s", WEB_MAX_FILES, dir);
            rc = -E2BIG;
            break;
        }
        web_file_t *file = &web->files[web->count];
        memset(file, 0, sizeof(*file));
        file->path = strdup(sub);
        file->type = type;
        file->data = read_file(full, budget);
        if (!file->path || !file->data) {
            free(file->path);
            block_unref(file->data);
            snprintf(err, err_size, "cannot read %s (or over %u MiB in all)", full, WEB_MAX_BYTES >> 20);
            rc = -EIO;
            break;
        }
        char gz[8200];
        snprintf(gz, sizeof(gz), "%s.gz", full);
        file->gzip = read_file(gz, budget);
        snprintf(file->etag, sizeof(file->etag), "\"%08lx-%x\"", crc32(0, file->data->data, file->data->size),
                 file->data->size);
        web->bytes += file->data->size + (file->gzip ? file->gzip->size : 0);
        web->count++;
    }
    closedir(d);
    return rc;
}

admin_web_t *admin_web_load(const char *dir, char *err, size_t err_size)
{
    admin_web_t *web = calloc(1, sizeof(*web));
    if (web)
        web->files = calloc(WEB_MAX_FILES, sizeof(*web->files));
    if (!web || !web->files) {
        free(web);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    uint64_t budget = WEB_MAX_BYTES;
    if (scan(web, dir, "", 0, &budget, err, err_size) < 0) {
        admin_web_free(web);
        return NULL;
    }
    qsort(web->files, web->count, sizeof(*web->files), compare_files);
    return web;
}

void admin_web_free(admin_web_t *web)
{
    if (!web)
        return;
    for (size_t i = 0; i < web->count; i++) {
        free(web->files[i].path);
        block_unref(web->files[i].data);
        block_unref(web->files[i].gzip);
    }
    free(web->files);
    free(web);
}

size_t admin_web_count(const admin_web_t *web) { return web->count; }

static const web_file_t *find(const admin_web_t *web, const char *path)
{
    web_file_t key = {.path = (char *)path};
    return bsearch(&key, web->files, web->count, sizeof(*web->files), compare_files);
}

static bool accepts_gzip(const http_request_t *req)
{
    const http_slice_t *ae = http_header_get(req->headers, req->header_count, "Accept-Encoding");
    if (!ae)
        return false;
    for (size_t i = 0; i + 4 <= ae->len; i++)
        if (!strncasecmp(ae->ptr + i, "gzip", 4))
            return true;
    return false;
}

bool admin_web_serve(const admin_web_t *web, http_conn_t *conn, const http_request_t *req, const char *path)
{
    if (!web)
        return false;
    /* A folder is its index.html; /admin is /admin/ (relative links). */
    char name[512];
    size_t len = strlen(path);
    if (len >= sizeof(name) - 16)
        return false;
    if (!strcmp(path, "/admin")) {
        http_respond(conn, 301, "text/plain", "Location: /admin/\r\n", "moved to /admin/\n", 17);
        return true;
    }
    snprintf(name, sizeof(name), "%s%s", path, path[len - 1] == '/' ? "index.html" : "");
    const web_file_t *file = find(web, name);
    if (!file)
        return false;
    bool gzip = file->gzip && accepts_gzip(req);
    const block_t *body = gzip ? file->gzip : file->data;
    const http_slice_t *inm = http_header_get(req->headers, req->header_count, "If-None-Match");
    char headers[1024];
    bool html = !strncmp(file->type, "text/html", 9);
    snprintf(headers, sizeof(headers), WEB_SECURITY_HEADERS "Cache-Control: %s\r\nETag: %s\r\nVary: Accept-Encoding\r\n%s",
             html ? "no-cache" : "max-age=300", file->etag, gzip ? "Content-Encoding: gzip\r\n" : "");
    if (inm && inm->len == strlen(file->etag) && !memcmp(inm->ptr, file->etag, inm->len)) {
        http_respond(conn, 304, file->type, headers, NULL, 0);
        return true;
    }
    uv_buf_t buf = uv_buf_init((char *)body->data, body->size);
    block_t *ref = (block_t *)body;
    http_respond_bufs(conn, 200, file->type, headers, &buf, 1, &ref, 1);
    return true;
}
