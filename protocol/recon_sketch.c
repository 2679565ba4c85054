/* recon_sketch.c: small invertible Bloom lookup tables (IBLTs) over salted 8-byte short ids.
 *
 * A sketch of a range is ncells cells of KZ_RECON_CELL_BYTES bytes each, in
 * three equal partitions. Every short id lands in one cell of each partition
 * (chosen by its bytes 0-1, 2-3 and 4-5, which are already uniform: short ids
 * are SipHash outputs). A cell holds
 *     count     1 byte, number of ids in it mod 256
 *     keysum    8 bytes, XOR of the ids
 *     checksum  4 bytes, XOR of check(id), little-endian
 * where check(id) is the low 32 bits of the splitmix64 finalizer applied to
 * the id read as a little-endian 64-bit number. The check need not be keyed:
 * its input is already a salted PRF output nobody outside the session can
 * choose; it only has to be nonlinear, so that the XOR of several ids' checks
 * is not the check of their XOR (a false "pure" cell, about 2^-32 per test,
 * also has to map to its own cell and leave the whole sketch empty).
 * The in-memory form is the wire form. Subtracting the peer's sketch from
 * ours leaves a sketch of the symmetric difference, which peels when it is
 * small: a cell with count +-1 whose checksum matches its keysum holds one id
 * alone; removing it may free others. */
#include "recon_int.h"

#include <string.h>

static uint32_t check_of(const uint8_t sid[8])
{
    uint64_t z = 0;
    for (int i = 7; i >= 0; i--)
        z = (z << 8) | sid[i];
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (uint32_t)(z ^ (z >> 31));
}

static void positions(const uint8_t sid[8], size_t ncells, size_t pos[3])
{
    size_t p = ncells / 3;
    for (size_t j = 0; j < 3; j++)
        pos[j] = j * p + ((size_t)sid[2 * j] | (size_t)sid[2 * j + 1] << 8) % p;
}

/* XOR of byte strings is independent of byte order, so whole words may be
 * used for the keysum; the checksum is stored little-endian. */
static void cell_toggle(uint8_t *c, int sign, const uint8_t sid[8], uint32_t chk)
{
    uint64_t k, s;
    c[0] = (uint8_t)(c[0] + sign);
    memcpy(&k, c + 1, 8);
    memcpy(&s, sid, 8);
    k ^= s;
    memcpy(c + 1, &k, 8);
    c[9] ^= (uint8_t)chk;
    c[10] ^= (uint8_t)(chk >> 8);
    c[11] ^= (uint8_t)(chk >> 16);
    c[12] ^= (uint8_t)(chk >> 24);
}

void kz__recon_sketch_add(uint8_t *cells, size_t ncells, const uint8_t sid[KZ_RECON_SHORT_BYTES])
{
    size_t pos[3];
    uint32_t chk = check_of(sid);
    positions(sid, ncells, pos);
    for (size_t j = 0; j < 3; j++)
        cell_toggle(cells + pos[j] * KZ_RECON_CELL_BYTES, 1, sid, chk);
}

void kz__recon_sketch_sub(uint8_t *a, const uint8_t *b, size_t ncells)
{
    for (size_t k = 0; k < ncells; k++) {
        uint8_t *x = a + k * KZ_RECON_CELL_BYTES;
        const uint8_t *y = b + k * KZ_RECON_CELL_BYTES;
        x[0] = (uint8_t)(x[0] - y[0]);
        for (size_t i = 1; i < KZ_RECON_CELL_BYTES; i++)
            x[i] ^= y[i];
    }
}

static bool cell_zero(const uint8_t *c)
{
    for (size_t i = 0; i < KZ_RECON_CELL_BYTES; i++)
        if (c[i])
            return false;
    return true;
}

int kz__recon_sketch_decode(uint8_t *cells, size_t ncells, uint8_t (*keys)[KZ_RECON_SHORT_BYTES],
                            int8_t *signs, size_t max)
{
    size_t n = 0;
    bool progress = true;
    while (progress) {
        progress = false;
        for (size_t k = 0; k < ncells; k++) {
            uint8_t *c = cells + k * KZ_RECON_CELL_BYTES;
            if (c[0] != 1 && c[0] != 255)
                continue;
            const uint8_t *sid = c + 1;
            uint32_t chk = check_of(sid);
            uint32_t have = (uint32_t)c[9] | (uint32_t)c[10] << 8 | (uint32_t)c[11] << 16 |
                            (uint32_t)c[12] << 24;
            size_t pos[3];
            positions(sid, ncells, pos);
            /* Pure only if the id really maps to this cell and checks out. */
            if (chk != have || (pos[0] != k && pos[1] != k && pos[2] != k))
                continue;
            if (n == max)
                return -1;
            int sign = c[0] == 1 ? 1 : -1;
            memcpy(keys[n], sid, KZ_RECON_SHORT_BYTES);
            signs[n] = (int8_t)sign;
            for (size_t i = 0; i < n; i++)
                if (memcmp(keys[i], keys[n], KZ_RECON_SHORT_BYTES) == 0)
                    return -1; /* an id twice: not a set difference */
            n++;
            uint8_t key[KZ_RECON_SHORT_BYTES];
            memcpy(key, sid, sizeof key); /* sid points into a cell we are about to change */
            for (size_t j = 0; j < 3; j++)
                cell_toggle(cells + pos[j] * KZ_RECON_CELL_BYTES, -sign, key, chk);
            progress = true;
        }
    }
    for (size_t k = 0; k < ncells; k++)
        if (!cell_zero(cells + k * KZ_RECON_CELL_BYTES))
            return -1;
    return (int)n;
}
