/* kz-test-link: kz_protocol */
/* test_visibility.c: the profile visibility rule (kz_visibility.h), every
 * visibility against every viewer relation, live and not. */
#include "kz_test.h"

#include "kz_record.h"
#include "kz_visibility.h"

static void expect_view(int vis, bool live, kz_viewer_rel rel, kz_profile_access access,
                        bool rehire)
{
    kz_profile_view v = kz_profile_view_decide(vis, live, rel);
    if (v.access != access || v.rehire != rehire)
        fail_msg("vis %d live %d rel %d: got %s/%d, want %s/%d", vis, live, (int)rel,
                 kz_profile_access_name(v.access), v.rehire, kz_profile_access_name(access),
                 rehire);
}

static void test_table(void **s)
{
    (void)s;
    const kz_profile_access V = KZ_PROFILE_VISIBLE, C = KZ_PROFILE_COMPANY_ONLY,
                            H = KZ_PROFILE_HIDDEN;
    /* rows: self, home secretariat, same home, other company, stranger */
    const struct {
        int vis;
        kz_profile_access a[5];
        bool rehire[5];
    } rows[] = {
        {KZ_VIS_FEDERATION, {V, V, V, V, H}, {true, true, false, false, false}},
        {KZ_VIS_COMPANY, {V, V, V, C, H}, {true, true, false, false, false}},
        {KZ_VIS_HIDDEN, {V, H, H, H, H}, {true, false, false, false, false}},
        {7, {V, H, H, H, H}, {true, false, false, false, false}}, /* unknown = hidden */
    };
    for (size_t i = 0; i < KZ_ARRAY_LEN(rows); i++)
        for (int rel = 0; rel < 5; rel++)
            expect_view(rows[i].vis, true, (kz_viewer_rel)rel, rows[i].a[rel],
                        rows[i].rehire[rel]);
}

/* A member without a live attestation is shown to no one but themself. */
static void test_not_live(void **s)
{
    (void)s;
    for (int vis = 0; vis <= 2; vis++) {
        expect_view(vis, false, KZ_VIEWER_SELF, KZ_PROFILE_VISIBLE, true);
        for (int rel = 1; rel < 5; rel++)
            expect_view(vis, false, (kz_viewer_rel)rel, KZ_PROFILE_HIDDEN, false);
    }
    assert_string_equal(kz_profile_access_name(KZ_PROFILE_COMPANY_ONLY), "company-only");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_table),
    cmocka_unit_test(test_not_live),
};

KZ_TEST_MAIN(tests)
