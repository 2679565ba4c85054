/* handlers_import.c: the member.import control verb: HR rows arrive in one
 * request or in several parts of one upload session; nothing is written
 * until the final part, and then everything is written at once or nothing. */
#include "member_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows per request: a part is one control line (KZ_CONTROL_LINE_MAX). */
#define KZ_IMPORT_PART_ROWS_MAX 20000u
/* An upload nobody continued for this long may be replaced by a new one. */
#define KZ_IMPORT_SESSION_IDLE_MS (120u * 1000u)

/* One upload in progress per process (imports are rare and operator-run).
 * Owned by the loop thread like every handler. */
static struct {
    kz_node *node;
    char id[33];                        /* 32 hex digits; "" = none */
    uint64_t touched_ms;
    uint32_t parts;
    kz_import_row *rows;
    size_t n, cap;
} kz_stage;

static void stage_drop(void)
{
    for (size_t i = 0; i < kz_stage.n; i++)
        kz_import_row_close(&kz_stage.rows[i]);
    free(kz_stage.rows);
    memset(&kz_stage, 0, sizeof kz_stage);
}

static void stage_push(kz_import_row *r)
{
    if (kz_stage.n == kz_stage.cap) {
        kz_stage.cap = kz_stage.cap ? 2 * kz_stage.cap : 1024;
        kz_stage.rows = kz_xrealloc(kz_stage.rows, kz_stage.cap * sizeof *kz_stage.rows);
    }
    kz_stage.rows[kz_stage.n++] = *r;
    memset(r, 0, sizeof *r);
}

static bool arg_bool(json_t *args, const char *key, bool *out, char *err, size_t errsz)
{
    json_t *v = json_object_get(args, key);
    *out = false;
    if (!v)
        return true;
    if (!json_is_boolean(v)) {
        snprintf(err, errsz, "argument '%s' must be true or false", key);
        return false;
    }
    *out = json_is_true(v);
    return true;
}

/* Check every row of the part and add the good ones to the stage. All bad
 * rows are reported (as many as fit in err). */
static int take_rows(json_t *rows, char *err, size_t errsz)
{
    size_t i, bad = 0;
    json_t *o;
    char why[KZ_ERR_MAX];
    err[0] = '\0';
    json_array_foreach(rows, i, o) {
        kz_import_row r;
        if (kz_import_row_from_json(&r, o, why, sizeof why) != 0) {
            size_t l = strlen(err);
            if (bad++ < 4 && l + 40 < errsz)
                snprintf(err + l, errsz - l, "%srow %zu (line %u): %s", l ? "; " : "", i + 1,
                         r.line, why);
            kz_import_row_close(&r);
            continue;
        }
        stage_push(&r);
    }
    if (!bad)
        return 0;
    char *msg = kz_xstrdup(err);
    snprintf(err, errsz, "%zu bad row%s, nothing imported: %s", bad, bad == 1 ? "" : "s", msg);
    free(msg);
    return KZ_EINVAL;
}

static int kz_h_member_import(kz_node *n, json_t *args, json_t **result, char *err,
                              size_t errsz)
{
    static const char *const allowed[] = {"rows", "session", "part", "final", "dry_run",
                                          "results", NULL};
    bool final, dry_run, results;
    const char *session;
    int rc;
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "session", false, 32, false, &session, err, errsz)) != 0)
        return rc;
    json_t *rows = json_object_get(args, "rows");
    json_t *fin = json_object_get(args, "final");
    if (!json_is_array(rows) || json_array_size(rows) > KZ_IMPORT_PART_ROWS_MAX) {
        snprintf(err, errsz, "argument 'rows' must be an array of at most %u rows",
                 KZ_IMPORT_PART_ROWS_MAX);
        return KZ_EINVAL;
    }
    if (!arg_bool(args, "dry_run", &dry_run, err, errsz) ||
        !arg_bool(args, "results", &results, err, errsz) ||
        !arg_bool(args, "final", &final, err, errsz))
        return KZ_EINVAL;
    if (!fin)
        final = true;

    uint64_t now = kz_now_ms();
    if (kz_stage.node && kz_stage.node != n)
        stage_drop(); /* a node of an earlier test in this process */
    if (session) {
        json_t *part = json_object_get(args, "part");
        if (!kz_stage.id[0] || strcmp(session, kz_stage.id) != 0) {
            snprintf(err, errsz, "import session %s is unknown or has expired; start the "
                     "import again", session);
            return KZ_ENOTFOUND;
        }
        if (!json_is_integer(part) || json_integer_value(part) != (json_int_t)kz_stage.parts) {
            snprintf(err, errsz, "import part out of order (expected part %u); start the "
                     "import again", (unsigned)kz_stage.parts);
            stage_drop();
            return KZ_EINVAL;
        }
    } else if (kz_stage.id[0]) {
        if (now - kz_stage.touched_ms < KZ_IMPORT_SESSION_IDLE_MS) {
            snprintf(err, errsz, "another import is being uploaded; try again when it is done");
            return KZ_EAGAIN;
        }
        kz_log_warn("import", "dropping an unfinished import upload of %zu rows", kz_stage.n);
        stage_drop();
    }
    if (kz_stage.n + json_array_size(rows) > KZ_CSV_ROWS_MAX) {
        stage_drop();
        snprintf(err, errsz, "more than %u rows in one import", KZ_CSV_ROWS_MAX);
        return KZ_ETOOBIG;
    }
    kz_stage.node = n;
    if ((rc = take_rows(rows, err, errsz)) != 0) {
        stage_drop();
        return rc;
    }
    if (!final) {
        if (!kz_stage.id[0]) {
            uint8_t rnd[16];
            randombytes_buf(rnd, sizeof rnd);
            kz_hex_encode(kz_stage.id, sizeof kz_stage.id, rnd, sizeof rnd);
        }
        kz_stage.parts++;
        kz_stage.touched_ms = now;
        kz_log_info("import", "upload part %u received, %zu rows staged", kz_stage.parts,
                    kz_stage.n);
        *result = json_pack("{s:s, s:I}", "session", kz_stage.id, "staged",
                            (json_int_t)kz_stage.n);
        return 0;
    }
    rc = kz__import_run(n, kz_stage.rows, kz_stage.n, dry_run, results, result, err, errsz);
    stage_drop();
    return rc;
}

static const kz_control_verb kz_verbs[] = {
    {"member.import", kz_h_member_import,
     "create or update members from HR rows (args rows [{line, employee_no, name, reading, "
     "romaji, role, joined, left, department}], dry_run, results; large files in parts: "
     "final false, then session and part); all or nothing"},
};

const kz__verb_table kz__verbs_import = {kz_verbs, KZ_ARRAY_LEN(kz_verbs)};
