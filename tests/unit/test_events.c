/* test_events.c: events, RSVPs and sealed contact: deterministic seats,
 * RSVPs after the start refused by the store, time zones, the contact
 * payload format and who can open it. */
#include "kz_test.h"

#include "kz_contact.h"
#include "kz_talk.h"
#include "store_fixtures.h"

/* ---- Seats ------------------------------------------------------------------ */

static void attend_fill(kz_attend *v, size_t n)
{
    memset(v, 0, n * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i].author[0] = (uint8_t)(i + 1);
        v[i].id[0] = (uint8_t)(0xf0 - i); /* ids sort opposite to authors */
        v[i].created_ms = T0 + 10 * (i / 2); /* pairs share a millisecond */
        v[i].status = KZ_RSVP_GOING;
    }
}

static void test_capacity_order(void **state)
{
    (void)state;
    enum { N = 7 };
    kz_attend ref[N], v[N];
    uint64_t counts[5];
    attend_fill(ref, N);
    ref[4].status = KZ_RSVP_MAYBE;
    ref[6].created_ms = T0 + 1000; /* at the start: late */
    kz_event_attendance(ref, N, 2, T0 + 1000, counts);
    assert_int_equal(counts[KZ_ATTEND_CONFIRMED], 2);
    assert_int_equal(counts[KZ_ATTEND_WAITLIST], 3);
    assert_int_equal(counts[KZ_ATTEND_MAYBE], 1);
    assert_int_equal(counts[KZ_ATTEND_LATE], 1);
    /* Same millisecond: the smaller id wins, so author 2 (id 0xef) comes
     * before author 1 (id 0xf0). */
    assert_int_equal(ref[0].author[0], 2);
    assert_int_equal(ref[0].place, KZ_ATTEND_CONFIRMED);
    assert_int_equal(ref[1].author[0], 1);
    assert_int_equal(ref[1].place, KZ_ATTEND_CONFIRMED);
    assert_int_equal(ref[2].place, KZ_ATTEND_WAITLIST);

    /* Every arrival order gives the same list (what every node computes). */
    for (unsigned round = 0; round < 50; round++) {
        attend_fill(v, N);
        v[4].status = KZ_RSVP_MAYBE;
        v[6].created_ms = T0 + 1000;
        for (size_t i = N - 1; i > 0; i--) {
            size_t j = randombytes_uniform((uint32_t)(i + 1));
            kz_attend t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
        kz_event_attendance(v, N, 2, T0 + 1000, NULL);
        for (size_t i = 0; i < N; i++) {
            assert_memory_equal(v[i].author, ref[i].author, KZ_KEY_BYTES);
            assert_int_equal(v[i].place, ref[i].place);
        }
    }
    /* Unlimited capacity confirms every timely going answer. */
    attend_fill(v, N);
    kz_event_attendance(v, N, 0, UINT64_MAX, counts);
    assert_int_equal(counts[KZ_ATTEND_CONFIRMED], N);
    assert_int_equal(counts[KZ_ATTEND_WAITLIST], 0);
}

/* ---- Store rule: RSVPs close at the start ------------------------------------ */

static void mk_event(kz_record *r, const key *author, const char *room, uint64_t t, uint64_t start)
{
    kz_record_init(r, KZ_T_EVENT, author->pk, t);
    r->body.event.room = (kz_str){room, (uint32_t)strlen(room)};
    r->body.event.title = (kz_str){"Mixer", 5};
    r->body.event.start_ms = start;
    r->body.event.capacity = 2;
    sign_ok(r, author);
}

static void mk_rsvp(kz_record *r, const key *author, const uint8_t event[KZ_ID_BYTES], uint64_t t)
{
    kz_record_init(r, KZ_T_RSVP, author->pk, t);
    memcpy(r->body.rsvp.event, event, KZ_ID_BYTES);
    r->body.rsvp.status = KZ_RSVP_GOING;
    sign_ok(r, author);
}

static void test_rsvp_after_start(void **state)
{
    (void)state;
    fx f;
    key node, sec, alice, bob;
    kz_record nr, a1, a2, a3, ev, r_ok, r_late, r_early_bob, ev_room;
    fx_open(&f);
    key_make(&node, 1);
    key_make(&sec, 2);
    key_make(&alice, 3);
    key_make(&bob, 4);
    mk_node(&nr, &node, T0);
    kz_record_init(&a1, KZ_T_ATTEST, node.pk, T0 + 1);
    memcpy(a1.body.attest.member, sec.pk, KZ_KEY_BYTES);
    a1.body.attest.role = KZ_ROLE_SECRETARIAT;
    sign_ok(&a1, &node);
    mk_attest(&a2, &node, &alice, T0 + 2);
    mk_attest(&a3, &node, &bob, T0 + 3);
    assert_int_equal(kz_store_put(f.s, &nr, NULL), 0);
    assert_int_equal(kz_store_put(f.s, &a1, NULL), 0);
    assert_int_equal(kz_store_put(f.s, &a2, NULL), 0);
    assert_int_equal(kz_store_put(f.s, &a3, NULL), 0);

    uint64_t start = T0 + 100000;
    mk_event(&ev, &sec, "general", T0 + 10, start);
    /* An RSVP that arrives before its event cannot be checked yet: kept. */
    mk_rsvp(&r_early_bob, &bob, ev.id, T0 + 20);
    assert_int_equal(kz_store_put(f.s, &r_early_bob, NULL), 0);
    assert_int_equal(kz_store_put(f.s, &ev, NULL), 0);
    mk_rsvp(&r_ok, &alice, ev.id, start - 1);
    assert_int_equal(kz_store_put(f.s, &r_ok, NULL), 0);
    /* Bob changes his answer at the start: refused, his old answer stays. */
    mk_rsvp(&r_late, &bob, ev.id, start);
    assert_int_equal(kz_store_put(f.s, &r_late, NULL), KZ_EPERM);
    assert_true(kz_store_has(f.s, r_early_bob.id));
    assert_false(kz_store_has(f.s, r_late.id));

    /* Only the secretariat creates events outside the lounge. */
    mk_event(&ev_room, &alice, "general", T0 + 30, start);
    assert_int_equal(kz_store_put(f.s, &ev_room, NULL), KZ_EPERM);
    kz_record_close(&ev_room);
    mk_event(&ev_room, &alice, KZ_EVENT_LOUNGE, T0 + 31, start);
    assert_int_equal(kz_store_put(f.s, &ev_room, NULL), 0);
    kz_record_close(&ev_room);
    /* Company rooms take events only from that company's members. */
    char croom[KZ_SHORT_MAX];
    key other;
    kz_idstr nid = kz_id_to_str(node.pk);
    key_make(&other, 7);
    snprintf(croom, sizeof croom, "%s%s", KZ_ROOM_COMPANY_PREFIX, nid.s);
    mk_event(&ev_room, &sec, croom, T0 + 32, start);
    assert_int_equal(kz_store_put(f.s, &ev_room, NULL), 0);
    {
        key outsider;
        kz_record oa, ors, mrs;
        key_make(&outsider, 8);
        mk_attest(&oa, &other, &outsider, T0 + 35); /* attested by a node we do not know */
        kz_record on;
        mk_node(&on, &other, T0 + 34);
        assert_int_equal(kz_store_put(f.s, &on, NULL), 0);
        assert_int_equal(kz_store_put(f.s, &oa, NULL), 0);
        mk_rsvp(&ors, &outsider, ev_room.id, T0 + 36);
        assert_int_equal(kz_store_put(f.s, &ors, NULL), KZ_EPERM);
        mk_rsvp(&mrs, &alice, ev_room.id, T0 + 37);
        assert_int_equal(kz_store_put(f.s, &mrs, NULL), 0);
        kz_record_close(&on);
        kz_record_close(&oa);
        kz_record_close(&ors);
        kz_record_close(&mrs);
    }
    kz_record_close(&ev_room);
    nid = kz_id_to_str(other.pk);
    snprintf(croom, sizeof croom, "%s%s", KZ_ROOM_COMPANY_PREFIX, nid.s);
    mk_event(&ev_room, &sec, croom, T0 + 33, start);
    assert_int_equal(kz_store_put(f.s, &ev_room, NULL), KZ_EPERM);
    kz_record_close(&ev_room);
    mk_event(&ev_room, &sec, "Not A Room!", T0 + 34, start);
    assert_int_equal(kz_store_put(f.s, &ev_room, NULL), KZ_EINVAL);
    kz_record_close(&ev_room);
    /* An RSVP pointing at something that is not an event. */
    mk_rsvp(&ev_room, &alice, a2.id, T0 + 40);
    assert_int_equal(kz_store_put(f.s, &ev_room, NULL), KZ_EINVAL);
    kz_record_close(&ev_room);

    kz_record *all[] = {&nr, &a1, &a2, &a3, &ev, &r_ok, &r_late, &r_early_bob};
    for (size_t i = 0; i < KZ_ARRAY_LEN(all); i++)
        kz_record_close(all[i]);
    fx_close(&f);
}

static void mk_report(kz_record *r, const key *author, const uint8_t event[KZ_ID_BYTES], uint64_t t)
{
    kz_record_init(r, KZ_T_POST, author->pk, t);
    r->body.post.room = (kz_str){KZ_EVENT_LOUNGE, (uint32_t)strlen(KZ_EVENT_LOUNGE)};
    r->body.post.text = (kz_str){"What a night", 12};
    r->body.post.has_event = true;
    memcpy(r->body.post.event, event, KZ_ID_BYTES);
    sign_ok(r, author);
}

/* A report post links to its event (post key 8); the link survives the
 * round trip and must point at an event when the target is known. */
static void test_post_event_link(void **state)
{
    (void)state;
    fx f;
    key node, alice;
    kz_record nr, a, ev, rep, bad, dec;
    fx_open(&f);
    key_make(&node, 1);
    key_make(&alice, 3);
    mk_node(&nr, &node, T0);
    mk_attest(&a, &node, &alice, T0 + 1);
    assert_int_equal(kz_store_put(f.s, &nr, NULL), 0);
    assert_int_equal(kz_store_put(f.s, &a, NULL), 0);
    mk_event(&ev, &alice, KZ_EVENT_LOUNGE, T0 + 2, T0 + 50);
    assert_int_equal(kz_store_put(f.s, &ev, NULL), 0);
    mk_report(&rep, &alice, ev.id, T0 + 100);
    assert_int_equal(kz_record_decode(&dec, rep.raw, rep.raw_len, 0, 0), 0);
    assert_true(dec.body.post.has_event);
    assert_memory_equal(dec.body.post.event, ev.id, KZ_ID_BYTES);
    kz_record_close(&dec);
    assert_int_equal(kz_store_put(f.s, &rep, NULL), 0);
    mk_report(&bad, &alice, a.id, T0 + 101); /* an attestation is not an event */
    assert_int_equal(kz_store_put(f.s, &bad, NULL), KZ_EINVAL);
    kz_record *all[] = {&nr, &a, &ev, &rep, &bad};
    for (size_t i = 0; i < KZ_ARRAY_LEN(all); i++)
        kz_record_close(all[i]);
    fx_close(&f);
}

static void test_contact_unknown_recipient(void **state)
{
    (void)state;
    fx f;
    key node, alice, stranger;
    kz_record nr, a, c;
    uint8_t sealed[64] = {1};
    fx_open(&f);
    key_make(&node, 1);
    key_make(&alice, 3);
    key_make(&stranger, 9);
    mk_node(&nr, &node, T0);
    mk_attest(&a, &node, &alice, T0 + 1);
    assert_int_equal(kz_store_put(f.s, &nr, NULL), 0);
    assert_int_equal(kz_store_put(f.s, &a, NULL), 0);
    kz_record_init(&c, KZ_T_CONTACT, alice.pk, T0 + 2);
    memcpy(c.body.contact.to, stranger.pk, KZ_KEY_BYTES);
    c.body.contact.sealed = (kz_bytes){sealed, sizeof sealed};
    sign_ok(&c, &alice);
    assert_int_equal(kz_store_put(f.s, &c, NULL), KZ_ENOATTEST);
    assert_false(kz_store_has(f.s, c.id));
    kz_record_close(&c);
    kz_record_close(&a);
    kz_record_close(&nr);
    fx_close(&f);
}

/* ---- Time zones ------------------------------------------------------------------ */

static void test_tz_parse(void **state)
{
    (void)state;
    char err[256], out[32];
    uint64_t ms;
    const char *before = getenv("TZ");
    char saved[64] = "";
    if (before)
        snprintf(saved, sizeof saved, "%s", before);
    /* 2026-12-05 19:00 in Tokyo (UTC+9, no DST) is 10:00 UTC. */
    assert_int_equal(kz_event_time_parse("2026-12-05 19:00", "Asia/Tokyo", &ms, err, sizeof err), 0);
    assert_int_equal(ms, 1796464800000ull);
    assert_int_equal(kz_event_time_parse("2026-12-05T19:00", "Asia/Tokyo", &ms, err, sizeof err), 0);
    assert_int_equal(ms, 1796464800000ull);
    /* Paris in summer is UTC+2: 2026-07-01 12:00 -> 10:00 UTC. */
    assert_int_equal(kz_event_time_parse("2026-07-01 12:00", "Europe/Paris", &ms, err, sizeof err), 0);
    assert_int_equal(ms, 1782900000000ull);
    kz_event_time_format(out, sizeof out, ms, "Asia/Tokyo");
    assert_string_equal(out, "2026-07-01 19:00");
    /* 02:30 does not exist in Paris on 2026-03-29 (clocks jump 02:00 -> 03:00). */
    assert_int_equal(kz_event_time_parse("2026-03-29 02:30", "Europe/Paris", &ms, err, sizeof err),
                     KZ_EINVAL);
    assert_non_null(strstr(err, "does not exist"));
    static const char *const bad_times[] = {"2026-02-29 10:00", "2026-13-01 10:00", "2026-12-05 24:00",
                                            "2026-12-05 19:60", "2026-12-5 19:00", "2026-12-05 19:00:00",
                                            "", "2019-12-05 19:00", "２０２６-12-05 19:00"};
    for (size_t i = 0; i < KZ_ARRAY_LEN(bad_times); i++)
        assert_int_equal(kz_event_time_parse(bad_times[i], "Asia/Tokyo", &ms, err, sizeof err), KZ_EINVAL);
    static const char *const bad_zones[] = {"Mars/Base", "../etc/passwd", "/etc/localtime", "", "Asia",
                                            "Asia/Tokyo ", "Asia/Tōkyō"};
    for (size_t i = 0; i < KZ_ARRAY_LEN(bad_zones); i++)
        assert_int_equal(kz_event_time_parse("2026-12-05 19:00", bad_zones[i], &ms, err, sizeof err),
                         KZ_EINVAL);
    /* TZ is as it was. */
    if (before)
        assert_string_equal(getenv("TZ"), saved);
    else
        assert_null(getenv("TZ"));
    /* --since dates. */
    assert_int_equal(kz_date_parse("2026-11-24", &ms), 0);
    assert_int_equal(ms, 1795478400000ull);
    assert_int_equal(kz_date_parse("2026-11-24T01:02:03Z", &ms), 0);
    assert_int_equal(ms, 1795478400000ull + 3723000ull);
    assert_int_equal(kz_date_parse("2026-11-24T01:02Z", &ms), 0);
    assert_int_equal(kz_date_parse("2026-11-24T01:02:03", &ms), KZ_EINVAL);
    assert_int_equal(kz_date_parse("yesterday", &ms), KZ_EINVAL);
}

/* ---- Sealed contact ---------------------------------------------------------------- */

static void test_contact_roundtrip(void **state)
{
    (void)state;
    key alice, bob;
    kz_contact_msg m, out, back;
    uint8_t plain[4096], sealed[KZ_SEALED_MAX];
    size_t len, slen;
    key_make(&alice, 3);
    key_make(&bob, 4);
    memset(&m, 0, sizeof m);
    m.kind = KZ_CONTACT_REQUEST;
    snprintf(m.message, sizeof m.message, "はじめまして。Could we talk about logistics?\nThanks");
    assert_int_equal(kz_contact_msg_encode(&m, plain, sizeof plain, &len), 0);
    assert_int_equal(kz_contact_msg_decode(plain, len, &back), 0);
    assert_string_equal(back.message, m.message);
    assert_int_equal(back.kind, KZ_CONTACT_REQUEST);
    assert_false(back.has_ref);

    /* Accept with a reveal and a reference, sealed and opened. */
    memset(&m, 0, sizeof m);
    m.kind = KZ_CONTACT_ACCEPT;
    snprintf(m.message, sizeof m.message, "Happy to.");
    snprintf(m.reveal, sizeof m.reveal, "email: bob@example.com");
    m.has_ref = true;
    memset(m.ref, 0xab, sizeof m.ref);
    assert_int_equal(kz_contact_seal(&m, alice.pk, sealed, &slen), 0);
    assert_int_equal(kz_contact_open(sealed, slen, alice.pk, alice.sk, &out), 0);
    assert_int_equal(out.kind, KZ_CONTACT_ACCEPT);
    assert_string_equal(out.message, "Happy to.");
    assert_string_equal(out.reveal, "email: bob@example.com");
    assert_true(out.has_ref);
    assert_memory_equal(out.ref, m.ref, KZ_ID_BYTES);
    /* The ciphertext does not contain the plaintext. */
    for (size_t i = 0; i + 15 <= slen; i++)
        assert_memory_not_equal(sealed + i, "bob@example.com", 15);

    /* Invalid messages are refused before sealing. */
    kz_contact_msg bad = m;
    bad.has_ref = false; /* accept without ref */
    assert_int_equal(kz_contact_seal(&bad, alice.pk, sealed, &slen), KZ_EINVAL);
    bad = m;
    bad.message[0] = '\0';
    assert_int_equal(kz_contact_seal(&bad, alice.pk, sealed, &slen), KZ_EINVAL);
    bad = m;
    bad.kind = 7;
    assert_int_equal(kz_contact_seal(&bad, alice.pk, sealed, &slen), KZ_EINVAL);

    /* Non-canonical or unknown plaintexts are refused. */
    static const uint8_t wide_int[] = {0x83, 0x01, 0xcc, 0x01, 0x02, 0x00, 0x03, 0xa1, 'x'};
    static const uint8_t unordered[] = {0x83, 0x02, 0x00, 0x01, 0x01, 0x03, 0xa1, 'x'};
    static const uint8_t version2[] = {0x83, 0x01, 0x02, 0x02, 0x00, 0x03, 0xa1, 'x'};
    static const uint8_t unknown_key[] = {0x84, 0x01, 0x01, 0x02, 0x00, 0x03, 0xa1, 'x', 0x09, 0x00};
    static const uint8_t good[] = {0x83, 0x01, 0x01, 0x02, 0x00, 0x03, 0xa1, 'x'};
    assert_int_equal(kz_contact_msg_decode(good, sizeof good, &back), 0);
    assert_int_equal(kz_contact_msg_decode(wide_int, sizeof wide_int, &back), KZ_EDECODE);
    assert_int_equal(kz_contact_msg_decode(unordered, sizeof unordered, &back), KZ_EDECODE);
    assert_int_equal(kz_contact_msg_decode(version2, sizeof version2, &back), KZ_EDECODE);
    assert_int_equal(kz_contact_msg_decode(unknown_key, sizeof unknown_key, &back), KZ_EDECODE);
    for (size_t cut = 0; cut < sizeof good; cut++)
        assert_int_equal(kz_contact_msg_decode(good, cut, &back), KZ_EDECODE);
}

static void test_contact_only_recipient(void **state)
{
    (void)state;
    key alice, bob, carol;
    kz_contact_msg m, out;
    uint8_t sealed[KZ_SEALED_MAX];
    size_t slen;
    key_make(&alice, 3);
    key_make(&bob, 4);
    key_make(&carol, 5);
    memset(&m, 0, sizeof m);
    m.kind = KZ_CONTACT_REQUEST;
    snprintf(m.message, sizeof m.message, "for Bob only");
    assert_int_equal(kz_contact_seal(&m, bob.pk, sealed, &slen), 0);
    assert_int_equal(kz_contact_open(sealed, slen, bob.pk, bob.sk, &out), 0);
    assert_string_equal(out.message, "for Bob only");
    /* Neither the sender nor a third member can open it. */
    assert_int_equal(kz_contact_open(sealed, slen, alice.pk, alice.sk, &out), KZ_ECRYPTO);
    assert_int_equal(kz_contact_open(sealed, slen, carol.pk, carol.sk, &out), KZ_ECRYPTO);
    assert_string_equal(out.message, "");
    /* Any flipped bit fails authentication. */
    for (size_t i = 0; i < slen; i += 7) {
        sealed[i] ^= 0x10;
        assert_int_equal(kz_contact_open(sealed, slen, bob.pk, bob.sk, &out), KZ_ECRYPTO);
        sealed[i] ^= 0x10;
    }
    assert_int_equal(kz_contact_open(sealed, slen - 1, bob.pk, bob.sk, &out), KZ_ECRYPTO);
    assert_int_equal(kz_contact_open(sealed, 10, bob.pk, bob.sk, &out), KZ_ECRYPTO);
    /* Two seals of the same message differ (ephemeral keys). */
    uint8_t sealed2[KZ_SEALED_MAX];
    size_t slen2;
    assert_int_equal(kz_contact_seal(&m, bob.pk, sealed2, &slen2), 0);
    assert_int_equal(slen, slen2);
    assert_memory_not_equal(sealed, sealed2, slen);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_capacity_order),
    cmocka_unit_test(test_rsvp_after_start),
    cmocka_unit_test(test_post_event_link),
    cmocka_unit_test(test_contact_unknown_recipient),
    cmocka_unit_test(test_tz_parse),
    cmocka_unit_test(test_contact_roundtrip),
    cmocka_unit_test(test_contact_only_recipient),
};

KZ_TEST_MAIN(tests)
