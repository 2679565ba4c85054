/* kz_import.h: HR import files: text encoding (UTF-8 with or without BOM,
 * CP932), an RFC 4180 CSV reader, the column names, and the checks every
 * import row passes, shared by the kizuna CLI (which reads the file) and the
 * node (which checks every row again before writing). docs/members.md
 * describes the file format for operators.
 *
 * Memory: a kz_csv is caller-allocated (kz_csv_init / kz_csv_close); the
 * field pointers it hands out are valid until the next kz_csv_next. A
 * kz_import_row owns its strings (kz_import_row_close). */
#ifndef KZ_IMPORT_H
#define KZ_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kz_base.h"
#include "kz_record.h"
#include "kz_store.h"

/* Bounds on an import file. */
#define KZ_CSV_FILE_MAX (64u * 1024u * 1024u) /* bytes as read, before conversion */
#define KZ_CSV_ROWS_MAX 200000u                /* data rows, header excluded */
#define KZ_CSV_FIELD_MAX 4096u                 /* bytes of one field, unquoted */
#define KZ_CSV_COLS_MAX 64u                    /* fields in one row */

/* ---- Encoding (csv.c) ------------------------------------------------------ */

typedef enum { KZ_ENC_AUTO = 0, KZ_ENC_UTF8, KZ_ENC_CP932 } kz_encoding;

/* "auto", "utf-8" (also "utf8"), "cp932" (also "shift_jis", "sjis");
 * -1 when unknown. */
int kz_encoding_parse(const char *s);
const char *kz_encoding_name(kz_encoding e);

/* Turn the bytes of an import file into UTF-8 text: with KZ_ENC_UTF8 the
 * input must be valid UTF-8 (a leading byte order mark is dropped); with
 * KZ_ENC_CP932 it is converted with iconv ("CP932", Windows Shift_JIS, what
 * Excel in Japan writes); KZ_ENC_AUTO takes UTF-8 when the input has a BOM
 * or is valid UTF-8, else CP932 when it converts cleanly, else fails. The
 * text then holds no NUL and no control character but tab, CR and LF
 * (binary files stop here). *out is malloc'd and NUL-terminated (*out_len
 * excludes the NUL); *used says which encoding was applied. len must be at
 * most KZ_CSV_FILE_MAX (KZ_ETOOBIG). KZ_EINVAL with "line N: ..." in err,
 * KZ_ENOMEM. */
int kz_text_to_utf8(const uint8_t *in, size_t len, kz_encoding enc, char **out,
                    size_t *out_len, kz_encoding *used, char *err, size_t errsz) KZ_WARN_UNUSED;

/* ---- CSV reader (csv.c) -------------------------------------------------------
 *
 * RFC 4180 with the usual liberties: records end with CRLF, LF or a lone CR;
 * the last one may lack its line break; fields are separated by commas; a
 * field in double quotes may hold commas, line breaks and doubled quotes.
 * Refused with a reason naming the line: a quote inside an unquoted field,
 * anything but a comma or a line break after a closing quote, a quoted
 * field that never ends, a field over KZ_CSV_FIELD_MAX bytes, a row of more
 * than KZ_CSV_COLS_MAX fields, more than KZ_CSV_ROWS_MAX + 1 rows, NUL or
 * another control character but tab, CR and LF. */
typedef struct {
    const char *p;
    size_t len, off;
    uint32_t line;                        /* physical line at the cursor, from 1 */
    uint32_t row_line;                    /* line where the current row starts */
    uint32_t rows;                        /* rows returned so far */
    uint32_t n_fields;                    /* fields of the current row */
    uint32_t f_off[KZ_CSV_COLS_MAX], f_len[KZ_CSV_COLS_MAX];
    char *buf;                            /* unquoted field bytes of the current row */
    size_t buf_len;
} kz_csv;

/* Start reading text[0..len) (not copied: it must outlive c). */
void kz_csv_init(kz_csv *c, const char *text, size_t len);
void kz_csv_close(kz_csv *c);
/* Read the next row: 1 when a row is ready (c->n_fields fields, starting on
 * c->row_line), 0 at the end, or KZ_EINVAL / KZ_ETOOBIG with the reason in
 * err ("line 7: ..."); after an error the reader is finished. */
int kz_csv_next(kz_csv *c, char *err, size_t errsz) KZ_WARN_UNUSED;
/* Field i of the current row (NUL-terminated; *n gets its length). NULL
 * when i >= n_fields. */
const char *kz_csv_field(const kz_csv *c, uint32_t i, size_t *n);

/* ---- Import rows (import_rows.c) ----------------------------------------------- */

/* Columns of an import file. Header names (ASCII ones in any case, spaces
 * around them ignored):
 *   employee_no  社員番号                 required: the stable HR key
 *   name         氏名                     required
 *   reading      よみがな ふりがな フリガナ ヨミガナ   required (kana)
 *   romaji       ローマ字
 *   role         区分                     alumni 退職者 OB OG | employee 社員 従業員 |
 *                                         secretariat 事務局
 *   joined       入社年
 *   left         退職年
 *   department   部署
 * Any other header is an error that lists these. */
typedef enum {
    KZ_COL_EMPLOYEE_NO = 0, KZ_COL_NAME, KZ_COL_READING, KZ_COL_ROMAJI, KZ_COL_ROLE,
    KZ_COL_JOINED, KZ_COL_LEFT, KZ_COL_DEPARTMENT, KZ_COL_COUNT
} kz_import_col;

typedef struct {
    uint32_t n_fields;                    /* fields in the header row */
    int col[KZ_CSV_COLS_MAX];             /* field -> kz_import_col */
    int field[KZ_COL_COUNT];              /* kz_import_col -> field, -1 when absent */
} kz_import_header;

/* Map the current row of c (the header) to columns. KZ_EINVAL with "line N:
 * unknown column 'email' (known columns: ...)", a repeated column or a
 * missing required one, in err. */
int kz_import_header_parse(kz_import_header *h, const kz_csv *c, char *err,
                           size_t errsz) KZ_WARN_UNUSED;
/* "employee_no (社員番号), name (氏名), ...", for messages. */
const char *kz_import_columns(void);

/* One person from an import file. Absent optional cells are NULL / -1 / 0:
 * for a member who already exists they mean "keep what is there". */
typedef struct {
    uint32_t line;                        /* physical line where the row starts */
    char *hr_key;                         /* employee_no, 1..KZ_HRKEY_MAX bytes */
    char *name, *reading;                 /* required */
    char *romaji, *department;            /* optional */
    int role;                             /* kz_role, -1 when not given */
    uint16_t joined, left;                /* 0 when not given */
} kz_import_row;

void kz_import_row_close(kz_import_row *r);

/* Read the current row of c into r (which it owns afterwards, also on
 * failure: close it): cells are trimmed of spaces (ASCII and U+3000), role
 * names and years (ASCII or full-width digits, an optional 年) converted,
 * then kz_import_row_check applied. Returns 0, 1 for a blank row (every cell
 * empty: skip it), or KZ_EINVAL with every reason for this row in err,
 * separated by "; " (without the line number). */
int kz_import_row_parse(kz_import_row *r, const kz_import_header *h, const kz_csv *c,
                        char *err, size_t errsz) KZ_WARN_UNUSED;

/* The checks both sides apply to a row: required fields present, lengths
 * (employee_no <= 64, names <= 128, department <= 128 bytes), valid UTF-8
 * without control characters, reading in kana (hiragana, katakana, half-
 * width katakana, long vowel mark and spaces; Latin letters for foreign
 * names), romaji in Latin letters, years 1900..2200 and left >= joined.
 * 0, or KZ_EINVAL with all reasons in err ("; "-separated). */
int kz_import_row_check(const kz_import_row *r, char *err, size_t errsz) KZ_WARN_UNUSED;

/* A row as the JSON object the CLI sends to member.import ({"line",
 * "employee_no", "name", "reading", and "romaji", "role", "joined", "left",
 * "department" when given}), and back. from_json refuses unknown keys and
 * wrong types and applies kz_import_row_check. New reference / 0 or
 * KZ_EINVAL with the reason in err. */
json_t *kz_import_row_to_json(const kz_import_row *r);
int kz_import_row_from_json(kz_import_row *r, json_t *o, char *err, size_t errsz) KZ_WARN_UNUSED;

/* Find employee numbers used more than once among rows[0..n): cb(ud, i, j)
 * for every later row i that repeats an earlier row j. Returns the number of
 * repeats. */
size_t kz_import_dups(const kz_import_row *rows, size_t n,
                      void (*cb)(void *ud, size_t i, size_t j), void *ud);

#endif
