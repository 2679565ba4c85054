/* profile.c: an editable profile (owned strings), its FIELD=VALUE edits and
 * its JSON form, shared by `profile set`/`show` on the node and the CLI's
 * own argument checks. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { KZ_PF_STR, KZ_PF_YEAR, KZ_PF_LIST, KZ_PF_OPEN, KZ_PF_VIS } kz_pfkind;

typedef struct {
    const char *name;
    kz_pfkind kind;
    size_t offset;     /* of the char * / uint16_t / list array */
    size_t count_off;  /* lists: offset of the uint32_t count */
    size_t max;        /* strings: bytes; lists: bytes per item */
    size_t max_items;
    bool multiline;
    bool required;
} kz_pfield;

#define KZ_PSTR(f, max, ml, req) {#f, KZ_PF_STR, offsetof(kz_profile, f), 0, max, 0, ml, req}
static const kz_pfield kz_pfields[] = {
    KZ_PSTR(name, KZ_NAME_MAX, false, true),
    KZ_PSTR(reading, KZ_NAME_MAX, false, false),
    KZ_PSTR(romaji, KZ_NAME_MAX, false, false),
    KZ_PSTR(department, KZ_SHORT_MAX, false, false),
    KZ_PSTR(title, KZ_SHORT_MAX, false, false),
    {"joined", KZ_PF_YEAR, offsetof(kz_profile, joined), 0, 0, 0, false, false},
    {"left", KZ_PF_YEAR, offsetof(kz_profile, left), 0, 0, 0, false, false},
    KZ_PSTR(current_company, KZ_NAME_MAX, false, false),
    KZ_PSTR(current_title, KZ_SHORT_MAX, false, false),
    KZ_PSTR(location, KZ_SHORT_MAX, false, false),
    {"skills", KZ_PF_LIST, offsetof(kz_profile, skills), offsetof(kz_profile, n_skills),
     KZ_SKILL_MAX, KZ_SKILLS_MAX, false, false},
    KZ_PSTR(bio, KZ_BIO_MAX, true, false),
    {"links", KZ_PF_LIST, offsetof(kz_profile, links), offsetof(kz_profile, n_links), KZ_URL_MAX,
     KZ_LINKS_MAX, false, false},
    {"open_to", KZ_PF_OPEN, 0, 0, 0, 0, false, false},
    {"visibility", KZ_PF_VIS, 0, 0, 0, 0, false, false},
};

static const struct {
    const char *name;
    uint32_t bit;
} kz_open_names[] = {
    {"reconnect", KZ_OPEN_RECONNECT},
    {"business", KZ_OPEN_BUSINESS},
    {"mentoring", KZ_OPEN_MENTORING},
    {"rehire", 0}, /* private flag, kz_profile.rehire */
};

static const kz_pfield *kz_pfield_find(const char *name)
{
    for (size_t i = 0; i < KZ_ARRAY_LEN(kz_pfields); i++) {
        if (strcmp(kz_pfields[i].name, name) == 0)
            return &kz_pfields[i];
    }
    return NULL;
}

bool kz_profile_field_known(const char *field)
{
    return kz_pfield_find(field) != NULL;
}

const char *kz_profile_field_names(void)
{
    return "name, reading, romaji, department, title, joined, left, current_company, "
           "current_title, location, skills, bio, links, open_to, visibility";
}

void kz_profile_init(kz_profile *p)
{
    memset(p, 0, sizeof *p);
}

void kz_profile_close(kz_profile *p)
{
    for (size_t i = 0; i < KZ_ARRAY_LEN(kz_pfields); i++) {
        const kz_pfield *f = &kz_pfields[i];
        char *base = (char *)p;
        if (f->kind == KZ_PF_STR) {
            free(*(char **)(base + f->offset));
        } else if (f->kind == KZ_PF_LIST) {
            char **items = (char **)(base + f->offset);
            uint32_t n = *(uint32_t *)(base + f->count_off);
            for (uint32_t k = 0; k < n; k++)
                free(items[k]);
        }
    }
    memset(p, 0, sizeof *p);
}

static char *kz_dup_kzstr(kz_str s)
{
    return s.n ? kz_xstrndup(s.p, s.n) : NULL;
}

void kz_profile_from_body(kz_profile *p, const kz_body_profile *b)
{
    bool rehire = p->rehire;
    kz_profile_close(p);
    p->rehire = rehire;
    p->name = kz_dup_kzstr(b->name);
    p->reading = kz_dup_kzstr(b->reading);
    p->romaji = kz_dup_kzstr(b->romaji);
    p->department = kz_dup_kzstr(b->department);
    p->title = kz_dup_kzstr(b->title);
    p->joined = b->joined;
    p->left = b->left;
    p->current_company = kz_dup_kzstr(b->current_company);
    p->current_title = kz_dup_kzstr(b->current_title);
    p->location = kz_dup_kzstr(b->location);
    for (uint32_t i = 0; i < b->n_skills && i < KZ_SKILLS_MAX; i++)
        p->skills[p->n_skills++] = kz_xstrndup(b->skills[i].p, b->skills[i].n);
    p->bio = kz_dup_kzstr(b->bio);
    for (uint32_t i = 0; i < b->n_links && i < KZ_LINKS_MAX; i++)
        p->links[p->n_links++] = kz_xstrndup(b->links[i].p, b->links[i].n);
    p->open_to = b->open_to & KZ_OPEN_ALL;
    p->visibility = b->visibility;
}

static kz_str kz_mkstr(const char *s)
{
    return s ? (kz_str){s, (uint32_t)strlen(s)} : (kz_str){NULL, 0};
}

void kz_profile_to_body(const kz_profile *p, kz_body_profile *b)
{
    memset(b, 0, sizeof *b);
    b->name = kz_mkstr(p->name);
    b->reading = kz_mkstr(p->reading);
    b->romaji = kz_mkstr(p->romaji);
    b->department = kz_mkstr(p->department);
    b->title = kz_mkstr(p->title);
    b->joined = p->joined;
    b->left = p->left;
    b->current_company = kz_mkstr(p->current_company);
    b->current_title = kz_mkstr(p->current_title);
    b->location = kz_mkstr(p->location);
    b->n_skills = p->n_skills;
    for (uint32_t i = 0; i < p->n_skills; i++)
        b->skills[i] = kz_mkstr(p->skills[i]);
    b->bio = kz_mkstr(p->bio);
    b->n_links = p->n_links;
    for (uint32_t i = 0; i < p->n_links; i++)
        b->links[i] = kz_mkstr(p->links[i]);
    b->open_to = p->open_to & KZ_OPEN_ALL;
    b->visibility = p->visibility;
}

/* Trim ASCII spaces and tabs. */
static void kz_trim(const char **s, size_t *n)
{
    while (*n && ((*s)[0] == ' ' || (*s)[0] == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

static bool kz_link_ok(const char *s, size_t n)
{
    static const char *const schemes[] = {"https://", "http://", "mailto:"};
    for (size_t i = 0; i < KZ_ARRAY_LEN(schemes); i++) {
        size_t l = strlen(schemes[i]);
        if (n > l && strncmp(s, schemes[i], l) == 0) {
            for (size_t k = 0; k < n; k++) {
                if (s[k] == ' ')
                    return false;
            }
            return true;
        }
    }
    return false;
}

/* Split a comma-separated list into items (trimmed, empty items dropped). */
static int kz_split_list(const kz_pfield *f, const char *value, char **items, uint32_t *n_out,
                         char *err, size_t errsz)
{
    uint32_t n = 0;
    const char *p = value;
    int rc = 0;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *item = p;
        kz_trim(&item, &len);
        p = comma ? comma + 1 : p + strlen(p);
        if (len == 0)
            continue;
        if (n >= f->max_items) {
            snprintf(err, errsz, "%s: at most %zu items", f->name, f->max_items);
            rc = KZ_ETOOBIG;
            break;
        }
        if (len > f->max) {
            snprintf(err, errsz, "%s: item '%.40s...' is longer than %zu bytes", f->name, item, f->max);
            rc = KZ_ETOOBIG;
            break;
        }
        if (f->offset == offsetof(kz_profile, links) && !kz_link_ok(item, len)) {
            snprintf(err, errsz, "links: '%.*s' is not an https://, http:// or mailto: link",
                     (int)(len > 80 ? 80 : len), item);
            rc = KZ_EINVAL;
            break;
        }
        items[n++] = kz_xstrndup(item, len);
    }
    if (rc != 0) {
        for (uint32_t i = 0; i < n; i++)
            free(items[i]);
        n = 0;
    }
    *n_out = n;
    return rc;
}

int kz_profile_set(kz_profile *p, const char *field, const char *value, char *err, size_t errsz)
{
    const kz_pfield *f = kz_pfield_find(field);
    if (!f) {
        snprintf(err, errsz, "unknown profile field '%.40s' (fields: %s)", field,
                 kz_profile_field_names());
        return KZ_EINVAL;
    }
    size_t vlen = strlen(value);
    if (!kz_utf8_valid(value, vlen, f->multiline)) {
        snprintf(err, errsz, "%s: invalid UTF-8 or control characters%s", f->name,
                 f->multiline ? "" : " (newlines are allowed only in bio)");
        return KZ_EINVAL;
    }
    char *base = (char *)p;
    switch (f->kind) {
    case KZ_PF_STR: {
        const char *v = value;
        size_t n = vlen;
        if (!f->multiline)
            kz_trim(&v, &n);
        if (n > f->max) {
            snprintf(err, errsz, "%s: %zu bytes is longer than the limit of %zu", f->name, n, f->max);
            return KZ_ETOOBIG;
        }
        if (n == 0 && f->required) {
            snprintf(err, errsz, "%s cannot be empty", f->name);
            return KZ_EINVAL;
        }
        char **slot = (char **)(base + f->offset);
        free(*slot);
        *slot = n ? kz_xstrndup(v, n) : NULL;
        return 0;
    }
    case KZ_PF_YEAR: {
        uint16_t *slot = (uint16_t *)(base + f->offset);
        if (vlen == 0) {
            *slot = 0;
            return 0;
        }
        char *end = NULL;
        errno = 0;
        long y = strtol(value, &end, 10);
        if (value[0] < '0' || value[0] > '9' || errno || *end || y < KZ_YEAR_MIN || y > KZ_YEAR_MAX) {
            snprintf(err, errsz, "%s: expected a year from %d to %d, got '%.20s'", f->name,
                     KZ_YEAR_MIN, KZ_YEAR_MAX, value);
            return KZ_EINVAL;
        }
        *slot = (uint16_t)y;
        return 0;
    }
    case KZ_PF_LIST: {
        char *items[KZ_SKILLS_MAX > KZ_LINKS_MAX ? KZ_SKILLS_MAX : KZ_LINKS_MAX];
        uint32_t n = 0;
        int rc = kz_split_list(f, value, items, &n, err, errsz);
        if (rc != 0)
            return rc;
        char **slot = (char **)(base + f->offset);
        uint32_t *count = (uint32_t *)(base + f->count_off);
        for (uint32_t i = 0; i < *count; i++)
            free(slot[i]);
        for (uint32_t i = 0; i < n; i++)
            slot[i] = items[i];
        *count = n;
        return 0;
    }
    case KZ_PF_OPEN: {
        uint32_t bits = 0;
        bool rehire = false;
        const char *q = value;
        while (*q) {
            const char *comma = strchr(q, ',');
            size_t len = comma ? (size_t)(comma - q) : strlen(q);
            const char *item = q;
            kz_trim(&item, &len);
            q = comma ? comma + 1 : q + strlen(q);
            if (len == 0)
                continue;
            bool found = false;
            for (size_t i = 0; i < KZ_ARRAY_LEN(kz_open_names); i++) {
                if (strlen(kz_open_names[i].name) == len &&
                    memcmp(kz_open_names[i].name, item, len) == 0) {
                    found = true;
                    bits |= kz_open_names[i].bit;
                    if (!kz_open_names[i].bit)
                        rehire = true;
                }
            }
            if (!found) {
                snprintf(err, errsz,
                         "open_to: unknown value '%.*s' (use reconnect, business, mentoring, rehire)",
                         (int)(len > 40 ? 40 : len), item);
                return KZ_EINVAL;
            }
        }
        p->open_to = bits;
        p->rehire = rehire;
        return 0;
    }
    case KZ_PF_VIS: {
        int v = vlen ? kz_visibility_parse(value) : KZ_VIS_FEDERATION;
        if (v < 0) {
            snprintf(err, errsz, "visibility: expected federation, company or hidden, got '%.20s'",
                     value);
            return KZ_EINVAL;
        }
        p->visibility = (uint8_t)v;
        return 0;
    }
    }
    return KZ_EINVAL;
}

static json_t *kz_jstr(const char *s)
{
    json_t *j = json_string(s ? s : "");
    return j ? j : json_string("");
}

static json_t *kz_jyear(uint16_t y)
{
    return y ? json_integer(y) : json_null();
}

json_t *kz_profile_to_json(const kz_profile *p, bool with_private)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", kz_jstr(p->name));
    json_object_set_new(o, "reading", kz_jstr(p->reading));
    json_object_set_new(o, "romaji", kz_jstr(p->romaji));
    json_object_set_new(o, "department", kz_jstr(p->department));
    json_object_set_new(o, "title", kz_jstr(p->title));
    json_object_set_new(o, "joined", kz_jyear(p->joined));
    json_object_set_new(o, "left", kz_jyear(p->left));
    json_object_set_new(o, "current_company", kz_jstr(p->current_company));
    json_object_set_new(o, "current_title", kz_jstr(p->current_title));
    json_object_set_new(o, "location", kz_jstr(p->location));
    json_t *skills = json_array();
    for (uint32_t i = 0; i < p->n_skills; i++)
        json_array_append_new(skills, kz_jstr(p->skills[i]));
    json_object_set_new(o, "skills", skills);
    json_object_set_new(o, "bio", kz_jstr(p->bio));
    json_t *links = json_array();
    for (uint32_t i = 0; i < p->n_links; i++)
        json_array_append_new(links, kz_jstr(p->links[i]));
    json_object_set_new(o, "links", links);
    json_t *open = json_array();
    for (size_t i = 0; i < KZ_ARRAY_LEN(kz_open_names); i++) {
        if ((kz_open_names[i].bit && (p->open_to & kz_open_names[i].bit)) ||
            (!kz_open_names[i].bit && with_private && p->rehire))
            json_array_append_new(open, json_string(kz_open_names[i].name));
    }
    json_object_set_new(o, "open_to", open);
    json_object_set_new(o, "visibility", json_string(kz_visibility_name(p->visibility)));
    return o;
}
