/*
 * check_inspect.c - what the inspection of a compiled unit refuses and
 * accepts (grader/src/inspect.c): tiny sources compiled with cc into a
 * temporary folder, the reference units of every assignment, and objects
 * that are not objects at all (garbage, truncated and corrupted ELF, a
 * FIFO, a link, a file too big to read).
 */
#include "config.h"
#include "inspect.h"

#include "../../reference/tests/testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* ---- helpers -------------------------------------------------------------------- */

/* Runs argv, its output discarded; returns the exit status. */
static int run_quietly(const char *const *argv)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Compiles source (written to folder/name) into folder/name.o with the
 * library's headers; -O0 keeps every call a call. */
static void compile_in(const char *folder, const char *name, const char *source,
                       const char *optimisation, char *object, size_t size)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", folder, name);
    FILE *file = fopen(path, "w");
    ck_assert_ptr_nonnull(file);
    fputs(source, file);
    ck_assert_int_eq(fclose(file), 0);
    snprintf(object, size, "%s.o", path);
    const char *argv[] = { "cc", "-std=c11", "-D_GNU_SOURCE", optimisation, "-g",
                           "-Ireference/include", "-c", path, "-o", object, NULL };
    ck_assert_msg(run_quietly(argv) == 0, "cc could not compile:\n%s", source);
}

/* Rules for a unit "linear.c" defining the linear layer's functions, the
 * API from the repository's headers. */
static void linear_rules(dg_inspect_rules *rules)
{
    *rules = (dg_inspect_rules){ .file = "linear.c" };
    nn_error err;
    ck_assert_int_eq(dg_inspect_load_api(&rules->api, "reference/include/nn", &err), NN_OK);
    const char *own[] = { "nn_linear_forward", "nn_linear_backward", "nn_linear_parameter_count" };
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(dg_names_add(&rules->own, own[i], &err), NN_OK);
    dg_names_sort(&rules->own);
}

typedef struct verdict {
    bool refused;
    int problems;
    char first[256];
    char details[8192];
} verdict;

static verdict inspect_path(const char *path, const dg_inspect_rules *rules)
{
    dg_inspection inspection;
    nn_error err;
    ck_assert_int_eq(dg_inspect_object(&inspection, path, rules, &err), NN_OK);
    verdict v = { .refused = inspection.refused, .problems = inspection.problem_count };
    snprintf(v.first, sizeof v.first, "%s", inspection.first);
    snprintf(v.details, sizeof v.details, "%s", inspection.details ? inspection.details : "");
    ck_assert_int_eq(inspection.details != NULL, inspection.refused);
    dg_inspection_release(&inspection);
    return v;
}

/* Compiles source as linear.c and inspects it with the linear rules. */
static verdict inspect_source(const char *source)
{
    char folder[256], object[700];
    test_make_temp_dir(folder, sizeof folder);
    compile_in(folder, "linear.c", source, "-O0", object, sizeof object);
    dg_inspect_rules rules;
    linear_rules(&rules);
    verdict v = inspect_path(object, &rules);
    dg_inspect_rules_release(&rules);
    test_remove_dir(folder);
    return v;
}

#define LINEAR_HEAD "#include \"nn/layers.h\"\n"

/* A correct forward, so that a case differs from an accepted unit only in
 * what it adds. */
#define LINEAR_FORWARD                                                                         \
    "nn_status nn_linear_forward(nn_real *out, const nn_real *x, const nn_real *weight,\n"    \
    "                            const nn_real *bias, int batch, int in, int outs)\n"         \
    "{\n"                                                                                      \
    "    for (int n = 0; n < batch; n++)\n"                                                    \
    "        for (int o = 0; o < outs; o++) {\n"                                               \
    "            nn_real sum = bias ? bias[o] : 0;\n"                                          \
    "            for (int i = 0; i < in; i++)\n"                                               \
    "                sum += x[n * in + i] * weight[o * in + i];\n"                             \
    "            out[n * outs + o] = sum;\n"                                                   \
    "        }\n"                                                                              \
    "    return NN_OK;\n"                                                                      \
    "}\n"

static void assert_refused_with(const char *source, const char *first)
{
    verdict v = inspect_source(source);
    ck_assert_msg(v.refused, "accepted:\n%s", source);
    ck_assert_msg(strcmp(v.first, first) == 0, "first problem '%s', expected '%s'", v.first,
                  first);
    char line[300];
    snprintf(line, sizeof line, "%s\n", first);
    ck_assert_ptr_nonnull(strstr(v.details, line));
}

static void assert_accepted(const char *source)
{
    verdict v = inspect_source(source);
    ck_assert_msg(!v.refused, "refused (%s):\n%s", v.details, source);
    ck_assert_int_eq(v.problems, 0);
}

/* ---- what a unit defines ------------------------------------------------------------ */

START_TEST(a_helper_with_external_linkage_is_refused_and_a_static_one_accepted)
{
    assert_refused_with(LINEAR_HEAD "double scale_rows(double v);\n"
                                    "double scale_rows(double v) { return 2 * v; }\n"
                                    LINEAR_FORWARD,
                        "linear.c: helper `scale_rows` has external linkage: declare it static");
    assert_accepted(LINEAR_HEAD "static double scale_rows(double v) { return 2 * v; }\n"
                                "double use(void);\n"
                                "nn_status nn_linear_forward(nn_real *out, const nn_real *x,\n"
                                "    const nn_real *w, const nn_real *b, int n, int i, int o)\n"
                                "{ (void)x, (void)w, (void)b, (void)n, (void)i, (void)o;\n"
                                "  out[0] = (nn_real)scale_rows(1); return NN_OK; }\n");
    assert_refused_with(LINEAR_HEAD "int counter;\n" LINEAR_FORWARD,
                        "linear.c: global variable `counter` has external linkage: declare it "
                        "static");
    assert_accepted(LINEAR_HEAD "static int counter;\n"
                                "static const double table[2] = { 1, 2 };\n"
                                "int *get(void);\n" /* declared, not defined: no symbol */
                                "nn_status nn_linear_forward(nn_real *out, const nn_real *x,\n"
                                "    const nn_real *w, const nn_real *b, int n, int i, int o)\n"
                                "{ (void)x, (void)w, (void)b, (void)n, (void)i, (void)o;\n"
                                "  out[0] = (nn_real)(table[counter++]); return NN_OK; }\n");
}
END_TEST

START_TEST(library_runtime_harness_and_other_units_names_are_refused_with_their_reason)
{
    assert_refused_with(LINEAR_HEAD "#include <stddef.h>\n"
                                    "int memcmp(const void *a, const void *b, size_t n)\n"
                                    "{ (void)a, (void)b, (void)n; return 0; }\n" LINEAR_FORWARD,
                        "linear.c defines memcmp, a C library function");
    assert_refused_with(LINEAR_HEAD "double fabs(double v) { return v; }\n" LINEAR_FORWARD,
                        "linear.c defines fabs, a C library function");
    assert_refused_with(LINEAR_HEAD "int main(void);\nint main(void) { return 0; }\n"
                                    LINEAR_FORWARD,
                        "linear.c defines main, a C runtime function: the program around your "
                        "unit has its own");
    assert_refused_with(LINEAR_HEAD "void _start(void);\nvoid _start(void) { }\n"
                                    LINEAR_FORWARD,
                        "linear.c defines _start, a name reserved for the C runtime");
    assert_refused_with(LINEAR_HEAD "int dg_runner_serve(void);\n"
                                    "int dg_runner_serve(void) { return 0; }\n" LINEAR_FORWARD,
                        "linear.c defines dg_runner_serve, a name of the grader's harness");
    assert_refused_with(LINEAR_HEAD
                        "nn_status nn_relu_forward(nn_real *out, const nn_real *x, size_t n)\n"
                        "{ for (size_t i = 0; i < n; i++) out[i] = x[i]; return NN_OK; }\n"
                        LINEAR_FORWARD,
                        "linear.c defines nn_relu_forward, a library function that is not part "
                        "of linear.c");
}
END_TEST

START_TEST(a_weak_definition_is_refused_even_of_the_units_own_function)
{
    verdict v = inspect_source(LINEAR_HEAD "__attribute__((weak)) " LINEAR_FORWARD);
    ck_assert(v.refused);
    ck_assert_str_eq(v.first, "linear.c defines nn_linear_forward as a weak symbol: remove "
                              "__attribute__((weak))");
    ck_assert_int_eq(v.problems, 1);
}
END_TEST

/* ---- what a unit calls --------------------------------------------------------------- */

START_TEST(calls_outside_the_allowed_list_are_refused_by_name)
{
    /* Each call is made from a static helper (kept, though unused, by
     * `used`), so that the call is the only problem. */
    static const struct {
        const char *code, *first;
    } cases[] = {
        { "#include <unistd.h>\nstatic int f(void) { return fork(); }\n",
          "linear.c calls fork, which is not available to a layer" },
        { "#include <stdlib.h>\nstatic int f(void) { return system(\"true\"); }\n",
          "linear.c calls system, which is not available to a layer" },
        { "#include <stdlib.h>\nstatic int f(void) { exit(0); }\n",
          "linear.c calls exit, which is not available to a layer (return an nn_status "
          "instead)" },
        { "#include <stdio.h>\nstatic int f(void) { return fopen(\"x\", \"r\") != 0; }\n",
          "linear.c calls fopen, which is not available to a layer" },
        { "#include <signal.h>\nstatic int f(void) { return kill(-1, 9); }\n",
          "linear.c calls kill, which is not available to a layer" },
        { "#include <sys/socket.h>\nstatic int f(void) { return socket(2, 1, 0); }\n",
          "linear.c calls socket, which is not available to a layer" },
        { "#include <unistd.h>\nstatic int f(void) { return (int)syscall(57); }\n",
          "linear.c calls syscall, which is not available to a layer" },
        { "#include <stdio.h>\nstatic int f(void) { return stdin != 0; }\n",
          "linear.c uses stdin, which is not available to a layer" },
        { "extern char **environ;\nstatic int f(void) { return environ[0] != 0; }\n",
          "linear.c uses environ, which is not available to a layer" },
        { "int dg_put_u32(void *w, unsigned v);\n"
          "static int f(void) { return dg_put_u32(0, 1); }\n",
          "linear.c calls dg_put_u32, a function of the grader's harness, which is not "
          "available to a layer" },
        { "int nn_secret_engine(void);\nstatic int f(void) { return nn_secret_engine(); }\n",
          "linear.c calls nn_secret_engine, which the library's headers do not declare" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char source[2048];
        snprintf(source, sizeof source, LINEAR_HEAD "%s" LINEAR_FORWARD
                 "__attribute__((used)) static int (*keep)(void) = f;\n", cases[i].code);
        verdict v = inspect_source(source);
        ck_assert_msg(v.refused, "accepted:\n%s", source);
        ck_assert_msg(strcmp(v.first, cases[i].first) == 0, "'%s', expected '%s' for\n%s",
                      v.first, cases[i].first, source);
    }
}
END_TEST

START_TEST(a_call_into_reference_only_code_is_refused_even_when_declared)
{
    /* The repository's headers declare the convolution engine (the runner
     * kit's do not): the list of reference-only functions refuses it
     * anyway, by name, and says why. */
    char folder[256], object[700], list[400];
    test_make_temp_dir(folder, sizeof folder);
    compile_in(folder, "linear.c",
               LINEAR_HEAD "#include \"nn/conv_engine.h\"\n" LINEAR_FORWARD
               "__attribute__((used)) static size_t probe(void)\n"
               "{ return nn_conv_engine_workspace_size(1, 1, 0); }\n",
               "-O0", object, sizeof object);
    dg_inspect_rules rules;
    linear_rules(&rules);
    ck_assert(dg_names_has(&rules.api, "nn_conv_engine_workspace_size"));
    verdict v = inspect_path(object, &rules);
    ck_assert_msg(!v.refused, "%s", v.details);
    /* One name a line; blank lines and a trailing comment are skipped. */
    snprintf(list, sizeof list, "%s/reference-only", folder);
    FILE *file = fopen(list, "w");
    ck_assert_ptr_nonnull(file);
    fputs("nn_conv_engine_backward\n\nnn_conv_engine_forward\n"
          "nn_conv_engine_workspace_size # the engine's\n", file);
    ck_assert_int_eq(fclose(file), 0);
    nn_error err;
    ck_assert_int_eq(dg_inspect_load_list(&rules.reference_only, list, &err), NN_OK);
    ck_assert_uint_eq(rules.reference_only.count, 3);
    v = inspect_path(object, &rules);
    ck_assert(v.refused);
    ck_assert_int_eq(v.problems, 1);
    ck_assert_str_eq(v.first, "linear.c calls nn_conv_engine_workspace_size, which belongs to "
                              "the reference solution and is not linked with submissions: use "
                              "the functions of framework/include/nn/");
    dg_inspect_rules_release(&rules);
    snprintf(list, sizeof list, "%s/no-such-list", folder);
    dg_names missing = { 0 };
    ck_assert_int_eq(dg_inspect_load_list(&missing, list, &err), NN_ERR_IO);
    dg_names_release(&missing);
    test_remove_dir(folder);
}
END_TEST

START_TEST(math_memory_printing_assert_and_other_units_are_allowed)
{
    assert_accepted(
        LINEAR_HEAD "#include <assert.h>\n#include <math.h>\n#include <stdio.h>\n"
                    "#include <stdlib.h>\n#include <string.h>\n#include <ctype.h>\n"
                    "static int by_value(const void *a, const void *b)\n"
                    "{ return (*(const double *)a > *(const double *)b) - "
                    "(*(const double *)a < *(const double *)b); }\n"
                    "nn_status nn_linear_forward(nn_real *out, const nn_real *x,\n"
                    "    const nn_real *w, const nn_real *b, int n, int in, int o)\n"
                    "{\n"
                    "    double *scratch = malloc(8 * sizeof *scratch);\n"
                    "    assert(scratch != NULL);\n"
                    "    memset(scratch, 0, 8 * sizeof *scratch);\n"
                    "    scratch[0] = sqrt(x[0]) + exp(w[0]) + log(2.0) + pow(2.0, in);\n"
                    "    scratch[1] = sqrtf((float)o) + expf(1.0f) + tanhf(0.5f) + fabsl(-1.0L);\n"
                    "    scratch[2] = fmax(1.0, 2.0) + floor(0.5) + erf(0.1) + ldexp(1.0, n);\n"
                    "    qsort(scratch, 8, sizeof *scratch, by_value);\n"
                    "    char text[32];\n"
                    "    snprintf(text, sizeof text, \"%g\", scratch[0]);\n"
                    "    if (strlen(text) > 100 || isdigit((unsigned char)text[0]) > 100)\n"
                    "        fprintf(stderr, \"%s %d\\n\", text, abs(n));\n"
                    "    printf(\"debug\\n\");\n"
                    "    fflush(stdout);\n"
                    "    nn_real probe[1] = { 0 };\n"
                    "    nn_relu_forward(probe, probe, 1);\n"
                    "    out[0] = (nn_real)scratch[0] + (b ? b[0] : 0);\n"
                    "    free(scratch);\n"
                    "    nn_matmul(false, true, n, o, in, 1, x, w, 0, out);\n"
                    "    return NN_OK;\n"
                    "}\n");
}
END_TEST

START_TEST(the_allowed_calls_are_one_table_with_every_precision_of_math)
{
    const char *allowed[] = { "sqrt", "sqrtf", "sqrtl", "expf", "modff", "fmaf", "memcpy",
                              "memset", "malloc", "free", "qsort", "abs", "fprintf", "stderr",
                              "__assert_fail", "__stack_chk_fail", "__popcountdi2", "abort",
                              "_ZGVdN4v_exp", NULL };
    const char *refused[] = { "fork", "vfork", "clone", "execve", "system", "popen", "exit",
                              "_exit", "kill", "raise", "signal", "sigaction", "socket",
                              "connect", "fopen", "open", "openat", "read", "write", "syscall",
                              "dlopen", "pthread_create", "sleep", "nanosleep", "time",
                              "getenv", "setjmp", "atexit", "mmap", "mprotect", "ptrace",
                              "sqrtx", "memcpyf", "_ZGVdN4v_fork", "_ZGV", NULL };
    for (int i = 0; allowed[i] != NULL; i++)
        ck_assert_msg(dg_inspect_call_allowed(allowed[i]), "%s is refused", allowed[i]);
    for (int i = 0; refused[i] != NULL; i++)
        ck_assert_msg(!dg_inspect_call_allowed(refused[i]), "%s is allowed", refused[i]);
    /* The handout's summary names the groups. */
    const char *const *summary = dg_inspect_allowed_summary();
    int groups = 0;
    bool math = false;
    for (; summary[groups] != NULL; groups++)
        math |= strstr(summary[groups], "math.h") != NULL;
    ck_assert_int_ge(groups, 4);
    ck_assert(math);
}
END_TEST

/* ---- code before main -------------------------------------------------------------------- */

START_TEST(constructors_destructors_and_ifuncs_are_refused)
{
    static const struct {
        const char *code, *first;
    } cases[] = {
        { "__attribute__((constructor)) static void early(void) { }\n",
          "linear.c runs code before main (a constructor): section .init_array" },
        { "__attribute__((constructor(101))) static void early(void) { }\n",
          "linear.c runs code before main (a constructor): section .init_array.00101" },
        { "__attribute__((destructor)) static void late(void) { }\n",
          "linear.c runs code after main (a destructor): section .fini_array" },
        { "static void early(void) { }\n__attribute__((section(\".init_array\"), used))\n"
          "static void (*const hook)(void) = early;\n",
          "linear.c runs code before main (a constructor): section .init_array" },
        { "static void early(void) { }\n__attribute__((section(\".ctors\"), used))\n"
          "static void (*const hook)(void) = early;\n",
          "linear.c runs code before main (a constructor): section .ctors" },
        { "static void late(void) { }\n__attribute__((section(\".dtors\"), used))\n"
          "static void (*const hook)(void) = late;\n",
          "linear.c runs code after main (a destructor): section .dtors" },
        { "__asm__(\".section .preinit_array,\\\"aw\\\"\\n.quad 0\\n.previous\");\n",
          "linear.c runs code before main (a constructor): section .preinit_array" },
        { "__asm__(\".section .init,\\\"ax\\\"\\nnop\\n.previous\");\n",
          "linear.c runs code before main (a constructor): section .init" },
        /* a section of the constructor type under another name */
        { "__asm__(\".section .my_hooks,\\\"aw\\\",@init_array\\n.quad 0\\n.previous\");\n",
          "linear.c runs code before main (a constructor): section .my_hooks" },
        { "static int real(void) { return 1; }\n"
          "static int (*pick(void))(void) { return real; }\n"
          "__attribute__((ifunc(\"pick\"))) static int chosen(void);\n"
          "int (*use_chosen(void))(void);\nint (*use_chosen(void))(void) { return chosen; }\n",
          "linear.c runs code before main: `chosen` is an ifunc, whose resolver runs while the "
          "program loads" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char source[4096];
        snprintf(source, sizeof source, LINEAR_HEAD "%s" LINEAR_FORWARD, cases[i].code);
        verdict v = inspect_source(source);
        ck_assert_msg(v.refused, "accepted:\n%s", source);
        ck_assert_msg(strcmp(v.first, cases[i].first) == 0, "'%s', expected '%s'", v.first,
                      cases[i].first);
    }
}
END_TEST

/* ---- the list of problems ------------------------------------------------------------------ */

START_TEST(problems_are_sorted_by_kind_then_name_and_the_list_is_bounded)
{
    verdict v = inspect_source(LINEAR_HEAD "#include <unistd.h>\n#include <stdlib.h>\n"
                                           "int zeta;\n"
                                           "int alpha(void);\nint alpha(void) { fork(); "
                                           "exit(1); }\n"
                                           "__attribute__((constructor)) static void c(void) "
                                           "{ }\n" LINEAR_FORWARD);
    ck_assert(v.refused);
    ck_assert_int_eq(v.problems, 5);
    ck_assert_str_eq(v.details,
                     "linear.c runs code before main (a constructor): section .init_array\n"
                     "linear.c: global variable `zeta` has external linkage: declare it static\n"
                     "linear.c: helper `alpha` has external linkage: declare it static\n"
                     "linear.c calls exit, which is not available to a layer (return an "
                     "nn_status instead)\n"
                     "linear.c calls fork, which is not available to a layer\n");

    /* Seventy helpers: every one counted, the first DG_INSPECT_MAX_PROBLEMS listed. */
    char *source = malloc(1 << 16);
    ck_assert_ptr_nonnull(source);
    int used = snprintf(source, 1 << 16, "%s", LINEAR_HEAD LINEAR_FORWARD);
    for (int i = 0; i < 70; i++)
        used += snprintf(source + used, (size_t)(1 << 16) - (size_t)used,
                         "int helper%02d(void);\nint helper%02d(void) { return %d; }\n", i, i, i);
    v = inspect_source(source);
    free(source);
    ck_assert_int_eq(v.problems, 70);
    ck_assert_str_eq(v.first, "linear.c: helper `helper00` has external linkage: declare it "
                              "static");
    char last[128];
    snprintf(last, sizeof last, "helper%02d", DG_INSPECT_MAX_PROBLEMS - 1);
    ck_assert_ptr_nonnull(strstr(v.details, last));
    snprintf(last, sizeof last, "helper%02d", DG_INSPECT_MAX_PROBLEMS);
    ck_assert_ptr_null(strstr(v.details, last));
    snprintf(last, sizeof last, "... and %d more problems\n", 70 - DG_INSPECT_MAX_PROBLEMS);
    ck_assert_ptr_nonnull(strstr(v.details, last));
}
END_TEST

/* ---- the reference units --------------------------------------------------------------------- */

/* The folder of this test program (build/<variant>), for its libnnref.a. */
static void own_build_folder(char *out, size_t size)
{
    char self[PATH_MAX];
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    ck_assert_int_gt(length, 0);
    self[length] = '\0';
    snprintf(out, size, "%s", dirname(self));
}

START_TEST(a_units_functions_are_read_from_the_reference_library)
{
    char archive[PATH_MAX + 32];
    own_build_folder(archive, sizeof archive);
    strcat(archive, "/libnnref.a");
    dg_names names = { 0 };
    nn_error err;
    ck_assert_int_eq(dg_inspect_archive_definitions(&names, archive, "linear.o", &err), NN_OK);
    ck_assert_uint_eq(names.count, 3);
    ck_assert(dg_names_has(&names, "nn_linear_forward"));
    ck_assert(dg_names_has(&names, "nn_linear_backward"));
    ck_assert(dg_names_has(&names, "nn_linear_parameter_count"));
    ck_assert(!dg_names_has(&names, "nn_matmul"));   /* what it calls is not its own */
    dg_names_release(&names);
    /* A member name longer than ar's 16 characters. */
    ck_assert_int_eq(dg_inspect_archive_definitions(&names, archive, "softmax_cross_entropy.o",
                                                    &err),
                     NN_OK);
    ck_assert(dg_names_has(&names, "nn_softmax_cross_entropy_backward"));
    dg_names_release(&names);
    ck_assert_int_eq(dg_inspect_archive_definitions(&names, archive, "no_such_unit.o", &err),
                     NN_OK);
    ck_assert_uint_eq(names.count, 0);
    /* An object is not an archive. */
    ck_assert_int_eq(dg_inspect_archive_definitions(&names, "reference/include/nn/core.h",
                                                    "core.o", &err),
                     NN_ERR_FORMAT);
    dg_names_release(&names);

    dg_names api = { 0 };
    ck_assert_int_eq(dg_inspect_load_api(&api, "reference/include/nn", &err), NN_OK);
    ck_assert(dg_names_has(&api, "nn_linear_forward"));
    ck_assert(dg_names_has(&api, "nn_error_set"));
    ck_assert(dg_names_has(&api, "nn_gemm"));
    ck_assert(!dg_names_has(&api, "nn_real"));                /* a type */
    ck_assert(!dg_names_has(&api, "nn_layer_type_linear"));   /* internal data */
    dg_names_release(&api);
    ck_assert_int_eq(dg_inspect_load_api(&api, "no/such/folder", &err), NN_ERR_IO);
    dg_names_release(&api);
}
END_TEST

START_TEST(the_reference_units_of_every_assignment_are_accepted)
{
    char archive[PATH_MAX + 32];
    own_build_folder(archive, sizeof archive);
    strcat(archive, "/libnnref.a");
    char folder[256];
    test_make_temp_dir(folder, sizeof folder);
    DIR *dir = opendir("assignments");
    ck_assert_ptr_nonnull(dir);
    dg_config *config = malloc(sizeof *config);
    ck_assert_ptr_nonnull(config);
    int inspected = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        char path[600];
        snprintf(path, sizeof path, "assignments/%s/assignment.yaml", entry->d_name);
        if (entry->d_name[0] == '.' || access(path, R_OK) != 0)
            continue;
        nn_error err;
        ck_assert_msg(dg_config_load(config, path, NULL, &err) == NN_OK, "%s", err.message);
        for (int u = 0; u < config->unit_count; u++) {
            const dg_unit *unit = &config->units[u];
            char source[600], object[800];
            snprintf(source, sizeof source, "reference/src/%s", unit->file);
            snprintf(object, sizeof object, "%s/%s.o", folder, unit->name);
            /* The grader's own flags (the runner kit's), in this build's
             * precision. */
            const char *argv[] = { "cc", "-std=c11", "-D_DEFAULT_SOURCE", "-D_GNU_SOURCE",
                                   "-fno-math-errno", "-O3", "-march=native", "-g",
                                   NN_REAL_IS_DOUBLE ? "-DNN_REAL_DOUBLE" : "-DNN_REAL_FLOAT",
                                   "-Ireference/include", "-c", source, "-o", object, NULL };
            ck_assert_int_eq(run_quietly(argv), 0);
            dg_inspect_rules rules = { .file = unit->file };
            ck_assert_int_eq(dg_inspect_load_api(&rules.api, "reference/include/nn", &err),
                             NN_OK);
            for (int f = 0; f < unit->function_count; f++)
                ck_assert_int_eq(dg_names_add(&rules.own, unit->functions[f], &err), NN_OK);
            char member[80];
            snprintf(member, sizeof member, "%s.o", unit->name);
            ck_assert_int_eq(dg_inspect_archive_definitions(&rules.own, archive, member, &err),
                             NN_OK);
            verdict v = inspect_path(object, &rules);
            ck_assert_msg(!v.refused, "%s (%s) is refused:\n%s", unit->file, entry->d_name,
                          v.details);
            dg_inspect_rules_release(&rules);
            inspected++;
        }
    }
    closedir(dir);
    free(config);
    test_remove_dir(folder);
    ck_assert_int_ge(inspected, 6);
}
END_TEST

/* ---- objects that are not objects ------------------------------------------------------------- */

static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    ck_assert_ptr_nonnull(file);
    ck_assert_int_eq(fseek(file, 0, SEEK_END), 0);
    long length = ftell(file);
    ck_assert_int_gt(length, 0);
    rewind(file);
    unsigned char *bytes = malloc((size_t)length);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_uint_eq(fread(bytes, 1, (size_t)length, file), (size_t)length);
    fclose(file);
    *size = (size_t)length;
    return bytes;
}

static bool refused_memory(const unsigned char *bytes, size_t size, const dg_inspect_rules *rules,
                           char *first, size_t first_size)
{
    dg_inspection inspection;
    nn_error err;
    ck_assert_int_eq(dg_inspect_memory(&inspection, bytes, size, rules, &err), NN_OK);
    bool refused = inspection.refused;
    if (first != NULL)
        snprintf(first, first_size, "%s", inspection.first);
    dg_inspection_release(&inspection);
    return refused;
}

START_TEST(garbage_truncated_and_corrupted_objects_are_refused_never_a_crash)
{
    dg_inspect_rules rules;
    linear_rules(&rules);
    char first[256];
    /* Not ELF at all. */
    const unsigned char text[] = "int main(void) { return 0; }\n";
    ck_assert(refused_memory(text, sizeof text, &rules, first, sizeof first));
    ck_assert_str_eq(first, "linear.c did not compile to an object the grader can read (not "
                            "an ELF file)");
    ck_assert(refused_memory(text, 0, &rules, NULL, 0));
    unsigned char magic_only[64] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
    ck_assert(refused_memory(magic_only, sizeof magic_only, &rules, NULL, 0));
    nn_rng rng;
    nn_rng_seed(&rng, 7);
    unsigned char noise[4096];
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)(nn_rng_next(&rng) & 0xff);
    ck_assert(refused_memory(noise, sizeof noise, &rules, NULL, 0));
    memcpy(noise, magic_only, 16);   /* an ELF header start, then noise */
    ck_assert(refused_memory(noise, sizeof noise, &rules, NULL, 0));

    /* A real object with a forbidden call, cut short and damaged: every
     * prefix and every corruption is judged without a crash (this runs
     * under ASan too), and nothing damaged is ever taken for clean. */
    char folder[256], object[700];
    test_make_temp_dir(folder, sizeof folder);
    compile_in(folder, "linear.c",
               LINEAR_HEAD "#include <unistd.h>\nstatic int f(void) { return fork(); }\n"
                           "int (*g(void))(void);\nint (*g(void))(void) { return f; }\n"
                           LINEAR_FORWARD,
               "-O0", object, sizeof object);
    size_t size;
    unsigned char *bytes = read_all(object, &size);
    ck_assert(refused_memory(bytes, size, &rules, NULL, 0));
    for (size_t cut = 0; cut < size; cut += size / 97 + 1)
        ck_assert_msg(refused_memory(bytes, cut, &rules, NULL, 0), "cut at %zu accepted", cut);
    unsigned char *damaged = malloc(size);
    ck_assert_ptr_nonnull(damaged);
    for (int round = 0; round < 300; round++) {
        memcpy(damaged, bytes, size);
        int flips = 1 + (int)(nn_rng_next(&rng) % 8);
        for (int f = 0; f < flips; f++) {
            /* Mostly the ELF header and the section table at the end,
             * where a damaged count or offset hurts most. */
            uint64_t draw = nn_rng_next(&rng);
            size_t at = draw % 3 == 0 ? (size_t)(draw >> 8) % 64
                        : draw % 3 == 1 ? size - 1 - (size_t)(draw >> 8) % (size < 2048 ? size : 2048)
                                        : (size_t)(draw >> 8) % size;
            damaged[at] = (unsigned char)(nn_rng_next(&rng) & 0xff);
        }
        refused_memory(damaged, size, &rules, NULL, 0);
    }
    free(damaged);
    free(bytes);

    /* A linked program is not a unit's object. */
    char program[800];
    snprintf(program, sizeof program, "%s/program", folder);
    compile_in(folder, "main.c", "int main(void) { return 0; }\n", "-O0", object, sizeof object);
    const char *argv[] = { "cc", object, "-o", program, NULL };
    ck_assert_int_eq(run_quietly(argv), 0);
    verdict v = inspect_path(program, &rules);
    ck_assert(v.refused);
    ck_assert_ptr_nonnull(strstr(v.first, "did not compile to a relocatable object"));
    test_remove_dir(folder);
    dg_inspect_rules_release(&rules);
}
END_TEST

START_TEST(a_missing_link_fifo_or_oversized_object_is_refused_unread)
{
    dg_inspect_rules rules;
    linear_rules(&rules);
    char folder[256], path[400];
    test_make_temp_dir(folder, sizeof folder);

    snprintf(path, sizeof path, "%s/missing.o", folder);
    verdict v = inspect_path(path, &rules);
    ck_assert(v.refused);
    ck_assert_str_eq(v.first, "linear.c did not compile to an object the grader can read "
                              "(cannot open: No such file or directory)");
    ck_assert_ptr_null(strstr(v.details, folder));   /* the grader's paths stay its own */

    snprintf(path, sizeof path, "%s/link.o", folder);
    ck_assert_int_eq(symlink("/etc/passwd", path), 0);
    v = inspect_path(path, &rules);
    ck_assert(v.refused);
    ck_assert_ptr_nonnull(strstr(v.first, "cannot open"));

    /* A FIFO would block a reader for ever. */
    snprintf(path, sizeof path, "%s/fifo.o", folder);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    v = inspect_path(path, &rules);
    ck_assert(v.refused);
    ck_assert_ptr_nonnull(strstr(v.first, "not a regular file"));

    /* Bigger than the bound: refused by its size (a sparse file). */
    snprintf(path, sizeof path, "%s/huge.o", folder);
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)DG_INSPECT_MAX_OBJECT_BYTES + (1 << 20)), 0);
    close(fd);
    v = inspect_path(path, &rules);
    ck_assert(v.refused);
    char expected[200];
    snprintf(expected, sizeof expected, "linear.c compiled to an object of %u MiB, more than "
             "the %u MiB allowed (a huge initialised array?)",
             (DG_INSPECT_MAX_OBJECT_BYTES >> 20) + 1, DG_INSPECT_MAX_OBJECT_BYTES >> 20);
    ck_assert_str_eq(v.first, expected);
    test_remove_dir(folder);
    dg_inspect_rules_release(&rules);
}
END_TEST

Suite *inspect_suite(void);
Suite *inspect_suite(void)
{
    Suite *suite = suite_create("inspect");
    TCase *defines = tcase_create("definitions and calls");
    tcase_set_timeout(defines, 60);
    tcase_add_test(defines, a_helper_with_external_linkage_is_refused_and_a_static_one_accepted);
    tcase_add_test(defines, library_runtime_harness_and_other_units_names_are_refused_with_their_reason);
    tcase_add_test(defines, a_weak_definition_is_refused_even_of_the_units_own_function);
    tcase_add_test(defines, calls_outside_the_allowed_list_are_refused_by_name);
    tcase_add_test(defines, a_call_into_reference_only_code_is_refused_even_when_declared);
    tcase_add_test(defines, math_memory_printing_assert_and_other_units_are_allowed);
    tcase_add_test(defines, the_allowed_calls_are_one_table_with_every_precision_of_math);
    tcase_add_test(defines, constructors_destructors_and_ifuncs_are_refused);
    tcase_add_test(defines, problems_are_sorted_by_kind_then_name_and_the_list_is_bounded);
    suite_add_tcase(suite, defines);
    TCase *reference = tcase_create("reference units");
    tcase_set_timeout(reference, 120);
    tcase_add_test(reference, a_units_functions_are_read_from_the_reference_library);
    tcase_add_test(reference, the_reference_units_of_every_assignment_are_accepted);
    suite_add_tcase(suite, reference);
    TCase *damaged = tcase_create("damaged objects");
    tcase_set_timeout(damaged, 60);
    tcase_add_test(damaged, garbage_truncated_and_corrupted_objects_are_refused_never_a_crash);
    tcase_add_test(damaged, a_missing_link_fifo_or_oversized_object_is_refused_unread);
    suite_add_tcase(suite, damaged);
    return suite;
}
