/* kz_base.h: the project's one error type, allocation policy, hex ids and clock.
 *
 * Every kizuna function that can fail returns int: 0 on success or a negative
 * KZ_E* code. Library codes (LMDB, libsodium, msgpack, errno) are translated
 * into these at the module edge. kz_strerror() never returns NULL. */
#ifndef KZ_BASE_H
#define KZ_BASE_H

#include <stddef.h>
#include <stdint.h>

#define KZ_WARN_UNUSED __attribute__((warn_unused_result))
#define KZ_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define KZ_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Error codes. Keep kz_strerror() in base.c in step with this list. */
enum {
    KZ_OK = 0,
    KZ_EINVAL = -1,      /* invalid argument or malformed input */
    KZ_ENOMEM = -2,      /* a bounded allocation failed */
    KZ_EIO = -3,         /* file or socket I/O failed */
    KZ_ENOTFOUND = -4,   /* no such record, member, key or setting */
    KZ_EEXIST = -5,      /* already present (duplicate record, existing file) */
    KZ_ETOOBIG = -6,     /* over a documented size or count limit */
    KZ_EDECODE = -7,     /* bytes are not a well-formed encoding */
    KZ_ENONCANON = -8,   /* well-formed but not the canonical encoding */
    KZ_EBADSIG = -9,     /* signature does not verify */
    KZ_EFUTURE = -10,    /* creation time too far in the future */
    KZ_ESTALE = -11,     /* superseded by a newer replaceable record */
    KZ_EDELETED = -12,   /* target was deleted; its id is never accepted again */
    KZ_ENOATTEST = -13,  /* author has no live membership attestation (yet) */
    KZ_EPERM = -14,      /* author may not do this (wrong role, not owner) */
    KZ_EBLOCKED = -15,   /* node or its member is blocked by this operator */
    KZ_ESTORE = -16,     /* LMDB failure other than the above */
    KZ_ECRYPTO = -17,    /* a libsodium operation failed (not a bad signature) */
    KZ_EPROTO = -18,     /* peer broke the wire protocol */
    KZ_ETIMEDOUT = -19,  /* handshake, idle or request timeout */
    KZ_ELOCKED = -20,    /* data dir is in use by another kizunad */
    KZ_ENOTRUNNING = -21,/* the node is not running (no control socket) */
    KZ_ECONFIG = -22,    /* bad configuration file */
    KZ_EAGAIN = -23,     /* try again later (queue full, busy) */
    KZ_EAUTH = -24,      /* peer authentication failed (MAC, node id, key) */
    KZ_ERR_MIN = -24
};

/* Human-readable text for a KZ_E* code; static storage, never NULL. */
const char *kz_strerror(int err);

/* Out-of-memory policy: small internal allocations abort the process with a
 * message (there is no sensible recovery). Sizes that come from outside must
 * be bounded by the caller first; such code uses plain malloc and returns
 * KZ_ENOMEM. The kz_x* functions never return NULL. */
void *kz_xmalloc(size_t n);
void *kz_xcalloc(size_t n, size_t size);
void *kz_xrealloc(void *p, size_t n);
char *kz_xstrdup(const char *s);
char *kz_xstrndup(const char *s, size_t n);

/* Lower-case hex, the one text form of node ids, member ids and record ids.
 * kz_hex_encode writes 2*len chars plus NUL into out (outsz >= 2*len+1).
 * kz_hex_decode accepts exactly 2*len hex digits (either case) and nothing
 * else; returns KZ_EINVAL otherwise. */
void kz_hex_encode(char *out, size_t outsz, const uint8_t *bin, size_t len);
int kz_hex_decode(uint8_t *bin, size_t len, const char *hex) KZ_WARN_UNUSED;

/* Text form of a 32-byte key or id: 64 lower-case hex digits. */
#define KZ_ID_HEX_LEN 64
typedef struct { char s[KZ_ID_HEX_LEN + 1]; } kz_idstr;
kz_idstr kz_id_to_str(const uint8_t id[32]);

/* Wall clock in milliseconds since the Unix epoch. */
uint64_t kz_now_ms(void);

/* Is [p, p+n) valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF) with no
 * NUL and, unless allow_newlines, no C0/C1 control characters at all?
 * Tab, LF and CR are the only controls allowed when allow_newlines. */
int kz_utf8_valid(const char *p, size_t n, int allow_newlines);

#endif
