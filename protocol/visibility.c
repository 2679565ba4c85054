/* visibility.c: the profile visibility rule (kz_visibility.h). */
#include "kz_visibility.h"

#include "kz_record.h"

kz_profile_view kz_profile_view_decide(int visibility, bool member_live, kz_viewer_rel rel)
{
    kz_profile_view v = {KZ_PROFILE_HIDDEN, false};
    if (rel == KZ_VIEWER_SELF) {
        v.access = KZ_PROFILE_VISIBLE;
        v.rehire = true;
        return v;
    }
    if (!member_live || rel == KZ_VIEWER_STRANGER)
        return v;
    switch (visibility) {
    case KZ_VIS_FEDERATION:
        v.access = KZ_PROFILE_VISIBLE;
        break;
    case KZ_VIS_COMPANY:
        v.access = rel == KZ_VIEWER_OTHER ? KZ_PROFILE_COMPANY_ONLY : KZ_PROFILE_VISIBLE;
        break;
    default: /* hidden, or a value no record can carry */
        return v;
    }
    v.rehire = v.access == KZ_PROFILE_VISIBLE && rel == KZ_VIEWER_HOME_SECRETARIAT;
    return v;
}

const char *kz_profile_access_name(kz_profile_access a)
{
    switch (a) {
    case KZ_PROFILE_VISIBLE: return "visible";
    case KZ_PROFILE_COMPANY_ONLY: return "company-only";
    case KZ_PROFILE_HIDDEN: return "hidden";
    }
    return "hidden";
}
