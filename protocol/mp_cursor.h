/* mp_cursor.h: strict, bounded msgpack reading for protocol decoders (internal).
 *
 * Decoders never hand untrusted bytes to the msgpack-c unpacker: msgpack-c
 * 4.0 reserves memory for whatever count a tiny input declares. Instead a
 * decoder first runs kz__mp_prescan() over the whole buffer, which proves that
 * the buffer holds exactly one msgpack object, that every declared length and
 * count fits in the bytes that remain, that nesting is shallow and that only
 * the types our formats use appear. It then walks the (now trusted to be
 * well-formed) bytes with the kz__mp_read_* cursor, which still checks every
 * bound itself so that a cursor is safe even on its own. */
#ifndef KZ_MP_CURSOR_H
#define KZ_MP_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kz_base.h"

/* A read position inside a caller-owned buffer. */
typedef struct {
    const uint8_t *p;
    size_t len;
    size_t off;
} kz__mp_cur;

/* Check that p[0..len) is exactly one msgpack object made only of unsigned
 * ints, str, bin, arrays, maps, true and false, with at most max_depth nested
 * containers, no declared length or element count larger than the bytes left
 * and nothing after the object. Returns 0 or KZ_EDECODE; on failure *why
 * (static text) and *at (byte offset) say what and where. Reads nothing
 * outside p[0..len) and allocates nothing. */
int kz__mp_prescan(const uint8_t *p, size_t len, unsigned max_depth, const char **why,
                   size_t *at) KZ_WARN_UNUSED;

/* Typed reads. Each consumes one object of the named type and returns 0, or
 * returns KZ_EDECODE without moving the cursor when the next object is of
 * another type or would run past the end. Returned pointers point into the
 * cursor's buffer. */
int kz__mp_read_uint(kz__mp_cur *c, uint64_t *v) KZ_WARN_UNUSED;
int kz__mp_read_bool(kz__mp_cur *c, bool *v) KZ_WARN_UNUSED;
int kz__mp_read_str(kz__mp_cur *c, const char **s, uint32_t *n) KZ_WARN_UNUSED;
int kz__mp_read_bin(kz__mp_cur *c, const uint8_t **b, uint32_t *n) KZ_WARN_UNUSED;
int kz__mp_read_array(kz__mp_cur *c, uint32_t *count) KZ_WARN_UNUSED;
int kz__mp_read_map(kz__mp_cur *c, uint32_t *count) KZ_WARN_UNUSED;

#endif
