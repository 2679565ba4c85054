/* kz_talk.h: pure helpers behind the event, contact, inbox and metrics
 * verbs (node/talk.c): event times in IANA zones and the deterministic
 * attendee list. Used by handlers_events.c and the unit tests. */
#ifndef KZ_TALK_H
#define KZ_TALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kz_record.h"

#define KZ_TZ_DEFAULT "Asia/Tokyo"
#define KZ_EVENT_LOUNGE "lounge" /* the room where any member may create events */

/* Is tz the name of a zone in the system's zoneinfo database (letters,
 * digits, '_', '-', '+', '/'; no "..", no leading '/'; the file exists)? */
bool kz_tz_valid(const char *tz);

/* Parse "YYYY-MM-DD HH:MM" (or "YYYY-MM-DDTHH:MM") as wall-clock time in
 * zone tz into milliseconds since the epoch. Times that do not exist in the
 * zone (a DST gap) and impossible dates are refused. Works by setting TZ
 * around mktime and restoring it afterwards: call it only from the node's
 * loop thread or a test (nothing else in kizuna reads TZ). KZ_EINVAL with a
 * reason in err. */
int kz_event_time_parse(const char *text, const char *tz, uint64_t *ms, char *err,
                        size_t errsz) KZ_WARN_UNUSED;

/* Format ms as "YYYY-MM-DD HH:MM" wall-clock time in tz (same TZ caveat).
 * out holds at least 32 bytes. */
void kz_event_time_format(char *out, size_t outsz, uint64_t ms, const char *tz);

/* Parse a date for --since: "YYYY-MM-DD" (midnight UTC) or an ISO time
 * "YYYY-MM-DDTHH:MM[:SS]Z". KZ_EINVAL. */
int kz_date_parse(const char *text, uint64_t *ms) KZ_WARN_UNUSED;

/* One current RSVP (the head of its (author, event) slot). */
typedef struct {
    uint8_t author[KZ_KEY_BYTES];
    uint8_t id[KZ_ID_BYTES];
    uint64_t created_ms;
    uint8_t status;      /* kz_rsvp_status */
    uint8_t place;       /* out: kz_attend_place */
} kz_attend;
typedef enum {
    KZ_ATTEND_CONFIRMED = 0, KZ_ATTEND_WAITLIST = 1, KZ_ATTEND_MAYBE = 2,
    KZ_ATTEND_NO = 3, KZ_ATTEND_LATE = 4  /* created at or after the start: ignored */
} kz_attend_place;

/* Decide who attends, the same way on every node: RSVPs created at or
 * after start_ms are LATE; of the "going" ones, ordered by (created_ms, id),
 * the first `capacity` (0 = unlimited) are CONFIRMED and the rest WAITLIST.
 * Sorts v in that order (going first) and sets each place. Counts go to
 * out[5] indexed by kz_attend_place (may be NULL). */
void kz_event_attendance(kz_attend *v, size_t n, uint32_t capacity, uint64_t start_ms,
                         uint64_t counts[5]);
const char *kz_attend_place_name(int place);
const char *kz_rsvp_status_name(int status);
int kz_rsvp_status_parse(const char *s); /* -1 when unknown */

#endif
