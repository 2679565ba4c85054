/* log.c: one line per event on stderr, with a UTC timestamp and a level. */
#include "kz_node.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static kz_log_level kz_log_current = KZ_LOG_INFO;

static const char *const kz_log_names[] = {"debug", "info", "warn", "error"};
static const char *const kz_log_tags[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};

void kz_log_level_set(kz_log_level level)
{
    if (level >= KZ_LOG_DEBUG && level <= KZ_LOG_ERROR)
        kz_log_current = level;
}

kz_log_level kz_log_level_get(void)
{
    return kz_log_current;
}

int kz_log_level_parse(const char *s, kz_log_level *out)
{
    for (size_t i = 0; i < KZ_ARRAY_LEN(kz_log_names); i++) {
        if (s && strcmp(s, kz_log_names[i]) == 0) {
            *out = (kz_log_level)i;
            return 0;
        }
    }
    return KZ_EINVAL;
}

const char *kz_log_level_name(kz_log_level level)
{
    if (level < KZ_LOG_DEBUG || level > KZ_LOG_ERROR)
        return "info";
    return kz_log_names[level];
}

void kz_time_format(char out[KZ_TIME_STR_MAX], uint64_t ms)
{
    time_t secs = (time_t)(ms / 1000u);
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) {
        snprintf(out, KZ_TIME_STR_MAX, "(bad time %llu)", (unsigned long long)ms);
        return;
    }
    snprintf(out, KZ_TIME_STR_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (unsigned)(ms % 1000u));
}

void kz_log(kz_log_level level, const char *component, const char *fmt, ...)
{
    if (level < kz_log_current || level > KZ_LOG_ERROR)
        return;
    char line[2048];
    char ts[KZ_TIME_STR_MAX];
    kz_time_format(ts, kz_now_ms());
    int off = snprintf(line, sizeof line, "%s %s %s: ", ts, kz_log_tags[level], component);
    if (off < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + off, sizeof line - (size_t)off, fmt, ap);
    va_end(ap);
    size_t len = (size_t)off + (n < 0 ? 0 : (size_t)n);
    if (len > sizeof line - 2)
        len = sizeof line - 2; /* truncated: keep one line */
    /* A message must stay one line: control characters become spaces. */
    for (size_t i = (size_t)off; i < len; i++) {
        if ((unsigned char)line[i] < 0x20)
            line[i] = ' ';
    }
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
