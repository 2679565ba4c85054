/* kz_visibility.h: who may see what of a profile. The one rule behind
 * `profile show --as`, search and any other view of the directory; pure code
 * (the caller works out the viewer's relation to the member from the store).
 *
 * Rules (docs/members.md "Who sees a profile"):
 *  - the member themself, under any of their keys, sees everything;
 *  - nobody else sees the profile of a member without a live attestation,
 *    and a viewer without a live attestation sees no one (strangers);
 *  - `hidden` (visibility 2) hides the profile from everyone else, the home
 *    company's secretariat included: "hidden from search" means hidden;
 *  - `company` (1) shows it only to viewers with the same home node;
 *  - `federation` (0) shows it to every live member of the federation;
 *  - the private re-hire flag is shown only to the member and to the home
 *    node's secretariat view (the view of its operator: members, whatever
 *    their role, never see it), and only when the profile itself is shown. */
#ifndef KZ_VISIBILITY_H
#define KZ_VISIBILITY_H

#include <stdbool.h>

typedef enum {
    KZ_VIEWER_SELF = 0,          /* the member, under any key of their rotation chain */
    KZ_VIEWER_HOME_SECRETARIAT,  /* the member's home node's own (operator's) view */
    KZ_VIEWER_SAME_HOME,         /* another live member with the same home node */
    KZ_VIEWER_OTHER,             /* a live member (or node operator) of another company */
    KZ_VIEWER_STRANGER           /* a viewer with no live attestation */
} kz_viewer_rel;

typedef enum {
    KZ_PROFILE_VISIBLE = 0,      /* every public field */
    KZ_PROFILE_COMPANY_ONLY = 1, /* withheld: home company only, viewer from elsewhere */
    KZ_PROFILE_HIDDEN = 2        /* withheld: hidden, not live, or a stranger asking */
} kz_profile_access;

typedef struct {
    kz_profile_access access;
    bool rehire;                 /* may see the private re-hire flag */
} kz_profile_view;

/* Apply the rules above. visibility is the profile's kz_visibility (an
 * unknown value counts as hidden); member_live says whether the member has
 * a live attestation from a non-blocked node. Never fails. */
kz_profile_view kz_profile_view_decide(int visibility, bool member_live, kz_viewer_rel rel);

/* "visible", "company-only", "hidden". */
const char *kz_profile_access_name(kz_profile_access a);

#endif
