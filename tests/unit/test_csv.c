/* test_csv.c: import files: encoding detection and CP932 conversion, the
 * RFC 4180 reader (quotes, line breaks in quotes, CRLF, BOM, bounds), the
 * column names and the row checks shared by the CLI and the node. */
#include "kz_test.h"

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kz_import.h"

typedef struct {
    uint32_t line;
    uint32_t n;
    char f[8][64];
} row;

/* Read all of text into rows; returns the reader's final code (0 at a clean
 * end) and sets *nrows. err gets the message. */
static int read_all(const char *text, size_t len, row *rows, size_t max, size_t *nrows, char *err,
                    size_t errsz)
{
    kz_csv c;
    kz_csv_init(&c, text, len);
    size_t n = 0;
    int rc;
    while ((rc = kz_csv_next(&c, err, errsz)) == 1) {
        if (n < max) {
            rows[n].line = c.row_line;
            rows[n].n = c.n_fields;
            for (uint32_t i = 0; i < c.n_fields && i < 8; i++) {
                size_t fl;
                const char *f = kz_csv_field(&c, i, &fl);
                assert_non_null(f);
                assert_int_equal(strlen(f), fl);
                snprintf(rows[n].f[i], sizeof rows[n].f[i], "%s", f);
            }
        }
        n++;
    }
    kz_csv_close(&c);
    *nrows = n;
    return rc;
}

static void test_quotes(void **s)
{
    (void)s;
    const char *t = "a,\"b,c\",\"say \"\"hi\"\"\",\"\"\nx,,\"\",z\n";
    row r[4];
    size_t n;
    char err[256];
    assert_int_equal(read_all(t, strlen(t), r, 4, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(r[0].n, 4);
    assert_string_equal(r[0].f[0], "a");
    assert_string_equal(r[0].f[1], "b,c");
    assert_string_equal(r[0].f[2], "say \"hi\"");
    assert_string_equal(r[0].f[3], "");
    assert_int_equal(r[1].n, 4);
    assert_string_equal(r[1].f[1], "");
    assert_string_equal(r[1].f[3], "z");
}

/* Line breaks inside quotes belong to the field; the next row's line
 * number counts them (physical lines). */
static void test_newlines_in_quotes(void **s)
{
    (void)s;
    const char *t = "h1,h2\r\n\"line1\r\nline2\nline3\",b\r\nnext,row\r\n";
    row r[4];
    size_t n;
    char err[256];
    assert_int_equal(read_all(t, strlen(t), r, 4, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(r[1].line, 2);
    assert_string_equal(r[1].f[0], "line1\r\nline2\nline3");
    assert_int_equal(r[2].line, 5);
    assert_string_equal(r[2].f[1], "row");
}

static void test_crlf_lf_cr(void **s)
{
    (void)s;
    const char *t = "a,b\r\nc,d\ne,f\rg,h";
    row r[8];
    size_t n;
    char err[256];
    assert_int_equal(read_all(t, strlen(t), r, 8, &n, err, sizeof err), 0);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(r[i].line, i + 1);
        assert_int_equal(r[i].n, 2);
    }
    assert_string_equal(r[3].f[1], "h"); /* last row without a line break */
    /* An empty input has no rows; a trailing line break adds none. */
    assert_int_equal(read_all("", 0, r, 8, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(read_all("x\n", 2, r, 8, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
}

static void expect_fail(const char *t, size_t len, int code, const char *msg)
{
    row r[4];
    size_t n;
    char err[256] = "";
    int rc = read_all(t, len, r, 4, &n, err, sizeof err);
    if (rc != code || !strstr(err, msg))
        fail_msg("got %d '%s', want %d '%s'", rc, err, code, msg);
}

static void test_truncated_and_stray_quotes(void **s)
{
    (void)s;
    expect_fail("a,b\nc,\"never ends\nd,e\n", 22, KZ_EINVAL, "line 2: a quoted field never ends");
    expect_fail("a,b\"c\n", 6, KZ_EINVAL, "line 1: a quote inside an unquoted field");
    expect_fail("h\n\"ab\"c\n", 8, KZ_EINVAL, "line 2: unexpected character after a closing quote");
    expect_fail("a\0b\n", 4, KZ_EINVAL, "control character");
}

static void test_enormous_field(void **s)
{
    (void)s;
    size_t len = KZ_CSV_FIELD_MAX + 10;
    char *t = kz_xmalloc(len + 16);
    memcpy(t, "h\n", 2);
    memset(t + 2, 'x', len);
    expect_fail(t, len + 2, KZ_ETOOBIG, "line 2: a field is longer than 4096 bytes");
    /* Quoted, the same; exactly the limit passes. */
    t[2] = '"';
    memset(t + 3, 'y', KZ_CSV_FIELD_MAX + 1);
    t[3 + KZ_CSV_FIELD_MAX + 1] = '"';
    expect_fail(t, 3 + KZ_CSV_FIELD_MAX + 2, KZ_ETOOBIG, "longer than 4096");
    t[3 + KZ_CSV_FIELD_MAX] = '"';
    row r[4];
    size_t n;
    char err[256];
    assert_int_equal(read_all(t, 3 + KZ_CSV_FIELD_MAX + 1, r, 4, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    free(t);
}

static void test_too_many_columns(void **s)
{
    (void)s;
    char t[400];
    size_t k = 0;
    for (int i = 0; i < 65; i++)
        t[k++] = i ? ',' : 'a';
    t[k++] = '\n';
    expect_fail(t, k, KZ_ETOOBIG, "line 1: more than 64 fields");
    k = 0;
    for (int i = 0; i < 63; i++)
        t[k++] = ',';
    row r[4];
    size_t n;
    char err[256];
    assert_int_equal(read_all(t, k, r, 4, &n, err, sizeof err), 0);
    assert_int_equal(r[0].n, 64);
}

static void test_too_many_rows(void **s)
{
    (void)s;
    size_t rows = KZ_CSV_ROWS_MAX + 2, len = 2 * rows;
    char *t = kz_xmalloc(len);
    for (size_t i = 0; i < rows; i++) {
        t[2 * i] = 'x';
        t[2 * i + 1] = '\n';
    }
    row r[1];
    size_t n;
    char err[256];
    assert_int_equal(read_all(t, len - 2, r, 1, &n, err, sizeof err), 0); /* header + max */
    assert_int_equal(n, KZ_CSV_ROWS_MAX + 1);
    assert_int_equal(read_all(t, len, r, 1, &n, err, sizeof err), KZ_ETOOBIG);
    assert_non_null(strstr(err, "more than 200000 rows"));
    free(t);
}

/* ---- Encodings ------------------------------------------------------------------ */

static char *to_cp932(const char *utf8, size_t *len)
{
    iconv_t cd = iconv_open("CP932", "UTF-8");
    assert_true(cd != (iconv_t)-1);
    size_t il = strlen(utf8), ol = 4 * il + 4;
    char *out = kz_xmalloc(ol), *op = out, *ip = (char *)(uintptr_t)utf8;
    assert_int_not_equal(iconv(cd, &ip, &il, &op, &ol), (size_t)-1);
    iconv_close(cd);
    *len = (size_t)(op - out);
    return out;
}

static const char *const sample =
    "社員番号,氏名,フリガナ,部署\r\n"
    "E001,鈴木 一郎,スズキ イチロウ,営業部\r\n"
    "E002,髙橋 花子,ﾀｶﾊｼ ﾊﾅｺ,開発部～技術\r\n";

static void test_utf8_and_bom(void **s)
{
    (void)s;
    char *out, err[256];
    size_t n;
    kz_encoding used;
    size_t len = strlen(sample);
    assert_int_equal(kz_text_to_utf8((const uint8_t *)sample, len, KZ_ENC_AUTO, &out, &n, &used,
                                     err, sizeof err), 0);
    assert_int_equal(used, KZ_ENC_UTF8);
    assert_int_equal(n, len);
    assert_string_equal(out, sample);
    free(out);
    char *b = kz_xmalloc(len + 3);
    memcpy(b, "\xef\xbb\xbf", 3);
    memcpy(b + 3, sample, len);
    for (int e = KZ_ENC_AUTO; e <= KZ_ENC_UTF8; e++) {
        assert_int_equal(kz_text_to_utf8((const uint8_t *)b, len + 3, (kz_encoding)e, &out, &n,
                                         &used, err, sizeof err), 0);
        assert_int_equal(used, KZ_ENC_UTF8);
        assert_string_equal(out, sample); /* the BOM is gone */
        free(out);
    }
    /* A BOM promises UTF-8: invalid bytes after it are an error, not CP932. */
    b[3 + 12] = (char)0x81; /* in place of the first comma */
    b[3 + 13] = (char)0x40;
    assert_int_equal(kz_text_to_utf8((const uint8_t *)b, len + 3, KZ_ENC_AUTO, &out, &n, &used,
                                     err, sizeof err), KZ_EINVAL);
    if (!strstr(err, "line 1: byte 0x81 is not valid UTF-8"))
        fail_msg("%s", err);
    free(b);
}

static void test_cp932(void **s)
{
    (void)s;
    size_t len;
    char *sj = to_cp932(sample, &len);
    char *out, err[256];
    size_t n;
    kz_encoding used;
    for (int e = KZ_ENC_AUTO; e <= KZ_ENC_CP932; e += 2) {
        assert_int_equal(kz_text_to_utf8((const uint8_t *)sj, len, (kz_encoding)e, &out, &n,
                                         &used, err, sizeof err), 0);
        assert_int_equal(used, KZ_ENC_CP932);
        assert_string_equal(out, sample); /* 髙 (IBM extension), ｶﾅ and ～ round-trip */
        free(out);
    }
    /* Told it is UTF-8, the same bytes are refused with the line. */
    assert_int_equal(kz_text_to_utf8((const uint8_t *)sj, len, KZ_ENC_UTF8, &out, &n, &used, err,
                                     sizeof err), KZ_EINVAL);
    assert_non_null(strstr(err, "line 1:"));
    assert_non_null(strstr(err, "--encoding cp932"));
    /* A byte CP932 does not define (0xa0, 0xfd..0xff) on line 3. */
    sj[len - 4] = (char)0xff; /* the lead byte of 術 */
    assert_int_equal(kz_text_to_utf8((const uint8_t *)sj, len, KZ_ENC_CP932, &out, &n, &used, err,
                                     sizeof err), KZ_EINVAL);
    if (!strstr(err, "line 3: byte 0xff is not valid CP932"))
        fail_msg("%s", err);
    free(sj);
}

static void test_binary_garbage(void **s)
{
    (void)s;
    uint8_t junk[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (uint8_t)(x >> 16);
    }
    char *out = (char *)1, err[256];
    size_t n;
    kz_encoding used;
    for (int e = KZ_ENC_AUTO; e <= KZ_ENC_CP932; e++) {
        err[0] = '\0';
        int rc = kz_text_to_utf8(junk, sizeof junk, (kz_encoding)e, &out, &n, &used, err,
                                 sizeof err);
        assert_int_equal(rc, KZ_EINVAL);
        assert_null(out);
        assert_true(err[0] != '\0');
    }
    /* Plain ASCII with a NUL: converts, then the control check refuses it. */
    assert_int_equal(kz_text_to_utf8((const uint8_t *)"a,b\n\0\n", 6, KZ_ENC_AUTO, &out, &n,
                                     &used, err, sizeof err), KZ_EINVAL);
    assert_non_null(strstr(err, "line 2: control character 0x00"));
    /* Over the size bound before any work. */
    assert_int_equal(kz_text_to_utf8(junk, (size_t)KZ_CSV_FILE_MAX + 1, KZ_ENC_AUTO, &out, &n,
                                     &used, err, sizeof err), KZ_ETOOBIG);
    assert_int_equal(kz_encoding_parse("Shift_JIS"), KZ_ENC_CP932);
    assert_int_equal(kz_encoding_parse("UTF-8"), KZ_ENC_UTF8);
    assert_int_equal(kz_encoding_parse("latin1"), -1);
}

/* ---- Header and rows ---------------------------------------------------------------- */

/* Parse text's header and rows; the reasons of bad rows are joined into
 * errs as "line N: reason\n". Returns the number of good rows. */
static size_t import_text(const char *text, char *errs, size_t errsz, kz_import_row *rows,
                          size_t max)
{
    kz_csv c;
    kz_import_header h;
    char err[1024];
    size_t good = 0;
    errs[0] = '\0';
    kz_csv_init(&c, text, strlen(text));
    assert_int_equal(kz_csv_next(&c, err, sizeof err), 1);
    if (kz_import_header_parse(&h, &c, err, sizeof err) != 0) {
        snprintf(errs, errsz, "%s\n", err);
        kz_csv_close(&c);
        return 0;
    }
    int rc;
    while ((rc = kz_csv_next(&c, err, sizeof err)) == 1) {
        kz_import_row r;
        int prc = kz_import_row_parse(&r, &h, &c, err, sizeof err);
        if (prc == 0 && good < max) {
            rows[good++] = r;
            continue;
        }
        if (prc < 0) {
            size_t l = strlen(errs);
            snprintf(errs + l, errsz - l, "line %u: %s\n", r.line, err);
        }
        kz_import_row_close(&r);
    }
    assert_int_equal(rc, 0);
    kz_csv_close(&c);
    return good;
}

static void test_headers(void **s)
{
    (void)s;
    kz_import_row rows[4];
    char errs[2048];
    size_t n = import_text("社員番号,氏名,よみがな,ローマ字,区分,入社年,退職年,部署\n"
                           "A1, 鈴木　一郎 ,すずき いちろう,Suzuki Ichiro,退職者,２００１年,2015,営業部\n",
                           errs, sizeof errs, rows, 4);
    assert_string_equal(errs, "");
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].hr_key, "A1");
    assert_string_equal(rows[0].name, "鈴木　一郎"); /* inner U+3000 kept, ends trimmed */
    assert_int_equal(rows[0].role, KZ_ROLE_ALUMNI);
    assert_int_equal(rows[0].joined, 2001);
    assert_int_equal(rows[0].left, 2015);
    assert_int_equal(rows[0].line, 2);
    kz_import_row_close(&rows[0]);

    n = import_text("Employee_No , NAME,Reading\nB2,Ann Lee,アン リー\n", errs, sizeof errs, rows, 4);
    assert_int_equal(n, 1);
    assert_null(rows[0].romaji);
    assert_int_equal(rows[0].role, -1);
    kz_import_row_close(&rows[0]);

    n = import_text("employee_no,name,reading,email\n", errs, sizeof errs, rows, 4);
    assert_int_equal(n, 0);
    assert_non_null(strstr(errs, "line 1: unknown column 'email' (known columns: employee_no"));
    n = import_text("employee_no,name,name\n", errs, sizeof errs, rows, 4);
    assert_non_null(strstr(errs, "column name (氏名) appears twice"));
    assert_non_null(strstr(errs, "missing column reading"));
}

static void test_bad_rows(void **s)
{
    (void)s;
    kz_import_row rows[8];
    char errs[4096];
    size_t n = import_text(
        "employee_no,name,reading,role,joined,left\n"
        "E1,佐藤,さとう,alumni,2001,2010\n"          /* 2: good */
        ",佐藤,さとう,,,\n"                           /* 3: no employee_no */
        "E3,,,,,\n"                                   /* 4: no name, no reading */
        "E4,田中,田中,,,\n"                           /* 5: reading in kanji */
        "E5,伊藤,いとう,boss,19xx,2010\n"             /* 6: role, year */
        "E6,加藤,かとう,,2015,2010\n"                 /* 7: left < joined */
        ",,,,,\n"                                     /* 8: blank: skipped */
        "\"E8\",\"渡辺\n次郎\",わたなべ,,,\n"          /* 9-10: line break in name */
        "E9,山本,やまもと\n"                          /* 11: field count */
        "E10,中村,なかむら,,,\n",                     /* 12: good */
        errs, sizeof errs, rows, 8);
    assert_int_equal(n, 2);
    assert_int_equal(rows[1].line, 12);
    const char *want[] = {
        "line 3: employee_no is missing\n",
        "line 4: name is missing; reading is missing\n",
        "line 5: reading '田中' is not kana",
        "line 6: role 'boss' is not alumni",
        "joined '19xx' is not a year",
        "line 7: left (2010) is before joined (2015)\n",
        "line 9: name holds a line break",
        "line 11: 3 fields, but the header has 6\n",
    };
    for (size_t i = 0; i < KZ_ARRAY_LEN(want); i++)
        if (!strstr(errs, want[i]))
            fail_msg("missing '%s' in:\n%s", want[i], errs);
    assert_null(strstr(errs, "line 8"));
    for (size_t i = 0; i < n; i++)
        kz_import_row_close(&rows[i]);
}

static void test_too_long_and_json(void **s)
{
    (void)s;
    kz_import_row r = {0};
    char err[1024];
    char longname[200];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    r.line = 4;
    r.hr_key = kz_xstrdup("E1");
    r.name = kz_xstrdup(longname);
    r.reading = kz_xstrdup("エー");
    r.romaji = kz_xstrdup("すずき");
    r.role = -1;
    assert_int_equal(kz_import_row_check(&r, err, sizeof err), KZ_EINVAL);
    assert_non_null(strstr(err, "name is 199 bytes, longer than 128"));
    assert_non_null(strstr(err, "romaji 'すずき' is not in Latin letters"));
    free(r.name);
    r.name = kz_xstrdup("Ａ・Ｂ");
    free(r.romaji);
    r.romaji = kz_xstrdup("Satō A-B");
    r.department = kz_xstrdup("営業");
    r.role = KZ_ROLE_EMPLOYEE;
    r.joined = 2001;
    assert_int_equal(kz_import_row_check(&r, err, sizeof err), 0);
    /* JSON round trip as the node receives it. */
    json_t *j = kz_import_row_to_json(&r);
    kz_import_row back;
    assert_int_equal(kz_import_row_from_json(&back, j, err, sizeof err), 0);
    assert_int_equal(back.line, 4);
    assert_string_equal(back.romaji, "Satō A-B");
    assert_int_equal(back.role, KZ_ROLE_EMPLOYEE);
    assert_int_equal(back.joined, 2001);
    assert_int_equal(back.left, 0);
    kz_import_row_close(&back);
    /* The node re-checks: unknown keys, wrong types, bad values. */
    json_object_set_new(j, "email", json_string("x@example.jp"));
    assert_int_equal(kz_import_row_from_json(&back, j, err, sizeof err), KZ_EINVAL);
    kz_import_row_close(&back);
    json_object_del(j, "email");
    json_object_set_new(j, "left", json_integer(1999));
    assert_int_equal(kz_import_row_from_json(&back, j, err, sizeof err), KZ_EINVAL);
    assert_non_null(strstr(err, "left (1999) is before joined (2001)"));
    kz_import_row_close(&back);
    json_object_set_new(j, "reading", json_string("鈴木"));
    json_object_del(j, "left");
    assert_int_equal(kz_import_row_from_json(&back, j, err, sizeof err), KZ_EINVAL);
    kz_import_row_close(&back);
    json_decref(j);
    kz_import_row_close(&r);
}

static void dup_cb(void *ud, size_t i, size_t j)
{
    char *out = ud;
    size_t l = strlen(out);
    snprintf(out + l, 64, "%zu<-%zu ", i, j);
}

static void test_duplicates(void **s)
{
    (void)s;
    kz_import_row rows[5] = {0};
    const char *keys[] = {"A", "B", "A", "C", "A"};
    for (int i = 0; i < 5; i++)
        rows[i].hr_key = (char *)(uintptr_t)keys[i];
    char out[256] = "";
    assert_int_equal(kz_import_dups(rows, 5, dup_cb, out), 2);
    assert_string_equal(out, "2<-0 4<-0 ");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_quotes),
    cmocka_unit_test(test_newlines_in_quotes),
    cmocka_unit_test(test_crlf_lf_cr),
    cmocka_unit_test(test_truncated_and_stray_quotes),
    cmocka_unit_test(test_enormous_field),
    cmocka_unit_test(test_too_many_columns),
    cmocka_unit_test(test_too_many_rows),
    cmocka_unit_test(test_utf8_and_bom),
    cmocka_unit_test(test_cp932),
    cmocka_unit_test(test_binary_garbage),
    cmocka_unit_test(test_headers),
    cmocka_unit_test(test_bad_rows),
    cmocka_unit_test(test_too_long_and_json),
    cmocka_unit_test(test_duplicates),
};

KZ_TEST_MAIN(tests)
