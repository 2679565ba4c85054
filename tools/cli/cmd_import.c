/* cmd_import.c: member import: read an HR export (CSV, UTF-8 or CP932),
 * check every row here, then hand the rows to the node, which checks them
 * again and writes all of them or none. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "kz_import.h"

/* Rows go to the node in parts of at most this much JSON (a control request
 * is one line of at most KZ_CONTROL_LINE_MAX bytes). */
#define KZ_IMPORT_PART_BYTES (768u * 1024u)

typedef struct {
    uint32_t line;
    char *reason;
} kz_bad;

typedef struct {
    kz_import_row *rows;
    size_t n, cap;
    kz_bad *bad;
    size_t n_bad, cap_bad;
} kz_imp;

static void bad_add(kz_imp *im, uint32_t line, const char *reason)
{
    if (im->n_bad == im->cap_bad) {
        im->cap_bad = im->cap_bad ? 2 * im->cap_bad : 16;
        im->bad = kz_xrealloc(im->bad, im->cap_bad * sizeof *im->bad);
    }
    im->bad[im->n_bad].line = line;
    im->bad[im->n_bad].reason = kz_xstrdup(reason);
    im->n_bad++;
}

static void row_add(kz_imp *im, kz_import_row *r)
{
    if (im->n == im->cap) {
        im->cap = im->cap ? 2 * im->cap : 256;
        im->rows = kz_xrealloc(im->rows, im->cap * sizeof *im->rows);
    }
    im->rows[im->n++] = *r;
}

static void imp_free(kz_imp *im)
{
    for (size_t i = 0; i < im->n; i++)
        kz_import_row_close(&im->rows[i]);
    for (size_t i = 0; i < im->n_bad; i++)
        free(im->bad[i].reason);
    free(im->rows);
    free(im->bad);
}

static void dup_cb(void *ud, size_t i, size_t j)
{
    kz_imp *im = ud;
    char msg[160];
    snprintf(msg, sizeof msg, "employee_no %.64s repeats line %u", im->rows[i].hr_key,
             im->rows[j].line);
    bad_add(im, im->rows[i].line, msg);
}

static int bad_cmp(const void *a, const void *b)
{
    const kz_bad *x = a, *y = b;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Parse and check the whole text. Returns 0 (rows and bad rows collected)
 * or an exit code after printing a file-level error. */
static int imp_parse(kz_imp *im, const char *path, const char *text, size_t len)
{
    kz_csv c;
    kz_import_header h;
    char err[KZ_ERR_MAX * 2];
    int rc;
    kz_csv_init(&c, text, len);
    rc = kz_csv_next(&c, err, sizeof err);
    if (rc == 0) {
        kz_csv_close(&c);
        return kz_cli_error("%s is empty (expected a header row: %s)", path, kz_import_columns());
    }
    if (rc < 0 || kz_import_header_parse(&h, &c, err, sizeof err) != 0) {
        kz_csv_close(&c);
        return kz_cli_error("%s %s", path, err);
    }
    while ((rc = kz_csv_next(&c, err, sizeof err)) == 1) {
        kz_import_row r;
        int prc = kz_import_row_parse(&r, &h, &c, err, sizeof err);
        if (prc == 0) {
            row_add(im, &r);
            continue;
        }
        if (prc < 0)
            bad_add(im, c.row_line, err);
        kz_import_row_close(&r);
    }
    kz_csv_close(&c);
    if (rc < 0)
        return kz_cli_error("%s %s; nothing imported", path, err);
    kz_import_dups(im->rows, im->n, dup_cb, im);
    return 0;
}

static int report_bad(kz_imp *im, const char *path, bool json)
{
    qsort(im->bad, im->n_bad, sizeof *im->bad, bad_cmp);
    for (size_t i = 0; i < im->n_bad; i++)
        fprintf(stderr, "kizuna: %s line %u: %s\n", path, im->bad[i].line, im->bad[i].reason);
    fprintf(stderr, "kizuna: %s: %zu bad row%s; nothing imported\n", path, im->n_bad,
            im->n_bad == 1 ? "" : "s");
    if (json) {
        json_t *list = json_array();
        for (size_t i = 0; i < im->n_bad; i++)
            json_array_append_new(list, json_pack("{s:i, s:s}", "line", (json_int_t)im->bad[i].line,
                                                  "reason", im->bad[i].reason));
        json_t *o = json_pack("{s:b, s:o}", "ok", 0, "errors", list);
        kz_cli_print_json(o);
        json_decref(o);
    }
    return KZ_EXIT_ERROR;
}

/* Send the rows in parts; the last part carries final, dry_run, results. */
static int imp_send(kz_cli *cli, kz_imp *im, bool dry_run, bool json, json_t **result)
{
    char session[40] = "";
    int part = 0;
    size_t i = 0;
    *result = NULL;
    do {
        json_t *rows = json_array();
        size_t bytes = 0;
        while (i < im->n) {
            json_t *o = kz_import_row_to_json(&im->rows[i]);
            char *s = json_dumps(o, JSON_COMPACT);
            size_t l = s ? strlen(s) : 0;
            free(s);
            if (json_array_size(rows) > 0 && bytes + l + 1 > KZ_IMPORT_PART_BYTES) {
                json_decref(o);
                break;
            }
            bytes += l + 1;
            json_array_append_new(rows, o);
            i++;
        }
        bool final = i >= im->n;
        json_t *args = json_pack("{s:o, s:b}", "rows", rows, "final", final);
        if (session[0]) {
            json_object_set_new(args, "session", json_string(session));
            json_object_set_new(args, "part", json_integer(part));
        }
        if (final) {
            json_object_set_new(args, "dry_run", json_boolean(dry_run));
            json_object_set_new(args, "results", json_boolean(json));
        }
        json_t *r = NULL;
        int rc = kz_cli_call(cli, "member.import", args, &r);
        json_decref(args);
        if (rc != 0)
            return rc;
        if (final) {
            *result = r;
            return 0;
        }
        const char *s = json_string_value(json_object_get(r, "session"));
        if (!s || strlen(s) >= sizeof session) {
            json_decref(r);
            return kz_cli_error("the node sent an unexpected reply");
        }
        memcpy(session, s, strlen(s) + 1);
        part++;
        json_decref(r);
    } while (i < im->n);
    return kz_cli_error("internal: no final part sent");
}

int kz_cmd_member_import(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {
        {"--encoding", true, false, NULL},
        {"--dry-run", false, false, NULL},
        {"--json", false, false, NULL},
    };
    const size_t no = KZ_ARRAY_LEN(opts);
    char *pos[1];
    int npos;
    int rc = kz_cli_parse(cli, argc, argv, opts, no, pos, &npos);
    if (rc != 0)
        return rc;
    const char *es = kz_cli_optval(opts, no, "--encoding");
    int enc = es ? kz_encoding_parse(es) : KZ_ENC_AUTO;
    if (enc < 0)
        return kz_cli_usage_error(cli, "--encoding must be auto, utf-8 or cp932, not '%.20s'", es);
    bool dry_run = kz_cli_optset(opts, no, "--dry-run"), json = kz_cli_optset(opts, no, "--json");
    if (!kz_cli_data(cli))
        return KZ_EXIT_USAGE;
    const char *path = pos[0];

    uint8_t *raw;
    size_t len;
    if ((rc = kz_cli_read_file(path, (size_t)KZ_CSV_FILE_MAX + 1, &raw, &len)) != 0)
        return rc;
    if (len > KZ_CSV_FILE_MAX) {
        free(raw);
        return kz_cli_error("%s is larger than %u MiB; split it", path, KZ_CSV_FILE_MAX >> 20);
    }
    char *text = NULL, err[KZ_ERR_MAX];
    size_t tlen;
    kz_encoding used;
    rc = kz_text_to_utf8(raw, len, (kz_encoding)enc, &text, &tlen, &used, err, sizeof err);
    free(raw);
    if (rc != 0)
        return kz_cli_error("%s: %s; nothing imported", path, err);

    kz_imp im = {0};
    rc = imp_parse(&im, path, text, tlen);
    free(text);
    if (rc == 0 && im.n_bad)
        rc = report_bad(&im, path, json);
    if (rc == 0 && im.n == 0)
        rc = kz_cli_error("%s holds no rows to import", path);
    json_t *r = NULL;
    if (rc == 0)
        rc = imp_send(cli, &im, dry_run, json, &r);
    imp_free(&im);
    if (rc != 0)
        return rc;
    if (json) {
        json_object_set_new(r, "encoding", json_string(kz_encoding_name(used)));
        rc = kz_cli_print_json(r);
        json_decref(r);
        return rc;
    }
    json_int_t rows = json_integer_value(json_object_get(r, "rows"));
    json_int_t ms = json_integer_value(json_object_get(r, "elapsed_ms"));
    printf("%s: %lld rows (%s): created %lld, updated %lld, unchanged %lld, skipped %lld%s\n",
           path, (long long)rows, kz_encoding_name(used),
           (long long)json_integer_value(json_object_get(r, "created")),
           (long long)json_integer_value(json_object_get(r, "updated")),
           (long long)json_integer_value(json_object_get(r, "unchanged")),
           (long long)json_integer_value(json_object_get(r, "skipped")),
           dry_run ? "; dry run, nothing written" : "");
    if (!dry_run && rows >= 1000 && ms > 0) /* a rate of a handful of rows says nothing */
        printf("%.0f rows per second on the node\n", (double)rows * 1000.0 / (double)ms);
    json_decref(r);
    return KZ_EXIT_OK;
}
