/* json.c: names of enumerations and the JSON form of decoded records (for
 * `record show --json`, control replies and, later, the HTTP API). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const kz_roles[] = {"alumni", "employee", "secretariat"};
static const char *const kz_kinds[] = {"text", "intro", "request", "promo", "article", "poll"};
static const char *const kz_vis[] = {"federation", "company", "hidden"};
static const char *const kz_reactions[KZ_REACTION_KINDS] = {"like", "thanks", "celebrate",
                                                            "insightful", "support", "funny"};
static const char *const kz_rsvps[] = {"going", "maybe", "no"};

static const char *kz_name_of(const char *const *names, size_t n, int v)
{
    return v >= 0 && (size_t)v < n ? names[v] : "unknown";
}

static int kz_parse_name(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++) {
        if (strcmp(names[i], s) == 0)
            return (int)i;
    }
    return -1;
}

const char *kz_role_name(int role) { return kz_name_of(kz_roles, KZ_ARRAY_LEN(kz_roles), role); }
int kz_role_parse(const char *s) { return kz_parse_name(kz_roles, KZ_ARRAY_LEN(kz_roles), s); }
const char *kz_post_kind_name(int k) { return kz_name_of(kz_kinds, KZ_ARRAY_LEN(kz_kinds), k); }
int kz_post_kind_parse(const char *s) { return kz_parse_name(kz_kinds, KZ_ARRAY_LEN(kz_kinds), s); }
const char *kz_visibility_name(int v) { return kz_name_of(kz_vis, KZ_ARRAY_LEN(kz_vis), v); }
int kz_visibility_parse(const char *s) { return kz_parse_name(kz_vis, KZ_ARRAY_LEN(kz_vis), s); }

json_t *kz_json_kzstr(kz_str s)
{
    json_t *j = json_stringn(s.p ? s.p : "", s.n);
    return j ? j : json_string("");
}

json_t *kz_json_hex(const uint8_t *p, size_t n)
{
    char *hex = kz_xmalloc(2 * n + 1);
    kz_hex_encode(hex, 2 * n + 1, p, n);
    json_t *j = json_string(hex);
    free(hex);
    return j;
}

static json_t *kz_jyear(uint16_t y)
{
    return y ? json_integer(y) : json_null();
}

static json_t *kz_jtime(uint64_t ms)
{
    char t[KZ_TIME_STR_MAX];
    kz_time_format(t, ms);
    return json_string(t);
}

static json_t *kz_jlist(const kz_str *items, uint32_t n)
{
    json_t *a = json_array();
    for (uint32_t i = 0; i < n; i++)
        json_array_append_new(a, kz_json_kzstr(items[i]));
    return a;
}

static void kz_set_opt_str(json_t *o, const char *key, kz_str s)
{
    if (s.n)
        json_object_set_new(o, key, kz_json_kzstr(s));
}

static json_t *kz_json_body(const kz_record *r)
{
    json_t *o = json_object();
    switch (r->type) {
    case KZ_T_NODE:
        json_object_set_new(o, "name", kz_json_kzstr(r->body.node.name));
        json_object_set_new(o, "addrs", kz_jlist(r->body.node.addrs, r->body.node.n_addrs));
        break;
    case KZ_T_ATTEST: {
        const kz_body_attest *b = &r->body.attest;
        json_object_set_new(o, "member", kz_json_hex(b->member, KZ_KEY_BYTES));
        json_object_set_new(o, "role", json_string(kz_role_name(b->role)));
        json_object_set_new(o, "joined", kz_jyear(b->joined));
        json_object_set_new(o, "left", kz_jyear(b->left));
        kz_set_opt_str(o, "department", b->department);
        if (b->has_previous) {
            json_object_set_new(o, "previous", kz_json_hex(b->previous, KZ_KEY_BYTES));
            json_object_set_new(o, "handover", kz_json_hex(b->handover.p, b->handover.n));
        }
        break;
    }
    case KZ_T_REVOKE:
        json_object_set_new(o, "member", kz_json_hex(r->body.revoke.member, KZ_KEY_BYTES));
        kz_set_opt_str(o, "reason", r->body.revoke.reason);
        if (r->body.revoke.has_previous) {
            json_object_set_new(o, "previous", kz_json_hex(r->body.revoke.previous, KZ_KEY_BYTES));
            json_object_set_new(o, "handover", kz_json_hex(r->body.revoke.handover.p,
                                                           r->body.revoke.handover.n));
        }
        break;
    case KZ_T_PROFILE: {
        kz_profile p;
        kz_profile_init(&p);
        kz_profile_from_body(&p, &r->body.profile);
        json_decref(o);
        o = kz_profile_to_json(&p, false);
        kz_profile_close(&p);
        break;
    }
    case KZ_T_POST: {
        const kz_body_post *b = &r->body.post;
        json_object_set_new(o, "room", kz_json_kzstr(b->room));
        json_object_set_new(o, "kind", json_string(kz_post_kind_name(b->kind)));
        json_object_set_new(o, "text", kz_json_kzstr(b->text));
        if (b->has_nominate)
            json_object_set_new(o, "nominate", kz_json_hex(b->nominate, KZ_KEY_BYTES));
        if (b->has_edit_of)
            json_object_set_new(o, "edit_of", kz_json_hex(b->edit_of, KZ_ID_BYTES));
        if (b->n_options)
            json_object_set_new(o, "options", kz_jlist(b->options, b->n_options));
        if (b->closed)
            json_object_set_new(o, "closed", json_true());
        if (b->has_event)
            json_object_set_new(o, "event", kz_json_hex(b->event, KZ_ID_BYTES));
        break;
    }
    case KZ_T_REPLY:
        json_object_set_new(o, "parent", kz_json_hex(r->body.reply.parent, KZ_ID_BYTES));
        json_object_set_new(o, "text", kz_json_kzstr(r->body.reply.text));
        if (r->body.reply.has_edit_of)
            json_object_set_new(o, "edit_of", kz_json_hex(r->body.reply.edit_of, KZ_ID_BYTES));
        break;
    case KZ_T_REACTION:
        json_object_set_new(o, "target", kz_json_hex(r->body.reaction.target, KZ_ID_BYTES));
        json_object_set_new(o, "kind", json_string(kz_name_of(kz_reactions, KZ_REACTION_KINDS,
                                                              r->body.reaction.kind)));
        if (r->body.reaction.off)
            json_object_set_new(o, "off", json_true());
        break;
    case KZ_T_EVENT: {
        const kz_body_event *b = &r->body.event;
        json_object_set_new(o, "room", kz_json_kzstr(b->room));
        json_object_set_new(o, "title", kz_json_kzstr(b->title));
        kz_set_opt_str(o, "description", b->description);
        json_object_set_new(o, "start", kz_jtime(b->start_ms));
        if (b->end_ms)
            json_object_set_new(o, "end", kz_jtime(b->end_ms));
        kz_set_opt_str(o, "tz", b->tz);
        kz_set_opt_str(o, "place", b->place);
        kz_set_opt_str(o, "link", b->link);
        if (b->capacity)
            json_object_set_new(o, "capacity", json_integer(b->capacity));
        if (b->has_edit_of)
            json_object_set_new(o, "edit_of", kz_json_hex(b->edit_of, KZ_ID_BYTES));
        break;
    }
    case KZ_T_RSVP:
        json_object_set_new(o, "event", kz_json_hex(r->body.rsvp.event, KZ_ID_BYTES));
        json_object_set_new(o, "status", json_string(kz_name_of(kz_rsvps, KZ_ARRAY_LEN(kz_rsvps),
                                                                r->body.rsvp.status)));
        break;
    case KZ_T_DELETE:
        json_object_set_new(o, "target", kz_json_hex(r->body.del.target, KZ_ID_BYTES));
        json_object_set_new(o, "target_author", kz_json_hex(r->body.del.target_author, KZ_KEY_BYTES));
        kz_set_opt_str(o, "reason", r->body.del.reason);
        break;
    case KZ_T_CONTACT:
        json_object_set_new(o, "to", kz_json_hex(r->body.contact.to, KZ_KEY_BYTES));
        json_object_set_new(o, "sealed_bytes", json_integer(r->body.contact.sealed.n));
        break;
    case KZ_T_VOTE:
        json_object_set_new(o, "poll", kz_json_hex(r->body.vote.poll, KZ_ID_BYTES));
        json_object_set_new(o, "option", json_integer(r->body.vote.option));
        break;
    case KZ_T_REPORT:
        json_object_set_new(o, "to", kz_json_hex(r->body.report.to, KZ_KEY_BYTES));
        json_object_set_new(o, "sealed_bytes", json_integer(r->body.report.sealed.n));
        break;
    case KZ_T_ROOM:
        json_object_set_new(o, "name", kz_json_kzstr(r->body.room.name));
        kz_set_opt_str(o, "title", r->body.room.title);
        kz_set_opt_str(o, "description", r->body.room.description);
        json_object_set_new(o, "scope", json_string(r->body.room.scope ? "company" : "federation"));
        break;
    default:
        break;
    }
    return o;
}

json_t *kz_json_record(const kz_record *r, bool sig_valid)
{
    const char *type = kz_rtype_name(r->type);
    json_t *o = json_object();
    json_object_set_new(o, "id", kz_json_hex(r->id, KZ_ID_BYTES));
    json_object_set_new(o, "type", json_string(type ? type : "unknown"));
    json_object_set_new(o, "author", kz_json_hex(r->author, KZ_KEY_BYTES));
    json_object_set_new(o, "created", kz_jtime(r->created_ms));
    json_object_set_new(o, "created_ms", json_integer((json_int_t)r->created_ms));
    json_object_set_new(o, "version", json_integer(r->version));
    json_object_set_new(o, "size", json_integer((json_int_t)r->raw_len));
    json_object_set_new(o, "signature", json_string(sig_valid ? "valid" : "invalid"));
    json_object_set_new(o, "body", kz_json_body(r));
    return o;
}
