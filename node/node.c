/* node.c: the node object: start-up (config, keys, lock, store, own node
 * record), the loop and signals, shutdown, and the single path through which
 * every accepted record passes. */
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *kz_record_source_name(kz_record_source src)
{
    switch (src) {
    case KZ_SRC_LOCAL: return "local";
    case KZ_SRC_IMPORT: return "import";
    case KZ_SRC_PEER: return "peer";
    }
    return "unknown";
}

uint64_t kz_node_next_ms(uint64_t prev_ms)
{
    uint64_t now = kz_now_ms();
    return now > prev_ms ? now : prev_ms + 1;
}

uint64_t kz_node_created_ms(kz_node *n, uint64_t after_ms)
{
    uint64_t floor = after_ms > n->last_created_ms ? after_ms : n->last_created_ms;
    uint64_t t = kz_node_next_ms(floor);
    n->last_created_ms = t;
    return t;
}

int kz__node_record_sign(const kz_config *cfg, const kz_keys *keys, uint64_t created_ms,
                         kz_record *r, char *err, size_t errsz)
{
    char addr[KZ_ADDR_MAX + 1];
    if (kz_config_advertised(cfg, addr, sizeof addr) != 0 ||
        kz_addr_parse(addr, NULL, 0, NULL, err, errsz) != 0) {
        snprintf(err, errsz,
                 "cannot work out the address to advertise from listen = %s; set advertise = HOST:PORT in [node]",
                 cfg->listen);
        return KZ_ECONFIG;
    }
    kz_record_init(r, KZ_T_NODE, keys->node_pk, created_ms);
    r->body.node.name = (kz_str){cfg->name, (uint32_t)strlen(cfg->name)};
    r->body.node.n_addrs = 1;
    r->body.node.addrs[0] = (kz_str){addr, (uint32_t)strlen(addr)};
    int rc = kz_record_sign(r, keys->node_sk);
    if (rc != 0) {
        snprintf(err, errsz, "cannot sign the node record: %s (%s)", kz_strerror(rc),
                 kz_record_last_error());
        kz_record_close(r);
    }
    return rc;
}

int kz_node_record_load(kz_node *n, const uint8_t id[KZ_ID_BYTES], bool noverify, kz_record *r)
{
    uint8_t *buf = kz_xmalloc(KZ_RECORD_MAX);
    size_t len = 0;
    memset(r, 0, sizeof *r);
    int rc = kz_store_get(n->store, id, buf, KZ_RECORD_MAX, &len);
    if (rc == 0)
        rc = kz_record_decode(r, buf, len, 0, noverify ? KZ_DECODE_NOVERIFY : 0);
    free(buf);
    return rc;
}

int kz_node_slot_load(kz_node *n, const kz_record *r_like, kz_record *r)
{
    uint8_t slot[KZ_SLOT_BYTES];
    uint8_t id[KZ_ID_BYTES];
    memset(r, 0, sizeof *r);
    if (!kz_record_slot(r_like, slot))
        return KZ_EINVAL;
    int rc = kz_store_head(n->store, slot, id);
    if (rc != 0)
        return rc;
    return kz_node_record_load(n, id, true, r);
}

void kz_node_record_accepted(kz_node *n, const kz_record *r, kz_record_source src)
{
    kz_idstr id = kz_id_to_str(r->id);
    kz_log(src == KZ_SRC_PEER ? KZ_LOG_DEBUG : KZ_LOG_INFO, "record", "stored %s %s (%s, %zu bytes)",
           kz_rtype_name(r->type) ? kz_rtype_name(r->type) : "?", id.s, kz_record_source_name(src),
           r->raw_len);
    for (size_t i = 0; i < n->n_watchers; i++)
        n->watchers[i].cb(n->watchers[i].ud, n, r, src);
}

int kz_node_accept_watch(kz_node *n, kz_node_accept_cb cb, void *ud)
{
    if (n->n_watchers >= KZ_NODE_WATCHERS_MAX)
        return KZ_ETOOBIG;
    n->watchers[n->n_watchers].cb = cb;
    n->watchers[n->n_watchers].ud = ud;
    n->n_watchers++;
    return 0;
}

int kz_node_put(kz_node *n, const kz_record *r, kz_record_source src, kz_put_result *res)
{
    kz_put_result local;
    int rc = kz_store_put(n->store, r, &local);
    if (res)
        *res = local;
    if (rc == 0)
        kz_node_record_accepted(n, r, src);
    return rc;
}

/* Re-sign the node record when the config's name or address changed. */
static int kz_node_own_record(kz_node *n, char *err, size_t errsz)
{
    char addr[KZ_ADDR_MAX + 1];
    kz_record like, cur, fresh;
    uint64_t prev = 0;
    int rc;
    if (kz_config_advertised(&n->cfg, addr, sizeof addr) != 0)
        addr[0] = '\0';
    kz_record_init(&like, KZ_T_NODE, n->keys.node_pk, 0);
    rc = kz_node_slot_load(n, &like, &cur);
    if (rc == 0) {
        const kz_body_node *b = &cur.body.node;
        bool same = b->name.n == strlen(n->cfg.name) &&
                    memcmp(b->name.p, n->cfg.name, b->name.n) == 0 && b->n_addrs == 1 &&
                    b->addrs[0].n == strlen(addr) && memcmp(b->addrs[0].p, addr, b->addrs[0].n) == 0;
        prev = cur.created_ms;
        kz_record_close(&cur);
        if (same)
            return 0;
    } else if (rc != KZ_ENOTFOUND) {
        snprintf(err, errsz, "cannot read this node's own record: %s", kz_strerror(rc));
        return rc;
    }
    rc = kz__node_record_sign(&n->cfg, &n->keys, kz_node_created_ms(n, prev), &fresh, err, errsz);
    if (rc != 0)
        return rc;
    rc = kz_node_put(n, &fresh, KZ_SRC_LOCAL, NULL);
    if (rc != 0)
        snprintf(err, errsz, "cannot store this node's own record: %s", kz__refusal(rc));
    else
        kz_log_info("node", "node record updated: name '%s', address %s", n->cfg.name, addr);
    kz_record_close(&fresh);
    return rc;
}

int kz_node_create(kz_node **out, const char *dir, const kz_node_opts *opts, char *err, size_t errsz)
{
    char path[KZ_PATH_MAX];
    struct stat st;
    int rc;
    *out = NULL;
    if (strlen(dir) > KZ_PATH_MAX - 64) {
        snprintf(err, errsz, "%s: path too long", dir);
        return KZ_ETOOBIG;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errsz, "%s is not a kizuna data directory (create one with: kizuna init --data %s --name NAME --federation-key FILE)",
                 dir, dir);
        return KZ_ENOTFOUND;
    }
    kz_node *n = kz_xcalloc(1, sizeof *n);
    n->lock_fd = -1;
    snprintf(n->dir, sizeof n->dir, "%s", dir);
    if (!realpath(dir, n->dir_abs))
        snprintf(n->dir_abs, sizeof n->dir_abs, "%s", dir);

    if ((rc = kz_path_join(path, sizeof path, dir, KZ_FILE_CONFIG)) != 0)
        goto fail;
    rc = kz_config_load(&n->cfg, path, err, errsz);
    if (rc != 0)
        goto fail;
    kz_log_level_set(opts && opts->have_log_level ? opts->log_level : n->cfg.log_level);
    if (st.st_mode & 077)
        kz_log_warn("node", "%s has permissions %04o; chmod 700 %s", dir,
                    (unsigned)(st.st_mode & 07777), dir);
    rc = kz_keys_load(&n->keys, dir, err, errsz);
    if (rc != 0)
        goto fail;
    rc = kz_datadir_lock(dir, &n->lock_fd, err, errsz);
    if (rc != 0)
        goto fail;
    /* Only the lock holder may remove a socket left by a killed node. */
    if ((rc = kz_path_join(path, sizeof path, dir, KZ_FILE_CONTROL)) != 0)
        goto fail;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errsz, "%s exists and is not a socket; move it away", path);
            rc = KZ_EEXIST;
            goto fail;
        }
        if (unlink(path) != 0) {
            snprintf(err, errsz, "cannot remove stale %s: %s", path, strerror(errno));
            rc = KZ_EIO;
            goto fail;
        }
        kz_log_info("control", "removed stale %s left by a previous run", path);
    }
    kz_store_opts sopts = {0};
    sopts.map_size_max = (size_t)n->cfg.map_size_max;
    rc = kz_store_create(&n->store, dir, &sopts);
    if (rc != 0) {
        snprintf(err, errsz, "cannot open the store in %s: %s", dir, kz_strerror(rc));
        goto fail;
    }
    rc = kz_node_own_record(n, err, errsz);
    if (rc != 0)
        goto fail;
    n->started_ms = kz_now_ms();
    *out = n;
    return 0;

fail:
    kz_node_free(n);
    return rc;
}

int kz_node_service_add(kz_node *n, const kz_node_service *svc)
{
    if (n->n_services >= KZ_NODE_SERVICES_MAX)
        return KZ_ETOOBIG;
    n->services[n->n_services++] = svc;
    return 0;
}

static void kz_node_signal_cb(uv_signal_t *h, int signum)
{
    kz_node *n = h->data;
    kz_log_info("node", "received %s, shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
    kz_node_stop(n);
}

int kz_node_run(kz_node *n, uv_loop_t *loop)
{
    char err[KZ_ERR_MAX];
    n->loop = loop;
    uv_signal_init(loop, &n->sigint);
    uv_signal_init(loop, &n->sigterm);
    n->sigint.data = n;
    n->sigterm.data = n;
    uv_signal_start(&n->sigint, kz_node_signal_cb, SIGINT);
    uv_signal_start(&n->sigterm, kz_node_signal_cb, SIGTERM);
    int rc = kz_control_start(n, err, sizeof err);
    if (rc != 0) {
        kz_log_error("control", "%s", err);
        kz_node_stop(n);
        uv_run(loop, UV_RUN_DEFAULT);
        return rc;
    }
    for (size_t i = 0; i < n->n_services; i++) {
        const kz_node_service *svc = n->services[i];
        if (svc->start && (rc = svc->start(n, err, sizeof err)) != 0) {
            kz_log_error(svc->name, "%s", err);
            kz_node_stop(n);
            uv_run(loop, UV_RUN_DEFAULT);
            return rc;
        }
        n->n_started = i + 1;
    }
    kz_idstr id = kz_id_to_str(n->keys.node_pk);
    kz_log_info("node", "ready: node %s (%s), kizunad %s", id.s, n->cfg.name, KZ_VERSION);
    uv_run(loop, UV_RUN_DEFAULT);
    return 0;
}

void kz_node_stop(kz_node *n)
{
    if (n->stopping)
        return;
    n->stopping = true;
    for (size_t i = n->n_started; i-- > 0;) {
        if (n->services[i]->stop)
            n->services[i]->stop(n);
    }
    kz_control_stop(n);
    if (n->loop) {
        uv_close((uv_handle_t *)&n->sigint, NULL);
        uv_close((uv_handle_t *)&n->sigterm, NULL);
    }
}

void kz_node_free(kz_node *n)
{
    char path[KZ_PATH_MAX];
    if (!n)
        return;
    for (size_t i = n->n_started; i-- > 0;) {
        if (n->services[i]->free)
            n->services[i]->free(n);
    }
    kz__reindex_free(n);
    kz_store_free(n->store);
    if (n->control_bound && kz_path_join(path, sizeof path, n->dir, KZ_FILE_CONTROL) == 0)
        unlink(path);
    kz_datadir_unlock(n->lock_fd);
    kz_keys_wipe(&n->keys);
    free(n);
}
