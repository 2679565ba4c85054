/* recon_fixtures.h: seeded ids, id sets and whole vectors shared by the
 * reconciliation unit tests (test_recon.c, test_recon_hostile.c). Include
 * after kz_test.h. */
#ifndef KZ_RECON_FIXTURES_H
#define KZ_RECON_FIXTURES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kz_recon.h"

/* Deterministic ids from a seed (splitmix64), so every failure reproduces. */
static inline uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline void rng_id(uint64_t *s, uint8_t id[32])
{
    for (int i = 0; i < 4; i++) {
        uint64_t v = rng_next(s);
        memcpy(id + 8 * i, &v, 8);
    }
}

/* A growable list of ids, as a reconciler reports them. */
typedef struct {
    uint8_t (*ids)[32];
    size_t n, cap;
} idset;

static inline void idset_push(idset *s, const uint8_t id[32])
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->ids = realloc(s->ids, s->cap * 32);
        assert_non_null(s->ids);
    }
    memcpy(s->ids[s->n++], id, 32);
}

static inline void idset_free(idset *s)
{
    free(s->ids);
    memset(s, 0, sizeof *s);
}

/* What one side of a session learned: ids it has that the peer lacks, and
 * ids the peer has that it needs. */
typedef struct {
    idset have, need;
} side;

static inline int collect_cb(void *ud, kz_recon_dir dir, const uint8_t id[32])
{
    side *s = ud;
    idset_push(dir == KZ_RECON_HAVE ? &s->have : &s->need, id);
    return 0;
}

static inline void side_free(side *s)
{
    idset_free(&s->have);
    idset_free(&s->need);
}

static const uint8_t test_salt[KZ_RECON_SALT_BYTES] = "kizuna-test-salt";

static inline void add(kz_recon_vec *v, uint64_t ts, const uint8_t id[32])
{
    assert_int_equal(kz_recon_vec_add(v, ts, id), 0);
}

/* n shared items plus na items only in a and nb only in b, timestamps from
 * [t0, t0 + span). */
static inline void make_sets(uint64_t seed, size_t n, size_t na, size_t nb, uint64_t t0,
                             uint64_t span, kz_recon_vec *a, kz_recon_vec *b)
{
    uint64_t s = seed;
    uint8_t id[32];
    for (size_t i = 0; i < n + na + nb; i++) {
        uint64_t ts = t0 + (span ? rng_next(&s) % span : 0);
        rng_id(&s, id);
        if (i < n || i < n + na)
            add(a, ts, id);
        if (i < n || i >= n + na)
            add(b, ts, id);
    }
}

#endif /* KZ_RECON_FIXTURES_H */
