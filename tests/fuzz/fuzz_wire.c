/* kz-test-link: kz_protocol */
/* fuzz_wire.c: wire message decoder: never crashes, and whatever it accepts re-encodes to the same bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kz_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_wire: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kz_wire_msg m;
    int rc = kz_wire_decode(&m, data, size);
    if (rc != 0) {
        check(rc == KZ_EDECODE || rc == KZ_ENONCANON || rc == KZ_ETOOBIG || rc == KZ_EPROTO,
              "unexpected decode error code");
        check(m.type == 0, "message not zeroed on failure");
        check(kz_wire_last_error()[0] != 0, "no reason");
        return 0;
    }
    check(size <= KZ_FRAME_MAX, "accepted an oversize message");

    /* Canonical: the accepted bytes are the only encoding of the message. */
    kz_wire_buf again;
    rc = kz_wire_encode(&m, &again);
    check(rc == 0, "decoded message does not re-encode");
    check(again.len == size && memcmp(again.p, data, size) == 0, "re-encoding differs");
    kz_wire_buf_free(&again);

    /* Every pointer stays inside the input, every limit holds. */
    const uint8_t *end = data + size;
    switch (m.type) {
    case KZ_MSG_HELLO:
        check(m.u.hello.version_min >= 1 && m.u.hello.version_min <= m.u.hello.version_max,
              "versions");
        check(m.u.hello.node_record.n <= KZ_RECORD_MAX, "node record size");
        check(m.u.hello.node_record.p + m.u.hello.node_record.n <= end, "node record bounds");
        break;
    case KZ_MSG_HAVE:
    case KZ_MSG_WANT:
        check(m.u.list.n >= 1 && m.u.list.n <= KZ_WIRE_IDS_MAX, "id count");
        for (uint32_t i = 0; i < m.u.list.n; i++) {
            const uint8_t *id = kz_wire_id_at(&m, i);
            check(id && id >= data && id + KZ_ID_BYTES <= end, "id bounds");
            check(id[-2] == 0xc4 && id[-1] == KZ_ID_BYTES, "id stride");
        }
        check(kz_wire_id_at(&m, m.u.list.n) == NULL, "id past the end");
        break;
    case KZ_MSG_RECORDS: {
        kz_wire_iter it;
        kz_bytes r;
        uint32_t n = 0;
        kz_wire_records_begin(&m, &it);
        while (kz_wire_records_next(&it, &r)) {
            check(r.n >= 1 && r.n <= KZ_RECORD_MAX, "record size");
            check(r.p >= data && r.p + r.n <= end, "record bounds");
            n++;
        }
        check(n == m.u.list.n && n <= KZ_WIRE_RECORDS_MAX, "record count");
        break;
    }
    case KZ_MSG_RECON:
        check(m.u.recon.payload.n <= KZ_WIRE_RECON_MAX, "recon size");
        check(m.u.recon.payload.p + m.u.recon.payload.n <= end, "recon bounds");
        break;
    case KZ_MSG_ERROR:
        check(m.u.error.reason.n <= KZ_WIRE_REASON_MAX, "reason size");
        check(kz_utf8_valid(m.u.error.reason.p, m.u.error.reason.n, 0), "reason text");
        break;
    default:
        break;
    }
    return 0;
}
