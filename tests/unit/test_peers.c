/* kz-test-link: kz_store */
/* test_peers.c: the store's peers database: put, get, replace, delete,
 * iteration order, address validation and persistence across reopen. */
#include "kz_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kz_store.h"

static char g_dir[64];

static kz_store *open_fresh(void)
{
    kz_store *s = NULL;
    snprintf(g_dir, sizeof g_dir, "/tmp/kz_test_peers_XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    assert_int_equal(kz_store_create(&s, g_dir, NULL), 0);
    return s;
}

static void cleanup(kz_store *s)
{
    char cmd[128];
    kz_store_free(s);
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    assert_int_equal(system(cmd), 0);
}

static kz_store_peer mk(uint8_t b, const char *addr)
{
    kz_store_peer p;
    memset(&p, 0, sizeof p);
    memset(p.node, b, sizeof p.node);
    snprintf(p.addr, sizeof p.addr, "%s", addr);
    p.added_ms = 1700000000000ull + b;
    p.last_contact_ms = 1700000001000ull;
    p.last_sync_ms = 1700000002000ull;
    p.sync_diffs = 7;
    p.records_in = 1;
    p.records_out = 2;
    p.bytes_in = 0xffffffffffull;
    p.bytes_out = 4;
    return p;
}

static void test_roundtrip(void **state)
{
    (void)state;
    kz_store *s = open_fresh();
    kz_store_peer a = mk(0x22, "127.0.0.1:7420"), got;
    assert_int_equal(kz_store_peer_get(s, a.node, &got), KZ_ENOTFOUND);
    assert_int_equal(kz_store_peer_put(s, &a), 0);
    assert_int_equal(kz_store_peer_get(s, a.node, &got), 0);
    assert_memory_equal(&got, &a, sizeof a);
    a.records_in = 99;
    a.addr[0] = '\0'; /* inbound-only peers have no address */
    assert_int_equal(kz_store_peer_put(s, &a), 0);
    assert_int_equal(kz_store_peer_get(s, a.node, &got), 0);
    assert_int_equal(got.records_in, 99);
    assert_string_equal(got.addr, "");
    kz_store_free(s);
    assert_int_equal(kz_store_create(&s, g_dir, NULL), 0);
    assert_int_equal(kz_store_peer_get(s, a.node, &got), 0);
    assert_int_equal(got.records_in, 99);
    assert_int_equal(kz_store_peer_del(s, a.node), 0);
    assert_int_equal(kz_store_peer_del(s, a.node), KZ_ENOTFOUND);
    assert_int_equal(kz_store_peer_get(s, a.node, &got), KZ_ENOTFOUND);
    cleanup(s);
}

static void test_bad_addr(void **state)
{
    (void)state;
    kz_store *s = open_fresh();
    kz_store_peer a = mk(0x01, "host name:1");
    assert_int_equal(kz_store_peer_put(s, &a), KZ_EINVAL);
    a = mk(0x01, "h\x80:1");
    assert_int_equal(kz_store_peer_put(s, &a), KZ_EINVAL);
    assert_int_equal(kz_store_peer_get(s, a.node, &a), KZ_ENOTFOUND);
    cleanup(s);
}

struct seen {
    int n;
    uint8_t first[8];
};

static int iter_cb(void *ud, const kz_store_peer *p)
{
    struct seen *sn = ud;
    if (sn->n < 8)
        sn->first[sn->n] = p->node[0];
    sn->n++;
    return sn->n == 2 && p->node[0] == 0xee ? 1 : 0;
}

static void test_iter(void **state)
{
    (void)state;
    kz_store *s = open_fresh();
    const uint8_t order[] = {0x30, 0x10, 0x20};
    for (size_t i = 0; i < sizeof order; i++) {
        kz_store_peer p = mk(order[i], "example.org:7420");
        assert_int_equal(kz_store_peer_put(s, &p), 0);
    }
    struct seen sn = {0};
    assert_int_equal(kz_store_peer_iter(s, iter_cb, &sn), 0);
    assert_int_equal(sn.n, 3);
    assert_int_equal(sn.first[0], 0x10);
    assert_int_equal(sn.first[1], 0x20);
    assert_int_equal(sn.first[2], 0x30);
    cleanup(s);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_roundtrip),
    cmocka_unit_test(test_bad_addr),
    cmocka_unit_test(test_iter),
};

KZ_TEST_MAIN(tests)
