/* record_fixtures.h: deterministic keys and records of every type, shared by
 * the record unit tests and the golden-vector test. Include after kz_test.h. */
#ifndef KZ_RECORD_FIXTURES_H
#define KZ_RECORD_FIXTURES_H

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "kz_record.h"

#define T0 1700000000000ull /* 2023-11-14T22:13:20Z */

typedef struct {
    uint8_t pk[KZ_KEY_BYTES];
    uint8_t sk[KZ_SECKEY_BYTES];
} keys;

/* Deterministic key pair from a seed of 32 copies of one byte. */
static inline keys kp(uint8_t b)
{
    keys k;
    uint8_t seed[crypto_sign_SEEDBYTES];
    memset(seed, b, sizeof seed);
    assert_int_equal(crypto_sign_seed_keypair(k.pk, k.sk, seed), 0);
    return k;
}

static inline kz_str S(const char *s)
{
    return (kz_str){ s, (uint32_t)strlen(s) };
}

static inline void init_sodium(void)
{
    assert_true(sodium_init() >= 0);
}

/* Stand-in ciphertext for contact records: bytes 0x00, 0x03, 0x06, ... */
static uint8_t sealed_fixed[80];

static inline void fill_sealed(void)
{
    for (size_t i = 0; i < sizeof sealed_fixed; i++)
        sealed_fixed[i] = (uint8_t)(3 * i);
}

/* Variants built by fill(): every type with all optional fields (FULL), with
 * only the required ones (MIN), and a poll (the one post shape FULL cannot
 * cover, since options and nominate exclude each other). */
enum { MIN = 0, FULL = 1, POLL = 2 };

static inline void fill_id(uint8_t *id, uint8_t b)
{
    memset(id, b, KZ_ID_BYTES);
}

/* Build an unsigned record of the given type and variant, authored by k. */
static inline void fill(kz_record *r, int type, int variant, const keys *k, uint64_t created)
{
    keys member = kp(0x03);
    bool full = variant != MIN;
    kz_record_init(r, (kz_rtype)type, k->pk, created);
    switch (type) {
    case KZ_T_NODE: {
        kz_body_node *b = &r->body.node;
        b->name = full ? S("株式会社サンプル") : S("Sample");
        if (full) {
            b->n_addrs = 2;
            b->addrs[0] = S("node1.example.jp:7420");
            b->addrs[1] = S("192.0.2.7:7420");
        }
        break;
    }
    case KZ_T_ATTEST: {
        kz_body_attest *b = &r->body.attest;
        memcpy(b->member, member.pk, KZ_KEY_BYTES);
        if (full) {
            b->role = KZ_ROLE_EMPLOYEE;
            b->joined = 2005;
            b->left = 2019;
            b->department = S("開発部");
        }
        break;
    }
    case KZ_T_REVOKE: {
        kz_body_revoke *b = &r->body.revoke;
        memcpy(b->member, member.pk, KZ_KEY_BYTES);
        if (full)
            b->reason = S("attested by mistake\nsee ticket 42");
        break;
    }
    case KZ_T_PROFILE: {
        kz_body_profile *b = &r->body.profile;
        b->name = S("鈴木 花子");
        if (!full)
            break;
        b->reading = S("すずき はなこ");
        b->romaji = S("Suzuki Hanako");
        b->department = S("営業部");
        b->title = S("課長");
        b->joined = 2008;
        b->left = 2021;
        b->current_company = S("Example KK");
        b->current_title = S("CTO");
        b->location = S("東京");
        b->n_skills = 3;
        b->skills[0] = S("Go");
        b->skills[1] = S("営業");
        b->skills[2] = S("C");
        b->bio = S("Hello.\nI like C and\tmountains.");
        b->n_links = 1;
        b->links[0] = S("https://example.jp/hanako");
        b->open_to = KZ_OPEN_RECONNECT | KZ_OPEN_MENTORING;
        b->visibility = KZ_VIS_COMPANY;
        break;
    }
    case KZ_T_POST: {
        kz_body_post *b = &r->body.post;
        b->room = S("lounge");
        b->text = S("はじめまして!\nよろしくお願いします。");
        if (variant == FULL) {
            b->kind = KZ_POST_INTRO;
            b->has_nominate = true;
            memcpy(b->nominate, member.pk, KZ_KEY_BYTES);
            b->has_edit_of = true;
            fill_id(b->edit_of, 0xe1);
            b->closed = true;
        } else if (variant == POLL) {
            b->kind = KZ_POST_POLL;
            b->text = S("Next meetup?");
            b->n_options = 3;
            b->options[0] = S("Tokyo");
            b->options[1] = S("Osaka");
            b->options[2] = S("online");
            b->closed = true;
        }
        break;
    }
    case KZ_T_REPLY: {
        kz_body_reply *b = &r->body.reply;
        fill_id(b->parent, 0xa1);
        b->text = S("Welcome!");
        if (full) {
            b->has_edit_of = true;
            fill_id(b->edit_of, 0xe2);
        }
        break;
    }
    case KZ_T_REACTION: {
        kz_body_reaction *b = &r->body.reaction;
        fill_id(b->target, 0xa2);
        if (full) {
            b->kind = 2;
            b->off = true;
        }
        break;
    }
    case KZ_T_EVENT: {
        kz_body_event *b = &r->body.event;
        b->room = S("events");
        b->title = S("OB/OG 交流会 2024");
        b->start_ms = T0 + 86400000ull;
        if (full) {
            b->description = S("Drinks and talks.\nBring a friend.");
            b->end_ms = T0 + 86400000ull + 7200000ull;
            b->tz = S("Asia/Tokyo");
            b->place = S("渋谷");
            b->link = S("https://example.jp/meetup");
            b->capacity = 40;
            b->has_edit_of = true;
            fill_id(b->edit_of, 0xe3);
        }
        break;
    }
    case KZ_T_RSVP: {
        kz_body_rsvp *b = &r->body.rsvp;
        fill_id(b->event, 0xa3);
        if (full)
            b->status = KZ_RSVP_MAYBE;
        break;
    }
    case KZ_T_DELETE: {
        kz_body_delete *b = &r->body.del;
        fill_id(b->target, 0xa4);
        memcpy(b->target_author, member.pk, KZ_KEY_BYTES);
        if (full)
            b->reason = S("spam");
        break;
    }
    case KZ_T_CONTACT: {
        kz_body_contact *b = &r->body.contact;
        fill_sealed();
        memcpy(b->to, member.pk, KZ_KEY_BYTES);
        b->sealed = (kz_bytes){ sealed_fixed, full ? sizeof sealed_fixed : 48 };
        break;
    }
    case KZ_T_VOTE: {
        kz_body_vote *b = &r->body.vote;
        fill_id(b->poll, 0xa5);
        if (full)
            b->option = 2;
        break;
    }
    case KZ_T_REPORT: {
        kz_body_report *b = &r->body.report;
        static uint8_t report_fixed[120];
        keys node = kp(0x02);
        for (size_t i = 0; i < sizeof report_fixed; i++)
            report_fixed[i] = (uint8_t)(5 * i + 1);
        memcpy(b->to, node.pk, KZ_KEY_BYTES);
        b->sealed = (kz_bytes){ report_fixed, full ? sizeof report_fixed : 81 };
        break;
    }
    case KZ_T_ROOM: {
        kz_body_room *b = &r->body.room;
        b->name = S("careers");
        if (full) {
            b->title = S("キャリア相談");
            b->description = S("Career questions.\nAsk anything.");
            b->scope = KZ_SCOPE_COMPANY;
        }
        break;
    }
    default:
        fail_msg("bad type %d", type);
    }
}

static inline void expect_str(kz_str a, kz_str b)
{
    assert_int_equal(a.n, b.n);
    if (a.n)
        assert_memory_equal(a.p, b.p, a.n);
}

static inline void expect_strs(const kz_str *a, const kz_str *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        expect_str(a[i], b[i]);
}

/* Field-by-field equality of two records' envelopes and bodies. */
static inline void expect_same(const kz_record *a, const kz_record *b)
{
    assert_int_equal(a->version, b->version);
    assert_int_equal(a->type, b->type);
    assert_memory_equal(a->author, b->author, KZ_KEY_BYTES);
    assert_int_equal(a->created_ms, b->created_ms);
    switch (a->type) {
    case KZ_T_NODE:
        expect_str(a->body.node.name, b->body.node.name);
        assert_int_equal(a->body.node.n_addrs, b->body.node.n_addrs);
        expect_strs(a->body.node.addrs, b->body.node.addrs, a->body.node.n_addrs);
        break;
    case KZ_T_ATTEST:
        assert_memory_equal(a->body.attest.member, b->body.attest.member, KZ_KEY_BYTES);
        assert_int_equal(a->body.attest.role, b->body.attest.role);
        assert_int_equal(a->body.attest.joined, b->body.attest.joined);
        assert_int_equal(a->body.attest.left, b->body.attest.left);
        expect_str(a->body.attest.department, b->body.attest.department);
        break;
    case KZ_T_REVOKE:
        assert_memory_equal(a->body.revoke.member, b->body.revoke.member, KZ_KEY_BYTES);
        expect_str(a->body.revoke.reason, b->body.revoke.reason);
        break;
    case KZ_T_PROFILE: {
        const kz_body_profile *x = &a->body.profile, *y = &b->body.profile;
        expect_str(x->name, y->name);
        expect_str(x->reading, y->reading);
        expect_str(x->romaji, y->romaji);
        expect_str(x->department, y->department);
        expect_str(x->title, y->title);
        assert_int_equal(x->joined, y->joined);
        assert_int_equal(x->left, y->left);
        expect_str(x->current_company, y->current_company);
        expect_str(x->current_title, y->current_title);
        expect_str(x->location, y->location);
        assert_int_equal(x->n_skills, y->n_skills);
        expect_strs(x->skills, y->skills, x->n_skills);
        expect_str(x->bio, y->bio);
        assert_int_equal(x->n_links, y->n_links);
        expect_strs(x->links, y->links, x->n_links);
        assert_int_equal(x->open_to, y->open_to);
        assert_int_equal(x->visibility, y->visibility);
        break;
    }
    case KZ_T_POST: {
        const kz_body_post *x = &a->body.post, *y = &b->body.post;
        expect_str(x->room, y->room);
        assert_int_equal(x->kind, y->kind);
        expect_str(x->text, y->text);
        assert_int_equal(x->has_nominate, y->has_nominate);
        if (x->has_nominate)
            assert_memory_equal(x->nominate, y->nominate, KZ_KEY_BYTES);
        assert_int_equal(x->has_edit_of, y->has_edit_of);
        if (x->has_edit_of)
            assert_memory_equal(x->edit_of, y->edit_of, KZ_ID_BYTES);
        assert_int_equal(x->n_options, y->n_options);
        expect_strs(x->options, y->options, x->n_options);
        assert_int_equal(x->closed, y->closed);
        break;
    }
    case KZ_T_REPLY:
        assert_memory_equal(a->body.reply.parent, b->body.reply.parent, KZ_ID_BYTES);
        expect_str(a->body.reply.text, b->body.reply.text);
        assert_int_equal(a->body.reply.has_edit_of, b->body.reply.has_edit_of);
        if (a->body.reply.has_edit_of)
            assert_memory_equal(a->body.reply.edit_of, b->body.reply.edit_of, KZ_ID_BYTES);
        break;
    case KZ_T_REACTION:
        assert_memory_equal(a->body.reaction.target, b->body.reaction.target, KZ_ID_BYTES);
        assert_int_equal(a->body.reaction.kind, b->body.reaction.kind);
        assert_int_equal(a->body.reaction.off, b->body.reaction.off);
        break;
    case KZ_T_EVENT: {
        const kz_body_event *x = &a->body.event, *y = &b->body.event;
        expect_str(x->room, y->room);
        expect_str(x->title, y->title);
        expect_str(x->description, y->description);
        assert_int_equal(x->start_ms, y->start_ms);
        assert_int_equal(x->end_ms, y->end_ms);
        expect_str(x->tz, y->tz);
        expect_str(x->place, y->place);
        expect_str(x->link, y->link);
        assert_int_equal(x->capacity, y->capacity);
        assert_int_equal(x->has_edit_of, y->has_edit_of);
        if (x->has_edit_of)
            assert_memory_equal(x->edit_of, y->edit_of, KZ_ID_BYTES);
        break;
    }
    case KZ_T_RSVP:
        assert_memory_equal(a->body.rsvp.event, b->body.rsvp.event, KZ_ID_BYTES);
        assert_int_equal(a->body.rsvp.status, b->body.rsvp.status);
        break;
    case KZ_T_DELETE:
        assert_memory_equal(a->body.del.target, b->body.del.target, KZ_ID_BYTES);
        assert_memory_equal(a->body.del.target_author, b->body.del.target_author,
                            KZ_KEY_BYTES);
        expect_str(a->body.del.reason, b->body.del.reason);
        break;
    case KZ_T_CONTACT:
        assert_memory_equal(a->body.contact.to, b->body.contact.to, KZ_KEY_BYTES);
        assert_int_equal(a->body.contact.sealed.n, b->body.contact.sealed.n);
        assert_memory_equal(a->body.contact.sealed.p, b->body.contact.sealed.p,
                            a->body.contact.sealed.n);
        break;
    case KZ_T_VOTE:
        assert_memory_equal(a->body.vote.poll, b->body.vote.poll, KZ_ID_BYTES);
        assert_int_equal(a->body.vote.option, b->body.vote.option);
        break;
    case KZ_T_REPORT:
        assert_memory_equal(a->body.report.to, b->body.report.to, KZ_KEY_BYTES);
        assert_int_equal(a->body.report.sealed.n, b->body.report.sealed.n);
        assert_memory_equal(a->body.report.sealed.p, b->body.report.sealed.p,
                            a->body.report.sealed.n);
        break;
    case KZ_T_ROOM:
        expect_str(a->body.room.name, b->body.room.name);
        expect_str(a->body.room.title, b->body.room.title);
        expect_str(a->body.room.description, b->body.room.description);
        assert_int_equal(a->body.room.scope, b->body.room.scope);
        break;
    default:
        fail_msg("unknown type %d", a->type);
    }
}


/* ---- hand-made encodings ------------------------------------------------ */

typedef struct {
    uint8_t b[KZ_RECORD_MAX + 64];
    size_t n;
} buf;

static inline void put(buf *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof b->b);
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static inline void put1(buf *b, uint8_t v)
{
    put(b, &v, 1);
}

static inline void put_fixstr(buf *b, const char *s)
{
    size_t n = strlen(s);
    assert_true(n < 32);
    put1(b, (uint8_t)(0xa0 | n));
    put(b, s, n);
}

static inline void put_str(buf *b, const char *s, size_t n)
{
    if (n < 32) {
        put1(b, (uint8_t)(0xa0 | n));
    } else if (n < 256) {
        put1(b, 0xd9);
        put1(b, (uint8_t)n);
    } else {
        put1(b, 0xda);
        put1(b, (uint8_t)(n >> 8));
        put1(b, (uint8_t)n);
    }
    put(b, s, n);
}

static inline void put_bin32(buf *b, uint8_t fillb)
{
    uint8_t k[32];
    memset(k, fillb, sizeof k);
    put1(b, 0xc4);
    put1(b, 32);
    put(b, k, 32);
}

/* Sign buf in place: it must be a fixarray-6 record ending in c4 40 <sig>. */
static inline void resign(buf *r, const keys *k)
{
    assert_true(r->n > 67);
    uint8_t *msg = kz_xmalloc(KZ_RECORD_SIG_DOMAIN_LEN + r->n);
    memcpy(msg, KZ_RECORD_SIG_DOMAIN, KZ_RECORD_SIG_DOMAIN_LEN);
    memcpy(msg + KZ_RECORD_SIG_DOMAIN_LEN, r->b, r->n - 66);
    msg[KZ_RECORD_SIG_DOMAIN_LEN] = 0x95;
    crypto_sign_detached(r->b + r->n - 64, NULL, msg, KZ_RECORD_SIG_DOMAIN_LEN + r->n - 66,
                         k->sk);
    free(msg);
}

/* A complete, correctly signed record of `type` around the given body bytes. */
static inline void craft(buf *r, int type, const buf *body, const keys *k)
{
    r->n = 0;
    put1(r, 0x96);
    put1(r, 0x01);
    put1(r, (uint8_t)type);
    put1(r, 0xc4);
    put1(r, 32);
    put(r, k->pk, 32);
    put1(r, 0xcf);
    for (int i = 7; i >= 0; i--)
        put1(r, (uint8_t)(T0 >> (8 * i)));
    put(r, body->b, body->n);
    put1(r, 0xc4);
    put1(r, 64);
    uint8_t zero[64] = { 0 };
    put(r, zero, 64);
    resign(r, k);
}

static inline int decode_buf(const buf *r)
{
    kz_record d;
    /* Exact-size copy so sanitizers see any read past the end. */
    uint8_t *copy = kz_xmalloc(r->n);
    memcpy(copy, r->b, r->n);
    int rc = kz_record_decode(&d, copy, r->n, T0, 0);
    free(copy);
    if (rc == 0)
        kz_record_close(&d);
    else
        assert_null(d.raw);
    return rc;
}

/* Decode a crafted body of `type`; return the decode result. */
static inline int try_body(int type, const buf *body)
{
    init_sodium();
    keys k = kp(0x01);
    static buf r; /* large; keep it off the stack */
    craft(&r, type, body, &k);
    return decode_buf(&r);
}

/* The canonical minimal post body: {1: "r", 3: "hi"}. */
static inline void post_min_body(buf *b)
{
    b->n = 0;
    put1(b, 0x82);
    put1(b, 0x01);
    put_fixstr(b, "r");
    put1(b, 0x03);
    put_fixstr(b, "hi");
}

static inline void expect_rc(int got, int want)
{
    if (got != want)
        fail_msg("got %d (%s), want %d (%s); last error: %s", got, kz_strerror(got), want,
                 kz_strerror(want), kz_record_last_error());
}

static inline void signed_copy(int type, int variant, uint64_t created, buf *out)
{
    keys k = kp(0x01);
    kz_record r;
    fill(&r, type, variant, &k, created);
    assert_int_equal(kz_record_sign(&r, k.sk), 0);
    out->n = 0;
    put(out, r.raw, r.raw_len);
    kz_record_close(&r);
}

#endif
