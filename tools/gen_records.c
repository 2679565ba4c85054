/* gen_records.c: kz-gen, a test and benchmark tool that fills a stopped
 * node's store with signed records: members attested by the node (with
 * profiles) and their posts, written in large durable batches. */
#include "kz_node.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KZ_GEN_BATCH 2048u
#define KZ_GEN_MAX 10000000ul

static void usage(FILE *f)
{
    fprintf(f, "usage: kz-gen --data DIR [--members M] [--posts N] [--tag TEXT]\n"
               "       kz-gen --data DIR --delete RECORD_ID --author MEMBER_ID --out FILE\n"
               "Adds M members (attestation and profile, signed by DIR's node key; default 10)\n"
               "and N posts spread over them (default 1000) to the store of DIR. kizunad must\n"
               "not be running on DIR. Creation times lie in the last N+2M milliseconds. TAG\n"
               "(default the node name) goes into names and post texts. Prints the number of\n"
               "records stored.\n"
               "With --delete, signs with DIR's node key a moderation `delete` of RECORD_ID\n"
               "(written by MEMBER_ID, a member this node attests) into FILE, for `kizuna record\n"
               "import`; the store is not touched and kizunad may be running.\n");
}

static int parse_count(const char *s, unsigned long *out)
{
    char *end;
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || v > KZ_GEN_MAX)
        return -1;
    *out = v;
    return 0;
}

typedef struct {
    kz_store *s;
    kz_record *recs;
    const kz_record **ptrs;
    kz_put_result *res;
    size_t n;
    unsigned long stored;
} batch;

static int batch_flush(batch *b)
{
    if (!b->n)
        return 0;
    int rc = kz_store_put_batch(b->s, b->ptrs, b->n, b->res);
    for (size_t i = 0; i < b->n; i++) {
        if (rc == 0 && b->res[i].rc == 0)
            b->stored++;
        else if (rc == 0)
            fprintf(stderr, "kz-gen: record refused: %s\n", kz_strerror(b->res[i].rc));
        kz_record_close(&b->recs[i]);
    }
    b->n = 0;
    return rc;
}

/* Sign r (built by the caller) into the batch, flushing when full. */
static int batch_add(batch *b, kz_record *r, const uint8_t *sk)
{
    int rc = kz_record_sign(r, sk);
    if (rc != 0) {
        fprintf(stderr, "kz-gen: cannot sign: %s (%s)\n", kz_strerror(rc), kz_record_last_error());
        return rc;
    }
    b->recs[b->n] = *r;
    b->ptrs[b->n] = &b->recs[b->n];
    b->n++;
    return b->n == KZ_GEN_BATCH ? batch_flush(b) : 0;
}

static int sign_delete(const char *dir, const char *target, const char *author, const char *out)
{
    kz_keys keys;
    kz_record r;
    char err[KZ_ERR_MAX];
    if (!author || !out) {
        usage(stderr);
        return 2;
    }
    if (kz_keys_load_node(&keys, dir, err, sizeof err) != 0) {
        fprintf(stderr, "kz-gen: %s\n", err);
        return 1;
    }
    kz_record_init(&r, KZ_T_DELETE, keys.node_pk, kz_now_ms());
    if (kz_hex_decode(r.body.del.target, KZ_ID_BYTES, target) != 0 ||
        kz_hex_decode(r.body.del.target_author, KZ_KEY_BYTES, author) != 0) {
        kz_keys_wipe(&keys);
        fprintf(stderr, "kz-gen: RECORD_ID and MEMBER_ID are 64 hex digits\n");
        return 2;
    }
    r.body.del.reason = (kz_str){"moderation test", 15};
    int rc = kz_record_sign(&r, keys.node_sk);
    kz_keys_wipe(&keys);
    FILE *f = rc == 0 ? fopen(out, "wb") : NULL;
    bool wrote = f && fwrite(r.raw, 1, r.raw_len, f) == r.raw_len;
    if (f && fclose(f) != 0)
        wrote = false;
    if (!wrote) {
        fprintf(stderr, "kz-gen: cannot write %s\n", out);
        kz_record_close(&r);
        return 1;
    }
    printf("%s\n", kz_id_to_str(r.id).s);
    kz_record_close(&r);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *tag = NULL, *del = NULL, *author = NULL, *out = NULL;
    unsigned long members = 10, posts = 1000;
    char err[KZ_ERR_MAX], path[KZ_PATH_MAX];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--data") == 0)
            dir = v;
        else if (strcmp(a, "--delete") == 0)
            del = v;
        else if (strcmp(a, "--author") == 0)
            author = v;
        else if (strcmp(a, "--out") == 0)
            out = v;
        else if (strcmp(a, "--tag") == 0 && strlen(v) <= 32)
            tag = v;
        else if (strcmp(a, "--members") == 0 && parse_count(v, &members) == 0)
            continue;
        else if (strcmp(a, "--posts") == 0 && parse_count(v, &posts) == 0)
            continue;
        else {
            fprintf(stderr, "kz-gen: bad argument %s %s\n", a, v);
            usage(stderr);
            return 2;
        }
    }
    if (!dir || (posts && !members)) {
        usage(stderr);
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    if (del)
        return sign_delete(dir, del, author, out);
    kz_config cfg;
    kz_keys keys;
    int lock = -1, rc;
    if (kz_path_join(path, sizeof path, dir, KZ_FILE_CONFIG) != 0 ||
        kz_config_load(&cfg, path, err, sizeof err) != 0 ||
        kz_keys_load_node(&keys, dir, err, sizeof err) != 0 ||
        kz_datadir_lock(dir, &lock, err, sizeof err) != 0) {
        fprintf(stderr, "kz-gen: %s\n", err);
        return 1;
    }
    if (!tag)
        tag = cfg.name;
    batch b;
    memset(&b, 0, sizeof b);
    if ((rc = kz_store_create(&b.s, dir, NULL)) != 0) {
        fprintf(stderr, "kz-gen: cannot open the store: %s\n", kz_strerror(rc));
        return 1;
    }
    b.recs = kz_xcalloc(KZ_GEN_BATCH, sizeof *b.recs);
    b.ptrs = kz_xcalloc(KZ_GEN_BATCH, sizeof *b.ptrs);
    b.res = kz_xcalloc(KZ_GEN_BATCH, sizeof *b.res);
    uint8_t(*mpk)[KZ_KEY_BYTES] = kz_xcalloc(members ? members : 1, KZ_KEY_BYTES);
    uint8_t(*msk)[KZ_SECKEY_BYTES] = kz_xcalloc(members ? members : 1, KZ_SECKEY_BYTES);
    uint64_t t = kz_now_ms() - (posts + 2 * members) - 1000;
    char name[KZ_NAME_MAX + 64], text[KZ_NAME_MAX + 96];
    kz_record r;
    rc = 0;
    for (unsigned long i = 0; i < members && rc == 0; i++) {
        crypto_sign_keypair(mpk[i], msk[i]);
        kz_record_init(&r, KZ_T_ATTEST, keys.node_pk, t++);
        memcpy(r.body.attest.member, mpk[i], KZ_KEY_BYTES);
        r.body.attest.role = KZ_ROLE_ALUMNI;
        r.body.attest.joined = 2000;
        r.body.attest.left = 2010 + (uint16_t)(i % 10);
        rc = batch_add(&b, &r, keys.node_sk);
    }
    /* Attestations first in their own commit, so profiles and posts pass. */
    if (rc == 0)
        rc = batch_flush(&b);
    for (unsigned long i = 0; i < members && rc == 0; i++) {
        snprintf(name, sizeof name, "%s member %lu", tag, i);
        kz_record_init(&r, KZ_T_PROFILE, mpk[i], t++);
        r.body.profile.name = (kz_str){name, (uint32_t)strlen(name)};
        r.body.profile.current_company = (kz_str){tag, (uint32_t)strlen(tag)};
        rc = batch_add(&b, &r, msk[i]);
    }
    for (unsigned long i = 0; i < posts && rc == 0; i++) {
        unsigned long m = i % members;
        snprintf(text, sizeof text, "%s post %lu by member %lu", tag, i, m);
        kz_record_init(&r, KZ_T_POST, mpk[m], t++);
        r.body.post.room = (kz_str){"general", 7};
        r.body.post.text = (kz_str){text, (uint32_t)strlen(text)};
        rc = batch_add(&b, &r, msk[m]);
    }
    if (rc == 0)
        rc = batch_flush(&b);
    sodium_memzero(msk, (members ? members : 1) * KZ_SECKEY_BYTES);
    free(msk);
    free(mpk);
    free(b.recs);
    free(b.ptrs);
    free(b.res);
    kz_store_free(b.s);
    kz_datadir_unlock(lock);
    kz_keys_wipe(&keys);
    if (rc != 0) {
        fprintf(stderr, "kz-gen: cannot store records: %s\n", kz_strerror(rc));
        return 1;
    }
    printf("%lu\n", b.stored);
    return 0;
}
