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


/* ---- Rules ------------------------------------------------------------------ */

static void mk_poll(kz_record *r, const key *m, uint64_t t, const uint8_t *edit_of, bool closed)
{
    kz_record_init(r, KZ_T_POST, m->pk, t);
    r->body.post.room = (kz_str){"lounge", 6};
    r->body.post.kind = KZ_POST_POLL;
    r->body.post.text = (kz_str){"lunch?", 6};
    r->body.post.n_options = 2;
    r->body.post.options[0] = (kz_str){"ramen", 5};
    r->body.post.options[1] = (kz_str){"soba", 4};
    if (edit_of) {
        r->body.post.has_edit_of = true;
        memcpy(r->body.post.edit_of, edit_of, KZ_ID_BYTES);
    }
    r->body.post.closed = closed;
    sign_ok(r, m);
}

static void mk_vote(kz_record *r, const key *m, uint64_t t, const uint8_t poll[KZ_ID_BYTES],
                    uint8_t option)
{
    kz_record_init(r, KZ_T_VOTE, m->pk, t);
    memcpy(r->body.vote.poll, poll, KZ_ID_BYTES);
    r->body.vote.option = option;
    sign_ok(r, m);
}

static void test_company_room(void **state)
{
    world w;
    key other_node, b;
    kz_record r;
    char room[80];

    world_open(&w);
    key_make(&other_node, 7);
    key_make(&b, 8);
    mk_node(&r, &other_node, T0);
    put_expect(w.f.s, &r, 0);
    kz_record_close(&r);
    mk_attest(&r, &other_node, &b, T0 + 1);
    put_expect(w.f.s, &r, 0);
    kz_record_close(&r);

    memcpy(room, "company:", 8);
    kz_hex_encode(room + 8, sizeof room - 8, w.node.pk, KZ_KEY_BYTES);
    mk_room_post(&r, &w.a, T0 + 10, room, "ours");
    put_expect(w.f.s, &r, 0);
    kz_record post = r;
    mk_room_post(&r, &b, T0 + 11, room, "not mine");
    put_expect(w.f.s, &r, KZ_EPERM);
    kz_record_close(&r);
    /* Replies and reactions into the company room follow the room. */
    mk_reply(&r, &b, T0 + 12, post.id, "sneaking in");
    put_expect(w.f.s, &r, KZ_EPERM);
    kz_record_close(&r);
    mk_reaction(&r, &b, T0 + 12, post.id, 1);
    put_expect(w.f.s, &r, KZ_EPERM);
    kz_record_close(&r);
    mk_reply(&r, &w.a, T0 + 12, post.id, "fine");
    put_expect(w.f.s, &r, 0);
    kz_record_close(&r);
    /* Upper-case hex, bad names. */
    room[10] = (char)(room[10] >= 'a' ? room[10] - 32 : 'A');
    mk_room_post(&r, &w.a, T0 + 13, room, "upper");
    put_expect(w.f.s, &r, KZ_EINVAL);
    kz_record_close(&r);
    mk_room_post(&r, &w.a, T0 + 13, "Has Space", "bad");
    put_expect(w.f.s, &r, KZ_EINVAL);
    kz_record_close(&r);
    kz_record_close(&post);
    fx_close(&w.f);
}

static void test_topic_rooms(void **state)
{
    world w;
    kz_record r;
    key other_node, b;

    world_open(&w);
    key_make(&other_node, 7);
    key_make(&b, 8);
    mk_node(&r, &other_node, T0);
    put_expect(w.f.s, &r, 0);
    kz_record_close(&r);
    mk_attest(&r, &other_node, &b, T0 + 1);
    put_expect(w.f.s, &r, 0);
    kz_record_close(&r);

    /* A room record by a member is refused; by a node accepted. */
    kz_record_init(&r, KZ_T_ROOM, w.a.pk, T0 + 5);
    r.body.room.name = (kz_str){"careers", 7};
    sign_ok(&r, &w.a);
    put_expect(w.f.s, &r, KZ_EPERM);
    kz_record_close(&r);
    kz_record_init(&r, KZ_T_ROOM, w.node.pk, T0 + 5);
    r.body.room.name = (kz_str){"careers", 7};
    r.body.room.scope = KZ_SCOPE_COMPANY;
    sign_ok(&r, &w.node);
    put_expect(w.f.s, &r, 0);
    kz_record_close(&r);
    /* lounge and company: names are not topic rooms. */
    kz_record_init(&r, KZ_T_ROOM, w.node.pk, T0 + 5);
    r.body.room.name = (kz_str){"lounge", 6};
    assert_int_equal(kz_record_sign(&r, w.node.sk), KZ_EINVAL);
    kz_record_close(&r);

    /* The company-scope room admits only the node's own members. */
    mk_room_post(&r, &w.a, T0 + 10, "careers", "ours");
    put_expect(w.f.s, &r, 0);
    kz_record_close(&r);
    mk_room_post(&r, &b, T0 + 10, "careers", "theirs");
    put_expect(w.f.s, &r, KZ_EPERM);
    kz_record_close(&r);
    /* A room not (yet) known accepts posts: its record may arrive later. */
    mk_room_post(&r, &b, T0 + 10, "later", "early bird");
    put_expect(w.f.s, &r, 0);
    kz_record_close(&r);
    fx_close(&w.f);
}

static void test_replies_and_edits(void **state)
{
    world w;
    kz_record post, r, del;
    key b;
    uint8_t missing[KZ_ID_BYTES];

    world_open(&w);
    key_make(&b, 8);
    mk_attest(&r, &w.node, &b, T0 + 2);
    put_expect(w.f.s, &r, 0);
    kz_record_close(&r);

    mk_room_post(&post, &w.a, T0 + 10, "lounge", "hello");
    put_expect(w.f.s, &post, 0);
    /* A reply to a missing parent is kept (hidden until the parent comes). */
    memset(missing, 0x5a, sizeof missing);
    mk_reply(&r, &b, T0 + 11, missing, "early");
    put_expect(w.f.s, &r, 0);
    /* A reply to a reply is refused (one level). */
    kz_record r2;
    mk_reply(&r2, &b, T0 + 12, post.id, "ok");
    put_expect(w.f.s, &r2, 0);
    kz_record r3;
    mk_reply(&r3, &w.a, T0 + 13, r2.id, "nested");
    put_expect(w.f.s, &r3, KZ_EINVAL);
    kz_record_close(&r3);
    kz_record_close(&r);

    /* Edits: same author, same room and kind. */
    kz_record_init(&r, KZ_T_POST, b.pk, T0 + 14);
    r.body.post.room = (kz_str){"lounge", 6};
    r.body.post.text = (kz_str){"hijack", 6};
    r.body.post.has_edit_of = true;
    memcpy(r.body.post.edit_of, post.id, KZ_ID_BYTES);
    sign_ok(&r, &b);
    put_expect(w.f.s, &r, KZ_EPERM);
    kz_record_close(&r);
    kz_record_init(&r, KZ_T_POST, w.a.pk, T0 + 14);
    r.body.post.room = (kz_str){"lounge", 6};
    r.body.post.text = (kz_str){"hello, edited", 13};
    r.body.post.has_edit_of = true;
    memcpy(r.body.post.edit_of, post.id, KZ_ID_BYTES);
    sign_ok(&r, &w.a);
    put_expect(w.f.s, &r, 0);
    kz_record_close(&r);
    /* A text post cannot be closed. */
    kz_record_init(&r, KZ_T_POST, w.a.pk, T0 + 15);
    r.body.post.room = (kz_str){"lounge", 6};
    r.body.post.text = (kz_str){"x", 1};
    r.body.post.has_edit_of = true;
    r.body.post.closed = true;
    memcpy(r.body.post.edit_of, post.id, KZ_ID_BYTES);
    sign_ok(&r, &w.a);
    put_expect(w.f.s, &r, KZ_EINVAL);
    kz_record_close(&r);

    /* After a moderation delete, replies and reactions to it are refused. */
    mk_delete(&del, &w.node, T0 + 20, post.id, w.a.pk);
    put_expect(w.f.s, &del, 0);
    mk_reply(&r, &b, T0 + 21, post.id, "too late");
    put_expect(w.f.s, &r, KZ_EDELETED);
    kz_record_close(&r);
    mk_reaction(&r, &b, T0 + 21, post.id, 0);
    put_expect(w.f.s, &r, KZ_EDELETED);
    kz_record_close(&r);

    kz_record_close(&del);
    kz_record_close(&r2);
    kz_record_close(&post);
    fx_close(&w.f);
}

static void test_articles_secretariat_only(void **state)
{
    world w;
    kz_record r;
    key sec;

    world_open(&w);
    key_make(&sec, 9);
    kz_record_init(&r, KZ_T_ATTEST, w.node.pk, T0 + 3);
    memcpy(r.body.attest.member, sec.pk, KZ_KEY_BYTES);
    r.body.attest.role = KZ_ROLE_SECRETARIAT;
    sign_ok(&r, &w.node);
    put_expect(w.f.s, &r, 0);
    kz_record_close(&r);

    kz_record_init(&r, KZ_T_POST, w.a.pk, T0 + 10);
    r.body.post.room = (kz_str){"lounge", 6};
    r.body.post.kind = KZ_POST_ARTICLE;
    r.body.post.text = (kz_str){"interview", 9};
    sign_ok(&r, &w.a);
    put_expect(w.f.s, &r, KZ_EPERM);
    kz_record_close(&r);
    kz_record_init(&r, KZ_T_POST, sec.pk, T0 + 10);
    r.body.post.room = (kz_str){"lounge", 6};
    r.body.post.kind = KZ_POST_ARTICLE;
    r.body.post.text = (kz_str){"interview", 9};
    sign_ok(&r, &sec);
    put_expect(w.f.s, &r, 0);
    kz_record_close(&r);
    fx_close(&w.f);
}

static void test_votes(void **state)
{
    world w;
    kz_record poll, text, v, close;
    key b;
    uint8_t slot[KZ_SLOT_BYTES], head[KZ_ID_BYTES];

    world_open(&w);
    key_make(&b, 8);
    mk_attest(&v, &w.node, &b, T0 + 2);
    put_expect(w.f.s, &v, 0);
    kz_record_close(&v);

    mk_poll(&poll, &w.a, T0 + 10, NULL, false);
    put_expect(w.f.s, &poll, 0);
    mk_room_post(&text, &w.a, T0 + 10, "lounge", "not a poll");
    put_expect(w.f.s, &text, 0);

    mk_vote(&v, &b, T0 + 20, poll.id, 2);
    put_expect(w.f.s, &v, KZ_EINVAL); /* out of range */
    kz_record_close(&v);
    mk_vote(&v, &b, T0 + 20, text.id, 0);
    put_expect(w.f.s, &v, KZ_EINVAL); /* not a poll */
    kz_record_close(&v);
    mk_vote(&v, &b, T0 + 20, poll.id, 0);
    put_expect(w.f.s, &v, 0);
    kz_record_close(&v);
    /* A changed vote replaces the old one in its slot. */
    mk_vote(&v, &b, T0 + 30, poll.id, 1);
    kz_put_result res = put_expect(w.f.s, &v, 0);
    assert_true(res.replaced);
    slot[0] = 'V';
    memcpy(slot + 1, b.pk, KZ_KEY_BYTES);
    memcpy(slot + 1 + KZ_KEY_BYTES, poll.id, KZ_ID_BYTES);
    assert_int_equal(kz_store_head(w.f.s, slot, head), 0);
    assert_memory_equal(head, v.id, KZ_ID_BYTES);
    kz_record_close(&v);
    mk_vote(&v, &b, T0 + 25, poll.id, 0);
    put_expect(w.f.s, &v, KZ_ESTALE); /* older than the current vote */
    kz_record_close(&v);

    /* Only the author closes; votes created after the close are refused. */
    mk_poll(&close, &b, T0 + 40, poll.id, true);
    put_expect(w.f.s, &close, KZ_EPERM);
    kz_record_close(&close);
    mk_poll(&close, &w.a, T0 + 40, poll.id, true);
    put_expect(w.f.s, &close, 0);
    mk_vote(&v, &b, T0 + 41, poll.id, 0);
    put_expect(w.f.s, &v, KZ_EPERM);
    kz_record_close(&v);
    mk_vote(&v, &w.a, T0 + 39, poll.id, 0);
    put_expect(w.f.s, &v, 0); /* created before the close: still counts */
    kz_record_close(&v);

    kz_record_close(&close);
    kz_record_close(&text);
    kz_record_close(&poll);
    fx_close(&w.f);
}

static void test_reports(void **state)
{
    world w;
    kz_record r;
    key stranger;
    uint8_t sealed[crypto_box_SEALBYTES + KZ_ID_BYTES + 4];

    world_open(&w);
    key_make(&stranger, 9);
    memset(sealed, 7, sizeof sealed);
    kz_record_init(&r, KZ_T_REPORT, w.a.pk, T0 + 10);
    memcpy(r.body.report.to, stranger.pk, KZ_KEY_BYTES);
    r.body.report.sealed = (kz_bytes){sealed, sizeof sealed};
    sign_ok(&r, &w.a);
    put_expect(w.f.s, &r, KZ_EPERM); /* not a node */
    kz_record_close(&r);
    kz_record_init(&r, KZ_T_REPORT, w.a.pk, T0 + 10);
    memcpy(r.body.report.to, w.node.pk, KZ_KEY_BYTES);
    r.body.report.sealed = (kz_bytes){sealed, sizeof sealed};
    sign_ok(&r, &w.a);
    put_expect(w.f.s, &r, 0);
    kz_record_close(&r);
    kz_record_init(&r, KZ_T_REPORT, w.a.pk, T0 + 10);
    memcpy(r.body.report.to, w.node.pk, KZ_KEY_BYTES);
    r.body.report.sealed = (kz_bytes){sealed, crypto_box_SEALBYTES + KZ_ID_BYTES};
    assert_int_equal(kz_record_sign(&r, w.a.sk), KZ_EINVAL); /* no reason */
    kz_record_close(&r);
    fx_close(&w.f);
}

static void test_room_names(void **state)
{
    uint8_t node[KZ_KEY_BYTES];
    (void)state;
    assert_true(kz_room_name_valid("lounge", 6));
    assert_false(kz_room_topic_valid("lounge", 6));
    assert_true(kz_room_topic_valid("job-board_2", 11));
    assert_false(kz_room_topic_valid("Jobs", 4));
    assert_false(kz_room_topic_valid("", 0));
    assert_false(kz_room_name_valid("company:12", 10));
    char name[80] = "company:";
    memset(name + 8, 'a', 64);
    assert_true(kz_room_company_node(name, 72, node));
    assert_true(kz_room_name_valid(name, 72));
    assert_false(kz_room_topic_valid(name, 72));
    name[9] = 'g';
    assert_false(kz_room_company_node(name, 72, node));
}

/* A tombstone forged for a post the node had not seen yet stops neither the
 * post (its author differs) nor replies to it once it is stored. */
static void test_forged_tombstone(void **state)
{
    world w;
    kz_record post, forged, r;
    key b;

    world_open(&w);
    key_make(&b, 8);
    mk_attest(&r, &w.node, &b, T0 + 2);
    put_expect(w.f.s, &r, 0);
    kz_record_close(&r);

    mk_room_post(&post, &w.a, T0 + 10, "lounge", "soon forged");
    mk_delete(&forged, &b, T0 + 11, post.id, b.pk); /* claims to be its author */
    put_expect(w.f.s, &forged, 0);                  /* target absent: kept */
    mk_reply(&r, &b, T0 + 12, post.id, "before the post");
    put_expect(w.f.s, &r, KZ_EDELETED);             /* cannot tell: refused */
    kz_record_close(&r);
    put_expect(w.f.s, &post, 0);                    /* the real post arrives */
    mk_reply(&r, &b, T0 + 13, post.id, "after the post");
    put_expect(w.f.s, &r, 0);
    kz_record_close(&r);

    kz_record_close(&forged);
    kz_record_close(&post);
    fx_close(&w.f);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_refs_index),
    cmocka_unit_test(test_rooms_index),
    cmocka_unit_test(test_company_room),
    cmocka_unit_test(test_topic_rooms),
    cmocka_unit_test(test_replies_and_edits),
    cmocka_unit_test(test_articles_secretariat_only),
    cmocka_unit_test(test_votes),
    cmocka_unit_test(test_reports),
    cmocka_unit_test(test_room_names),
    cmocka_unit_test(test_forged_tombstone),
};

KZ_TEST_MAIN(tests)
