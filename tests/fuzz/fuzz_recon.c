/* kz-test-link: kz_protocol */
/* fuzz_recon.c: arbitrary bytes as the peer's reconciliation messages, against a small fixed set.
 *
 * Input: one scenario byte, then peer messages, each as a 2-byte big-endian
 * length and that many bytes (a short last one is cut to what is left).
 *   scenario % 3 == 0: we are the responder; the first message is the opening.
 *   scenario % 3 == 1: we are the initiator and have sent our opening.
 *   scenario % 3 == 2: we are the responder and have answered a genuine
 *                      opening from the peer set; messages follow it.
 * Checked: no crash or sanitizer report, only decode/protocol/size errors,
 * replies never above the frame limit, a dead reconciler stays dead. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kz_recon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_LIMIT KZ_RECON_FRAME_MIN
static const uint8_t fuzz_salt[KZ_RECON_SALT_BYTES] = "kizuna-fuzz-salt";

/* Item i: timestamps in threes (equal created_ms, different ids), id from
 * BLAKE2b of i. which 0: the local set, i < 300. which 1: the peer set,
 * i < 330 without every seventh. */
static kz_recon_vec *fuzz_set(int which)
{
    static kz_recon_vec *sets[2];
    if (sets[which])
        return sets[which];
    if (sodium_init() < 0)
        abort();
    kz_recon_vec *v = kz_recon_vec_create();
    for (uint32_t i = 0; i < 330; i++) {
        if ((which == 0 && i >= 300) || (which == 1 && i % 7 == 3))
            continue;
        uint8_t in[4] = {(uint8_t)i, (uint8_t)(i >> 8), 0, 0}, id[KZ_RECON_ID_BYTES];
        crypto_generichash(id, sizeof id, in, sizeof in, NULL, 0);
        if (kz_recon_vec_add(v, 1700000000000ull + i / 3, id) != 0)
            abort();
    }
    kz_recon_vec_seal(v);
    sets[which] = v;
    return v;
}

static int fuzz_cb(void *ud, kz_recon_dir dir, const uint8_t id[KZ_RECON_ID_BYTES])
{
    (void)dir;
    (void)id;
    (*(size_t *)ud)++;
    return 0;
}

/* The peer's genuine opening, for scenario 2. */
static const kz_recon_buf *peer_opening(void)
{
    static kz_recon_buf open;
    static bool made;
    if (made)
        return &open;
    kz_recon_storage st;
    kz_recon *r;
    size_t n = 0;
    kz_recon_vec_storage(fuzz_set(1), &st);
    kz_recon_buf_init(&open, KZ_RECON_MSG_MAX);
    if (kz_recon_create(&r, &st, KZ_RECON_INITIATOR, FUZZ_LIMIT, fuzz_cb, &n) != 0 ||
        kz_recon_set_salt(r, fuzz_salt) != 0 || kz_recon_initiate(r, &open) != 0)
        abort();
    kz_recon_free(r);
    made = true;
    return &open;
}

static bool acceptable(int rc)
{
    return rc == 0 || rc == KZ_EDECODE || rc == KZ_EPROTO || rc == KZ_ETOOBIG;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int scenario = data[0] % 3;
    data++;
    size--;

    kz_recon_storage st;
    kz_recon *r;
    kz_recon_buf out;
    size_t reported = 0;
    bool done = false;
    int rc;
    kz_recon_vec_storage(fuzz_set(0), &st);
    kz_recon_buf_init(&out, KZ_RECON_MSG_MAX);
    kz_recon_role role = scenario == 1 ? KZ_RECON_INITIATOR : KZ_RECON_RESPONDER;
    if (kz_recon_create(&r, &st, role, FUZZ_LIMIT, fuzz_cb, &reported) != 0)
        abort();
    if (scenario == 1 &&
        (kz_recon_set_salt(r, fuzz_salt) != 0 || kz_recon_initiate(r, &out) != 0))
        abort();
    if (scenario == 2) {
        const kz_recon_buf *open = peer_opening();
        if (kz_recon_step(r, open->data, open->len, &out, &done) != 0)
            abort();
    }

    while (size >= 2 && !done) {
        size_t len = (size_t)data[0] << 8 | data[1];
        data += 2;
        size -= 2;
        if (len > size)
            len = size;
        /* An exact-size copy, so that reads past the message are caught. */
        uint8_t *msg = malloc(len ? len : 1);
        if (!msg)
            abort();
        memcpy(msg, data, len);
        rc = kz_recon_step(r, msg, len, &out, &done);
        free(msg);
        data += len;
        size -= len;
        if (!acceptable(rc) || out.len > FUZZ_LIMIT)
            abort();
        if (rc != 0) {
            if (out.len != 0 || kz_recon_step(r, data, 0, &out, &done) != rc)
                abort();
            break;
        }
    }
    kz_recon_free(r);
    kz_recon_buf_close(&out);
    return 0;
}
