/* record_fields.c: the body tables (keys, kinds, limits) of all record types and
 * their cross-field rules. docs/protocol.md "Records" mirrors this file. */
#include "record_internal.h"

#include <sodium.h>
#include <string.h>

#define OFF(m) offsetof(kz_record, body.m)

#define STR(k, m, mx, fl) \
    { .key = k, .kind = KZ__F_STR, .flags = fl, .name = #m, .off = OFF(m), .max = mx }
#define LIST(k, m, cnt, mx, items)                                                     \
    { .key = k, .kind = KZ__F_STRLIST, .name = #m, .off = OFF(m), .off_aux = OFF(cnt), \
      .max = mx, .max_items = items }
#define KEY(k, m) { .key = k, .kind = KZ__F_KEY, .name = #m, .off = OFF(m) }
#define OPTKEY(k, m, has) \
    { .key = k, .kind = KZ__F_OPTKEY, .name = #m, .off = OFF(m), .off_aux = OFF(has) }
#define BYTES(k, m, mx, fl) \
    { .key = k, .kind = KZ__F_BYTES, .flags = fl, .name = #m, .off = OFF(m), .max = mx }
#define UINT(k, m, mx, fl)                                                              \
    { .key = k, .kind = KZ__F_UINT, .width = sizeof(((kz_record *)0)->body.m),          \
      .flags = fl, .name = #m, .off = OFF(m), .max = mx }
#define BOOL(k, m) { .key = k, .kind = KZ__F_BOOL, .name = #m, .off = OFF(m) }

static const kz__field node_fields[] = {
    STR(1, node.name, KZ_NAME_MAX, KZ__F_REQUIRED),
    LIST(2, node.addrs, node.n_addrs, KZ_ADDR_MAX, KZ_NODE_ADDRS_MAX),
};

static const kz__field attest_fields[] = {
    KEY(1, attest.member),
    UINT(2, attest.role, KZ_ROLE_SECRETARIAT, KZ__F_ALWAYS),
    UINT(3, attest.joined, KZ_YEAR_MAX, KZ__F_YEAR),
    UINT(4, attest.left, KZ_YEAR_MAX, KZ__F_YEAR),
    STR(5, attest.department, KZ_SHORT_MAX, 0),
    OPTKEY(6, attest.previous, attest.has_previous),
    BYTES(7, attest.handover, KZ_SIG_BYTES, 0),
};

static const kz__field revoke_fields[] = {
    KEY(1, revoke.member),
    STR(2, revoke.reason, KZ_BIO_MAX, KZ__F_NEWLINES),
    OPTKEY(3, revoke.previous, revoke.has_previous),
    BYTES(4, revoke.handover, KZ_SIG_BYTES, 0),
};

static const kz__field profile_fields[] = {
    STR(1, profile.name, KZ_NAME_MAX, KZ__F_REQUIRED),
    STR(2, profile.reading, KZ_NAME_MAX, 0),
    STR(3, profile.romaji, KZ_NAME_MAX, 0),
    STR(4, profile.department, KZ_SHORT_MAX, 0),
    STR(5, profile.title, KZ_SHORT_MAX, 0),
    UINT(6, profile.joined, KZ_YEAR_MAX, KZ__F_YEAR),
    UINT(7, profile.left, KZ_YEAR_MAX, KZ__F_YEAR),
    STR(8, profile.current_company, KZ_NAME_MAX, 0),
    STR(9, profile.current_title, KZ_SHORT_MAX, 0),
    STR(10, profile.location, KZ_SHORT_MAX, 0),
    LIST(11, profile.skills, profile.n_skills, KZ_SKILL_MAX, KZ_SKILLS_MAX),
    STR(12, profile.bio, KZ_BIO_MAX, KZ__F_NEWLINES),
    LIST(13, profile.links, profile.n_links, KZ_URL_MAX, KZ_LINKS_MAX),
    UINT(14, profile.open_to, KZ_OPEN_ALL, 0),
    UINT(15, profile.visibility, KZ_VIS_HIDDEN, 0),
};

static const kz__field post_fields[] = {
    STR(1, post.room, KZ_SHORT_MAX, KZ__F_REQUIRED),
    UINT(2, post.kind, KZ_POST_KIND_MAX, 0),
    STR(3, post.text, KZ_TEXT_MAX, KZ__F_REQUIRED | KZ__F_NEWLINES),
    OPTKEY(4, post.nominate, post.has_nominate),
    OPTKEY(5, post.edit_of, post.has_edit_of),
    LIST(6, post.options, post.n_options, KZ_SHORT_MAX, KZ_POLL_OPTIONS_MAX),
    BOOL(7, post.closed),
    OPTKEY(8, post.event, post.has_event),
};

static const kz__field reply_fields[] = {
    KEY(1, reply.parent),
    STR(2, reply.text, KZ_TEXT_MAX, KZ__F_REQUIRED | KZ__F_NEWLINES),
    OPTKEY(3, reply.edit_of, reply.has_edit_of),
};

static const kz__field reaction_fields[] = {
    KEY(1, reaction.target),
    UINT(2, reaction.kind, KZ_REACTION_KINDS - 1, KZ__F_ALWAYS),
    BOOL(3, reaction.off),
};

static const kz__field event_fields[] = {
    STR(1, event.room, KZ_SHORT_MAX, KZ__F_REQUIRED),
    STR(2, event.title, KZ_SHORT_MAX, KZ__F_REQUIRED),
    STR(3, event.description, KZ_TEXT_MAX, KZ__F_NEWLINES),
    UINT(4, event.start_ms, UINT64_MAX, KZ__F_REQUIRED),
    UINT(5, event.end_ms, UINT64_MAX, 0),
    STR(6, event.tz, KZ_SHORT_MAX, 0),
    STR(7, event.place, KZ_SHORT_MAX, 0),
    STR(8, event.link, KZ_URL_MAX, 0),
    UINT(9, event.capacity, UINT32_MAX, 0),
    OPTKEY(10, event.edit_of, event.has_edit_of),
};

static const kz__field rsvp_fields[] = {
    KEY(1, rsvp.event),
    UINT(2, rsvp.status, KZ_RSVP_NO, KZ__F_ALWAYS),
};

static const kz__field delete_fields[] = {
    KEY(1, del.target),
    KEY(2, del.target_author),
    STR(3, del.reason, KZ_BIO_MAX, KZ__F_NEWLINES),
};

static const kz__field contact_fields[] = {
    KEY(1, contact.to),
    BYTES(2, contact.sealed, KZ_SEALED_MAX, KZ__F_REQUIRED),
};

static const kz__field vote_fields[] = {
    KEY(1, vote.poll),
    UINT(2, vote.option, KZ_POLL_OPTIONS_MAX - 1, KZ__F_ALWAYS),
};

static const kz__field report_fields[] = {
    KEY(1, report.to),
    BYTES(2, report.sealed, KZ_SEALED_MAX, KZ__F_REQUIRED),
};

static const kz__field room_fields[] = {
    STR(1, room.name, KZ_ROOM_TOPIC_MAX, KZ__F_REQUIRED),
    STR(2, room.title, KZ_SHORT_MAX, 0),
    STR(3, room.description, KZ_BIO_MAX, KZ__F_NEWLINES),
    UINT(4, room.scope, KZ_SCOPE_COMPANY, 0),
};

static int check_years(const char *type, uint16_t joined, uint16_t left)
{
    if (joined && left && left < joined)
        return kz__record_fail(KZ_EINVAL, "%s.left: %u is before joined %u", type,
                               (unsigned)left, (unsigned)joined);
    return 0;
}

static int check_none(const kz_record *r)
{
    (void)r;
    return 0;
}

/* A hand-over is one statement in two fields: the old key and its
 * signature. Its signature is checked by kz_record_verify (record.c), next
 * to the record's own, so that KZ_DECODE_NOVERIFY skips both. */
static int check_handover(const char *type, const uint8_t member[KZ_KEY_BYTES], bool has_previous,
                          const uint8_t previous[KZ_KEY_BYTES], kz_bytes handover)
{
    if (has_previous != (handover.n != 0))
        return kz__record_fail(KZ_EINVAL, "%s.%s: previous and handover must appear together",
                               type, has_previous ? "handover" : "previous");
    if (handover.n && handover.n != KZ_SIG_BYTES)
        return kz__record_fail(KZ_EINVAL, "%s.handover: %u bytes, a signature has %u", type,
                               (unsigned)handover.n, (unsigned)KZ_SIG_BYTES);
    if (has_previous && memcmp(previous, member, KZ_KEY_BYTES) == 0)
        return kz__record_fail(KZ_EINVAL, "%s.previous: equals the member key", type);
    return 0;
}

static int check_attest(const kz_record *r)
{
    const kz_body_attest *a = &r->body.attest;
    int rc = check_handover("attest", a->member, a->has_previous, a->previous, a->handover);
    if (rc)
        return rc;
    return check_years("attest", a->joined, a->left);
}

static int check_revoke(const kz_record *r)
{
    const kz_body_revoke *v = &r->body.revoke;
    return check_handover("revoke", v->member, v->has_previous, v->previous, v->handover);
}

static int check_profile(const kz_record *r)
{
    return check_years("profile", r->body.profile.joined, r->body.profile.left);
}

static int check_post(const kz_record *r)
{
    const kz_body_post *p = &r->body.post;
    if (p->has_nominate && p->kind != KZ_POST_INTRO)
        return kz__record_fail(KZ_EINVAL, "post.nominate: only allowed on intro posts");
    if (p->kind == KZ_POST_POLL) {
        if (p->n_options < 2)
            return kz__record_fail(KZ_EINVAL, "post.options: a poll needs 2 to %u options",
                                   (unsigned)KZ_POLL_OPTIONS_MAX);
    } else if (p->n_options) {
        return kz__record_fail(KZ_EINVAL, "post.options: only allowed on polls");
    }
    return 0;
}

static int check_event(const kz_record *r)
{
    const kz_body_event *e = &r->body.event;
    if (e->end_ms && e->end_ms < e->start_ms)
        return kz__record_fail(KZ_EINVAL, "event.end_ms: before start_ms");
    return 0;
}

static int check_delete(const kz_record *r)
{
    static const uint8_t zero[KZ_ID_BYTES];
    if (memcmp(r->body.del.target, zero, KZ_ID_BYTES) == 0)
        return kz__record_fail(KZ_EINVAL, "delete.target: all-zero id");
    return 0;
}

static int check_contact(const kz_record *r)
{
    /* A sealed box is never shorter than its ephemeral key plus MAC. */
    if (r->body.contact.sealed.n < crypto_box_SEALBYTES)
        return kz__record_fail(KZ_EINVAL, "contact.sealed: shorter than %u bytes",
                               (unsigned)crypto_box_SEALBYTES);
    return 0;
}

static int check_report(const kz_record *r)
{
    /* The plaintext is at least a target id and one byte of reason. */
    if (r->body.report.sealed.n < crypto_box_SEALBYTES + KZ_ID_BYTES + 1)
        return kz__record_fail(KZ_EINVAL, "report.sealed: shorter than %u bytes",
                               (unsigned)(crypto_box_SEALBYTES + KZ_ID_BYTES + 1));
    return 0;
}

static int check_room(const kz_record *r)
{
    if (!kz_room_topic_valid(r->body.room.name.p, r->body.room.name.n))
        return kz__record_fail(KZ_EINVAL, "room.name: not a topic room name "
                                          "([a-z0-9_-], not lounge or company:...)");
    return 0;
}

#define DESC(n, f, c) { n, f, KZ_ARRAY_LEN(f), c }

static const kz__body_desc descs[KZ_T_MAX + 1] = {
    [KZ_T_NODE] = DESC("node", node_fields, check_none),
    [KZ_T_ATTEST] = DESC("attest", attest_fields, check_attest),
    [KZ_T_REVOKE] = DESC("revoke", revoke_fields, check_revoke),
    [KZ_T_PROFILE] = DESC("profile", profile_fields, check_profile),
    [KZ_T_POST] = DESC("post", post_fields, check_post),
    [KZ_T_REPLY] = DESC("reply", reply_fields, check_none),
    [KZ_T_REACTION] = DESC("reaction", reaction_fields, check_none),
    [KZ_T_EVENT] = DESC("event", event_fields, check_event),
    [KZ_T_RSVP] = DESC("rsvp", rsvp_fields, check_none),
    [KZ_T_DELETE] = DESC("delete", delete_fields, check_delete),
    [KZ_T_CONTACT] = DESC("contact", contact_fields, check_contact),
    [KZ_T_VOTE] = DESC("vote", vote_fields, check_none),
    [KZ_T_REPORT] = DESC("report", report_fields, check_report),
    [KZ_T_ROOM] = DESC("room", room_fields, check_room),
};

const kz__body_desc *kz__body_desc_get(int type)
{
    if (type < 1 || type > KZ_T_MAX)
        return NULL;
    return &descs[type];
}
