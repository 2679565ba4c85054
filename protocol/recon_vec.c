/* recon_vec.c: range accumulators and kz_recon_vec, the sorted in-memory item storage. */
#include "kz_recon.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* ---- Accumulators: sum of item hashes mod 2^256 (little-endian), count --- */

void kz_recon_item_hash(const kz_recon_item *it, uint8_t out[KZ_RECON_ITEM_HASH_BYTES])
{
    uint8_t in[KZ_RECON_ID_BYTES + 8];
    memcpy(in, it->id, KZ_RECON_ID_BYTES);
    for (int i = 0; i < 8; i++)
        in[KZ_RECON_ID_BYTES + i] = (uint8_t)(it->created_ms >> (8 * i));
    crypto_generichash(out, KZ_RECON_ITEM_HASH_BYTES, in, sizeof in, NULL, 0);
}

void kz_recon_acc_init(kz_recon_acc *a)
{
    memset(a, 0, sizeof *a);
}

static void add256(uint8_t sum[32], const uint8_t v[32])
{
    unsigned carry = 0;
    for (size_t i = 0; i < 32; i++) {
        unsigned t = (unsigned)sum[i] + v[i] + carry;
        sum[i] = (uint8_t)t;
        carry = t >> 8;
    }
}

static void sub256(uint8_t sum[32], const uint8_t v[32])
{
    unsigned borrow = 0;
    for (size_t i = 0; i < 32; i++) {
        unsigned t = (unsigned)sum[i] - v[i] - borrow;
        sum[i] = (uint8_t)t;
        borrow = (t >> 8) & 1;
    }
}

void kz_recon_acc_add(kz_recon_acc *a, const kz_recon_item *it)
{
    uint8_t h[KZ_RECON_ITEM_HASH_BYTES];
    kz_recon_item_hash(it, h);
    add256(a->sum, h);
    a->count++;
}

void kz_recon_acc_merge(kz_recon_acc *a, const kz_recon_acc *b)
{
    add256(a->sum, b->sum);
    a->count += b->count;
}

void kz_recon_acc_sub(kz_recon_acc *a, const kz_recon_acc *b)
{
    sub256(a->sum, b->sum);
    a->count -= b->count;
}

/* ---- kz_recon_vec -------------------------------------------------------- */

struct kz_recon_vec {
    kz_recon_item *items;
    uint8_t (*prefix)[32]; /* prefix[i]: sum of the hashes of items [0, i) */
    size_t n, cap;
    bool sealed;
    bool in_order; /* every add so far was above the previous one */
};

static int item_cmp(const kz_recon_item *a, const kz_recon_item *b)
{
    if (a->created_ms != b->created_ms)
        return a->created_ms < b->created_ms ? -1 : 1;
    return memcmp(a->id, b->id, KZ_RECON_ID_BYTES);
}

static int item_qsort_cmp(const void *a, const void *b)
{
    return item_cmp(a, b);
}

kz_recon_vec *kz_recon_vec_create(void)
{
    kz_recon_vec *v = kz_xcalloc(1, sizeof *v);
    v->in_order = true;
    return v;
}

void kz_recon_vec_free(kz_recon_vec *v)
{
    if (!v)
        return;
    free(v->items);
    free(v->prefix);
    free(v);
}

int kz_recon_vec_add(kz_recon_vec *v, uint64_t created_ms, const uint8_t id[KZ_RECON_ID_BYTES])
{
    if (created_ms == KZ_RECON_TS_INF)
        return KZ_EINVAL;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 64;
        v->items = kz_xrealloc(v->items, v->cap * sizeof *v->items);
    }
    kz_recon_item *it = &v->items[v->n];
    it->created_ms = created_ms;
    memcpy(it->id, id, KZ_RECON_ID_BYTES);
    if (v->n > 0 && item_cmp(&v->items[v->n - 1], it) >= 0)
        v->in_order = false;
    v->n++;
    v->sealed = false;
    return 0;
}

void kz_recon_vec_seal(kz_recon_vec *v)
{
    if (v->sealed)
        return;
    if (!v->in_order && v->n > 1) {
        qsort(v->items, v->n, sizeof *v->items, item_qsort_cmp);
        size_t w = 1;
        for (size_t i = 1; i < v->n; i++)
            if (item_cmp(&v->items[w - 1], &v->items[i]) != 0)
                v->items[w++] = v->items[i];
        v->n = w;
    }
    free(v->prefix);
    v->prefix = kz_xmalloc((v->n + 1) * sizeof *v->prefix);
    memset(v->prefix[0], 0, 32);
    for (size_t i = 0; i < v->n; i++) {
        uint8_t h[KZ_RECON_ITEM_HASH_BYTES];
        kz_recon_item_hash(&v->items[i], h);
        memcpy(v->prefix[i + 1], v->prefix[i], 32);
        add256(v->prefix[i + 1], h);
    }
    v->sealed = true;
    v->in_order = true;
}

size_t kz_recon_vec_size(const kz_recon_vec *v)
{
    return v->n;
}

const kz_recon_item *kz_recon_vec_item(const kz_recon_vec *v, size_t i)
{
    return &v->items[i];
}

static int vec_size(void *ctx, size_t *n)
{
    kz_recon_vec *v = ctx;
    if (!v->sealed)
        return KZ_EINVAL;
    *n = v->n;
    return 0;
}

static int vec_item_at(void *ctx, size_t index, kz_recon_item *out)
{
    kz_recon_vec *v = ctx;
    if (!v->sealed || index >= v->n)
        return KZ_EINVAL;
    *out = v->items[index];
    return 0;
}

static int vec_lower_bound(void *ctx, uint64_t created_ms, const uint8_t id[KZ_RECON_ID_BYTES],
                           size_t *index)
{
    kz_recon_vec *v = ctx;
    if (!v->sealed)
        return KZ_EINVAL;
    kz_recon_item key;
    key.created_ms = created_ms;
    memcpy(key.id, id, KZ_RECON_ID_BYTES);
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (item_cmp(&v->items[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *index = lo;
    return 0;
}

static int vec_sum(void *ctx, size_t begin, size_t end, kz_recon_acc *out)
{
    kz_recon_vec *v = ctx;
    if (!v->sealed || begin > end || end > v->n)
        return KZ_EINVAL;
    memcpy(out->sum, v->prefix[end], 32);
    sub256(out->sum, v->prefix[begin]);
    out->count = end - begin;
    return 0;
}

static const kz_recon_storage_ops vec_ops = {
    .size = vec_size,
    .item_at = vec_item_at,
    .lower_bound = vec_lower_bound,
    .sum = vec_sum,
};

void kz_recon_vec_storage(kz_recon_vec *v, kz_recon_storage *st)
{
    st->ops = &vec_ops;
    st->ctx = v;
}
