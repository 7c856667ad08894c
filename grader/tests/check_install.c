/*
 * check_install.c - `make install` gives a working dlgrade: the program
 * found through bin/dlgrade hands grading commands to its double build and
 * finds its runner kits next to itself. Run once, in `make
 * test-integration` (it invokes make).
 */
#include "../../reference/tests/testutil.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

static int run(const char *command)
{
    int status = system(command);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(installed_dlgrade_validates_grades_and_summarises)
{
    const char *build = getenv("DLGRADE_BUILD") ? getenv("DLGRADE_BUILD") : "build";
    char folder[256], command[2048];
    test_make_temp_dir(folder, sizeof folder);
    /* The sandbox's unprivileged uid must read the installed kits, as it
     * can under /usr; mkdtemp's folder is private (0700). */
    ck_assert_int_eq(chmod(folder, 0755), 0);
    snprintf(command, sizeof command,
             "make --no-print-directory -s install BUILD=%s DESTDIR=%s PREFIX=/usr >/dev/null",
             build, folder);
    ck_assert_int_eq(run(command), 0);

    /* validate runs in the double build, reached through the float one. */
    snprintf(command, sizeof command,
             "%s/usr/bin/dlgrade validate assignments/fc-networks > %s/validate.txt", folder,
             folder);
    ck_assert_int_eq(run(command), 0);
    snprintf(command, sizeof command, "grep -q 'valid: 3 units' %s/validate.txt", folder);
    ck_assert_int_eq(run(command), 0);

    snprintf(command, sizeof command,
             "%s/usr/bin/dlgrade summary reference/models/cnn.yaml | grep -q '421642 parameters'",
             folder);
    ck_assert_int_eq(run(command), 0);

    /* Grading needs the installed runner kits: the reference units, the
     * right quiz answers of fc-networks and the model its trained-model
     * check wants, trained by the installed dlgrade (3 epochs: 0.857 test
     * accuracy, the target is 0.83), public checks only, every one passed
     * (exit status 0). */
    snprintf(command, sizeof command,
             "mkdir -p %s/sub && cp reference/src/linear.c reference/src/relu.c "
             "reference/src/softmax_cross_entropy.c %s/sub/ && "
             "printf '\"fc-1\": [b]\\n\"fc-2\": [a, c]\\n\"fc-3\": 723\\n"
             "\"fc-4\": 0.693\\n\"fc-5\": [a, b, d]\\n' > %s/sub/answers.yaml && "
             "cp reference/models/mlp_sgd.yaml %s/sub/model.yaml && "
             "%s/usr/bin/dlgrade train %s/sub/model.yaml --epochs 3 --seed 1 --threads 1 "
             "--save %s/sub/model.weights > /dev/null && "
             "%s/usr/bin/dlgrade grade %s/sub -a fc-networks -o %s/out --public-only --quiet "
             "> %s/grade.txt",
             folder, folder, folder, folder, folder, folder, folder, folder, folder, folder,
             folder);
    ck_assert_int_eq(run(command), 0);
    snprintf(command, sizeof command, "grep -q 'all passed' %s/grade.txt", folder);
    ck_assert_int_eq(run(command), 0);
    test_remove_dir(folder);
}
END_TEST

Suite *install_suite(void);
Suite *install_suite(void)
{
    Suite *suite = suite_create("install");
    if (getenv("DLGRADE_INTEGRATION") == NULL) {
        fprintf(stderr, "install_suite: SKIPPED: it runs make install; it runs once in `make "
                        "test-integration` (part of `make test`), or with DLGRADE_INTEGRATION=1\n");
        return suite;
    }
    TCase *tc = tcase_create("install");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, installed_dlgrade_validates_grades_and_summarises);
    suite_add_tcase(suite, tc);
    return suite;
}
