// SPDX-License-Identifier: MIT
// jobs.c -- a request that needs the database: its connection is taken,
// the store calls run on libuv's thread pool, and the answer is written
// back on the loop -- unless the client left meanwhile.
#include "app/app_private.h"

#include <errno.h>
#include <stdlib.h>

static void job_on_conn_close(void *opaque)
{
    app_job_t *job = opaque;
    job->conn = NULL;
}

static void job_work(uv_work_t *req)
{
    app_job_t *job = req->data;
    job->run(job);
}

static void job_after(uv_work_t *req, int status)
{
    app_job_t *job = req->data;
    busy_begin("reply to", job->step[0] ? job->step : "a background job");
    if (status < 0 && job->status < 400) {
        job->status = 503;
        snprintf(job->error, sizeof(job->error), "the request was cancelled");
    }
    if (job->conn)
        http_conn_take(job->conn, NULL, NULL);
    job->done(job);
    json_decref(job->result);
    if (job->cleanup)
        job->cleanup(job);
    free(job);
    busy_end();
}

app_job_t *app_job_new(app_t *app, app_job_fn run, app_job_fn done)
{
    app_job_t *job = calloc(1, sizeof(*job));
    if (!job)
        return NULL;
    job->app = app;
    job->run = run;
    job->done = done ? done : app_job_answer;
    job->status = 200;
    snprintf(job->step, sizeof(job->step), "%s", busy_current());
    return job;
}

int app_job_start(app_t *app, http_conn_t *conn, app_job_t *job)
{
    job->conn = conn;
    job->work.data = job;
    if (conn)
        http_conn_take(conn, job_on_conn_close, job);
    int rc = uv_queue_work(app->loop, &job->work, job_work, job_after);
    if (rc < 0) {
        if (conn) {
            http_conn_take(conn, NULL, NULL);
            app_respond_error(conn, 503, "cannot queue the request: %s", uv_strerror(rc));
        }
        if (job->cleanup)
            job->cleanup(job);
        free(job);
    }
    return rc;
}

void app_job_answer(app_job_t *job)
{
    if (!job->conn)
        return;
    if (job->status >= 400 && !job->result)
        app_respond_error(job->conn, job->status, "%s", job->error[0] ? job->error : http_status_text(job->status));
    else if (job->status == 204 || !job->result)
        http_respond(job->conn, job->status, "application/json", "Cache-Control: no-cache\r\n", NULL, 0);
    else {
        app_respond_json(job->conn, job->status, job->result);
        job->result = NULL; /* app_respond_json took it */
    }
}
