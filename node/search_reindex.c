/* search_reindex.c: rebuilding the search index on a running node, a step
 * per loop turn so that peers and other commands are served meanwhile: the
 * verbs `search.reindex` (start, or report the one running) and
 * `search.reindex_status`, and the "search" node service that owns the job. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Profiles per step: one durable write transaction of about 30-60 ms here,
 * so a peer's frame or a control request waits at most that long. */
#define KZ_REINDEX_STEP 128

typedef enum { KZ_RX_IDLE, KZ_RX_RUNNING, KZ_RX_DONE, KZ_RX_FAILED } kz_rx_state;

struct kz__reindex {
    kz_node *node;
    uv_timer_t timer;           /* runs the next step; valid between start and stop */
    bool timer_open;
    kz_rx_state state;
    kz_search_rebuild *rb;      /* while running */
    uint64_t started_ms, finished_ms;
    uint64_t t0_ns;             /* uv_hrtime at the start */
    uint64_t elapsed_ms;
    uint64_t scanned;           /* profiles read by the steps so far (hidden ones too) */
    kz_search_stats before, after;
    char error[KZ_ERR_MAX];
};

static const char *kz_rx_state_name(kz_rx_state s)
{
    switch (s) {
    case KZ_RX_RUNNING: return "running";
    case KZ_RX_DONE: return "done";
    case KZ_RX_FAILED: return "failed";
    default: return "idle";
    }
}

/* What `search.reindex_status` and `kizuna status` report. */
static json_t *kz_rx_status(const kz__reindex *rx)
{
    if (!rx || rx->state == KZ_RX_IDLE)
        return json_pack("{s:s}", "state", "idle");
    json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I}", "state", kz_rx_state_name(rx->state),
                          "scanned", (json_int_t)rx->scanned, "profiles_before",
                          (json_int_t)rx->before.docs, "postings_before",
                          (json_int_t)rx->before.postings, "started_ms",
                          (json_int_t)rx->started_ms);
    if (!o)
        return NULL;
    uint64_t ms = rx->state == KZ_RX_RUNNING ? (uv_hrtime() - rx->t0_ns) / 1000000u : rx->elapsed_ms;
    json_object_set_new(o, "elapsed_ms", json_integer((json_int_t)ms));
    if (rx->state == KZ_RX_DONE) {
        json_object_set_new(o, "profiles", json_integer((json_int_t)rx->after.docs));
        json_object_set_new(o, "postings", json_integer((json_int_t)rx->after.postings));
    }
    if (rx->state == KZ_RX_FAILED)
        json_object_set_new(o, "error", json_string(rx->error));
    if (rx->state != KZ_RX_RUNNING)
        json_object_set_new(o, "finished_ms", json_integer((json_int_t)rx->finished_ms));
    return o;
}

static void kz_rx_finish(kz__reindex *rx, int rc)
{
    kz_store_search_rebuild_end(rx->rb);
    rx->rb = NULL;
    rx->elapsed_ms = (uv_hrtime() - rx->t0_ns) / 1000000u;
    rx->finished_ms = kz_now_ms();
    if (rc == 0 && (rc = kz_store_search_stats(rx->node->store, &rx->after)) != 0)
        snprintf(rx->error, sizeof rx->error, "the search index was rebuilt, but cannot be read: %s",
                 kz_strerror(rc));
    else if (rc != 0)
        /* The rules id went first, so the next start rebuilds again. */
        snprintf(rx->error, sizeof rx->error,
                 "rebuilding the search index failed after reading %llu profiles: %s; search may miss "
                 "profiles until it is run again or kizunad restarts",
                 (unsigned long long)rx->scanned, kz_strerror(rc));
    if (rc != 0) {
        rx->state = KZ_RX_FAILED;
        kz_log_error("search", "%s", rx->error);
        return;
    }
    rx->state = KZ_RX_DONE;
    kz_log_info("search", "search index rebuilt: %llu profiles, %llu postings in %llu ms",
                (unsigned long long)rx->after.docs, (unsigned long long)rx->after.postings,
                (unsigned long long)rx->elapsed_ms);
}

static void kz_rx_step_cb(uv_timer_t *t)
{
    kz__reindex *rx = t->data;
    bool done = false;
    if (rx->state != KZ_RX_RUNNING)
        return;
    int rc = kz_store_search_rebuild_step(rx->node->store, rx->rb, KZ_REINDEX_STEP, &rx->scanned,
                                          &done);
    if (rc != 0 || done) {
        kz_rx_finish(rx, rc);
        return;
    }
    uv_timer_start(&rx->timer, kz_rx_step_cb, 0, 0); /* after this turn's I/O */
}

/* Start a rebuild. With the service running, the steps run from the loop;
 * without it (a node driven without a loop, as in unit tests) the whole
 * rebuild runs now. */
static int kz_rx_start(kz_node *n, char *err, size_t errsz)
{
    kz__reindex *rx = n->reindex;
    int rc = kz_store_search_stats(n->store, &rx->before);
    if (rc != 0) {
        snprintf(err, errsz, "cannot read the search index: %s", kz_strerror(rc));
        return rc;
    }
    rx->scanned = 0;
    rx->error[0] = '\0';
    memset(&rx->after, 0, sizeof rx->after);
    rx->started_ms = kz_now_ms();
    rx->t0_ns = uv_hrtime();
    if ((rc = kz_store_search_rebuild_begin(n->store, &rx->rb)) != 0) {
        snprintf(err, errsz, "cannot start rebuilding the search index: %s", kz_strerror(rc));
        return rc;
    }
    rx->state = KZ_RX_RUNNING;
    kz_log_info("search", "rebuilding the search index (%llu profiles indexed before); searches "
                          "miss profiles not yet reindexed until it is done",
                (unsigned long long)rx->before.docs);
    if (rx->timer_open && !n->stopping) {
        uv_timer_start(&rx->timer, kz_rx_step_cb, 0, 0);
        return 0;
    }
    bool done = false;
    while (rc == 0 && !done)
        rc = kz_store_search_rebuild_step(n->store, rx->rb, KZ_REINDEX_STEP, &rx->scanned, &done);
    kz_rx_finish(rx, rc);
    return 0;
}

static kz__reindex *kz_rx_get(kz_node *n)
{
    if (!n->reindex) {
        n->reindex = kz_xcalloc(1, sizeof *n->reindex);
        n->reindex->node = n;
    }
    return n->reindex;
}

static int kz_h_reindex(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {NULL};
    int rc = kz__arg_only(args, allowed, err, errsz);
    if (rc != 0)
        return rc;
    kz__reindex *rx = kz_rx_get(n);
    bool started = false;
    if (rx->state != KZ_RX_RUNNING) {
        if (n->stopping) {
            snprintf(err, errsz, "the node is shutting down");
            return KZ_EAGAIN;
        }
        if ((rc = kz_rx_start(n, err, errsz)) != 0)
            return rc;
        started = true;
    }
    *result = kz_rx_status(rx);
    if (!*result)
        return KZ_ENOMEM;
    json_object_set_new(*result, "started", json_boolean(started));
    return 0;
}

static int kz_h_reindex_status(kz_node *n, json_t *args, json_t **result, char *err,
                               size_t errsz)
{
    static const char *const allowed[] = {NULL};
    int rc = kz__arg_only(args, allowed, err, errsz);
    if (rc != 0)
        return rc;
    *result = kz_rx_status(n->reindex);
    return *result ? 0 : KZ_ENOMEM;
}

static const kz_control_verb kz_verbs[] = {
    {"search.reindex", kz_h_reindex,
     "start rebuilding the search index from the stored profiles (no args), or report the "
     "rebuild already running; returns the status (see search.reindex_status) and started"},
    {"search.reindex_status", kz_h_reindex_status,
     "the last or running rebuild: state idle|running|done|failed, scanned (profiles read so far), profiles_before, "
     "postings_before, elapsed_ms, started_ms; when done profiles, postings, finished_ms; when "
     "failed error"},
};

const kz__verb_table kz__verbs_reindex = {kz_verbs, KZ_ARRAY_LEN(kz_verbs)};

/* ---- The service ------------------------------------------------------------------- */

static int kz_rx_svc_start(kz_node *n, char *err, size_t errsz)
{
    (void)err;
    (void)errsz;
    kz__reindex *rx = kz_rx_get(n);
    uv_timer_init(n->loop, &rx->timer);
    rx->timer.data = rx;
    rx->timer_open = true;
    return 0;
}

static void kz_rx_svc_stop(kz_node *n)
{
    kz__reindex *rx = n->reindex;
    if (!rx || !rx->timer_open)
        return;
    if (rx->state == KZ_RX_RUNNING) {
        kz_log_warn("search", "stopping in the middle of a search index rebuild (%llu profiles "
                              "done): the next start rebuilds it",
                    (unsigned long long)rx->scanned);
        kz_store_search_rebuild_end(rx->rb);
        rx->rb = NULL;
        rx->state = KZ_RX_IDLE;
    }
    uv_timer_stop(&rx->timer);
    uv_close((uv_handle_t *)&rx->timer, NULL);
    rx->timer_open = false;
}

void kz__reindex_free(kz_node *n)
{
    if (!n || !n->reindex)
        return;
    kz_store_search_rebuild_end(n->reindex->rb);
    free(n->reindex);
    n->reindex = NULL;
}

static json_t *kz_rx_svc_status(kz_node *n)
{
    return kz_rx_status(n->reindex);
}

const kz_node_service kz_search_service = {
    .name = "search_reindex",
    .start = kz_rx_svc_start,
    .stop = kz_rx_svc_stop,
    .status = kz_rx_svc_status,
};
