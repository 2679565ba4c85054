/* test_gossip.c: the federation layer end to end inside one process: two or
 * three real nodes (data directories, stores, keys) on one libuv loop,
 * talking over loopback TCP: push, reconciliation, multi-hop relay, the
 * holding area, wrong keys, blocking, and a hostile peer. */
#include "kz_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kz_frame.h"
#include "kz_gossip.h"
#include "kz_noise.h"
#include "kz_wire.h"

#define MAXN 4

typedef struct {
    char dir[128];
    kz_node *n;
    uint16_t port;
    char addr[32];
} tnode;

static char g_root[64];
static kz_gossip_opts g_opts_extra; /* ping/idle/peering overrides for one test */
static uv_loop_t g_loop;

static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void fed_key(const char *path, uint8_t fill)
{
    uint8_t k[32];
    char err[KZ_ERR_MAX];
    memset(k, fill, sizeof k);
    assert_int_equal(kz_keyfile_write(path, KZ_KEY_FEDERATION, k, err, sizeof err), 0);
}

static void root_setup(void)
{
    char p[128];
    memset(&g_opts_extra, 0, sizeof g_opts_extra);
    snprintf(g_root, sizeof g_root, "/tmp/kz_test_gossip_XXXXXX");
    assert_non_null(mkdtemp(g_root));
    snprintf(p, sizeof p, "%s/fed1.key", g_root);
    fed_key(p, 0x11);
    snprintf(p, sizeof p, "%s/fed2.key", g_root);
    fed_key(p, 0x22);
    assert_int_equal(uv_loop_init(&g_loop), 0);
    /* As kizunad does: a peer closing mid-write must not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    kz_log_level_set(getenv("KZ_TEST_DEBUG") ? KZ_LOG_DEBUG : KZ_LOG_ERROR);
}

static void node_make(tnode *t, const char *name, int fed)
{
    char fk[128], err[KZ_ERR_MAX];
    uint8_t id[KZ_KEY_BYTES];
    t->port = free_port();
    snprintf(t->addr, sizeof t->addr, "127.0.0.1:%u", (unsigned)t->port);
    snprintf(t->dir, sizeof t->dir, "%s/%s", g_root, name);
    snprintf(fk, sizeof fk, "%s/fed%d.key", g_root, fed);
    kz_init_opts o = {t->dir, name, fk, t->addr, "127.0.0.1:1"};
    int rc = kz_datadir_init(&o, id, err, sizeof err);
    if (rc)
        fail_msg("init %s: %s", name, err);
    rc = kz_node_create(&t->n, t->dir, NULL, err, sizeof err);
    if (rc)
        fail_msg("create %s: %s", name, err);
    t->n->loop = &g_loop;
}

static void node_start(tnode *t)
{
    char err[KZ_ERR_MAX];
    kz_gossip_opts o = g_opts_extra;
    o.listen = t->addr;
    o.sync_interval_ms = 500;
    o.backoff_min_ms = 100;
    o.backoff_max_ms = 400;
    o.handshake_ms = 2000;
    int rc = kz_gossip_start(t->n, &o, err, sizeof err);
    if (rc)
        fail_msg("gossip start: %s", err);
}

static void node_stop(tnode *t)
{
    kz_gossip_stop(t->n);
}

static void node_free(tnode *t)
{
    kz_gossip_free(t->n);
    kz_node_free(t->n);
    t->n = NULL;
}

static void all_stop_free(tnode *ts, int n)
{
    for (int i = 0; i < n; i++)
        node_stop(&ts[i]);
    uv_run(&g_loop, UV_RUN_DEFAULT);
    for (int i = 0; i < n; i++)
        node_free(&ts[i]);
    assert_int_equal(uv_loop_close(&g_loop), 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_root);
    assert_int_equal(system(cmd), 0);
}

static uint64_t nrec(tnode *t)
{
    kz_store_stats st;
    assert_int_equal(kz_store_stats_get(t->n->store, &st), 0);
    return st.records;
}

/* Run the loop until cond(ud) or timeout; returns cond's last answer. */
typedef bool (*cond_fn)(void *ud);
struct waiter {
    cond_fn fn;
    void *ud;
    uint64_t deadline;
    bool ok;
};

static void wait_cb(uv_timer_t *t)
{
    struct waiter *w = t->data;
    if (w->fn(w->ud)) {
        w->ok = true;
        uv_stop(t->loop);
    } else if (kz_now_ms() > w->deadline) {
        uv_stop(t->loop);
    }
}

/* Deadlines stretch by KZ_TEST_TIME_SCALE (tools/test.sh sets it for the
 * sanitizer build, which runs several times slower). */
static unsigned time_scale(void)
{
    const char *s = getenv("KZ_TEST_TIME_SCALE");
    char *end;
    unsigned long v = s ? strtoul(s, &end, 10) : 1;
    return (s && *end == '\0' && v >= 1 && v <= 20) ? (unsigned)v : 1;
}

static bool run_until(cond_fn fn, void *ud, unsigned ms)
{
    ms *= time_scale();
    uv_timer_t t;
    struct waiter w = {fn, ud, kz_now_ms() + ms, false};
    uv_timer_init(&g_loop, &t);
    t.data = &w;
    uv_timer_start(&t, wait_cb, 20, 20);
    uv_run(&g_loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&g_loop, UV_RUN_NOWAIT);
    return w.ok;
}

static bool never(void *ud)
{
    (void)ud;
    return false;
}

/* ---- Records ------------------------------------------------------------------ */

typedef struct {
    uint8_t pk[KZ_KEY_BYTES], sk[KZ_SECKEY_BYTES];
} member;

static void member_make(tnode *t, member *m)
{
    kz_record r;
    crypto_sign_keypair(m->pk, m->sk);
    kz_record_init(&r, KZ_T_ATTEST, t->n->keys.node_pk, kz_node_created_ms(t->n, 0));
    memcpy(r.body.attest.member, m->pk, KZ_KEY_BYTES);
    r.body.attest.role = KZ_ROLE_ALUMNI;
    assert_int_equal(kz_record_sign(&r, t->n->keys.node_sk), 0);
    assert_int_equal(kz_node_put(t->n, &r, KZ_SRC_LOCAL, NULL), 0);
    kz_record_close(&r);
}

static void post_sign(kz_record *r, const member *m, uint64_t created, unsigned i)
{
    char text[64];
    snprintf(text, sizeof text, "post number %u", i);
    kz_record_init(r, KZ_T_POST, m->pk, created);
    r->body.post.room = (kz_str){"general", 7};
    r->body.post.text = (kz_str){text, (uint32_t)strlen(text)};
    assert_int_equal(kz_record_sign(r, m->sk), 0);
}

static void posts_add(tnode *t, const member *m, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        kz_record r;
        post_sign(&r, m, kz_node_created_ms(t->n, 0), i);
        assert_int_equal(kz_node_put(t->n, &r, KZ_SRC_LOCAL, NULL), 0);
        kz_record_close(&r);
    }
}

/* Same many records in one durable batch: much faster than one commit each. */
static void posts_add_batch(tnode *t, const member *m, unsigned n)
{
    kz_record *rs = calloc(n, sizeof *rs);
    const kz_record **ps = calloc(n, sizeof *ps);
    kz_put_result *res = calloc(n, sizeof *res);
    for (unsigned i = 0; i < n; i++) {
        post_sign(&rs[i], m, kz_node_created_ms(t->n, 0), i);
        ps[i] = &rs[i];
    }
    assert_int_equal(kz_store_put_batch(t->n->store, ps, n, res), 0);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(res[i].rc, 0);
        kz_record_close(&rs[i]);
    }
    free(rs);
    free(ps);
    free(res);
}

struct same {
    tnode *t;
    int n;
};

static bool all_same(void *ud)
{
    struct same *s = ud;
    uint64_t r0 = nrec(&s->t[0]);
    for (int i = 1; i < s->n; i++)
        if (nrec(&s->t[i]) != r0)
            return false;
    return true;
}

static bool connected(tnode *t)
{
    kz_gossip_stats st;
    kz_gossip_stats_get(t->n, &st);
    return st.connected > 0;
}

static bool is_connected(void *ud)
{
    return connected(ud);
}

static void peer(tnode *from, tnode *to)
{
    char err[KZ_ERR_MAX];
    int rc = kz_gossip_peer_add(from->n, to->n->keys.node_pk, to->addr, err, sizeof err);
    if (rc)
        fail_msg("peer add: %s", err);
}

/* ---- Tests ------------------------------------------------------------------- */

/* Records written before the link exist only through reconciliation;
 * records written after reach the other node by push. */
static void test_two_nodes_converge(void **state)
{
    (void)state;
    tnode t[2];
    member ma, mb;
    root_setup();
    node_make(&t[0], "a", 1);
    node_make(&t[1], "b", 1);
    member_make(&t[0], &ma);
    member_make(&t[1], &mb);
    posts_add_batch(&t[0], &ma, 1500);
    posts_add_batch(&t[1], &mb, 1200);
    node_start(&t[0]);
    node_start(&t[1]);
    peer(&t[1], &t[0]);
    struct same s = {t, 2};
    assert_true(run_until(all_same, &s, 20000));
    /* Both stores: two node records, two attests, all posts. */
    assert_int_equal(nrec(&t[0]), 2 + 2 + 1500 + 1200);
    /* Push: single records written on either side while linked. */
    posts_add(&t[0], &ma, 5);
    posts_add(&t[1], &mb, 7);
    assert_true(run_until(all_same, &s, 5000));
    assert_int_equal(nrec(&t[1]), 2 + 2 + 1500 + 1200 + 12);
    all_stop_free(t, 2);
}

/* A line a - b - c: records from a reach c through b, by push and by
 * reconciliation, and members attested on a are accepted on c. */
static void test_line_relay(void **state)
{
    (void)state;
    tnode t[3];
    member ma, mc;
    root_setup();
    node_make(&t[0], "a", 1);
    node_make(&t[1], "b", 1);
    node_make(&t[2], "c", 1);
    member_make(&t[0], &ma);
    member_make(&t[2], &mc);
    posts_add_batch(&t[0], &ma, 300);
    for (int i = 0; i < 3; i++)
        node_start(&t[i]);
    peer(&t[0], &t[1]);
    peer(&t[2], &t[1]);
    struct same s = {t, 3};
    assert_true(run_until(all_same, &s, 20000));
    posts_add(&t[0], &ma, 3);
    posts_add(&t[2], &mc, 3);
    assert_true(run_until(all_same, &s, 5000));
    assert_int_equal(nrec(&t[2]), 3 + 2 + 300 + 6);
    all_stop_free(t, 3);
}

/* Different federation keys: no link, no data. */
static void test_wrong_federation_key(void **state)
{
    (void)state;
    tnode t[2];
    member m;
    root_setup();
    node_make(&t[0], "a", 1);
    node_make(&t[1], "b", 2);
    member_make(&t[0], &m);
    node_start(&t[0]);
    node_start(&t[1]);
    peer(&t[1], &t[0]);
    run_until(never, NULL, 1500);
    assert_false(connected(&t[0]));
    assert_false(connected(&t[1]));
    assert_int_equal(nrec(&t[1]), 1);
    all_stop_free(t, 2);
}

/* Dialling an address with the wrong node id: refused by the dialer. */
static void test_wrong_node_id(void **state)
{
    (void)state;
    tnode t[3];
    char err[KZ_ERR_MAX];
    root_setup();
    node_make(&t[0], "a", 1);
    node_make(&t[1], "b", 1);
    node_make(&t[2], "c", 1);
    for (int i = 0; i < 3; i++)
        node_start(&t[i]);
    /* b dials a's address believing it is c. */
    assert_int_equal(kz_gossip_peer_add(t[1].n, t[2].n->keys.node_pk, t[0].addr, err, sizeof err), 0);
    run_until(never, NULL, 1500);
    for (int i = 0; i < 3; i++)
        assert_false(connected(&t[i]));
    assert_int_equal(nrec(&t[1]), 1);
    all_stop_free(t, 3);
}

/* Blocking closes the link and keeps it closed both ways; unblocking heals. */
static void test_block_unblock(void **state)
{
    (void)state;
    tnode t[2];
    member m;
    char err[KZ_ERR_MAX];
    root_setup();
    node_make(&t[0], "a", 1);
    node_make(&t[1], "b", 1);
    member_make(&t[0], &m);
    node_start(&t[0]);
    node_start(&t[1]);
    peer(&t[1], &t[0]);
    peer(&t[0], &t[1]);
    struct same s = {t, 2};
    assert_true(run_until(all_same, &s, 5000));
    assert_int_equal(kz_gossip_peer_block(t[0].n, t[1].n->keys.node_pk, true, err, sizeof err), 0);
    run_until(never, NULL, 1000);
    assert_false(connected(&t[0]));
    assert_false(connected(&t[1]));
    posts_add(&t[0], &m, 4);
    run_until(never, NULL, 800);
    assert_int_equal(nrec(&t[1]), nrec(&t[0]) - 4);
    assert_int_equal(kz_gossip_peer_block(t[0].n, t[1].n->keys.node_pk, false, err, sizeof err), 0);
    assert_true(run_until(all_same, &s, 8000));
    all_stop_free(t, 2);
}

/* ---- A hostile peer speaking the real protocol from a thread ------------------ */

struct hostile {
    uint16_t port;
    uint8_t target[KZ_KEY_BYTES];
    uint8_t fed[32];
    int mode;    /* 0: send a tampered record; 1: a post, then its attestation;
                    2: say HELLO, then never read until stop is set */
    volatile int stop;
    int outcome; /* mode 0: 1 = the node closed the link; mode 1: 1 = all sent */
    uint8_t post_id[KZ_ID_BYTES];
};

static int read_full(int fd, uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = write(fd, p, n);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int send_msg(int fd, kz_frame_tx *tx, const kz_wire_buf *b)
{
    uint8_t *out = malloc(KZ_FRAME_WIRE_SIZE(b->len));
    size_t len;
    int rc = kz_frame_seal(tx, b->p, b->len, out, KZ_FRAME_WIRE_SIZE(b->len), &len);
    if (rc == 0)
        rc = write_full(fd, out, len);
    free(out);
    return rc;
}

static void *hostile_main(void *arg)
{
    struct hostile *h = arg;
    uint8_t pk[32], sk[64], m1[KZ_NOISE_MSG1_LEN], m2[KZ_NOISE_MSG2_LEN], m3[KZ_NOISE_MSG3_LEN];
    uint8_t hdr[KZ_FRAME_HEADER_BYTES];
    kz_noise_identity me;
    kz_noise_hs *hs = NULL;
    kz_noise_result res;
    kz_frame_tx tx;
    crypto_sign_keypair(pk, sk);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(h->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        goto out;
    if (kz_noise_identity_init(&me, sk) || kz_noise_hs_create_initiator(&hs, &me, h->fed, h->target) ||
        kz_noise_hs_write_msg1(hs, m1) || write_full(fd, m1, sizeof m1) || read_full(fd, m2, sizeof m2) ||
        kz_noise_hs_read_msg2(hs, m2, sizeof m2) || kz_noise_hs_write_msg3(hs, m3) ||
        write_full(fd, m3, sizeof m3) || kz_noise_hs_result(hs, &res) ||
        kz_frame_tx_init(&tx, res.i2r, hdr) || write_full(fd, hdr, sizeof hdr))
        goto out;
    kz_record nrec_;
    kz_record_init(&nrec_, KZ_T_NODE, pk, kz_now_ms() - 10);
    nrec_.body.node.name = (kz_str){"Scripted Corp", 13};
    if (kz_record_sign(&nrec_, sk))
        goto out;
    kz_wire_hello hello;
    memset(&hello, 0, sizeof hello);
    hello.version_min = hello.version_max = 1;
    memcpy(hello.node_id, pk, 32);
    hello.clock_ms = kz_now_ms();
    hello.node_record = (kz_bytes){nrec_.raw, (uint32_t)nrec_.raw_len};
    kz_wire_buf b = {0};
    int rc = kz_wire_encode_hello(&hello, &b);
    kz_record_close(&nrec_);
    if (rc || send_msg(fd, &tx, &b))
        goto out;
    kz_wire_buf_free(&b);
    if (h->mode == 2) {
        h->outcome = 1;
        while (!h->stop)
            usleep(20 * 1000);
        goto out;
    }
    if (h->mode == 1) {
        /* A member of ours posts before we attest them: the node must hold
         * the post until the attestation arrives in a later frame. */
        member m;
        kz_record post, att;
        crypto_sign_keypair(m.pk, m.sk);
        kz_record_init(&att, KZ_T_ATTEST, pk, kz_now_ms() - 5);
        memcpy(att.body.attest.member, m.pk, KZ_KEY_BYTES);
        post_sign(&post, &m, kz_now_ms() - 4, 7);
        if (kz_record_sign(&att, sk))
            goto out;
        memcpy(h->post_id, post.id, KZ_ID_BYTES);
        kz_bytes pb = {post.raw, (uint32_t)post.raw_len}, ab = {att.raw, (uint32_t)att.raw_len};
        rc = kz_wire_encode_records(&pb, 1, &b) || send_msg(fd, &tx, &b);
        kz_wire_buf_free(&b);
        usleep(300 * 1000);
        if (rc == 0)
            rc = kz_wire_encode_records(&ab, 1, &b) || send_msg(fd, &tx, &b);
        kz_wire_buf_free(&b);
        kz_record_close(&post);
        kz_record_close(&att);
        if (rc == 0)
            h->outcome = 1;
        usleep(500 * 1000);
        goto out;
    }
    /* A record signed properly, then flipped in its text. */
    kz_record r;
    kz_record_init(&r, KZ_T_NODE, pk, kz_now_ms());
    r.body.node.name = (kz_str){"Evil Corp", 9};
    if (kz_record_sign(&r, sk))
        goto out;
    uint8_t *raw = malloc(r.raw_len);
    memcpy(raw, r.raw, r.raw_len);
    raw[r.raw_len - 70] ^= 0x01; /* inside the name, before the signature */
    kz_bytes rb = {raw, (uint32_t)r.raw_len};
    rc = kz_wire_encode_records(&rb, 1, &b);
    free(raw);
    kz_record_close(&r);
    if (rc || send_msg(fd, &tx, &b))
        goto out;
    kz_wire_buf_free(&b);
    /* The node must close the connection: read until EOF. */
    uint8_t sink[4096];
    for (int i = 0; i < 1000; i++) {
        ssize_t n = read(fd, sink, sizeof sink);
        if (n <= 0) {
            h->outcome = 1;
            break;
        }
    }
out:
    kz_noise_hs_free(hs);
    close(fd);
    return NULL;
}

static bool hostile_done(void *ud)
{
    return ((struct hostile *)ud)->outcome != 0;
}

static void test_tampered_record_drops_link(void **state)
{
    (void)state;
    tnode t[1];
    pthread_t th;
    struct hostile h;
    char err[KZ_ERR_MAX];
    root_setup();
    node_make(&t[0], "a", 1);
    node_start(&t[0]);
    memset(&h, 0, sizeof h);
    h.port = t[0].port;
    memcpy(h.target, t[0].n->keys.node_pk, 32);
    memset(h.fed, 0x11, 32);
    uint64_t before = nrec(&t[0]);
    assert_int_equal(pthread_create(&th, NULL, hostile_main, &h), 0);
    bool closed = run_until(hostile_done, &h, 5000);
    pthread_join(th, NULL);
    assert_true(closed);
    /* Only the peer's genuine node record (from its HELLO) was stored. */
    assert_int_equal(nrec(&t[0]), before + 1);
    (void)err;
    all_stop_free(t, 1);
}

struct holdwait {
    tnode *t;
    struct hostile *h;
};

static bool post_stored(void *ud)
{
    struct holdwait *w = ud;
    return w->h->outcome && kz_store_has(w->t->n->store, w->h->post_id);
}

/* A post that arrives before its author's attestation waits in the holding
 * area and is stored once the attestation is accepted. */
static void test_holding_area(void **state)
{
    (void)state;
    tnode t[1];
    pthread_t th;
    struct hostile h;
    kz_gossip_stats st;
    root_setup();
    node_make(&t[0], "a", 1);
    node_start(&t[0]);
    memset(&h, 0, sizeof h);
    h.port = t[0].port;
    h.mode = 1;
    memcpy(h.target, t[0].n->keys.node_pk, 32);
    memset(h.fed, 0x11, 32);
    assert_int_equal(pthread_create(&th, NULL, hostile_main, &h), 0);
    struct holdwait w = {t, &h};
    bool stored = run_until(post_stored, &w, 5000);
    pthread_join(th, NULL);
    assert_true(stored);
    kz_gossip_stats_get(t[0].n, &st);
    assert_int_equal(st.held_records, 0);
    /* node records of both, the attestation and the post */
    assert_int_equal(nrec(&t[0]), 4);
    all_stop_free(t, 1);
}

static unsigned links_of(tnode *t)
{
    kz_gossip_stats st;
    kz_gossip_stats_get(t->n, &st);
    return st.links;
}

static bool one_link_each(void *ud)
{
    tnode *t = ud;
    return connected(&t[0]) && connected(&t[1]) && links_of(&t[0]) == 1 && links_of(&t[1]) == 1;
}

/* Both operators add each other: the nodes end up with exactly one link,
 * and it stays up through quiet periods thanks to pings. */
static void test_duplicate_and_keepalive(void **state)
{
    (void)state;
    tnode t[2];
    root_setup();
    g_opts_extra.ping_ms = 200;
    g_opts_extra.idle_ms = 700;
    node_make(&t[0], "a", 1);
    node_make(&t[1], "b", 1);
    node_start(&t[0]);
    node_start(&t[1]);
    peer(&t[0], &t[1]);
    peer(&t[1], &t[0]);
    assert_true(run_until(one_link_each, t, 5000));
    run_until(never, NULL, 2000); /* several idle timeouts long, with pings */
    assert_true(one_link_each(t));
    all_stop_free(t, 2);
}

/* peering = listed: an unlisted dialer is refused until it is listed. */
static void test_peering_listed(void **state)
{
    (void)state;
    tnode t[2];
    char err[KZ_ERR_MAX];
    root_setup();
    node_make(&t[0], "a", 1);
    node_make(&t[1], "b", 1);
    g_opts_extra.peering = KZ_PEERING_LISTED;
    node_start(&t[0]);
    g_opts_extra.peering = KZ_PEERING_OPEN;
    node_start(&t[1]);
    peer(&t[1], &t[0]);
    run_until(never, NULL, 1000);
    assert_false(connected(&t[0]));
    assert_int_equal(nrec(&t[1]), 1);
    /* Listing b on a lets the link up (a dials, or accepts b's next try). */
    assert_int_equal(kz_gossip_peer_add(t[0].n, t[1].n->keys.node_pk, t[1].addr, err, sizeof err), 0);
    assert_true(run_until(is_connected, &t[1], 5000));
    all_stop_free(t, 2);
}

static int raw_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* 1 when the node closed fd, 0 while it is open. */
static int raw_closed(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* Silent connections: at most KZ_GOSSIP_HS_PER_SOURCE handshakes in flight
 * from one address; the rest are closed at once, the others after the
 * handshake timeout. */
static void test_handshake_budget_and_timeout(void **state)
{
    (void)state;
    tnode t[1];
    int fds[KZ_GOSSIP_HS_PER_SOURCE + 2];
    root_setup();
    node_make(&t[0], "a", 1);
    node_start(&t[0]);
    for (size_t i = 0; i < KZ_ARRAY_LEN(fds); i++)
        fds[i] = raw_connect(t[0].port);
    run_until(never, NULL, 300);
    int closed = 0;
    for (size_t i = 0; i < KZ_ARRAY_LEN(fds); i++)
        closed += raw_closed(fds[i]);
    assert_int_equal(closed, 2);
    run_until(never, NULL, 2500); /* handshake_ms is 2000 in these tests */
    closed = 0;
    for (size_t i = 0; i < KZ_ARRAY_LEN(fds); i++) {
        closed += raw_closed(fds[i]);
        close(fds[i]);
    }
    assert_int_equal(closed, (int)KZ_ARRAY_LEN(fds));
    all_stop_free(t, 1);
}

/* Big posts, stored in one batch (no push; reconciliation moves them). */
static void big_posts_batch(tnode *t, const member *m, unsigned n)
{
    static char text[KZ_TEXT_MAX];
    kz_record *rs = calloc(n, sizeof *rs);
    const kz_record **ps = calloc(n, sizeof *ps);
    kz_put_result *res = calloc(n, sizeof *res);
    memset(text, 'x', sizeof text);
    for (unsigned i = 0; i < n; i++) {
        snprintf(text, 16, "%08u", i);
        text[8] = ' ';
        kz_record_init(&rs[i], KZ_T_POST, m->pk, kz_node_created_ms(t->n, 0));
        rs[i].body.post.room = (kz_str){"general", 7};
        rs[i].body.post.text = (kz_str){text, (uint32_t)sizeof text};
        assert_int_equal(kz_record_sign(&rs[i], m->sk), 0);
        ps[i] = &rs[i];
    }
    assert_int_equal(kz_store_put_batch(t->n->store, ps, n, res), 0);
    for (unsigned i = 0; i < n; i++)
        kz_record_close(&rs[i]);
    free(rs);
    free(ps);
    free(res);
}

struct slowwatch {
    tnode *t;
    int n;
    size_t max_backlog;
};

static void backlog_cb(void *ud, const kz_gossip_peer_info *in)
{
    struct slowwatch *w = ud;
    if (in->tx_backlog > w->max_backlog)
        w->max_backlog = in->tx_backlog;
}

static bool slow_converged(void *ud)
{
    struct slowwatch *w = ud;
    assert_int_equal(kz_gossip_peer_each(w->t[1].n, backlog_cb, w), 0);
    struct same s = {w->t, w->n};
    return all_same(&s);
}

/* A peer that stops reading gets at most the write backlog bound queued for
 * it, and the other peers still receive everything (a relays b's records
 * to c while the slow peer sits on its socket). */
static void test_slow_peer_does_not_stall(void **state)
{
    (void)state;
    tnode t[3];
    member m;
    pthread_t th;
    struct hostile h;
    root_setup();
    node_make(&t[0], "b", 1);
    node_make(&t[1], "a", 1);
    node_make(&t[2], "c", 1);
    member_make(&t[0], &m);
    big_posts_batch(&t[0], &m, 2500); /* about 20 MB */
    for (int i = 0; i < 3; i++)
        node_start(&t[i]);
    memset(&h, 0, sizeof h);
    h.port = t[1].port;
    h.mode = 2;
    memcpy(h.target, t[1].n->keys.node_pk, 32);
    memset(h.fed, 0x11, 32);
    assert_int_equal(pthread_create(&th, NULL, hostile_main, &h), 0);
    assert_true(run_until(hostile_done, &h, 3000));
    peer(&t[1], &t[0]);
    peer(&t[2], &t[1]);
    struct slowwatch w = {t, 3, 0};
    bool ok = run_until(slow_converged, &w, 30000);
    /* Shutdown must not wait for a peer that does not read: the loop runs
     * dry while the slow peer still sits on its full socket. */
    uint64_t t0 = kz_now_ms();
    for (int i = 0; i < 3; i++)
        node_stop(&t[i]);
    uv_run(&g_loop, UV_RUN_DEFAULT);
    uint64_t stop_ms = kz_now_ms() - t0;
    h.stop = 1;
    pthread_join(th, NULL);
    assert_true(ok);
    assert_true(stop_ms < 5000);
    assert_int_equal(nrec(&t[2]), 3 + 1 + 2500 + 1); /* + the slow peer's node record */
    fprintf(stderr, "max backlog to the slow peer: %zu bytes\n", w.max_backlog);
    assert_true(w.max_backlog > 0);
    assert_true(w.max_backlog <= KZ_GOSSIP_TX_BACKLOG + (2u << 20));
    all_stop_free(t, 3);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_slow_peer_does_not_stall),
    cmocka_unit_test(test_duplicate_and_keepalive),
    cmocka_unit_test(test_peering_listed),
    cmocka_unit_test(test_handshake_budget_and_timeout),
    cmocka_unit_test(test_two_nodes_converge),
    cmocka_unit_test(test_line_relay),
    cmocka_unit_test(test_holding_area),
    cmocka_unit_test(test_wrong_federation_key),
    cmocka_unit_test(test_wrong_node_id),
    cmocka_unit_test(test_block_unblock),
    cmocka_unit_test(test_tampered_record_drops_link),
};

KZ_TEST_MAIN(tests)
