/* kz-test-link: kz_store */
/* test_talk.c: the talk-room indexes (refs, rooms) and the store-level talk
 * rules: rooms, replies, votes, reports, articles. */
#include "kz_test.h"

#include "store_fixtures.h"

static void mk_room_post(kz_record *r, const key *m, uint64_t t, const char *room,
                         const char *text)
{
    kz_record_init(r, KZ_T_POST, m->pk, t);
    r->body.post.room = (kz_str){room, (uint32_t)strlen(room)};
    r->body.post.text = (kz_str){text, (uint32_t)strlen(text)};
    sign_ok(r, m);
}

static void mk_reply(kz_record *r, const key *m, uint64_t t, const uint8_t parent[KZ_ID_BYTES],
                     const char *text)
{
    kz_record_init(r, KZ_T_REPLY, m->pk, t);
    memcpy(r->body.reply.parent, parent, KZ_ID_BYTES);
    r->body.reply.text = (kz_str){text, (uint32_t)strlen(text)};
    sign_ok(r, m);
}

static void mk_reaction(kz_record *r, const key *m, uint64_t t, const uint8_t target[KZ_ID_BYTES],
                        uint8_t kind)
{
    kz_record_init(r, KZ_T_REACTION, m->pk, t);
    memcpy(r->body.reaction.target, target, KZ_ID_BYTES);
    r->body.reaction.kind = kind;
    sign_ok(r, m);
}

/* Collects ids and creation times. */
typedef struct {
    size_t n;
    uint8_t ids[16][KZ_ID_BYTES];
    uint64_t created[16];
    size_t stop_after;
} seen;

static int seen_cb(void *ud, const uint8_t id[KZ_ID_BYTES], uint64_t created_ms,
                   const uint8_t *raw, size_t len)
{
    seen *s = ud;
    assert_non_null(raw);
    assert_true(len > 0);
    assert_true(s->n < 16);
    memcpy(s->ids[s->n], id, KZ_ID_BYTES);
    s->created[s->n] = created_ms;
    s->n++;
    return s->stop_after && s->n >= s->stop_after ? 1 : 0;
}

static void test_refs_index(void **state)
{
    world w;
    kz_record post, r1, r2, x1, x2;
    seen s;

    world_open(&w);
    mk_room_post(&post, &w.a, T0 + 10, "lounge", "hello");
    put_expect(w.f.s, &post, 0);
    mk_reply(&r1, &w.a, T0 + 20, post.id, "first");
    put_expect(w.f.s, &r1, 0);
    mk_reply(&r2, &w.a, T0 + 30, post.id, "second");
    put_expect(w.f.s, &r2, 0);
    mk_reaction(&x1, &w.a, T0 + 25, post.id, 0);
    put_expect(w.f.s, &x1, 0);

    /* Replies only, oldest first, then newest first. */
    memset(&s, 0, sizeof s);
    assert_int_equal(kz_store_iter_refs(w.f.s, post.id, KZ_T_REPLY, false, seen_cb, &s), 0);
    assert_int_equal(s.n, 2);
    assert_memory_equal(s.ids[0], r1.id, KZ_ID_BYTES);
    assert_memory_equal(s.ids[1], r2.id, KZ_ID_BYTES);
    memset(&s, 0, sizeof s);
    assert_int_equal(kz_store_iter_refs(w.f.s, post.id, KZ_T_REPLY, true, seen_cb, &s), 0);
    assert_int_equal(s.n, 2);
    assert_memory_equal(s.ids[0], r2.id, KZ_ID_BYTES);

    /* Every type, in time order across types. */
    memset(&s, 0, sizeof s);
    assert_int_equal(kz_store_iter_refs(w.f.s, post.id, 0, false, seen_cb, &s), 0);
    assert_int_equal(s.n, 3);
    assert_memory_equal(s.ids[0], r1.id, KZ_ID_BYTES);
    assert_memory_equal(s.ids[1], x1.id, KZ_ID_BYTES);
    assert_memory_equal(s.ids[2], r2.id, KZ_ID_BYTES);
    memset(&s, 0, sizeof s);
    s.stop_after = 1;
    assert_int_equal(kz_store_iter_refs(w.f.s, post.id, 0, true, seen_cb, &s), 0);
    assert_int_equal(s.n, 1);
    assert_memory_equal(s.ids[0], r2.id, KZ_ID_BYTES);

    /* A replaced reaction leaves the index with its record. */
    mk_reaction(&x2, &w.a, T0 + 40, post.id, 1);
    kz_put_result res = put_expect(w.f.s, &x2, 0);
    assert_true(res.replaced);
    memset(&s, 0, sizeof s);
    assert_int_equal(kz_store_iter_refs(w.f.s, post.id, KZ_T_REACTION, true, seen_cb, &s), 0);
    assert_int_equal(s.n, 1);
    assert_memory_equal(s.ids[0], x2.id, KZ_ID_BYTES);

    /* A deleted reply leaves it too. */
    kz_record del;
    mk_delete(&del, &w.a, T0 + 50, r1.id, w.a.pk);
    put_expect(w.f.s, &del, 0);
    memset(&s, 0, sizeof s);
    assert_int_equal(kz_store_iter_refs(w.f.s, post.id, KZ_T_REPLY, false, seen_cb, &s), 0);
    assert_int_equal(s.n, 1);
    assert_memory_equal(s.ids[0], r2.id, KZ_ID_BYTES);

    assert_int_equal(kz_store_iter_refs(w.f.s, post.id, -1, false, seen_cb, &s), KZ_EINVAL);
    assert_int_equal(kz_store_iter_refs(w.f.s, NULL, 0, false, seen_cb, &s), KZ_EINVAL);

    kz_record_close(&del);
    kz_record_close(&x2);
    kz_record_close(&x1);
    kz_record_close(&r2);
    kz_record_close(&r1);
    kz_record_close(&post);
    fx_close(&w.f);
}

static void test_rooms_index(void **state)
{
    world w;
    kz_record p[5];
    seen s;
    static const char *rooms[5] = {"lounge", "other", "lounge", "lounge", "lounge"};

    world_open(&w);
    for (int i = 0; i < 5; i++) {
        mk_room_post(&p[i], &w.a, T0 + 10 + (uint64_t)i, rooms[i], "x");
        put_expect(w.f.s, &p[i], 0);
    }
    /* Newest first from the top. */
    memset(&s, 0, sizeof s);
    assert_int_equal(kz_store_iter_room(w.f.s, "lounge", 6, UINT64_MAX, NULL, seen_cb, &s), 0);
    assert_int_equal(s.n, 4);
    assert_memory_equal(s.ids[0], p[4].id, KZ_ID_BYTES);
    assert_memory_equal(s.ids[3], p[0].id, KZ_ID_BYTES);
    /* Page 2 from a cursor: inclusive, so the cursor item comes first. */
    memset(&s, 0, sizeof s);
    assert_int_equal(kz_store_iter_room(w.f.s, "lounge", 6, p[2].created_ms, p[2].id, seen_cb, &s),
                     0);
    assert_int_equal(s.n, 2);
    assert_memory_equal(s.ids[0], p[2].id, KZ_ID_BYTES);
    assert_memory_equal(s.ids[1], p[0].id, KZ_ID_BYTES);
    memset(&s, 0, sizeof s);
    assert_int_equal(kz_store_iter_room(w.f.s, "other", 5, UINT64_MAX, NULL, seen_cb, &s), 0);
    assert_int_equal(s.n, 1);
    memset(&s, 0, sizeof s);
    assert_int_equal(kz_store_iter_room(w.f.s, "empty", 5, UINT64_MAX, NULL, seen_cb, &s), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(kz_store_iter_room(w.f.s, "", 0, UINT64_MAX, NULL, seen_cb, &s), KZ_EINVAL);

    /* A deleted post leaves the room. */
    kz_record del;
    mk_delete(&del, &w.node, T0 + 50, p[4].id, w.a.pk);
    put_expect(w.f.s, &del, 0);
    memset(&s, 0, sizeof s);
    assert_int_equal(kz_store_iter_room(w.f.s, "lounge", 6, UINT64_MAX, NULL, seen_cb, &s), 0);
    assert_int_equal(s.n, 3);
    assert_memory_equal(s.ids[0], p[3].id, KZ_ID_BYTES);

    kz_record_close(&del);
    for (int i = 0; i < 5; i++)
        kz_record_close(&p[i]);
    fx_close(&w.f);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_refs_index),
    cmocka_unit_test(test_rooms_index),
};

KZ_TEST_MAIN(tests)
