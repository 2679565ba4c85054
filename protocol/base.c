/* base.c: error strings, allocation policy, hex ids, clock and UTF-8 checks. */
#include "kz_base.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const kz_errors[] = {
    [0] = "success",
    [1] = "invalid argument",
    [2] = "out of memory",
    [3] = "input/output error",
    [4] = "not found",
    [5] = "already exists",
    [6] = "too large",
    [7] = "malformed encoding",
    [8] = "not in canonical form",
    [9] = "bad signature",
    [10] = "creation time is too far in the future",
    [11] = "superseded by a newer version",
    [12] = "deleted (tombstoned)",
    [13] = "author has no live membership attestation",
    [14] = "not permitted",
    [15] = "blocked by this node's operator",
    [16] = "storage error",
    [17] = "cryptographic operation failed",
    [18] = "protocol violation",
    [19] = "timed out",
    [20] = "data directory is in use by another kizunad",
    [21] = "the node is not running",
    [22] = "bad configuration",
    [23] = "busy, try again later",
    [24] = "authentication failed",
};

const char *kz_strerror(int err)
{
    if (err > 0 || err < KZ_ERR_MIN)
        return "unknown error";
    return kz_errors[-err];
}

static void kz__oom(size_t n)
{
    fprintf(stderr, "kizuna: out of memory allocating %zu bytes\n", n);
    abort();
}

void *kz_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        kz__oom(n);
    return p;
}

void *kz_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        kz__oom(n * size);
    return p;
}

void *kz_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        kz__oom(n);
    return q;
}

char *kz_xstrdup(const char *s)
{
    return kz_xstrndup(s, strlen(s));
}

char *kz_xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = kz_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void kz_hex_encode(char *out, size_t outsz, const uint8_t *bin, size_t len)
{
    if (outsz < 2 * len + 1) {
        if (outsz)
            out[0] = '\0';
        return;
    }
    sodium_bin2hex(out, outsz, bin, len);
}

int kz_hex_decode(uint8_t *bin, size_t len, const char *hex)
{
    if (!hex || strlen(hex) != 2 * len)
        return KZ_EINVAL;
    size_t got = 0;
    const char *end = NULL;
    if (sodium_hex2bin(bin, len, hex, 2 * len, NULL, &got, &end) != 0 || got != len ||
        end != hex + 2 * len)
        return KZ_EINVAL;
    return 0;
}

kz_idstr kz_id_to_str(const uint8_t id[32])
{
    kz_idstr s;
    kz_hex_encode(s.s, sizeof s.s, id, 32);
    return s;
}

uint64_t kz_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int kz_utf8_valid(const char *s, size_t n, int allow_newlines)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c < 0x80) {
            if (c == 0 || c == 0x7f)
                return 0;
            if (c < 0x20 && !(allow_newlines && (c == '\t' || c == '\n' || c == '\r')))
                return 0;
            i++;
            continue;
        }
        unsigned need, cp;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i <= need)
            return 0;
        for (unsigned k = 1; k <= need; k++) {
            unsigned cc = p[i + k];
            if ((cc & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (cc & 0x3f);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        if (cp >= 0x80 && cp <= 0x9f) /* C1 controls */
            return 0;
        i += need + 1;
    }
    return 1;
}
