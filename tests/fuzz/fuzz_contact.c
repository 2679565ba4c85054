/* kz-test-link: kz_protocol */
/* fuzz_contact.c: the sealed contact plaintext decoder: never crashes, zeroes
 * its output on failure, and whatever it accepts re-encodes to the same bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kz_contact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_contact: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static kz_contact_msg m;
    static uint8_t again[KZ_SEALED_MAX];
    size_t len;
    int rc = kz_contact_msg_decode(data, size, &m);
    if (rc != 0) {
        check(rc == KZ_EDECODE, "unexpected error code");
        check(m.message[0] == 0 && m.reveal[0] == 0 && !m.has_ref && m.kind == 0,
              "message not zeroed on failure");
        return 0;
    }
    check(m.message[0] != 0, "accepted an empty message");
    check(strlen(m.message) <= KZ_CONTACT_MSG_MAX && strlen(m.reveal) <= KZ_CONTACT_REVEAL_MAX,
          "accepted an oversize field");
    check(m.has_ref == (m.kind == KZ_CONTACT_ACCEPT), "ref does not match the kind");
    rc = kz_contact_msg_encode(&m, again, sizeof again, &len);
    check(rc == 0, "decoded message does not re-encode");
    check(len == size && memcmp(again, data, size) == 0, "re-encoding differs");
    return 0;
}
