/* search_internal.h: what the directory search files share (search_index.c
 * keeps the index, search_docs.c reads it, search_terms.c and
 * search_query.c answer queries, search_hits.c turns documents into hits).
 * Not public; the layout is described in
 * docs/search.md ("The index in LMDB").
 *
 * Two named databases:
 *   search_postings (DUPSORT, DUPFIXED): key -> doc(8) || cf(1), one value
 *     per (key, document), sorted by doc. Keys are the text module's posting
 *     keys ('u' unigram, 'b' bigram, 'p' word prefix) and facet keys:
 *       'H' || node(32)     members whose indexed home is node
 *       'Y' || year(2)      members who left in year
 *       'O' || bit(1)       members open to KZ_OPEN_<bit>
 *   search_docs: key spaces told apart by the first byte:
 *       'd' || doc(8)                     -> document (kz__sdoc encoding)
 *       'm' || member(32)                 -> doc(8)
 *       'n' || node(32)                   -> the node's name as indexed
 *       'k' || len(1) || key || node(32)  -> cf(1): posting key of a node name
 *       "#docs"                           -> count(8)
 *
 * Document numbers put the newest profile first: the high 42 bits are
 * (2^42 - 1 - updated_ms), the low 22 bits tell apart profiles updated in
 * the same millisecond. Walking a posting list forwards therefore visits
 * profiles from the most recently updated, which is the tie-break order of
 * the ranking and lets a query stop early. */
#ifndef KZ_SEARCH_INTERNAL_H
#define KZ_SEARCH_INTERNAL_H

#include "store_internal.h"
#include "kz_text.h"

#define KZ__SP_VAL 9                 /* doc(8) || cf(1) */
#define KZ__SKEY_MAX (1 + KZ_TEXT_KEY_MAX + KZ_KEY_BYTES) /* longest search_docs key */
#define KZ__SDOC_VERSION 2
#define KZ__SDOC_FIXED (1 + 4 * 32 + 1 + 1 + 2 + 2 + 8) /* bytes before the strings */
#define KZ__SDOC_COUNT_KEY "#docs"
/* Display fields kept in a document, as signed (not normalised). */
enum { KZ__SHOW_NAME, KZ__SHOW_READING, KZ__SHOW_ROMAJI, KZ__SHOW_COMPANY, KZ__SHOW_TITLE,
       KZ__SHOW_LOCATION, KZ__SDOC_SHOW };
#define KZ__DOC_TIME_BITS 42
#define KZ__DOC_SEQ_BITS 22
#define KZ__DOC_END UINT64_MAX       /* "no more documents" in a walk */
/* Document 0 is never allocated: in a text key's list it is the summary,
 * whose cf byte bounds class * 2 + whole over every posting of the key, so
 * a query knows the best score it can still find and stops early. */
#define KZ__DOC_SUMMARY 0

/* Facet key kinds (first byte), beside KZ_TEXT_KEY_*. */
#define KZ__SK_HOME 'H'
#define KZ__SK_LEFT 'Y'
#define KZ__SK_OPEN 'O'

/* The cf byte of a posting: field class (bits 0-1), KZ_TEXT_F_WHOLE
 * (bit 2), and the profile's visibility (bits 3-4) so that a query can drop
 * company-only profiles for an outside viewer without reading the document.
 * Facet postings carry class 0. */
#define KZ__CF_CLASS(cf) ((unsigned)(cf)&3u)
#define KZ__CF_WHOLE 0x4u
#define KZ__CF_VIS(cf) (((unsigned)(cf) >> 3) & 3u)
static inline uint8_t kz__cf_make(int cls, unsigned flags, unsigned vis)
{
    return (uint8_t)(((unsigned)cls & 3u) | ((flags & KZ_TEXT_F_WHOLE) ? KZ__CF_WHOLE : 0u) |
                     ((vis & 3u) << 3));
}

/* A decoded document. Strings are normalised (kz_text_normalize) and point
 * into the LMDB value: valid until the transaction ends or writes again. */
typedef struct {
    uint64_t doc;
    uint8_t member[KZ_KEY_BYTES];
    uint8_t home[KZ_KEY_BYTES];        /* indexed home node */
    uint8_t profile_id[KZ_ID_BYTES];   /* the profile record indexed */
    uint8_t attest_id[KZ_ID_BYTES];    /* the attestation that made home */
    uint8_t vis;                       /* kz_visibility (never hidden) */
    uint8_t open_to;                   /* KZ_OPEN_* */
    uint16_t joined, left;             /* tenure: attest years, else profile years */
    uint64_t updated_ms;               /* the profile's created_ms */
    kz_str company;                    /* current company */
    kz_str dept;                       /* department: attest's, else profile's */
    kz_str location;
    uint32_t n_skills;
    kz_str skills[KZ_SKILLS_MAX];
    kz_str show[KZ__SDOC_SHOW];        /* name, reading, romaji, current company,
                                          current title, location, as signed */
} kz__sdoc;

/* Read document doc. KZ_ENOTFOUND, KZ_ESTORE for a malformed value. */
int kz__sdoc_get(kz_store *s, MDB_txn *txn, uint64_t doc, kz__sdoc *d);
/* The document of member. KZ_ENOTFOUND when the member is not indexed. */
int kz__sdoc_of_member(kz_store *s, MDB_txn *txn, const uint8_t member[KZ_KEY_BYTES],
                       kz__sdoc *d);

/* The live head of a replaceable slot (a deleted head's mark counts as
 * empty): 0 and id, or KZ_ENOTFOUND. */
int kz__search_head(kz_store *s, MDB_txn *txn, const uint8_t slot[KZ_SLOT_BYTES],
                    uint8_t id[KZ_ID_BYTES]);
/* Decode stored record id (no signature check: it was verified on entry).
 * The caller closes r. KZ_ENOTFOUND, KZ_ESTORE. */
int kz__search_load(kz_store *s, MDB_txn *txn, const uint8_t id[KZ_ID_BYTES], kz_record *r);
/* The current profile of member (head of its 'P' slot). KZ_ENOTFOUND. */
int kz__search_profile(kz_store *s, MDB_txn *txn, const uint8_t member[KZ_KEY_BYTES],
                       kz_record *r);

/* The home the index gives a member: the newest live attestation from a
 * node that is not blocked, else the newest live one from a blocked node
 * (so that blocking and unblocking never change the index: blocks are
 * applied when answering). found is false when no slot is live. */
typedef struct {
    bool found;
    uint8_t node[KZ_KEY_BYTES];
    uint8_t attest_id[KZ_ID_BYTES];
} kz__shome;
int kz__search_home(kz_store *s, MDB_txn *txn, const uint8_t member[KZ_KEY_BYTES],
                    kz__shome *h);

/* Normalise for equality tests (kz_text_normalize into out, cut at outsz - 1
 * bytes on a character boundary). Empty on any failure. Returns the length. */
size_t kz__search_norm(const char *in, size_t n, char *out, size_t outsz);

/* The name of node as indexed (search_docs 'n'): copies at most outsz - 1
 * bytes into out, NUL-terminated. KZ_ENOTFOUND when none is known. */
int kz__search_node_name(kz_store *s, MDB_txn *txn, const uint8_t node[KZ_KEY_BYTES],
                         char *out, size_t outsz);

/* Home company names already read by one query. */
typedef struct {
    uint8_t node[KZ_KEY_BYTES];
    char name[KZ_NAME_MAX + 1];
} kz__sname;
typedef struct {
    kz__sname e[16];
    size_t n, next;
} kz__sname_cache;

/* Is the member's private re-hire flag set in this node's member table? */
bool kz__search_rehire(kz_store *s, MDB_txn *txn, const uint8_t member[KZ_KEY_BYTES]);

/* Fill h from document d (search_hits.c): the profile's display fields,
 * the home company name (through names), which fields tq's words matched
 * (how: per word its class in bits 2w..2w+1, bit 16 + w when the home
 * company's name holds it; plus filter_fields), and the re-hire flag for
 * q's secretariat view of the member's home. 0 or a store failure. */
int kz__search_hit_fill(kz_store *s, MDB_txn *txn, const kz__sdoc *d, const kz_text_query *tq,
                        uint32_t how, uint32_t filter_fields, const kz_search_query *q,
                        kz__sname_cache *names, kz_search_hit *h);

/* ---- Query internals (search_query.c walks, search_terms.c builds) ------- */

/* Work limits: no query, whatever its shape, does more than this. */
#define STEPS_MAX 1600000u    /* posting-list work: 1 per value moved over, 16 per LMDB call */
#define VERIFY_MAX 8000u      /* documents read to check candidates */
#define NODE_SCAN_MAX 10000u  /* node names compared for a company filter */
#define TERMS_MAX 96
#define SRCS_MAX 640
#define WORD_SCORE_MAX 7      /* class 3 doubled, plus the whole-word bonus */
#define SCORE_MAX (KZ_TEXT_QUERY_WORDS_MAX * WORD_SCORE_MAX)
#define NORM_MAX 512
#define CURSOR_BYTES 14       /* version, score, doc(8), query hash(4) */
#define CURSOR_VERSION 1

/* One posting list. */
typedef struct {
    MDB_cursor *c;
    uint8_t key[KZ__SKEY_MAX];
    size_t klen;
    uint64_t cur;             /* current document, KZ__DOC_END when done */
    uint8_t cf;               /* cf byte at cur */
    const uint8_t *blk;       /* the LMDB page of values cur is on (in the map) */
    size_t blk_n, blk_i;      /* values on it, index of cur */
    int name_cf;              /* >= 0: a node-name branch with this class/whole */
    unsigned bound;           /* best class * 2 + whole among the list's postings */
} sq_src;

/* A union of posting lists that must contain the document (a query key
 * with its node-name branches, a year range, a set of company nodes). */
typedef struct {
    size_t first, n;          /* srcs[first .. first + n) */
    uint64_t cur;
    uint64_t est;             /* total length, to pick the driver */
    int word;                 /* query word index, -1 for a filter */
} sq_term;

typedef struct {
    uint64_t *docs;
    uint32_t *how;            /* per document: how each word matched (score_at) */
    size_t n;
} sq_bucket;

typedef struct {
    kz_store *s;
    MDB_txn *txn;
    const kz_search_query *q;
    kz_text_query tq;                  /* the query words */
    kz_text_query fq[3];               /* current_company, location, skill filters */
    bool has_fq[3];
    sq_src srcs[SRCS_MAX];
    size_t nsrc;
    sq_term terms[TERMS_MAX];
    size_t nterm;
    bool empty;                        /* some filter matches nothing: no hits */
    unsigned limit, need;
    uint64_t steps;
    uint32_t verifies, examined;
    bool truncated;
    uint64_t resume;                   /* first document the walk has not handled */
    bool blocks;                       /* any node blocked (else no block checks) */
    bool post;                         /* candidates need their document read */
    /* First-class queries. */
    bool has_same, has_former;
    char same_company[NORM_MAX + 1];
    size_t same_len;
    uint8_t exclude[KZ_KEY_BYTES];
    uint8_t fc_home[KZ_KEY_BYTES];
    char fc_dept[NORM_MAX + 1];
    size_t fc_dept_len;
    uint16_t fc_joined, fc_left;
    uint32_t filter_fields;            /* KZ_SEARCH_F_* selected by filters */
    /* Paging. */
    bool has_cursor;
    unsigned cur_score;
    uint64_t cur_doc;
    uint32_t qhash;
    unsigned eff_max;
    sq_bucket buckets[SCORE_MAX + 1];
    kz__sname_cache names;
    const char *reason;
} sq_ctx;


/* search_query.c */
/* Read the page the list's cursor is on and stand on its first value. */
int kz__sq_src_open(sq_src *x);
/* The list's next document (KZ__DOC_END at the end). */
int kz__sq_src_next(sq_ctx *c, sq_src *x);
void kz__sq_term_min(sq_ctx *c, sq_term *t);
uint32_t kz__sq_query_hash(const sq_ctx *c);
int kz__sq_cursor_decode(sq_ctx *c, const char *s);
/* search_terms.c: check the query and turn it into terms (0, or a KZ_E*
 * code with c->reason set); does a candidate's document pass the
 * visibility, block and field checks (1 yes, 0 no, or a KZ_E* code)? */
int kz__sq_build(sq_ctx *c);
int kz__sq_doc_passes(sq_ctx *c, const kz__sdoc *d);

#endif
