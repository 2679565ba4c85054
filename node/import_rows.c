/* import_rows.c: the columns of an HR import file and the checks every row
 * passes, on the CLI (from CSV cells) and again on the node (from JSON). */
#include "kz_import.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kz_node.h"

static const struct {
    const char *name;
    int col;
} kz_aliases[] = {
    {"employee_no", KZ_COL_EMPLOYEE_NO}, {"社員番号", KZ_COL_EMPLOYEE_NO},
    {"name", KZ_COL_NAME},               {"氏名", KZ_COL_NAME},
    {"reading", KZ_COL_READING},         {"よみがな", KZ_COL_READING},
    {"ふりがな", KZ_COL_READING},        {"フリガナ", KZ_COL_READING},
    {"ヨミガナ", KZ_COL_READING},        {"romaji", KZ_COL_ROMAJI},
    {"ローマ字", KZ_COL_ROMAJI},         {"role", KZ_COL_ROLE},
    {"区分", KZ_COL_ROLE},               {"joined", KZ_COL_JOINED},
    {"入社年", KZ_COL_JOINED},           {"left", KZ_COL_LEFT},
    {"退職年", KZ_COL_LEFT},             {"department", KZ_COL_DEPARTMENT},
    {"部署", KZ_COL_DEPARTMENT},
};

static const char *const kz_col_names[KZ_COL_COUNT] = {
    "employee_no (社員番号)", "name (氏名)", "reading (よみがな/フリガナ)", "romaji (ローマ字)",
    "role (区分)", "joined (入社年)", "left (退職年)", "department (部署)",
};

const char *kz_import_columns(void)
{
    return "employee_no (社員番号), name (氏名), reading (よみがな, ふりがな, フリガナ), "
           "romaji (ローマ字), role (区分), joined (入社年), left (退職年), department (部署)";
}

/* Append "; "-separated reason text to err. */
static void KZ_PRINTF(3, 4) reason(char *err, size_t errsz, const char *fmt, ...)
{
    size_t n = strnlen(err, errsz);
    if (n + 3 >= errsz)
        return;
    if (n) {
        memcpy(err + n, "; ", 3);
        n += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errsz - n, fmt, ap);
    va_end(ap);
}

/* Trim ASCII spaces and tabs and U+3000 (ideographic space) at both ends. */
static void trim(const char **s, size_t *n)
{
    for (;;) {
        if (*n && ((*s)[0] == ' ' || (*s)[0] == '\t')) {
            (*s)++, (*n)--;
        } else if (*n >= 3 && memcmp(*s, "\xe3\x80\x80", 3) == 0) {
            (*s) += 3, (*n) -= 3;
        } else {
            break;
        }
    }
    for (;;) {
        if (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
            (*n)--;
        else if (*n >= 3 && memcmp(*s + *n - 3, "\xe3\x80\x80", 3) == 0)
            (*n) -= 3;
        else
            break;
    }
}

int kz_import_header_parse(kz_import_header *h, const kz_csv *c, char *err, size_t errsz)
{
    memset(h, 0, sizeof *h);
    for (int k = 0; k < KZ_COL_COUNT; k++)
        h->field[k] = -1;
    h->n_fields = c->n_fields;
    err[0] = '\0';
    for (uint32_t i = 0; i < c->n_fields; i++) {
        size_t n;
        const char *s = kz_csv_field(c, i, &n);
        trim(&s, &n);
        int col = -1;
        for (size_t a = 0; a < KZ_ARRAY_LEN(kz_aliases); a++) {
            if (strlen(kz_aliases[a].name) == n && strncasecmp(kz_aliases[a].name, s, n) == 0)
                col = kz_aliases[a].col;
        }
        h->col[i] = col;
        if (col < 0) {
            reason(err, errsz, "unknown column '%.*s'", (int)(n > 40 ? 40 : n), s);
        } else if (h->field[col] >= 0) {
            reason(err, errsz, "column %s appears twice", kz_col_names[col]);
        } else {
            h->field[col] = (int)i;
        }
    }
    static const int required[] = {KZ_COL_EMPLOYEE_NO, KZ_COL_NAME, KZ_COL_READING};
    for (size_t k = 0; k < KZ_ARRAY_LEN(required); k++) {
        if (h->field[required[k]] < 0)
            reason(err, errsz, "missing column %s", kz_col_names[required[k]]);
    }
    if (!err[0])
        return 0;
    /* Prefix the line and list what is known, within errsz. */
    char *msg = kz_xstrdup(err);
    snprintf(err, errsz, "line %u: %s (known columns: %s)", c->row_line, msg, kz_import_columns());
    free(msg);
    return KZ_EINVAL;
}

void kz_import_row_close(kz_import_row *r)
{
    if (!r)
        return;
    free(r->hr_key);
    free(r->name);
    free(r->reading);
    free(r->romaji);
    free(r->department);
    memset(r, 0, sizeof *r);
}

/* Decode one code point of valid UTF-8 at s[*i] (advancing *i). */
static uint32_t next_cp(const char *s, size_t n, size_t *i)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t c = p[*i];
    size_t len = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    if (*i + len > n) {
        *i = n;
        return 0xfffd;
    }
    if (len == 1) {
        (*i)++;
        return c;
    }
    c &= len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07;
    for (size_t k = 1; k < len; k++)
        c = (c << 6) | (p[*i + k] & 0x3f);
    *i += len;
    return c;
}

static bool latin_letter(uint32_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= 0xc0 && c <= 0x24f && c != 0xd7 && c != 0xf7) ||  /* accented Latin */
           (c >= 0xff21 && c <= 0xff3a) || (c >= 0xff41 && c <= 0xff5a); /* full-width */
}

static bool name_punct(uint32_t c)
{
    return c == ' ' || c == 0x3000 || c == '-' || c == '\'' || c == '.' || c == 0x2019;
}

/* Kana (hiragana, katakana with ・ and ー, half-width katakana, small
 * katakana extensions), spaces, and Latin for foreign names. */
static bool reading_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t c = next_cp(s, n, &i);
        bool ok = (c >= 0x3041 && c <= 0x309f) || (c >= 0x30a0 && c <= 0x30ff) ||
                  (c >= 0x31f0 && c <= 0x31ff) || (c >= 0xff65 && c <= 0xff9f) ||
                  latin_letter(c) || name_punct(c);
        if (!ok)
            return false;
    }
    return true;
}

static bool romaji_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t c = next_cp(s, n, &i);
        if (!latin_letter(c) && !name_punct(c))
            return false;
    }
    return true;
}

static void check_text(char *err, size_t errsz, const char *what, const char *s, size_t max,
                       bool required)
{
    if (!s || !s[0]) {
        if (required)
            reason(err, errsz, "%s is missing", what);
        return;
    }
    size_t n = strlen(s);
    if (!kz_utf8_valid(s, n, 0))
        reason(err, errsz, "%s holds a line break or control character", what);
    else if (n > max)
        reason(err, errsz, "%s is %zu bytes, longer than %zu", what, n, max);
}

int kz_import_row_check(const kz_import_row *r, char *err, size_t errsz)
{
    err[0] = '\0';
    check_text(err, errsz, "employee_no", r->hr_key, KZ_HRKEY_MAX, true);
    check_text(err, errsz, "name", r->name, KZ_NAME_MAX, true);
    check_text(err, errsz, "reading", r->reading, KZ_NAME_MAX, true);
    check_text(err, errsz, "romaji", r->romaji, KZ_NAME_MAX, false);
    check_text(err, errsz, "department", r->department, KZ_SHORT_MAX, false);
    if (r->reading && r->reading[0] && kz_utf8_valid(r->reading, strlen(r->reading), 0) &&
        !reading_ok(r->reading, strlen(r->reading)))
        reason(err, errsz, "reading '%.60s' is not kana (write it in hiragana or katakana)",
               r->reading);
    if (r->romaji && r->romaji[0] && kz_utf8_valid(r->romaji, strlen(r->romaji), 0) &&
        !romaji_ok(r->romaji, strlen(r->romaji)))
        reason(err, errsz, "romaji '%.60s' is not in Latin letters", r->romaji);
    if (r->role < -1 || r->role > KZ_ROLE_SECRETARIAT)
        reason(err, errsz, "role %d is unknown", r->role);
    if (r->joined && (r->joined < KZ_YEAR_MIN || r->joined > KZ_YEAR_MAX))
        reason(err, errsz, "joined %u is outside %d..%d", (unsigned)r->joined, KZ_YEAR_MIN,
               KZ_YEAR_MAX);
    if (r->left && (r->left < KZ_YEAR_MIN || r->left > KZ_YEAR_MAX))
        reason(err, errsz, "left %u is outside %d..%d", (unsigned)r->left, KZ_YEAR_MIN,
               KZ_YEAR_MAX);
    if (r->joined && r->left && r->left < r->joined)
        reason(err, errsz, "left (%u) is before joined (%u)", (unsigned)r->left,
               (unsigned)r->joined);
    return err[0] ? KZ_EINVAL : 0;
}

/* ---- From CSV cells ---------------------------------------------------------- */

static int parse_role(const char *s, size_t n)
{
    static const struct {
        const char *name;
        int role;
    } roles[] = {
        {"alumni", KZ_ROLE_ALUMNI},   {"退職者", KZ_ROLE_ALUMNI},  {"OB", KZ_ROLE_ALUMNI},
        {"OG", KZ_ROLE_ALUMNI},       {"employee", KZ_ROLE_EMPLOYEE}, {"社員", KZ_ROLE_EMPLOYEE},
        {"従業員", KZ_ROLE_EMPLOYEE}, {"secretariat", KZ_ROLE_SECRETARIAT},
        {"事務局", KZ_ROLE_SECRETARIAT},
    };
    for (size_t i = 0; i < KZ_ARRAY_LEN(roles); i++) {
        if (strlen(roles[i].name) == n && strncasecmp(roles[i].name, s, n) == 0)
            return roles[i].role;
    }
    return -2;
}

/* A year in ASCII or full-width digits, optionally followed by 年. 0 when
 * it is not one (the caller reports it). */
static unsigned parse_year(const char *s, size_t n)
{
    unsigned v = 0, digits = 0;
    size_t i = 0;
    while (i < n) {
        unsigned d;
        if (s[i] >= '0' && s[i] <= '9') {
            d = (unsigned)(s[i] - '0');
            i++;
        } else if (n - i >= 3 && (unsigned char)s[i] == 0xef && (unsigned char)s[i + 1] == 0xbc &&
                   (unsigned char)s[i + 2] >= 0x90 && (unsigned char)s[i + 2] <= 0x99) {
            d = (unsigned)((unsigned char)s[i + 2] - 0x90);
            i += 3;
        } else {
            break;
        }
        if (++digits > 4)
            return 0;
        v = v * 10 + d;
    }
    if (i < n && !(n - i == 3 && memcmp(s + i, "年", 3) == 0))
        return 0;
    return digits ? v : 0;
}

static char *cell(const kz_import_header *h, const kz_csv *c, int col, size_t *n)
{
    *n = 0;
    if (h->field[col] < 0)
        return NULL;
    size_t len;
    const char *s = kz_csv_field(c, (uint32_t)h->field[col], &len);
    if (!s)
        return NULL;
    trim(&s, &len);
    if (len == 0)
        return NULL;
    *n = len;
    return kz_xstrndup(s, len);
}

int kz_import_row_parse(kz_import_row *r, const kz_import_header *h, const kz_csv *c,
                        char *err, size_t errsz)
{
    memset(r, 0, sizeof *r);
    r->line = c->row_line;
    r->role = -1;
    err[0] = '\0';
    bool blank = true;
    for (uint32_t i = 0; i < c->n_fields; i++) {
        size_t n;
        const char *s = kz_csv_field(c, i, &n);
        trim(&s, &n);
        if (n)
            blank = false;
    }
    if (blank)
        return 1;
    if (c->n_fields != h->n_fields) {
        snprintf(err, errsz, "%u fields, but the header has %u", c->n_fields, h->n_fields);
        return KZ_EINVAL;
    }
    size_t n;
    r->hr_key = cell(h, c, KZ_COL_EMPLOYEE_NO, &n);
    r->name = cell(h, c, KZ_COL_NAME, &n);
    r->reading = cell(h, c, KZ_COL_READING, &n);
    r->romaji = cell(h, c, KZ_COL_ROMAJI, &n);
    r->department = cell(h, c, KZ_COL_DEPARTMENT, &n);
    char *role = cell(h, c, KZ_COL_ROLE, &n);
    char bad[KZ_ERR_MAX] = "";
    if (role) {
        r->role = parse_role(role, n);
        if (r->role < -1) {
            reason(bad, sizeof bad, "role '%.40s' is not alumni (退職者), employee (社員) or "
                   "secretariat (事務局)", role);
            r->role = -1;
        }
        free(role);
    }
    static const int ycols[2] = {KZ_COL_JOINED, KZ_COL_LEFT};
    for (int k = 0; k < 2; k++) {
        char *y = cell(h, c, ycols[k], &n);
        if (!y)
            continue;
        unsigned v = parse_year(y, n);
        if (v < KZ_YEAR_MIN || v > KZ_YEAR_MAX)
            reason(bad, sizeof bad, "%s '%.20s' is not a year from %d to %d",
                   k ? "left" : "joined", y, KZ_YEAR_MIN, KZ_YEAR_MAX);
        else if (k)
            r->left = (uint16_t)v;
        else
            r->joined = (uint16_t)v;
        free(y);
    }
    int rc = kz_import_row_check(r, err, errsz);
    if (bad[0]) {
        reason(err, errsz, "%s", bad);
        rc = KZ_EINVAL;
    }
    return rc;
}

/* ---- JSON form ------------------------------------------------------------------ */

json_t *kz_import_row_to_json(const kz_import_row *r)
{
    json_t *o = json_pack("{s:i, s:s, s:s, s:s}", "line", (json_int_t)r->line, "employee_no",
                          r->hr_key ? r->hr_key : "", "name", r->name ? r->name : "",
                          "reading", r->reading ? r->reading : "");
    if (!o)
        return NULL;
    if (r->romaji)
        json_object_set_new(o, "romaji", json_string(r->romaji));
    if (r->department)
        json_object_set_new(o, "department", json_string(r->department));
    if (r->role >= 0)
        json_object_set_new(o, "role", json_string(kz_role_name(r->role)));
    if (r->joined)
        json_object_set_new(o, "joined", json_integer(r->joined));
    if (r->left)
        json_object_set_new(o, "left", json_integer(r->left));
    return o;
}

static int json_text(json_t *o, const char *key, char **out, char *err, size_t errsz)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v)
        return 0;
    if (!json_is_string(v) || json_string_length(v) > KZ_CSV_FIELD_MAX) {
        snprintf(err, errsz, "%s must be a string of at most %u bytes", key, KZ_CSV_FIELD_MAX);
        return KZ_EINVAL;
    }
    /* jansson strings may hold NUL; the row checks need C strings. */
    if (memchr(json_string_value(v), '\0', json_string_length(v))) {
        snprintf(err, errsz, "%s holds a NUL byte", key);
        return KZ_EINVAL;
    }
    *out = kz_xstrndup(json_string_value(v), json_string_length(v));
    return 0;
}

int kz_import_row_from_json(kz_import_row *r, json_t *o, char *err, size_t errsz)
{
    static const char *const keys[] = {"line", "employee_no", "name", "reading", "romaji",
                                       "role", "joined", "left", "department"};
    memset(r, 0, sizeof *r);
    r->role = -1;
    if (!json_is_object(o)) {
        snprintf(err, errsz, "a row must be an object");
        return KZ_EINVAL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        bool known = false;
        for (size_t i = 0; i < KZ_ARRAY_LEN(keys); i++)
            known |= strcmp(keys[i], key) == 0;
        if (!known) {
            snprintf(err, errsz, "unknown row key '%.40s'", key);
            return KZ_EINVAL;
        }
    }
    json_t *line = json_object_get(o, "line");
    if (!json_is_integer(line) || json_integer_value(line) < 1 ||
        json_integer_value(line) > (json_int_t)UINT32_MAX) {
        snprintf(err, errsz, "line must be a positive integer");
        return KZ_EINVAL;
    }
    r->line = (uint32_t)json_integer_value(line);
    int rc;
    if ((rc = json_text(o, "employee_no", &r->hr_key, err, errsz)) != 0 ||
        (rc = json_text(o, "name", &r->name, err, errsz)) != 0 ||
        (rc = json_text(o, "reading", &r->reading, err, errsz)) != 0 ||
        (rc = json_text(o, "romaji", &r->romaji, err, errsz)) != 0 ||
        (rc = json_text(o, "department", &r->department, err, errsz)) != 0)
        return rc;
    json_t *role = json_object_get(o, "role");
    if (role) {
        r->role = json_is_string(role) ? kz_role_parse(json_string_value(role)) : -1;
        if (r->role < 0) {
            snprintf(err, errsz, "role must be alumni, employee or secretariat");
            return KZ_EINVAL;
        }
    }
    static const char *const ykeys[2] = {"joined", "left"};
    for (int k = 0; k < 2; k++) {
        json_t *y = json_object_get(o, ykeys[k]);
        if (!y)
            continue;
        if (!json_is_integer(y) || json_integer_value(y) < KZ_YEAR_MIN ||
            json_integer_value(y) > KZ_YEAR_MAX) {
            snprintf(err, errsz, "%s must be a year from %d to %d", ykeys[k], KZ_YEAR_MIN,
                     KZ_YEAR_MAX);
            return KZ_EINVAL;
        }
        if (k)
            r->left = (uint16_t)json_integer_value(y);
        else
            r->joined = (uint16_t)json_integer_value(y);
    }
    return kz_import_row_check(r, err, errsz);
}

/* ---- Repeated employee numbers ---------------------------------------------------- */

typedef struct {
    const char *key;
    size_t i;
} kz_dup_item;

static int dup_cmp(const void *a, const void *b)
{
    const kz_dup_item *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->i < y->i ? -1 : x->i > y->i;
}

size_t kz_import_dups(const kz_import_row *rows, size_t n,
                      void (*cb)(void *ud, size_t i, size_t j), void *ud)
{
    if (n < 2)
        return 0;
    kz_dup_item *items = kz_xmalloc(n * sizeof *items);
    for (size_t i = 0; i < n; i++)
        items[i] = (kz_dup_item){rows[i].hr_key ? rows[i].hr_key : "", i};
    qsort(items, n, sizeof *items, dup_cmp);
    size_t found = 0, first = 0;
    for (size_t k = 1; k < n; k++) {
        if (items[k].key[0] && strcmp(items[k].key, items[first].key) == 0) {
            cb(ud, items[k].i, items[first].i); /* sorted by index within a key */
            found++;
        } else {
            first = k;
        }
    }
    free(items);
    return found;
}
