/* fuzz_csv.c: HR import files from arbitrary bytes: encoding detection and
 * conversion, the CSV reader, the header and every row check. Whatever is
 * accepted must be consistent: converted text is NUL-free with only tab, CR
 * and LF as controls, every field lies within the reader's row and is
 * NUL-terminated at its length, and every row that passes its checks
 * survives a JSON round trip with the same checks (what the node does). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                         \
    do {                                                                                 \
        if (!(c)) {                                                                      \
            fprintf(stderr, "fuzz_csv: check failed: %s (line %d)\n", #c, __LINE__);     \
            abort();                                                                     \
        }                                                                                \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = NULL, err[1024];
    size_t len = 0;
    kz_encoding used;
    /* The first byte picks the encoding mode, the rest is the file. */
    if (size == 0)
        return 0;
    kz_encoding enc = (kz_encoding)(data[0] % 3);
    int rc = kz_text_to_utf8(data + 1, size - 1, enc, &text, &len, &used, err, sizeof err);
    if (rc != 0) {
        CHECK(text == NULL && err[0]);
        return 0;
    }
    CHECK(strlen(text) == len);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        CHECK(ch >= 0x20 || ch == '\t' || ch == '\r' || ch == '\n');
    }

    kz_csv c;
    kz_import_header h;
    bool have_header = false;
    kz_csv_init(&c, text, len);
    while ((rc = kz_csv_next(&c, err, sizeof err)) == 1) {
        CHECK(c.n_fields >= 1 && c.n_fields <= KZ_CSV_COLS_MAX);
        for (uint32_t i = 0; i < c.n_fields; i++) {
            size_t n;
            const char *f = kz_csv_field(&c, i, &n);
            CHECK(f && n <= KZ_CSV_FIELD_MAX && strlen(f) == n);
        }
        CHECK(kz_csv_field(&c, c.n_fields, NULL) == NULL);
        if (!have_header) {
            if (kz_import_header_parse(&h, &c, err, sizeof err) != 0)
                break;
            have_header = true;
            continue;
        }
        kz_import_row r;
        int prc = kz_import_row_parse(&r, &h, &c, err, sizeof err);
        if (prc == 0) {
            json_t *j = kz_import_row_to_json(&r);
            kz_import_row back;
            CHECK(j != NULL);
            CHECK(kz_import_row_from_json(&back, j, err, sizeof err) == 0);
            CHECK(strcmp(back.hr_key, r.hr_key) == 0 && strcmp(back.name, r.name) == 0);
            CHECK(back.role == r.role && back.joined == r.joined && back.left == r.left);
            kz_import_row_close(&back);
            json_decref(j);
        } else {
            CHECK(prc == 1 || (prc == KZ_EINVAL && err[0]));
        }
        kz_import_row_close(&r);
    }
    CHECK(rc == 0 || rc == 1 || ((rc == KZ_EINVAL || rc == KZ_ETOOBIG) && strncmp(err, "line ", 5) == 0));
    kz_csv_close(&c);
    free(text);
    return 0;
}
