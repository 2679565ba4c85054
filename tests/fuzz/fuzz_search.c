/* kz-test-link: kz_store */
/* fuzz_search.c: directory queries from arbitrary bytes against a small
 * store of known members (built once per process).
 *
 * Input: byte 0 limit, byte 1 open_to bits, bytes 2-5 left_from / left_to
 * (big-endian), byte 6 flags (viewer, secretariat, rehire, first-class
 * queries, home node filter), then up to six NUL-separated strings: query
 * text, cursor, current company, skill, location, home company.
 * Oracles: only documented error codes; a success has at most `limit` hits,
 * each one of the store's members, never a hidden profile, a company-only
 * profile only for a viewer of that company, the re-hire flag only in the
 * secretariat view of its home; and the next page (when there is one) runs
 * without error and repeats no member of the first. */
#include <dirent.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kz_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "fuzz_search: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

#define NMEM 12
#define T0 1700000000000ull

static kz_store *store;
static char dir[64];
static uint8_t nodes[2][KZ_KEY_BYTES], nodes_sk[2][KZ_SECKEY_BYTES];
static uint8_t members[NMEM][KZ_KEY_BYTES];
static uint8_t vis[NMEM], home_of[NMEM];

static void cleanup(void)
{
    char path[64 + 256 + 2];
    kz_store_free(store);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static kz_str S(const char *s)
{
    return (kz_str){s, (uint32_t)strlen(s)};
}

static void put(kz_record *r, const uint8_t *sk)
{
    CHECK(kz_record_sign(r, sk) == 0);
    CHECK(kz_store_put(store, r, NULL) == 0);
    kz_record_close(r);
}

static void setup(void)
{
    static const char *const names[][4] = {
        {"鈴木 一郎", "すずき いちろう", "住友商事", "東京都"},
        {"佐藤 花子", "さとう はなこ", "Acme Corp", "大阪府"},
        {"John Smith", "じょん すみす", "Initech", "London"},
        {"田中 太郎", "たなか たろう", "住友商事株式会社", "東京都 港区"},
    };
    uint64_t t = T0;
    CHECK(sodium_init() >= 0);
    snprintf(dir, sizeof dir, "/tmp/kz_fuzz_search_XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    CHECK(kz_store_create(&store, dir, NULL) == 0);
    atexit(cleanup);
    for (int n = 0; n < 2; n++) {
        uint8_t seed[crypto_sign_SEEDBYTES];
        memset(seed, 0x40 + n, sizeof seed);
        crypto_sign_seed_keypair(nodes[n], nodes_sk[n], seed);
        kz_record r;
        kz_record_init(&r, KZ_T_NODE, nodes[n], t++);
        r.body.node.name = S(n ? "Globex" : "住友商事");
        put(&r, nodes_sk[n]);
    }
    for (int i = 0; i < NMEM; i++) {
        uint8_t seed[crypto_sign_SEEDBYTES], sk[KZ_SECKEY_BYTES];
        memset(seed, 0x60 + i, sizeof seed);
        crypto_sign_seed_keypair(members[i], sk, seed);
        home_of[i] = (uint8_t)(i % 2);
        vis[i] = (uint8_t)(i % 5 == 4 ? KZ_VIS_HIDDEN : i % 3 == 2 ? KZ_VIS_COMPANY : KZ_VIS_FEDERATION);
        kz_record a, p;
        kz_record_init(&a, KZ_T_ATTEST, nodes[home_of[i]], t++);
        memcpy(a.body.attest.member, members[i], KZ_KEY_BYTES);
        a.body.attest.joined = (uint16_t)(2000 + i);
        a.body.attest.left = (uint16_t)(2010 + i);
        a.body.attest.department = S(i % 2 ? "営業部" : "Engineering");
        put(&a, nodes_sk[home_of[i]]);
        const char *const *nm = names[i % 4];
        kz_record_init(&p, KZ_T_PROFILE, members[i], t++);
        p.body.profile.name = S(nm[0]);
        p.body.profile.reading = S(nm[1]);
        p.body.profile.current_company = S(nm[2]);
        p.body.profile.location = S(nm[3]);
        p.body.profile.skills[0] = S(i % 2 ? "Go" : "機械学習");
        p.body.profile.n_skills = 1;
        p.body.profile.open_to = (uint32_t)(i & 7);
        p.body.profile.visibility = vis[i];
        put(&p, sk);
        sodium_memzero(sk, sizeof sk);
        if (i % 4 == 1) {
            kz_store_member m = {0};
            memcpy(m.pk, members[i], KZ_KEY_BYTES);
            m.rehire = true;
            CHECK(kz_store_member_put(store, &m) == 0);
        }
    }
}

static int member_index(const uint8_t pk[KZ_KEY_BYTES])
{
    for (int i = 0; i < NMEM; i++) {
        if (memcmp(members[i], pk, KZ_KEY_BYTES) == 0)
            return i;
    }
    return -1;
}

static void check_result(const kz_search_query *q, const kz_search_result *r)
{
    unsigned limit = q->limit ? q->limit : KZ_SEARCH_LIMIT_DEFAULT;
    CHECK(r->n <= limit);
    CHECK(!r->more || strlen(r->next_cursor) > 0);
    for (size_t i = 0; i < r->n; i++) {
        const kz_search_hit *h = &r->hits[i];
        int m = member_index(h->member);
        CHECK(m >= 0);
        CHECK(vis[m] != KZ_VIS_HIDDEN);
        CHECK(memcmp(h->home_node, nodes[home_of[m]], KZ_KEY_BYTES) == 0);
        if (vis[m] == KZ_VIS_COMPANY)
            CHECK(q->viewer_home && memcmp(q->viewer_home, h->home_node, KZ_KEY_BYTES) == 0);
        if (h->rehire_known)
            CHECK(q->secretariat && memcmp(q->viewer_home, h->home_node, KZ_KEY_BYTES) == 0);
        CHECK(kz_utf8_valid(h->name, strlen(h->name), 0));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store)
        setup();
    if (size < 7 || size > 4096)
        return 0;
    char *buf = malloc(size - 7 + 1);
    CHECK(buf != NULL);
    memcpy(buf, data + 7, size - 7);
    buf[size - 7] = 0;
    const char *str[6] = {NULL};
    char *p = buf, *end = buf + (size - 7);
    for (int i = 0; i < 6 && p <= end; i++) {
        str[i] = p;
        p += strlen(p) + 1;
    }
    kz_search_query q = {
        .text = str[0],
        .cursor = str[1] && str[1][0] ? str[1] : NULL,
        .current_company = str[2],
        .skill = str[3],
        .location = str[4],
        .home_company = str[5],
        .limit = data[0] % 120,
        .open_to = data[1] & 0xFu,
        .left_from = (uint16_t)(data[2] << 8 | data[3]),
        .left_to = (uint16_t)(data[4] << 8 | data[5]),
    };
    uint8_t f = data[6];
    if (f & 1)
        q.viewer_home = nodes[(f >> 1) & 1];
    q.secretariat = f & 4;
    q.rehire = f & 8;
    if (f & 16)
        q.same_current_company_as = members[data[0] % NMEM];
    if (f & 32)
        q.former_colleagues_of = members[data[1] % NMEM];
    if (f & 64)
        q.home_node = nodes[f >> 7];
    kz_search_result *r = NULL;
    const char *reason = NULL;
    int rc = kz_store_search(store, &q, &r, &reason);
    if (rc != 0) {
        CHECK(r == NULL && reason != NULL);
        CHECK(rc == KZ_EINVAL || rc == KZ_ETOOBIG || rc == KZ_ENOTFOUND || rc == KZ_EPERM);
    } else {
        check_result(&q, r);
        if (r->more) {
            kz_search_query q2 = q;
            kz_search_result *r2 = NULL;
            q2.cursor = r->next_cursor;
            CHECK(kz_store_search(store, &q2, &r2, &reason) == 0);
            check_result(&q2, r2);
            for (size_t i = 0; i < r2->n; i++)
                for (size_t j = 0; j < r->n; j++)
                    CHECK(memcmp(r2->hits[i].member, r->hits[j].member, KZ_KEY_BYTES) != 0);
            kz_store_search_free(r2);
        }
        kz_store_search_free(r);
    }
    free(buf);
    return 0;
}
