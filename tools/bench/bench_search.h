/* bench_search.h: the profile and query generator shared by the two files
 * of bench_search (bench_search_data.c makes the data, bench_search.c
 * loads it into kizuna's store and SQLite FTS5 and times the queries). */
#ifndef KZ_BENCH_SEARCH_H
#define KZ_BENCH_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KZB_HOMES 24 /* group companies, one node each */

typedef struct {
    size_t home;                     /* index into kzb_homes */
    char name[96], reading[128], romaji[96];
    const char *dept, *title, *current_company, *current_title, *location;
    const char *skills[4];
    unsigned n_skills;
    char bio[400];
    uint16_t joined, left;           /* left 0: still there */
    uint32_t open_to;
    uint8_t visibility;              /* 0 federation, 1 company, 2 hidden */
} kzb_profile;

enum {
    KZB_Q_KANJI2 = 0,   /* a two-kanji surname: 鈴木 */
    KZB_Q_KANA,         /* a surname's reading: すずき */
    KZB_Q_ROMAJI,       /* the first four letters of a romanised surname: suzu */
    KZB_Q_COMPANY,      /* members of one home company, no words */
    KZB_Q_TWO_FILTER,   /* "tanaka eng" at one home company */
    KZB_Q_SHAPES
};

typedef struct {
    char text[64];
    int home;           /* home company filter, -1 = none */
} kzb_query;

extern const char *const kzb_homes[KZB_HOMES];
extern const char *const kzb_shape_names[KZB_Q_SHAPES];

/* splitmix64 step. */
uint64_t kzb_rand(uint64_t *state);
/* A fictional profile; strings point into p or into static tables. */
void kzb_profile_make(uint64_t *state, kzb_profile *p);
/* A query of one shape, drawn like the population (common names more often). */
void kzb_query_make(uint64_t *state, int shape, kzb_query *q);

#endif
