/* handlers_node.c: control verbs about the node itself: status, backup. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int kz_count_revoked_cb(void *ud, const kz_store_member *m)
{
    uint64_t *revoked = ud;
    if (m->revoked)
        (*revoked)++;
    return 0;
}

static int kz_h_status(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {NULL};
    kz_store_stats st;
    char adv[KZ_ADDR_MAX + 1];
    uint64_t revoked = 0;
    int rc = kz__arg_only(args, allowed, err, errsz);
    if (rc != 0)
        return rc;
    rc = kz_store_stats_get(n->store, &st);
    if (rc != 0) {
        snprintf(err, errsz, "cannot read store statistics: %s", kz_strerror(rc));
        return rc;
    }
    rc = kz_store_member_iter(n->store, kz_count_revoked_cb, &revoked);
    if (rc < 0) {
        snprintf(err, errsz, "cannot list members: %s", kz_strerror(rc));
        return rc;
    }
    if (kz_config_advertised(&n->cfg, adv, sizeof adv) != 0)
        adv[0] = '\0';
    json_t *by_type = json_object();
    for (int t = 1; t <= KZ_T_MAX; t++) {
        const char *name = kz_rtype_name(t);
        if (name)
            json_object_set_new(by_type, name, json_integer((json_int_t)st.by_type[t]));
    }
    uint64_t now = kz_now_ms();
    char started[KZ_TIME_STR_MAX];
    kz_time_format(started, n->started_ms);
    /* Peers: replaced by the gossip service's own report when it runs. */
    json_t *peers = json_pack("{s:i, s:i, s:[]}", "known", 0, "connected", 0, "list");
    *result = json_pack("{s:o, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:I, s:o, s:{s:I, s:I}, s:I,"
                        " s:{s:I, s:I}, s:o}",
                        "node_id", kz_json_hex(n->keys.node_pk, KZ_KEY_BYTES),
                        "name", n->cfg.name,
                        "version", KZ_VERSION,
                        "started", started,
                        "uptime_s", (json_int_t)((now - n->started_ms) / 1000u),
                        "listen", n->cfg.listen,
                        "advertise", adv,
                        "http", n->cfg.http,
                        "records", (json_int_t)st.records,
                        "by_type", by_type,
                        "members", "total", (json_int_t)st.members, "revoked", (json_int_t)revoked,
                        "tombstones", (json_int_t)st.tombstones,
                        "store", "map_bytes", (json_int_t)st.map_size, "used_bytes",
                        (json_int_t)st.used_bytes,
                        "peers", peers);
    if (!*result)
        return KZ_ENOMEM;
    /* Running services (gossip: "peers") report under their own name. */
    for (size_t i = 0; i < n->n_started; i++) {
        const kz_node_service *svc = n->services[i];
        json_t *st2 = svc->status ? svc->status(n) : NULL;
        if (st2)
            json_object_set_new(*result, svc->name, st2);
    }
    return 0;
}

/* The reply for a finished backup (rc from kz_store_backup). */
static int kz_backup_result(kz_node *n, int rc, const char *out, const char *path, uint64_t t0,
                            json_t **result, char *err, size_t errsz)
{
    struct stat st;
    if (rc != 0) {
        snprintf(err, errsz, "backup to %.300s failed: %s", out, kz_strerror(rc));
        return rc;
    }
    long long bytes = stat(path, &st) == 0 ? (long long)st.st_size : -1;
    kz_log_info("store", "backup written to %s (%lld bytes, %llu ms)", path, bytes,
                (unsigned long long)(kz_now_ms() - t0));
    json_t *keep = json_array();
    static const char *const files[] = {KZ_FILE_NODE_KEY, KZ_FILE_STORAGE_KEY,
                                        KZ_FILE_FEDERATION_KEY, KZ_FILE_CONFIG};
    for (size_t i = 0; i < KZ_ARRAY_LEN(files); i++) {
        char kp[KZ_PATH_MAX];
        if (kz_path_join(kp, sizeof kp, n->dir_abs, files[i]) == 0)
            json_array_append_new(keep, json_string(kp));
    }
    *result = json_pack("{s:s, s:I, s:o}", "path", path, "bytes", (json_int_t)bytes, "keep", keep);
    return *result ? 0 : KZ_ENOMEM;
}

typedef struct {
    uv_work_t req;
    kz_node *n;
    kz_control_pending *pending;
    uint64_t t0;
    int rc;
    char out[KZ_PATH_MAX], path[KZ_PATH_MAX];
} kz_backup_job;

/* Thread pool: the copy. LMDB copies from its own read transaction, so
 * the loop thread keeps writing meanwhile. */
static void kz_backup_work_cb(uv_work_t *req)
{
    kz_backup_job *j = req->data;
    j->rc = kz_store_backup(j->n->store, j->out);
}

static void kz_backup_after_cb(uv_work_t *req, int status)
{
    kz_backup_job *j = req->data;
    char err[KZ_ERR_MAX] = "";
    json_t *result = NULL;
    int rc = status == 0 ? j->rc : KZ_EIO;
    rc = kz_backup_result(j->n, rc, j->out, j->path, j->t0, &result, err, sizeof err);
    if (rc != 0)
        kz_log_error("store", "%s", err);
    kz_control_complete(j->pending, rc, result, err);
    free(j);
}

static int kz_h_backup(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"out_dir", NULL};
    const char *out;
    char path[KZ_PATH_MAX];
    struct stat st;
    int rc = kz__arg_only(args, allowed, err, errsz);
    if (rc == 0)
        rc = kz__arg_str(args, "out_dir", true, KZ_PATH_MAX - 64, false, &out, err, errsz);
    if (rc != 0)
        return rc;
    if (out[0] != '/') {
        snprintf(err, errsz, "out_dir must be an absolute path");
        return KZ_EINVAL;
    }
    if (mkdir(out, 0700) == 0) {
        kz_log_info("store", "created backup directory %s", out);
    } else if (errno != EEXIST) {
        snprintf(err, errsz, "cannot create %s: %s", out, strerror(errno));
        return KZ_EIO;
    } else if (stat(out, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errsz, "%s exists and is not a directory", out);
        return KZ_EEXIST;
    }
    if (kz_path_join(path, sizeof path, out, KZ_FILE_DATA) != 0) {
        snprintf(err, errsz, "%s: path too long", out);
        return KZ_ETOOBIG;
    }
    if (access(path, F_OK) == 0) {
        snprintf(err, errsz, "%s already exists; refusing to overwrite a backup", path);
        return KZ_EEXIST;
    }
    uint64_t t0 = kz_now_ms();
    if (kz_control_can_defer(n)) {
        /* Copying a big store takes a while: on the thread pool, so that
         * peers and other clients are served meanwhile. */
        kz_backup_job *j = kz_xcalloc(1, sizeof *j);
        j->n = n;
        j->t0 = t0;
        snprintf(j->out, sizeof j->out, "%s", out);
        snprintf(j->path, sizeof j->path, "%s", path);
        j->req.data = j;
        if (uv_queue_work(n->loop, &j->req, kz_backup_work_cb, kz_backup_after_cb) == 0) {
            j->pending = kz_control_defer(n);
            return KZ_CONTROL_DEFERRED;
        }
        free(j); /* cannot queue: copy here instead */
    }
    rc = kz_store_backup(n->store, out);
    return kz_backup_result(n, rc, out, path, t0, result, err, errsz);
}

static const kz_control_verb kz_verbs[] = {
    {"status", kz_h_status, "node id, name, version, uptime, record counts, store size, peers"},
    {"backup", kz_h_backup, "write a consistent compacted copy of the store into args.out_dir"},
};

const kz__verb_table kz__verbs_node = {kz_verbs, KZ_ARRAY_LEN(kz_verbs)};
