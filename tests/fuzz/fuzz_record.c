/* kz-test-link: kz_protocol */
/* fuzz_record.c: kz_record_decode on arbitrary bytes. Whatever decodes must be
 * exactly its input, hash to its id, point only into its own copy, and
 * re-sign under another key into a record with byte-identical body. */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kz_record.h"

#define FUZZ_NOW 1800000000000ull /* 2027-01-15: the seed records are older */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                            \
    do {                                                                    \
        if (!(c)) {                                                         \
            fprintf(stderr, "fuzz_record: check failed: %s (line %d)\n", #c, \
                    __LINE__);                                              \
            abort();                                                        \
        }                                                                   \
    } while (0)

static uint8_t fuzz_pk[KZ_KEY_BYTES], fuzz_sk[KZ_SECKEY_BYTES];

static void setup(void)
{
    static int done;
    if (done)
        return;
    CHECK(sodium_init() >= 0);
    uint8_t seed[crypto_sign_SEEDBYTES];
    memset(seed, 0x7f, sizeof seed);
    CHECK(crypto_sign_seed_keypair(fuzz_pk, fuzz_sk, seed) == 0);
    done = 1;
}

static void check_inside(const kz_record *r, const void *p, size_t n)
{
    const uint8_t *q = p;
    if (n == 0)
        return;
    CHECK(q >= r->raw && q + n <= r->raw + r->raw_len);
}

static void check_strs(const kz_record *r, const kz_str *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        check_inside(r, s[i].p, s[i].n);
}

/* Every string and byte field of a decoded record lies inside raw. */
static void check_pointers(const kz_record *r)
{
    switch (r->type) {
    case KZ_T_NODE:
        check_strs(r, &r->body.node.name, 1);
        check_strs(r, r->body.node.addrs, r->body.node.n_addrs);
        break;
    case KZ_T_ATTEST:
        check_strs(r, &r->body.attest.department, 1);
        check_inside(r, r->body.attest.handover.p, r->body.attest.handover.n);
        break;
    case KZ_T_REVOKE:
        check_strs(r, &r->body.revoke.reason, 1);
        check_inside(r, r->body.revoke.handover.p, r->body.revoke.handover.n);
        break;
    case KZ_T_PROFILE: {
        const kz_body_profile *p = &r->body.profile;
        const kz_str *one[] = { &p->name, &p->reading, &p->romaji, &p->department,
                                &p->title, &p->current_company, &p->current_title,
                                &p->location, &p->bio };
        for (size_t i = 0; i < sizeof one / sizeof one[0]; i++)
            check_strs(r, one[i], 1);
        CHECK(p->n_skills <= KZ_SKILLS_MAX && p->n_links <= KZ_LINKS_MAX);
        check_strs(r, p->skills, p->n_skills);
        check_strs(r, p->links, p->n_links);
        break;
    }
    case KZ_T_POST:
        check_strs(r, &r->body.post.room, 1);
        check_strs(r, &r->body.post.text, 1);
        CHECK(r->body.post.n_options <= KZ_POLL_OPTIONS_MAX);
        check_strs(r, r->body.post.options, r->body.post.n_options);
        break;
    case KZ_T_REPLY:
        check_strs(r, &r->body.reply.text, 1);
        break;
    case KZ_T_EVENT: {
        const kz_body_event *e = &r->body.event;
        const kz_str *one[] = { &e->room, &e->title, &e->description, &e->tz, &e->place,
                                &e->link };
        for (size_t i = 0; i < sizeof one / sizeof one[0]; i++)
            check_strs(r, one[i], 1);
        break;
    }
    case KZ_T_DELETE:
        check_strs(r, &r->body.del.reason, 1);
        break;
    case KZ_T_CONTACT:
        check_inside(r, r->body.contact.sealed.p, r->body.contact.sealed.n);
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    kz_record r;
    int rc = kz_record_decode(&r, data, size, FUZZ_NOW, KZ_DECODE_NOVERIFY);
    if (rc != 0) {
        CHECK(rc == KZ_ETOOBIG || rc == KZ_EDECODE || rc == KZ_ENONCANON || rc == KZ_EINVAL ||
              rc == KZ_EFUTURE);
        CHECK(r.raw == NULL);
        CHECK(kz_record_last_error()[0] != '\0');
        return 0;
    }

    /* The decoded record is its input, byte for byte, with the right id. */
    CHECK(r.raw_len == size && r.raw != data && memcmp(r.raw, data, size) == 0);
    uint8_t id[KZ_ID_BYTES];
    kz_record_id(id, data, size);
    CHECK(memcmp(id, r.id, KZ_ID_BYTES) == 0);
    CHECK(kz_rtype_name(r.type) != NULL);
    check_pointers(&r);

    /* Verification agrees between the two entry points. */
    int v = kz_record_verify(&r);
    CHECK(v == 0 || v == KZ_EBADSIG);
    kz_record full;
    int rc2 = kz_record_decode(&full, data, size, FUZZ_NOW, 0);
    CHECK(rc2 == v);
    kz_record_close(&full);

    uint8_t slot[KZ_SLOT_BYTES];
    (void)kz_record_slot(&r, slot);

    /* Re-signing the decoded body under another key must succeed and keep
     * the body bytes: the encoder accepts exactly what the decoder does. */
    kz_record again = r;
    again.raw = NULL;
    again.raw_len = 0;
    memcpy(again.author, fuzz_pk, KZ_KEY_BYTES);
    rc = kz_record_sign(&again, fuzz_sk);
    if ((r.type == KZ_T_ATTEST && r.body.attest.has_previous) ||
        (r.type == KZ_T_REVOKE && r.body.revoke.has_previous)) {
        /* A key hand-over names the attesting node: under another author
         * it no longer verifies, and the encoder refuses to sign it. */
        CHECK(rc == KZ_EINVAL && again.raw == NULL);
        kz_record_close(&again);
        kz_record_close(&r);
        return 0;
    }
    if (rc != 0) {
        fprintf(stderr, "fuzz_record: re-sign failed: %s\n", kz_record_last_error());
        abort();
    }
    CHECK(again.raw_len == r.raw_len);
    CHECK(memcmp(again.raw + 1 + 1 + 1 + 2 + KZ_KEY_BYTES, r.raw + 1 + 1 + 1 + 2 + KZ_KEY_BYTES,
                 r.raw_len - (5 + KZ_KEY_BYTES) - 2 - KZ_SIG_BYTES) == 0);
    CHECK(kz_record_verify(&again) == 0);
    kz_record_close(&again);
    kz_record_close(&r);
    return 0;
}
