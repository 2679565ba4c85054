/* talk.c: event times in IANA zones (TZ set around mktime/localtime_r) and
 * the deterministic attendee list every node computes the same way. */
#include "kz_talk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define KZ_ZONEINFO "/usr/share/zoneinfo/"

bool kz_tz_valid(const char *tz)
{
    char path[sizeof KZ_ZONEINFO + KZ_SHORT_MAX];
    struct stat st;
    size_t n = tz ? strlen(tz) : 0;
    if (n == 0 || n > KZ_SHORT_MAX || tz[0] == '/' || strstr(tz, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = tz[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '+' || c == '/'))
            return false;
    }
    snprintf(path, sizeof path, "%s%s", KZ_ZONEINFO, tz);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Run with TZ=tz; the previous value (or its absence) is restored. */
typedef struct {
    char *saved;
    bool had;
} kz_tz_guard;

static void kz_tz_enter(kz_tz_guard *g, const char *tz)
{
    const char *old = getenv("TZ");
    g->had = old != NULL;
    g->saved = old ? kz_xstrdup(old) : NULL;
    setenv("TZ", tz, 1);
    tzset();
}

static void kz_tz_leave(kz_tz_guard *g)
{
    if (g->had)
        setenv("TZ", g->saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(g->saved);
    g->saved = NULL;
}

/* Exactly `n` decimal digits at p. */
static bool kz_digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

static int kz_days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

/* "YYYY-MM-DD" at p; checks the calendar. */
static bool kz_ymd(const char *p, int *y, int *mo, int *d)
{
    if (!kz_digits(p, 4, y) || p[4] != '-' || !kz_digits(p + 5, 2, mo) || p[7] != '-' ||
        !kz_digits(p + 8, 2, d))
        return false;
    return *y >= 2020 && *y <= KZ_YEAR_MAX && *mo >= 1 && *mo <= 12 && *d >= 1 &&
           *d <= kz_days_in_month(*y, *mo);
}

int kz_event_time_parse(const char *text, const char *tz, uint64_t *ms, char *err, size_t errsz)
{
    int y, mo, d, h, mi;
    if (!tz || !kz_tz_valid(tz)) {
        snprintf(err, errsz, "unknown time zone '%.64s' (use an IANA name such as Asia/Tokyo)",
                 tz ? tz : "");
        return KZ_EINVAL;
    }
    if (!text || strlen(text) != 16 || !kz_ymd(text, &y, &mo, &d) ||
        (text[10] != ' ' && text[10] != 'T') || !kz_digits(text + 11, 2, &h) ||
        text[13] != ':' || !kz_digits(text + 14, 2, &mi) || h > 23 || mi > 59) {
        snprintf(err, errsz, "time '%.40s' is not a valid \"YYYY-MM-DD HH:MM\"", text ? text : "");
        return KZ_EINVAL;
    }
    struct tm tm = {0}, back;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_isdst = -1;
    kz_tz_guard g;
    kz_tz_enter(&g, tz);
    time_t t = mktime(&tm);
    bool ok = t != (time_t)-1 && localtime_r(&t, &back) != NULL && back.tm_year == y - 1900 &&
              back.tm_mon == mo - 1 && back.tm_mday == d && back.tm_hour == h && back.tm_min == mi;
    kz_tz_leave(&g);
    if (!ok || t < 0) {
        snprintf(err, errsz, "time '%s' does not exist in %s (a daylight-saving gap?)", text, tz);
        return KZ_EINVAL;
    }
    *ms = (uint64_t)t * 1000u;
    return 0;
}

void kz_event_time_format(char *out, size_t outsz, uint64_t ms, const char *tz)
{
    struct tm tm;
    time_t t = (time_t)(ms / 1000u);
    kz_tz_guard g;
    kz_tz_enter(&g, tz && kz_tz_valid(tz) ? tz : KZ_TZ_DEFAULT);
    if (!localtime_r(&t, &tm) || strftime(out, outsz, "%Y-%m-%d %H:%M", &tm) == 0)
        snprintf(out, outsz, "?");
    kz_tz_leave(&g);
}

static uint64_t kz_days_from_civil(int y, int m, int d)
{
    /* Days since 1970-01-01 for a proleptic Gregorian date (y >= 1970). */
    uint64_t days = 0;
    for (int yy = 1970; yy < y; yy++)
        days += ((yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0) ? 366 : 365;
    for (int mm = 1; mm < m; mm++)
        days += (uint64_t)kz_days_in_month(y, mm);
    return days + (uint64_t)(d - 1);
}

int kz_date_parse(const char *text, uint64_t *ms)
{
    int y, mo, d, h = 0, mi = 0, s = 0;
    size_t n = text ? strlen(text) : 0;
    if (n < 10 || !kz_ymd(text, &y, &mo, &d))
        return KZ_EINVAL;
    if (n == 17 || n == 20) {
        if (text[10] != 'T' || !kz_digits(text + 11, 2, &h) || text[13] != ':' ||
            !kz_digits(text + 14, 2, &mi) || h > 23 || mi > 59)
            return KZ_EINVAL;
        if (n == 20 && (text[16] != ':' || !kz_digits(text + 17, 2, &s) || s > 59))
            return KZ_EINVAL;
        if (text[n - 1] != 'Z')
            return KZ_EINVAL;
    } else if (n != 10) {
        return KZ_EINVAL;
    }
    *ms = ((kz_days_from_civil(y, mo, d) * 24u + (uint64_t)h) * 3600u + (uint64_t)mi * 60u +
           (uint64_t)s) * 1000u;
    return 0;
}

/* going before the rest; then (created_ms, id) ascending. */
static int kz_attend_cmp(const void *pa, const void *pb)
{
    const kz_attend *a = pa, *b = pb;
    int ga = a->place == KZ_ATTEND_CONFIRMED, gb = b->place == KZ_ATTEND_CONFIRMED;
    if (ga != gb)
        return gb - ga;
    if (a->place != b->place)
        return (int)a->place - (int)b->place;
    if (a->created_ms != b->created_ms)
        return a->created_ms < b->created_ms ? -1 : 1;
    return memcmp(a->id, b->id, KZ_ID_BYTES);
}

void kz_event_attendance(kz_attend *v, size_t n, uint32_t capacity, uint64_t start_ms,
                         uint64_t counts[5])
{
    /* Provisional places so that the sort puts every going RSVP first. */
    for (size_t i = 0; i < n; i++) {
        if (v[i].created_ms >= start_ms)
            v[i].place = KZ_ATTEND_LATE;
        else if (v[i].status == KZ_RSVP_GOING)
            v[i].place = KZ_ATTEND_CONFIRMED;
        else if (v[i].status == KZ_RSVP_MAYBE)
            v[i].place = KZ_ATTEND_MAYBE;
        else
            v[i].place = KZ_ATTEND_NO;
    }
    if (n > 1)
        qsort(v, n, sizeof *v, kz_attend_cmp);
    uint64_t going = 0;
    if (counts)
        memset(counts, 0, 5 * sizeof *counts);
    for (size_t i = 0; i < n; i++) {
        if (v[i].place == KZ_ATTEND_CONFIRMED) {
            if (capacity != 0 && going >= capacity)
                v[i].place = KZ_ATTEND_WAITLIST;
            going++;
        }
        if (counts)
            counts[v[i].place]++;
    }
}

const char *kz_attend_place_name(int place)
{
    static const char *const names[] = {"confirmed", "waitlisted", "maybe", "no", "late"};
    return place >= 0 && place < 5 ? names[place] : "unknown";
}

const char *kz_rsvp_status_name(int status)
{
    static const char *const names[] = {"going", "maybe", "no"};
    return status >= 0 && status < 3 ? names[status] : "unknown";
}

int kz_rsvp_status_parse(const char *s)
{
    for (int i = 0; i < 3; i++) {
        if (s && strcmp(s, kz_rsvp_status_name(i)) == 0)
            return i;
    }
    return -1;
}
