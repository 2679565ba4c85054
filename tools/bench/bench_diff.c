/* bench_diff.c: adds exactly D differing records to a stopped node's store
 * for the reconciliation benchmark: a fresh member attested by the node and
 * D-1 posts by it, with creation times either scattered uniformly over
 * [FROM_MS, TO_MS) (in among the records both stores share) or recent (the
 * last D milliseconds before now).
 *
 * usage: bench_diff --data DIR --records D [--from MS --to MS]
 * Without --from/--to the records are recent. Prints the number stored. */
#include "kz_node.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RECORDS 1000000ull
#define BATCH 2048u

static int parse_u64(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Store recs[0..n) in one durable batch; close them. Returns refusals or -1. */
static long flush(kz_store *s, kz_record *recs, size_t n)
{
    const kz_record **ptrs = kz_xcalloc(n ? n : 1, sizeof *ptrs);
    kz_put_result *res = kz_xcalloc(n ? n : 1, sizeof *res);
    for (size_t i = 0; i < n; i++)
        ptrs[i] = &recs[i];
    long bad = 0;
    int rc = kz_store_put_batch(s, ptrs, n, res);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0 && res[i].rc != 0) {
            fprintf(stderr, "bench_diff: record refused: %s\n", kz_strerror(res[i].rc));
            bad++;
        }
        kz_record_close(&recs[i]);
    }
    free(ptrs);
    free(res);
    return rc != 0 ? -1 : bad;
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    unsigned long long d = 0, from = 0, to = 0;
    char err[KZ_ERR_MAX];
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (strcmp(a, "--data") == 0)
            dir = v;
        else if (strcmp(a, "--records") == 0 && parse_u64(v, MAX_RECORDS, &d) == 0)
            continue;
        else if (strcmp(a, "--from") == 0 && parse_u64(v, UINT64_MAX / 2, &from) == 0)
            continue;
        else if (strcmp(a, "--to") == 0 && parse_u64(v, UINT64_MAX / 2, &to) == 0)
            continue;
        else {
            fprintf(stderr, "bench_diff: bad argument %s %s\n", a, v);
            return 2;
        }
    }
    if (!dir || d == 0 || (argc % 2) != 1 || (from || to ? to <= from + d : 0)) {
        fprintf(stderr, "usage: bench_diff --data DIR --records D [--from MS --to MS] (TO > FROM + D)\n");
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    if (!from && !to) {
        to = kz_now_ms() - 1000;
        from = to - d - 1;
    }
    /* Distinct times, sorted: the attestation takes the earliest. */
    uint64_t *t = kz_xcalloc(d, sizeof *t);
    for (unsigned long long i = 0; i < d; i++)
        t[i] = from + randombytes_uniform((uint32_t)(to - from > UINT32_MAX ? UINT32_MAX : to - from));
    qsort(t, d, sizeof *t, cmp_u64);

    kz_keys keys;
    int lock = -1;
    kz_store *s = NULL;
    if (kz_keys_load_node(&keys, dir, err, sizeof err) != 0 ||
        kz_datadir_lock(dir, &lock, err, sizeof err) != 0) {
        fprintf(stderr, "bench_diff: %s\n", err);
        free(t);
        return 1;
    }
    int rc = kz_store_create(&s, dir, NULL);
    if (rc != 0) {
        fprintf(stderr, "bench_diff: cannot open the store: %s\n", kz_strerror(rc));
        goto fail_store;
    }
    uint8_t mpk[KZ_KEY_BYTES], msk[KZ_SECKEY_BYTES];
    crypto_sign_keypair(mpk, msk);
    kz_record *recs = kz_xcalloc(BATCH, sizeof *recs);
    kz_record r;
    kz_record_init(&r, KZ_T_ATTEST, keys.node_pk, t[0]);
    memcpy(r.body.attest.member, mpk, KZ_KEY_BYTES);
    r.body.attest.role = KZ_ROLE_ALUMNI;
    r.body.attest.joined = 2001;
    r.body.attest.left = 2011;
    rc = kz_record_sign(&r, keys.node_sk);
    recs[0] = r;
    long bad = rc == 0 ? flush(s, recs, 1) : -1; /* the attestation first, alone */
    size_t n = 0;
    char text[96];
    for (unsigned long long i = 1; i < d && bad == 0; i++) {
        snprintf(text, sizeof text, "difference %llu of %llu", i, d);
        kz_record_init(&r, KZ_T_POST, mpk, t[i]);
        r.body.post.room = (kz_str){"general", 7};
        r.body.post.text = (kz_str){text, (uint32_t)strlen(text)};
        if (kz_record_sign(&r, msk) != 0) {
            bad = -1;
            break;
        }
        recs[n++] = r;
        if (n == BATCH || i + 1 == d) {
            bad = flush(s, recs, n);
            n = 0;
        }
    }
    sodium_memzero(msk, sizeof msk);
    free(recs);
    kz_store_free(s);
    free(t);
    kz_datadir_unlock(lock);
    kz_keys_wipe(&keys);
    if (bad != 0) {
        fprintf(stderr, "bench_diff: not every record was stored\n");
        return 1;
    }
    printf("%llu\n", d);
    return 0;

fail_store:
    free(t);
    kz_datadir_unlock(lock);
    kz_keys_wipe(&keys);
    return 1;
}
