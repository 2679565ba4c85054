/* csv.c: import files as text: UTF-8 / CP932 detection and conversion (glibc
 * iconv), and a bounded RFC 4180 CSV reader that walks the text once. */
#include "kz_import.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int kz_encoding_parse(const char *s)
{
    if (!s)
        return -1;
    if (strcasecmp(s, "auto") == 0)
        return KZ_ENC_AUTO;
    if (strcasecmp(s, "utf-8") == 0 || strcasecmp(s, "utf8") == 0)
        return KZ_ENC_UTF8;
    if (strcasecmp(s, "cp932") == 0 || strcasecmp(s, "shift_jis") == 0 ||
        strcasecmp(s, "sjis") == 0 || strcasecmp(s, "windows-31j") == 0)
        return KZ_ENC_CP932;
    return -1;
}

const char *kz_encoding_name(kz_encoding e)
{
    switch (e) {
    case KZ_ENC_UTF8: return "utf-8";
    case KZ_ENC_CP932: return "cp932";
    default: return "auto";
    }
}

/* Line number (from 1) of byte offset off. */
static uint32_t line_of(const uint8_t *p, size_t off)
{
    uint32_t line = 1;
    for (size_t i = 0; i < off; i++) {
        if (p[i] == '\n' || (p[i] == '\r' && p[i + 1] != '\n'))
            line++;
    }
    return line;
}

/* Offset of the first byte that is not part of well-formed UTF-8 (no
 * overlongs, surrogates or code points above U+10FFFF), or len. */
static size_t utf8_bad_at(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t b = p[i];
        size_t n;
        uint32_t min, cp;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xe0) == 0xc0) {
            n = 2, min = 0x80, cp = b & 0x1f;
        } else if ((b & 0xf0) == 0xe0) {
            n = 3, min = 0x800, cp = b & 0x0f;
        } else if ((b & 0xf8) == 0xf0) {
            n = 4, min = 0x10000, cp = b & 0x07;
        } else {
            return i;
        }
        if (len - i < n)
            return i;
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return i;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return i;
        i += n;
    }
    return len;
}

/* Refuse NUL and control characters but tab, CR and LF: a CSV export has
 * none, a binary file has plenty. */
static int check_controls(const char *t, size_t len, char *err, size_t errsz)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)t[i];
        if ((ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n') || ch == 0x7f) {
            snprintf(err, errsz, "line %u: control character 0x%02x; is this a binary file?",
                     line_of((const uint8_t *)t, i), ch);
            return KZ_EINVAL;
        }
    }
    return 0;
}

/* CP932 -> UTF-8 with iconv. KZ_EINVAL (sets *bad_off) when the input holds
 * a byte sequence CP932 does not define. */
static int from_cp932(const uint8_t *in, size_t len, char **out, size_t *out_len,
                      size_t *bad_off)
{
    /* One CP932 byte (half-width katakana) becomes at most 3 UTF-8 bytes. */
    if (len > (SIZE_MAX - 1) / 3)
        return KZ_ETOOBIG;
    size_t cap = 3 * len + 1;
    char *buf = malloc(cap);
    if (!buf)
        return KZ_ENOMEM;
    iconv_t cd = iconv_open("UTF-8", "CP932");
    if (cd == (iconv_t)-1) {
        free(buf);
        return KZ_EIO;
    }
    char *ip = (char *)(uintptr_t)in, *op = buf;
    size_t il = len, ol = cap - 1;
    int rc = 0;
    if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 ||
        iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1) {
        rc = errno == E2BIG ? KZ_ETOOBIG : KZ_EINVAL;
        *bad_off = (size_t)((const uint8_t *)ip - in);
    }
    iconv_close(cd);
    if (rc) {
        free(buf);
        return rc;
    }
    *op = '\0';
    *out = buf;
    *out_len = (size_t)(op - buf);
    return 0;
}

static int copy_utf8(const uint8_t *in, size_t len, char **out, size_t *out_len)
{
    char *buf = malloc(len + 1);
    if (!buf)
        return KZ_ENOMEM;
    memcpy(buf, in, len);
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

int kz_text_to_utf8(const uint8_t *in, size_t len, kz_encoding enc, char **out,
                    size_t *out_len, kz_encoding *used, char *err, size_t errsz)
{
    static const uint8_t bom[3] = {0xef, 0xbb, 0xbf};
    size_t bad, bad_cp = 0;
    int rc;
    *out = NULL;
    *out_len = 0;
    if (len > KZ_CSV_FILE_MAX) {
        snprintf(err, errsz, "larger than %u MiB", KZ_CSV_FILE_MAX >> 20);
        return KZ_ETOOBIG;
    }
    bool has_bom = len >= 3 && memcmp(in, bom, 3) == 0;
    if (enc == KZ_ENC_UTF8 || (enc == KZ_ENC_AUTO && has_bom)) {
        size_t skip = has_bom ? 3 : 0;
        if ((bad = utf8_bad_at(in + skip, len - skip)) != len - skip) {
            snprintf(err, errsz, "line %u: byte 0x%02x is not valid UTF-8%s",
                     line_of(in, skip + bad), in[skip + bad],
                     enc == KZ_ENC_AUTO ? " (the file starts with a UTF-8 byte order mark)"
                                        : "; try --encoding cp932");
            return KZ_EINVAL;
        }
        *used = KZ_ENC_UTF8;
        rc = copy_utf8(in + skip, len - skip, out, out_len);
    } else if (enc == KZ_ENC_CP932) {
        rc = from_cp932(in, len, out, out_len, &bad_cp);
        if (rc == KZ_EINVAL) {
            snprintf(err, errsz, "line %u: byte 0x%02x is not valid CP932 (Shift_JIS)",
                     line_of(in, bad_cp), in[bad_cp]);
            return rc;
        }
        *used = KZ_ENC_CP932;
    } else {
        bad = utf8_bad_at(in, len);
        if (bad == len) {
            *used = KZ_ENC_UTF8;
            rc = copy_utf8(in, len, out, out_len);
        } else {
            rc = from_cp932(in, len, out, out_len, &bad_cp);
            if (rc == KZ_EINVAL) {
                snprintf(err, errsz,
                         "neither UTF-8 (bad byte 0x%02x on line %u) nor CP932 (bad byte 0x%02x "
                         "on line %u); is it a text export? (--encoding names the encoding)",
                         in[bad], line_of(in, bad), in[bad_cp], line_of(in, bad_cp));
                return rc;
            }
            *used = KZ_ENC_CP932;
        }
    }
    if (rc == KZ_ENOMEM) {
        snprintf(err, errsz, "out of memory converting the file");
        return rc;
    }
    if (rc) {
        snprintf(err, errsz, "cannot convert the file: %s", kz_strerror(rc));
        return rc;
    }
    if ((rc = check_controls(*out, *out_len, err, errsz)) != 0) {
        free(*out);
        *out = NULL;
        *out_len = 0;
    }
    return rc;
}

/* ---- CSV reader ---------------------------------------------------------------- */

#define ROW_BUF (KZ_CSV_COLS_MAX * (KZ_CSV_FIELD_MAX + 1))

void kz_csv_init(kz_csv *c, const char *text, size_t len)
{
    memset(c, 0, sizeof *c);
    c->p = text;
    c->len = len;
    c->line = 1;
    c->buf = kz_xmalloc(ROW_BUF);
}

void kz_csv_close(kz_csv *c)
{
    free(c->buf);
    memset(c, 0, sizeof *c);
}

const char *kz_csv_field(const kz_csv *c, uint32_t i, size_t *n)
{
    if (i >= c->n_fields)
        return NULL;
    if (n)
        *n = c->f_len[i];
    return c->buf + c->f_off[i];
}

static int csv_fail(kz_csv *c, int code, char *err, size_t errsz, uint32_t line,
                    const char *what, uint32_t field)
{
    snprintf(err, errsz, "line %u: %s", line, what);
    if (field) {
        size_t n = strlen(err);
        if (n < errsz)
            snprintf(err + n, errsz - n, " (field %u)", field);
    }
    c->off = c->len; /* finished: the rest cannot be trusted */
    return code;
}

/* Append one byte to the current field; false when it grows too long. */
static bool field_put(kz_csv *c, uint32_t field_start, char ch)
{
    if (c->buf_len - field_start >= KZ_CSV_FIELD_MAX)
        return false;
    c->buf[c->buf_len++] = ch;
    return true;
}

static bool is_ctl(unsigned char ch)
{
    return (ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n') || ch == 0x7f;
}

int kz_csv_next(kz_csv *c, char *err, size_t errsz)
{
    if (c->off >= c->len)
        return 0;
    c->row_line = c->line;
    c->n_fields = 0;
    c->buf_len = 0;
    for (;;) {
        if (c->n_fields == KZ_CSV_COLS_MAX)
            return csv_fail(c, KZ_ETOOBIG, err, errsz, c->row_line,
                            "more than 64 fields in one row", 0);
        uint32_t fno = c->n_fields + 1, start = (uint32_t)c->buf_len;
        if (c->off < c->len && c->p[c->off] == '"') {
            uint32_t qline = c->line;
            c->off++;
            for (;;) {
                if (c->off >= c->len)
                    return csv_fail(c, KZ_EINVAL, err, errsz, qline,
                                    "a quoted field never ends (missing closing quote)", fno);
                unsigned char ch = (unsigned char)c->p[c->off];
                if (ch == '"') {
                    if (c->off + 1 < c->len && c->p[c->off + 1] == '"') {
                        c->off += 2;
                    } else {
                        c->off++;
                        break;
                    }
                } else {
                    c->off++;
                    if (is_ctl(ch))
                        return csv_fail(c, KZ_EINVAL, err, errsz, c->line,
                                        "control character in a field", fno);
                    if (ch == '\n' || (ch == '\r' && (c->off >= c->len || c->p[c->off] != '\n')))
                        c->line++;
                }
                if (!field_put(c, start, ch == '"' ? '"' : (char)ch))
                    return csv_fail(c, KZ_ETOOBIG, err, errsz, qline,
                                    "a field is longer than 4096 bytes", fno);
            }
            if (c->off < c->len && c->p[c->off] != ',' && c->p[c->off] != '\r' &&
                c->p[c->off] != '\n')
                return csv_fail(c, KZ_EINVAL, err, errsz, c->line,
                                "unexpected character after a closing quote", fno);
        } else {
            while (c->off < c->len) {
                unsigned char ch = (unsigned char)c->p[c->off];
                if (ch == ',' || ch == '\r' || ch == '\n')
                    break;
                if (ch == '"')
                    return csv_fail(c, KZ_EINVAL, err, errsz, c->line,
                                    "a quote inside an unquoted field (quote the whole field "
                                    "and double the quote)", fno);
                if (is_ctl(ch))
                    return csv_fail(c, KZ_EINVAL, err, errsz, c->line,
                                    "control character in a field", fno);
                if (!field_put(c, start, (char)ch))
                    return csv_fail(c, KZ_ETOOBIG, err, errsz, c->line,
                                    "a field is longer than 4096 bytes", fno);
                c->off++;
            }
        }
        c->f_off[c->n_fields] = start;
        c->f_len[c->n_fields] = (uint32_t)c->buf_len - start;
        c->buf[c->buf_len++] = '\0';
        c->n_fields++;
        if (c->off >= c->len)
            break;
        char ch = c->p[c->off++];
        if (ch == ',')
            continue;
        if (ch == '\r' && c->off < c->len && c->p[c->off] == '\n')
            c->off++;
        c->line++;
        break;
    }
    c->rows++;
    if (c->rows > KZ_CSV_ROWS_MAX + 1)
        return csv_fail(c, KZ_ETOOBIG, err, errsz, c->row_line,
                        "more than 200000 rows (split the file)", 0);
    return 1;
}
