/* room.c: the three forms of talk-room names (lounge, company, topic). */
#include "kz_record.h"

#include <string.h>

bool kz_room_topic_valid(const char *name, size_t len)
{
    if (!name || len == 0 || len > KZ_ROOM_TOPIC_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return !(len == sizeof KZ_ROOM_LOUNGE - 1 && memcmp(name, KZ_ROOM_LOUNGE, len) == 0);
}

bool kz_room_company_node(const char *name, size_t len, uint8_t node[KZ_KEY_BYTES])
{
    const size_t plen = sizeof KZ_ROOM_COMPANY_PREFIX - 1;
    if (!name || len != plen + 2 * KZ_KEY_BYTES ||
        memcmp(name, KZ_ROOM_COMPANY_PREFIX, plen) != 0)
        return false;
    /* Lower-case hex only, so one company has exactly one room name. */
    for (size_t i = plen; i < len; i++) {
        char c = name[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    char hex[2 * KZ_KEY_BYTES + 1];
    memcpy(hex, name + plen, 2 * KZ_KEY_BYTES);
    hex[2 * KZ_KEY_BYTES] = '\0';
    return kz_hex_decode(node, KZ_KEY_BYTES, hex) == 0;
}

bool kz_room_name_valid(const char *name, size_t len)
{
    uint8_t node[KZ_KEY_BYTES];
    if (name && len == sizeof KZ_ROOM_LOUNGE - 1 && memcmp(name, KZ_ROOM_LOUNGE, len) == 0)
        return true;
    return kz_room_company_node(name, len, node) || kz_room_topic_valid(name, len);
}
