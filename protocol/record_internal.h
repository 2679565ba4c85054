/* record_internal.h: body field tables and helpers shared by the record_*.c files.
 *
 * Every record body is described by a table of fields (record_fields.c). The
 * encoder (record_encode.c) walks the table to validate and pack a body, the
 * decoder (record_decode.c) walks the same table to map msgpack into the
 * struct, so the two can never disagree about keys, types or limits. Rules
 * that involve more than one field live in each type's check function. */
#ifndef KZ_RECORD_INTERNAL_H
#define KZ_RECORD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kz_record.h"

/* Field kinds and the C type found at kz__field.off inside a kz_record. */
enum {
    KZ__F_STR = 1, /* kz_str */
    KZ__F_STRLIST, /* kz_str[max_items], uint32_t count at off_aux */
    KZ__F_KEY,     /* uint8_t[32], always encoded */
    KZ__F_OPTKEY,  /* uint8_t[32], bool "has" at off_aux */
    KZ__F_BYTES,   /* kz_bytes */
    KZ__F_UINT,    /* uint8_t / uint16_t / uint32_t / uint64_t (width) */
    KZ__F_BOOL     /* bool, encoded as true, omitted when false */
};

#define KZ__F_REQUIRED 0x1u /* must be non-empty / non-zero */
#define KZ__F_ALWAYS 0x2u   /* encoded even when zero (enumerations) */
#define KZ__F_NEWLINES 0x4u /* text: tab, LF and CR allowed */
#define KZ__F_YEAR 0x8u     /* uint: 0 (absent) or KZ_YEAR_MIN..KZ_YEAR_MAX */

typedef struct {
    uint8_t key;        /* map key, ascending within a table */
    uint8_t kind;       /* KZ__F_* kind */
    uint8_t width;      /* KZ__F_UINT: sizeof the C field */
    uint8_t flags;      /* KZ__F_REQUIRED ... */
    const char *name;   /* "profile.skills": union member, then field */
    size_t off;         /* offset of the value inside kz_record */
    size_t off_aux;     /* list count or "has" flag offset */
    uint64_t max;       /* str/bytes: max bytes each; uint: max value */
    uint32_t max_items; /* list: max element count */
} kz__field;

typedef struct {
    const char *name;          /* "profile" */
    const kz__field *fields;   /* sorted by key */
    size_t n_fields;
    /* Cross-field rules; returns 0 or KZ_EINVAL after kz__record_fail(). */
    int (*check)(const kz_record *r);
} kz__body_desc;

/* The table for a record type, NULL when type is not 1..KZ_T_MAX. */
const kz__body_desc *kz__body_desc_get(int type);

/* Record a reason for the calling thread (see kz_record_last_error) and
 * return code, so callers can write `return kz__record_fail(KZ_EINVAL, ...)`. */
int kz__record_fail(int code, const char *fmt, ...) KZ_PRINTF(2, 3);

/* Validate r (envelope and body) and write the canonical encoding of the
 * signed five-element array [version, type, author, created_ms, body] into
 * out[0..cap). Sets *len. Returns 0, KZ_EINVAL (bad field) or KZ_ETOOBIG
 * (does not fit in cap). */
int kz__record_encode_signed(const kz_record *r, uint8_t *out, size_t cap,
                             size_t *len) KZ_WARN_UNUSED;

/* Map the six-element record in buf[0..len) into r without validating
 * limits: only msgpack types, key order and what the struct can hold are
 * checked here. buf must already have passed kz__mp_prescan. Pointers in r
 * point into buf. Returns 0, KZ_EDECODE, KZ_ENONCANON (keys out of order or
 * repeated) or KZ_EINVAL (value does not fit its field). */
int kz__record_map(kz_record *r, const uint8_t *buf, size_t len) KZ_WARN_UNUSED;

/* "profile.name", or "profile.skills[3]" when idx >= 0, for messages. */
void kz__field_label(char *out, size_t outsz, const kz__body_desc *d, const kz__field *f,
                     long idx);

/* Value access by table offset. */
#define KZ__AT(r, off, T) ((T *)(void *)((char *)(r) + (off)))
#define KZ__CAT(r, off, T) ((const T *)(const void *)((const char *)(r) + (off)))

/* Bytes a signature adds to the signed array: bin8 header (2) + 64. The
 * record and the signed array both start with a one-byte fixarray header
 * (0x96 vs 0x95), so record length = signed length + KZ__SIG_TAIL. */
#define KZ__SIG_TAIL (2 + KZ_SIG_BYTES)

#endif
