/* bench_recon.c: reconciliation cost on two large in-memory sets (round trips, bytes, time).
 *
 * Usage: bench_recon [ITEMS [FRAME_LIMIT [D1,D2,... [SESSIONS]]]]
 *        (defaults: 1000000 items, the library's frame limit, 0,1,100,10000, 5)
 *
 * Builds ITEMS items (timestamps spread over five years, random ids), picks
 * D of them as differences (scattered over the whole set, or the D newest:
 * "recent"), gives even-numbered differences only to A and odd-numbered ones
 * only to B, and runs a whole session A (initiator) <-> B (responder) in
 * memory. Every run is checked: both sides must report exactly the true
 * differences. Reported per case:
 *   rt        round trips (messages / 2; the last message is a 2-byte
 *             acknowledgement, so 1.5 means "answered in one round trip")
 *   A->B B->A bytes each way
 *   B/diff    all bytes / D (worst: the most expensive of the sessions)
 *   ovh/diff  (all bytes - 32 * D) / D: what the protocol costs beyond the
 *             32-byte ids that must cross anyway
 *   vs-ids    all bytes relative to sending one side's full id list
 *   ms        wall time of the session (both sides, one core), set-up excluded
 *   passes    ms relative to this machine's ceiling for touching every item:
 *             one SipHash (the short-id function) over all ITEMS ids, timed
 *             first. A session that sketches the whole set costs about two. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "kz_recon.h"

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int item_cmp(const void *pa, const void *pb)
{
    const kz_recon_item *a = pa, *b = pb;
    if (a->created_ms != b->created_ms)
        return a->created_ms < b->created_ms ? -1 : 1;
    return memcmp(a->id, b->id, KZ_RECON_ID_BYTES);
}

/* Order-independent digest of a set of ids: count and sum mod 2^256. */
typedef struct {
    uint64_t n;
    uint64_t sum[4];
} digest;

static void digest_add(digest *d, const uint8_t id[32])
{
    unsigned __int128 carry = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t w;
        memcpy(&w, id + 8 * i, 8);
        carry += (unsigned __int128)d->sum[i] + w;
        d->sum[i] = (uint64_t)carry;
        carry >>= 64;
    }
    d->n++;
}

static bool digest_eq(const digest *a, const digest *b)
{
    return a->n == b->n && memcmp(a->sum, b->sum, sizeof a->sum) == 0;
}

typedef struct {
    digest have, need;
} side;

static int collect_cb(void *ud, kz_recon_dir dir, const uint8_t id[32])
{
    side *s = ud;
    digest_add(dir == KZ_RECON_HAVE ? &s->have : &s->need, id);
    return 0;
}

static double ceiling_ms = 1;

typedef struct {
    uint64_t msgs, ab, ba;
    double ms;
    uint64_t pending_peak;
} result;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int run(kz_recon_vec *a, kz_recon_vec *b, size_t limit, side *sa, side *sb, result *res)
{
    kz_recon_storage st_a, st_b;
    kz_recon *ra = NULL, *rb = NULL;
    kz_recon_buf m1, m2;
    int rc;
    memset(res, 0, sizeof *res);
    kz_recon_vec_storage(a, &st_a);
    kz_recon_vec_storage(b, &st_b);
    kz_recon_buf_init(&m1, KZ_RECON_MSG_MAX);
    kz_recon_buf_init(&m2, KZ_RECON_MSG_MAX);
    if ((rc = kz_recon_create(&ra, &st_a, KZ_RECON_INITIATOR, limit, collect_cb, sa)) != 0 ||
        (rc = kz_recon_create(&rb, &st_b, KZ_RECON_RESPONDER, limit, collect_cb, sb)) != 0)
        goto out;
    double t0 = now_ms();
    if ((rc = kz_recon_initiate(ra, &m1)) != 0)
        goto out;
    kz_recon_buf *msg = &m1, *reply = &m2;
    kz_recon *to = rb;
    bool done_a = false, done_b = false;
    while (msg->len > 0) {
        res->msgs++;
        if (to == rb)
            res->ab += msg->len;
        else
            res->ba += msg->len;
        bool done = false;
        if ((rc = kz_recon_step(to, msg->data, msg->len, reply, &done)) != 0)
            goto out;
        if (done)
            *(to == ra ? &done_a : &done_b) = true;
        kz_recon_buf *t = msg;
        msg = reply;
        reply = t;
        to = to == ra ? rb : ra;
    }
    res->ms = now_ms() - t0;
    if (!done_a || !done_b)
        rc = KZ_EPROTO;
    kz_recon_stats s1, s2;
    kz_recon_stats_get(ra, &s1);
    kz_recon_stats_get(rb, &s2);
    res->pending_peak = s1.pending_peak > s2.pending_peak ? s1.pending_peak : s2.pending_peak;
out:
    kz_recon_free(ra);
    kz_recon_free(rb);
    kz_recon_buf_close(&m1);
    kz_recon_buf_close(&m2);
    return rc;
}

/* One case: items[] sorted; diff[i] marks differences (1 = only in A, 2 = only in B). */
static int bench_case(const char *name, const kz_recon_item *items, size_t n, const uint8_t *diff,
                      uint64_t ndiff, size_t limit, int reps)
{
    kz_recon_vec *a = kz_recon_vec_create(), *b = kz_recon_vec_create();
    digest a_only = {0}, b_only = {0};
    for (size_t i = 0; i < n; i++) {
        if (diff[i] != 2 && kz_recon_vec_add(a, items[i].created_ms, items[i].id) != 0)
            return 1;
        if (diff[i] != 1 && kz_recon_vec_add(b, items[i].created_ms, items[i].id) != 0)
            return 1;
        if (diff[i] == 1)
            digest_add(&a_only, items[i].id);
        if (diff[i] == 2)
            digest_add(&b_only, items[i].id);
    }
    kz_recon_vec_seal(a);
    kz_recon_vec_seal(b);
    /* Sessions differ only by their random salt, which moves short ids
     * between sketch cells: small cases vary, so report means and the worst. */
    double msgs = 0, ab = 0, ba = 0, ms = 0, worst = 0;
    uint64_t carried = 0;
    for (int k = 0; k < reps; k++) {
        side sa = {0}, sb = {0};
        result res;
        int rc = run(a, b, limit, &sa, &sb, &res);
        if (rc) {
            fprintf(stderr, "%s: session failed: %s\n", name, kz_strerror(rc));
            return 1;
        }
        if (!digest_eq(&sa.have, &a_only) || !digest_eq(&sa.need, &b_only) ||
            !digest_eq(&sb.have, &b_only) || !digest_eq(&sb.need, &a_only)) {
            fprintf(stderr, "%s: wrong have/need sets\n", name);
            return 1;
        }
        msgs += (double)res.msgs / reps;
        ab += (double)res.ab / reps;
        ba += (double)res.ba / reps;
        ms += res.ms / reps;
        if ((double)(res.ab + res.ba) > worst)
            worst = (double)(res.ab + res.ba);
        if (res.pending_peak > carried)
            carried = res.pending_peak;
    }
    double total = ab + ba;
    size_t na = kz_recon_vec_size(a), nb = kz_recon_vec_size(b), full = na > nb ? na : nb;
    char per[32] = "-", ovh[32] = "-", bad[32] = "-";
    if (ndiff) {
        snprintf(per, sizeof per, "%.0f", total / (double)ndiff);
        snprintf(bad, sizeof bad, "%.0f", worst / (double)ndiff);
        snprintf(ovh, sizeof ovh, "%.0f", (total - 32.0 * (double)ndiff) / (double)ndiff);
    }
    printf("%-16s %8llu %5.1f %10.0f %10.0f %10.0f %7s %7s %8s %8.3f%% %8.1f %6.1f %7llu\n", name,
           (unsigned long long)ndiff, msgs / 2, ab, ba, total, per, bad, ovh,
           100.0 * total / (32.0 * (double)(full ? full : 1)), ms, ms / ceiling_ms,
           (unsigned long long)carried);
    fflush(stdout);
    kz_recon_vec_free(a);
    kz_recon_vec_free(b);
    return 0;
}

static size_t parse_size(const char *s, size_t dflt)
{
    if (!s)
        return dflt;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || end == s || v == 0) {
        fprintf(stderr, "bench_recon: bad number '%s'\n", s);
        exit(2);
    }
    return (size_t)v;
}

int main(int argc, char **argv)
{
    size_t n = parse_size(argc > 1 ? argv[1] : NULL, 1000000);
    size_t limit = parse_size(argc > 2 ? argv[2] : NULL, KZ_RECON_FRAME_DEFAULT);
    int reps = (int)parse_size(argc > 4 ? argv[4] : NULL, 5);
    uint64_t seed = 20240601;
    const uint64_t now = 1717200000000ull, span = 5ull * 365 * 86400 * 1000;

    kz_recon_item *items = malloc(n * sizeof *items);
    uint8_t *diff = calloc(n, 1);
    if (!items || !diff)
        return 1;
    for (size_t i = 0; i < n; i++) {
        items[i].created_ms = now - span + rng_next(&seed) % span;
        for (int k = 0; k < 4; k++) {
            uint64_t w = rng_next(&seed);
            memcpy(items[i].id + 8 * k, &w, 8);
        }
    }
    qsort(items, n, sizeof *items, item_cmp);
    if (sodium_init() < 0)
        return 1;
    uint8_t key[crypto_shorthash_KEYBYTES] = {1}, h[crypto_shorthash_BYTES], acc = 0;
    double t0 = now_ms();
    for (size_t i = 0; i < n; i++) {
        crypto_shorthash(h, items[i].id, sizeof items[i].id, key);
        acc ^= h[0];
    }
    ceiling_ms = now_ms() - t0;
    if (ceiling_ms <= 0)
        ceiling_ms = 1e-3;

    printf("reconciliation benchmark: %zu items per side, frame limit %zu bytes\n", n, limit);
    printf("ceiling: one SipHash pass over all ids takes %.1f ms (check %u)\n", ceiling_ms, acc);
    printf("%d sessions per case (fresh salt each); all columns are means except worst and "
           "carried (max)\n", reps);
    printf("%-16s %8s %5s %10s %10s %10s %7s %7s %8s %9s %8s %6s %7s\n", "case", "diffs", "rt",
           "A->B", "B->A", "total", "B/diff", "worst", "ovh/diff", "vs-ids", "ms", "passes",
           "carried");
    uint64_t counts[16] = {0, 1, 100, 10000};
    size_t ncounts = 4;
    if (argc > 3) {
        ncounts = 0;
        for (const char *p = argv[3]; *p && ncounts < 16;) {
            char *end;
            unsigned long long v = strtoull(p, &end, 10);
            if (end == p || (*end && *end != ',')) {
                fprintf(stderr, "bench_recon: bad difference list '%s'\n", argv[3]);
                return 2;
            }
            counts[ncounts++] = v;
            p = *end ? end + 1 : end;
        }
    }
    int bad = 0;
    for (int recent = 0; recent <= 1; recent++) {
        for (size_t c = 0; c < ncounts; c++) {
            uint64_t d = counts[c];
            if (d == 0 && recent)
                continue;
            if (d > n)
                break;
            memset(diff, 0, n);
            uint64_t placed = 0;
            while (placed < d) {
                size_t i = recent ? n - 1 - (size_t)placed : (size_t)(rng_next(&seed) % n);
                if (diff[i])
                    continue;
                diff[i] = (uint8_t)(placed % 2 == 0 ? 1 : 2);
                placed++;
            }
            char name[64];
            snprintf(name, sizeof name, "%s",
                     d == 0 ? "identical" : recent ? "recent" : "scattered");
            bad |= bench_case(name, items, n, diff, d, limit, reps);
        }
    }
    /* One side empty: every id must cross, in frames of at most `limit`. */
    memset(diff, 2, n);
    bad |= bench_case("initiator empty", items, n, diff, n, limit, 1);
    memset(diff, 1, n);
    bad |= bench_case("responder empty", items, n, diff, n, limit, 1);
    free(items);
    free(diff);
    return bad;
}
