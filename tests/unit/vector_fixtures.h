/* vector_fixtures.h: reading the text test vectors in tests/vectors/ (hex
 * fields, space-separated words), shared by test_noise.c and test_noise_hs.c.
 * Include after kz_test.h, with VEC_FIELD_MAX defined to the largest field, in
 * bytes, that the including test's vector file may hold. */
#ifndef KZ_VECTOR_FIXTURES_H
#define KZ_VECTOR_FIXTURES_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kz_base.h"

#ifndef VEC_FIELD_MAX
#error "define VEC_FIELD_MAX before including vector_fixtures.h"
#endif

/* One hex field of a vector; present tells "-" (empty) from a missing field. */
typedef struct {
    uint8_t b[VEC_FIELD_MAX];
    size_t n;
    int present;
} blob;

/* Decode `hex` ("-" for empty) into b; a field longer than VEC_FIELD_MAX or
 * not valid hex fails the test. */
static inline void hex_blob(blob *b, const char *hex)
{
    size_t len = strlen(hex);
    if (strcmp(hex, "-") == 0)
        len = 0;
    assert_true(len % 2 == 0 && len / 2 <= VEC_FIELD_MAX);
    b->n = len / 2;
    b->present = 1;
    if (b->n)
        assert_int_equal(kz_hex_decode(b->b, b->n, hex), 0);
}

/* Open tests/vectors/<file> of the source tree; fails the test if it cannot.
 * The caller closes the returned file. */
static inline FILE *open_vectors(const char *file)
{
    char path[1024];
    int n = snprintf(path, sizeof path, "%s/tests/vectors/%s", KZ_SOURCE_DIR, file);
    assert_true(n > 0 && (size_t)n < sizeof path);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    return f;
}

/* Split a line into at most 3 space-separated words (modifies line). */
static inline int words(char *line, char *w[3])
{
    int n = 0;
    char *p = line;
    while (*p && n < 3) {
        while (*p == ' ' || *p == '\n' || *p == '\r')
            p++;
        if (!*p)
            break;
        w[n++] = p;
        while (*p && *p != ' ' && *p != '\n' && *p != '\r')
            p++;
        if (*p)
            *p++ = '\0';
    }
    return n;
}

#endif
