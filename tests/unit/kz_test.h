/* Shared glue for cmocka unit tests: every test file ends with
 * KZ_TEST_MAIN(tests), and `test_x NAME` runs just the test called NAME. */
#ifndef KZ_TEST_H
#define KZ_TEST_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define KZ_TEST_MAIN(tests)                                                    \
    int main(int argc, char **argv)                                            \
    {                                                                          \
        if (argc > 1)                                                          \
            cmocka_set_test_filter(argv[1]);                                   \
        return cmocka_run_group_tests(tests, NULL, NULL);                      \
    }
#endif
