// SPDX-License-Identifier: MIT
// app.h -- where the areas are wired together: the server and the CLI.
#ifndef ANTENNE_APP_H
#define ANTENNE_APP_H

#include <stdint.h>

typedef struct app_options {
    const char *data_dir;
    const char *db_url;      /* NULL: SQLite in data_dir; else see store_open() */
    const char *listen_host;
    uint16_t listen_port;
    uint32_t ring_bytes;
    uint32_t flush_ms;
    uint32_t batch_bytes;
    uint32_t batch_max_ms;
    uint32_t poll_ms;        /* how often the database is checked for changes */
    uint32_t token_ttl_s;    /* how long a subscriber's token works */
    uint32_t max_connections;        /* 0: no limit */
    uint32_t max_connections_per_ip; /* 0: no limit */
    uint32_t lag_warn_ms;    /* the loop this late logs what held it up */
    const char *archive_dir; /* channels' archives; NULL: data_dir/archive */
    uint64_t archive_max_bytes; /* all archives together; 0: no limit */
    const char *web_dir;     /* the web UI's files; NULL: none */
} app_options_t;

/* Runs the server until SIGINT/SIGTERM. Returns a process exit code. */
int app_serve(const app_options_t *options);

/* The command line: antenne [--data DIR] <command> ... Returns an exit code. */
int app_main(int argc, char **argv);

#endif
