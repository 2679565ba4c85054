/* handlers_search.c: the control verbs `search` (checks every argument, sets
 * the viewer (a member of this federation, or by default this node's own
 * secretariat view), runs the store's query and returns the hits as JSON)
 * (`search.reindex` is in search_reindex.c). */
#include "internal.h"

#include <stdio.h>
#include <string.h>

#define KZ_SEARCH_ARG_MAX 16384 /* longer text is refused here; the store's own
                                   limits (1 KiB of query) give the finer reason */

/* An optional member or node id argument: *present says whether it was
 * given. */
static int kz_arg_id_opt(json_t *args, const char *key, uint8_t out[KZ_KEY_BYTES], bool *present,
                         char *err, size_t errsz)
{
    json_t *v = json_object_get(args, key);
    *present = false;
    if (!v || json_is_null(v))
        return 0;
    int rc = kz__arg_id(args, key, out, err, errsz);
    if (rc == 0)
        *present = true;
    return rc;
}

/* open_to as "reconnect,business,mentoring,rehire" (any order, no repeats). */
static int kz_arg_open_to(json_t *args, uint32_t *bits, bool *rehire, char *err, size_t errsz)
{
    const char *s;
    *bits = 0;
    *rehire = false;
    int rc = kz__arg_str(args, "open_to", false, 128, false, &s, err, errsz);
    if (rc != 0 || !s || !s[0])
        return rc;
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        static const struct {
            const char *name;
            uint32_t bit;
        } names[] = {{"reconnect", KZ_OPEN_RECONNECT}, {"business", KZ_OPEN_BUSINESS},
                     {"mentoring", KZ_OPEN_MENTORING}, {"rehire", 0}};
        bool known = false;
        for (size_t i = 0; i < KZ_ARRAY_LEN(names); i++) {
            if (strlen(names[i].name) == n && memcmp(names[i].name, s, n) == 0) {
                known = true;
                if (names[i].bit)
                    *bits |= names[i].bit;
                else
                    *rehire = true;
            }
        }
        if (!known) {
            snprintf(err, errsz,
                     "open_to: '%.*s' is not one of reconnect, business, mentoring, rehire",
                     (int)(n > 40 ? 40 : n), s);
            return KZ_EINVAL;
        }
        s += n;
        if (*s == ',')
            s++;
    }
    return 0;
}

static int kz_arg_limit(json_t *args, unsigned *limit, char *err, size_t errsz)
{
    json_t *v = json_object_get(args, "limit");
    *limit = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 1 ||
        json_integer_value(v) > KZ_SEARCH_LIMIT_MAX) {
        snprintf(err, errsz, "argument 'limit' must be an integer from 1 to %d",
                 KZ_SEARCH_LIMIT_MAX);
        return KZ_EINVAL;
    }
    *limit = (unsigned)json_integer_value(v);
    return 0;
}

static json_t *kz_hit_json(const kz_search_hit *h)
{
    char updated[KZ_TIME_STR_MAX];
    json_t *matched = json_array();
    for (unsigned i = 0; i < KZ_SEARCH_F_COUNT; i++) {
        if (h->matched & (1u << i))
            json_array_append_new(matched, json_string(kz_search_field_name(1u << i)));
    }
    kz_time_format(updated, h->updated_ms);
    json_t *o = json_pack("{s:o, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:o, s:s, s:i}",
                          "member_id", kz_json_hex(h->member, KZ_KEY_BYTES), "name", h->name,
                          "reading", h->reading, "romaji", h->romaji, "home_company",
                          h->home_company, "home_node", kz_json_hex(h->home_node, KZ_KEY_BYTES),
                          "current_company", h->current_company, "current_title",
                          h->current_title, "location", h->location, "matched", matched,
                          "updated", updated, "score", (int)h->score);
    if (o && h->rehire_known)
        json_object_set_new(o, "rehire", json_boolean(h->rehire));
    return o;
}

static int kz_h_search(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {
        "query", "company", "current_company", "skill", "location", "left_from", "left_to",
        "open_to", "as", "same_current_company_as", "former_colleagues_of", "limit", "cursor",
        NULL};
    const char *query, *company, *cur_company, *skill, *location, *cursor;
    uint8_t as[KZ_KEY_BYTES], same[KZ_KEY_BYTES], former[KZ_KEY_BYTES], node[KZ_KEY_BYTES];
    uint8_t viewer_home[KZ_KEY_BYTES], aid[KZ_ID_BYTES];
    bool has_as, has_same, has_former;
    kz_search_query q;
    int rc;
    memset(&q, 0, sizeof q);
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "query", false, KZ_SEARCH_ARG_MAX, false, &query, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "company", false, KZ_SEARCH_ARG_MAX, false, &company, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "current_company", false, KZ_SEARCH_ARG_MAX, false, &cur_company,
                          err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "skill", false, KZ_SEARCH_ARG_MAX, false, &skill, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "location", false, KZ_SEARCH_ARG_MAX, false, &location, err,
                          errsz)) != 0 ||
        (rc = kz__arg_str(args, "cursor", false, KZ_SEARCH_CURSOR_MAX, false, &cursor, err,
                          errsz)) != 0 ||
        (rc = kz__arg_year(args, "left_from", &q.left_from, err, errsz)) != 0 ||
        (rc = kz__arg_year(args, "left_to", &q.left_to, err, errsz)) != 0 ||
        (rc = kz_arg_open_to(args, &q.open_to, &q.rehire, err, errsz)) != 0 ||
        (rc = kz_arg_id_opt(args, "as", as, &has_as, err, errsz)) != 0 ||
        (rc = kz_arg_id_opt(args, "same_current_company_as", same, &has_same, err, errsz)) != 0 ||
        (rc = kz_arg_id_opt(args, "former_colleagues_of", former, &has_former, err, errsz)) != 0 ||
        (rc = kz_arg_limit(args, &q.limit, err, errsz)) != 0)
        return rc;
    if (q.left_from && q.left_to && q.left_from > q.left_to) {
        snprintf(err, errsz, "left_from (%u) is after left_to (%u)", (unsigned)q.left_from,
                 (unsigned)q.left_to);
        return KZ_EINVAL;
    }
    q.text = query;
    /* A company given as a node id (64 hex digits) names the node itself. */
    if (company && strlen(company) == KZ_ID_HEX_LEN &&
        kz_hex_decode(node, KZ_KEY_BYTES, company) == 0)
        q.home_node = node;
    else if (company && company[0])
        q.home_company = company;
    q.current_company = cur_company;
    q.skill = skill;
    q.location = location;
    q.cursor = cursor && cursor[0] ? cursor : NULL;
    q.same_current_company_as = has_same ? same : NULL;
    q.former_colleagues_of = has_former ? former : NULL;
    if (has_as) {
        /* Searching as a member: they see what their home company may see,
         * never the secretariat's private re-hire flags. */
        rc = kz_store_member_home(n->store, as, viewer_home, aid);
        if (rc != 0) {
            kz_idstr id = kz_id_to_str(as);
            snprintf(err, errsz, "as: member %s has no live attestation here", id.s);
            return rc == KZ_ENOATTEST ? KZ_ENOTFOUND : rc;
        }
        q.viewer_home = viewer_home;
    } else {
        q.viewer_home = n->keys.node_pk;
        q.secretariat = true;
    }
    if (q.rehire && has_as) {
        snprintf(err, errsz, "open_to rehire: only this node's secretariat view may filter on "
                             "re-hire interest (drop --as)");
        return KZ_EPERM;
    }

    kz_search_result *res = NULL;
    const char *reason = NULL;
    rc = kz_store_search(n->store, &q, &res, &reason);
    if (rc != 0) {
        snprintf(err, errsz, "%s", reason ? reason : kz_strerror(rc));
        return rc;
    }
    json_t *hits = json_array();
    for (size_t i = 0; i < res->n; i++)
        json_array_append_new(hits, kz_hit_json(&res->hits[i]));
    *result = json_pack("{s:o, s:o, s:b, s:i}", "hits", hits, "next_cursor",
                        res->more ? json_string(res->next_cursor) : json_null(), "truncated",
                        res->truncated, "examined", (int)res->examined);
    kz_store_search_free(res);
    return *result ? 0 : KZ_ENOMEM;
}

static const kz_control_verb kz_verbs[] = {
    {"search", kz_h_search,
     "search the directory; args query, company (name or node id), current_company, skill, "
     "location, left_from, left_to, open_to, as, same_current_company_as, "
     "former_colleagues_of, limit, cursor"},
};

const kz__verb_table kz__verbs_search = {kz_verbs, KZ_ARRAY_LEN(kz_verbs)};
