/*
 * inspect.c - refusing a compiled unit, by what its object file defines and
 * references, before it is linked (see inspect.h for the rules).
 *
 * The object comes from the compiler in the sandbox, so it is well formed
 * unless something went badly wrong; it is parsed as untrusted anyway:
 * read whole with a size bound, every libelf call checked, every count
 * bounded by the bytes it claims to describe.
 *
 * This file is shipped with the student template (framework/grader/), so
 * that `make test` refuses what the grader refuses, with the same words.
 */
#include "inspect.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- what a layer may call --------------------------------------------------------
 *
 * The one list of what a unit may reference besides the library's nn_*
 * API. A layer computes on the buffers it is given: it needs arithmetic,
 * memory and strings, and a way to print while debugging. It never needs
 * to create processes, open files or sockets, send signals, sleep, read
 * the clock, or leave the program (exit): those names are refused, and so
 * is everything else not listed here (the sandbox would contain them, but
 * a refusal by name tells the student why, at once, and the same way on
 * their own machine). Calls into other units are nn_* calls: the runner
 * holds the stubs or provided solutions of those units.
 */
typedef struct call_group {
    const char *summary;        /* how the handout states the group */
    bool precisions;            /* each name also with an f (float) and l (long double) suffix */
    const char *const *names;
} call_group;

static const call_group allowed_calls[] = {
    { "`math.h`: every function, in its double, float (`expf`) and long double (`expl`) "
      "forms",
      true,
      (const char *const[]){
          "acos", "asin", "atan", "atan2", "cos", "sin", "tan", "sincos", "acosh", "asinh",
          "atanh", "cosh", "sinh", "tanh", "exp", "exp2", "exp10", "expm1", "log", "log10",
          "log2", "log1p", "logb", "ilogb", "pow", "pow10", "sqrt", "cbrt", "hypot", "erf",
          "erfc", "tgamma", "lgamma", "lgamma_r", "gamma", "ceil", "floor", "trunc", "round",
          "lround", "llround", "rint", "lrint", "llrint", "nearbyint", "fmod", "remainder",
          "remquo", "drem", "copysign", "nan", "nextafter", "nexttoward", "fdim", "fmax",
          "fmin", "fma", "fabs", "frexp", "ldexp", "modf", "scalbn", "scalbln", "significand",
          "j0", "j1", "jn", "y0", "y1", "yn",
          /* what the classification macros (isnan, isinf, fpclassify,
           * signbit) may call instead of expanding inline */
          "__fpclassify", "__isnan", "__isinf", "__finite", "__signbit", "__issignaling",
          "__iseqsig", NULL } },
    { "`string.h`: memory and string functions (`memcpy`, `memset`, `memmove`, `memcmp`, "
      "`strlen`, `strcmp`, `strcpy`, `strncpy`, `strchr`, `strstr`, `strdup`, `strerror`, "
      "...)",
      false,
      (const char *const[]){
          "memcpy", "memmove", "memset", "memcmp", "memchr", "memrchr", "rawmemchr",
          "__rawmemchr", "mempcpy", "memccpy", "bzero", "explicit_bzero", "strlen", "strnlen",
          "strcmp", "strncmp", "strcasecmp", "strncasecmp", "strcpy", "strncpy", "stpcpy",
          "stpncpy", "strcat", "strncat", "strchr", "strrchr", "strchrnul", "strstr",
          "strspn", "strcspn", "strpbrk", "strdup", "strndup", "strtok", "strtok_r",
          "strerror", "strerror_r", "__xpg_strerror_r",
          /* what _FORTIFY_SOURCE turns them into */
          "__memcpy_chk", "__memmove_chk", "__memset_chk", "__mempcpy_chk", "__strcpy_chk",
          "__stpcpy_chk", "__strncpy_chk", "__stpncpy_chk", "__strcat_chk", "__strncat_chk",
          NULL } },
    { "`stdlib.h`: `malloc`, `calloc`, `realloc`, `free`, `aligned_alloc`, `qsort`, "
      "`bsearch`, `abs`, `labs`, `div`, `rand`, `srand`, `strtod`, `strtol`, `atoi` and "
      "the like, `abort`",
      false,
      (const char *const[]){
          "malloc", "calloc", "realloc", "reallocarray", "free", "aligned_alloc",
          "posix_memalign", "memalign", "qsort", "qsort_r", "bsearch", "abs", "labs", "llabs",
          "div", "ldiv", "lldiv", "rand", "srand", "rand_r", "strtod", "strtof", "strtold",
          "strtol", "strtoll", "strtoul", "strtoull", "atoi", "atol", "atoll", "atof",
          "__isoc23_strtol", "__isoc23_strtoll", "__isoc23_strtoul", "__isoc23_strtoull",
          /* ends only the runner, as a failed assert does */
          "abort", NULL } },
    { "`stdio.h`: printing to `stdout` and `stderr` (`printf`, `fprintf`, `puts`, `fputs`, "
      "`putchar`, `fputc`, `fwrite`, `fflush`, `perror`) and into strings (`snprintf`, "
      "`sprintf`); no files",
      false,
      (const char *const[]){
          "printf", "fprintf", "vprintf", "vfprintf", "dprintf", "puts", "fputs", "putchar",
          "fputc", "putc", "_IO_putc", "fwrite", "fflush", "perror", "snprintf", "sprintf",
          "vsnprintf", "vsprintf", "stdout", "stderr", "putchar_unlocked", "putc_unlocked",
          "fputc_unlocked", "fwrite_unlocked", "fputs_unlocked", "__printf_chk",
          "__fprintf_chk", "__vprintf_chk", "__vfprintf_chk", "__snprintf_chk",
          "__sprintf_chk", "__vsnprintf_chk", "__vsprintf_chk", "__dprintf_chk", NULL } },
    { "`assert.h`, `errno.h` and `ctype.h`: `assert`, `errno`, `isdigit`, `toupper` and "
      "the like",
      false,
      (const char *const[]){
          "__assert_fail", "__assert_perror_fail", "__assert", "__errno_location",
          "__ctype_b_loc", "__ctype_tolower_loc", "__ctype_toupper_loc", "tolower", "toupper",
          "isalnum", "isalpha", "isblank", "iscntrl", "isdigit", "isgraph", "islower",
          "isprint", "ispunct", "isspace", "isupper", "isxdigit", NULL } },
    { "what the compiler itself may call: the stack protector (`__stack_chk_fail`) and "
      "GCC's arithmetic helpers (`__popcountdi2`, `__powidf2`, 128-bit division, complex "
      "multiplication)",
      false,
      (const char *const[]){
          "__stack_chk_fail", "__stack_chk_fail_local", "__stack_chk_guard",
          "_GLOBAL_OFFSET_TABLE_", "__tls_get_addr", "__popcountsi2", "__popcountdi2",
          "__popcountti2", "__paritysi2", "__paritydi2", "__parityti2", "__clzsi2",
          "__clzdi2", "__clzti2", "__ctzsi2", "__ctzdi2", "__ctzti2", "__ffssi2", "__ffsdi2",
          "__ffsti2", "__bswapsi2", "__bswapdi2", "__powisf2", "__powidf2", "__powixf2",
          "__powitf2", "__mulsc3", "__muldc3", "__mulxc3", "__multc3", "__divsc3",
          "__divdc3", "__divxc3", "__divtc3", "__divti3", "__modti3", "__udivti3",
          "__umodti3", "__udivmodti4", "__divmodti4", "__multi3", "__ashlti3", "__ashrti3",
          "__lshrti3", "__negti2", "__cmpti2", "__ucmpti2", "__absvsi2", "__absvdi2",
          "__addvsi3", "__addvdi3", "__subvsi3", "__subvdi3", "__mulvsi3", "__mulvdi3",
          "__negvsi2", "__negvdi2", "__fixsfti", "__fixdfti", "__fixxfti", "__fixunssfti",
          "__fixunsdfti", "__fixunsxfti", "__floattisf", "__floattidf", "__floattixf",
          "__floatuntisf", "__floatuntidf", "__floatuntixf", "__extendhfsf2",
          "__truncsfhf2", "__truncdfhf2", NULL } },
};

#define GROUP_COUNT (sizeof allowed_calls / sizeof allowed_calls[0])

static bool in_list(const char *const *names, const char *name)
{
    for (; *names != NULL; names++)
        if (strcmp(*names, name) == 0)
            return true;
    return false;
}

bool dg_inspect_call_allowed(const char *name)
{
    /* glibc's vector math (libmvec), which GCC calls for math functions in
     * vectorised loops when fast-math is on: _ZGVdN4v_exp is exp, four at
     * a time. */
    if (strncmp(name, "_ZGV", 4) == 0) {
        const char *base = strchr(name + 4, '_');
        return base != NULL && base[1] != '\0' && strncmp(base + 1, "_ZGV", 4) != 0
               && dg_inspect_call_allowed(base + 1);
    }
    size_t length = strlen(name);
    for (size_t g = 0; g < GROUP_COUNT; g++) {
        if (in_list(allowed_calls[g].names, name))
            return true;
        if (allowed_calls[g].precisions && length > 1
            && (name[length - 1] == 'f' || name[length - 1] == 'l')) {
            char base[64];
            if (length - 1 < sizeof base) {
                memcpy(base, name, length - 1);
                base[length - 1] = '\0';
                if (in_list(allowed_calls[g].names, base))
                    return true;
            }
        }
    }
    return false;
}

const char *const *dg_inspect_allowed_summary(void)
{
    static const char *summary[GROUP_COUNT + 1];
    for (size_t g = 0; g < GROUP_COUNT; g++)
        summary[g] = allowed_calls[g].summary;
    summary[GROUP_COUNT] = NULL;
    return summary;
}

/* Variables of the C library a unit might read: "uses stdin", not "calls". */
static const char *const library_data[] = { "stdin", "environ", "__environ", "_environ",
                                            "optarg", "optind", "program_invocation_name",
                                            "program_invocation_short_name", "__progname",
                                            "signgam", "timezone", "daylight", "tzname", NULL };

/* ---- name sets --------------------------------------------------------------------- */

nn_status dg_names_add(dg_names *set, const char *name, nn_error *err)
{
    if (set->count == set->capacity) {
        size_t capacity = set->capacity ? 2 * set->capacity : 64;
        char **grown = realloc(set->names, capacity * sizeof *grown);
        if (grown == NULL)
            return nn_error_set(err, NN_ERR_MEMORY, "out of memory for symbol names");
        set->names = grown;
        set->capacity = capacity;
    }
    set->names[set->count] = strdup(name);
    if (set->names[set->count] == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "out of memory for symbol names");
    set->count++;
    return NN_OK;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void dg_names_sort(dg_names *set)
{
    if (set->count == 0)
        return;
    qsort(set->names, set->count, sizeof *set->names, compare_names);
    size_t kept = 1;
    for (size_t i = 1; i < set->count; i++) {
        if (strcmp(set->names[i], set->names[kept - 1]) == 0)
            free(set->names[i]);
        else
            set->names[kept++] = set->names[i];
    }
    set->count = kept;
}

bool dg_names_has(const dg_names *set, const char *name)
{
    return set->count > 0
           && bsearch(&name, set->names, set->count, sizeof *set->names, compare_names) != NULL;
}

void dg_names_release(dg_names *set)
{
    for (size_t i = 0; i < set->count; i++)
        free(set->names[i]);
    free(set->names);
    *set = (dg_names){ 0 };
}

void dg_inspect_rules_release(dg_inspect_rules *rules)
{
    dg_names_release(&rules->own);
    dg_names_release(&rules->api);
    dg_names_release(&rules->reference_only);
}

/* ---- reading files ----------------------------------------------------------------- */

/* The whole regular file at path, at most limit bytes (malloc'd). Links
 * are not followed and nothing but a regular file is opened for reading
 * (a FIFO would block). NULL with *too_big when the file is larger. */
static unsigned char *read_bounded(const char *path, size_t limit, size_t *size, bool *too_big,
                                   nn_error *err)
{
    *too_big = false;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        nn_error_set(err, NN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat info;
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        close(fd);
        nn_error_set(err, NN_ERR_IO, "%s: not a regular file", path);
        return NULL;
    }
    if ((uintmax_t)info.st_size > limit) {
        close(fd);
        *too_big = true;
        *size = (size_t)info.st_size;
        nn_error_set(err, NN_ERR_FORMAT, "%s: larger than %zu bytes", path, limit);
        return NULL;
    }
    /* One byte more than the file claims, to notice a file that grows. */
    size_t capacity = (size_t)info.st_size + 1, used = 0;
    unsigned char *bytes = malloc(capacity);
    if (bytes == NULL) {
        close(fd);
        nn_error_set(err, NN_ERR_MEMORY, "out of memory reading %s", path);
        return NULL;
    }
    for (;;) {
        ssize_t got = read(fd, bytes + used, capacity - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            nn_error_set(err, NN_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
            free(bytes);
            close(fd);
            return NULL;
        }
        if (got == 0)
            break;
        used += (size_t)got;
        if (used == capacity) {
            free(bytes);
            close(fd);
            nn_error_set(err, NN_ERR_IO, "%s: changed while it was read", path);
            return NULL;
        }
    }
    close(fd);
    *size = used;
    return bytes;
}

/* ---- the library's API, from its headers ------------------------------------------- */

static bool identifier_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || c == '_';
}

static nn_status names_of_header(dg_names *api, const char *text, size_t size, nn_error *err)
{
    for (size_t i = 0; i + 3 < size; i++) {
        if (strncmp(text + i, "nn_", 3) != 0 || (i > 0 && identifier_char(text[i - 1])))
            continue;
        size_t end = i + 3;
        while (end < size && identifier_char(text[end]))
            end++;
        /* The library's declarations put the parenthesis right after the
         * name; prose in comments ("nn_real (float or double)") does not. */
        if (end < size && text[end] == '(' && end - i < 128) {
            char name[128];
            memcpy(name, text + i, end - i);
            name[end - i] = '\0';
            nn_status status = dg_names_add(api, name, err);
            if (status != NN_OK)
                return status;
        }
        i = end;
    }
    return NN_OK;
}

nn_status dg_inspect_load_api(dg_names *api, const char *directory, nn_error *err)
{
    DIR *dir = opendir(directory);
    if (dir == NULL)
        return nn_error_set(err, NN_ERR_IO, "%s: cannot list the library's headers: %s",
                            directory, strerror(errno));
    nn_status status = NN_OK;
    int headers = 0;
    struct dirent *entry;
    while (status == NN_OK && (entry = readdir(dir)) != NULL) {
        size_t length = strlen(entry->d_name);
        if (length < 3 || strcmp(entry->d_name + length - 2, ".h") != 0)
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", directory, entry->d_name);
        size_t size;
        bool too_big;
        unsigned char *text = read_bounded(path, 1u << 20, &size, &too_big, err);
        if (text == NULL) {
            status = err != NULL && err->status != NN_OK ? err->status : NN_ERR_IO;
            break;
        }
        status = names_of_header(api, (const char *)text, size, err);
        free(text);
        headers++;
    }
    closedir(dir);
    if (status == NN_OK && headers == 0)
        status = nn_error_set(err, NN_ERR_IO, "%s: no headers", directory);
    dg_names_sort(api);
    return status;
}

nn_status dg_inspect_load_list(dg_names *set, const char *path, nn_error *err)
{
    size_t size;
    bool too_big;
    unsigned char *text = read_bounded(path, 1u << 20, &size, &too_big, err);
    if (text == NULL)
        return err != NULL && err->status != NN_OK ? err->status : NN_ERR_IO;
    nn_status status = NN_OK;
    for (size_t i = 0; status == NN_OK && i < size;) {
        size_t end = i;
        while (end < size && identifier_char((char)text[end]))
            end++;
        if (end > i && end - i < 128) {
            char name[128];
            memcpy(name, text + i, end - i);
            name[end - i] = '\0';
            status = dg_names_add(set, name, err);
        }
        while (end < size && text[end] != '\n')
            end++;
        i = end + 1;
    }
    free(text);
    dg_names_sort(set);
    return status;
}

/* ---- symbols of an ELF object ------------------------------------------------------ */

static void start_libelf(void)
{
    static bool started;
    if (!started) {
        elf_version(EV_CURRENT);
        started = true;
    }
}

static bool external(const GElf_Sym *sym)
{
    int bind = GELF_ST_BIND(sym->st_info);
    return bind == STB_GLOBAL || bind == STB_WEAK || bind == STB_GNU_UNIQUE;
}

typedef void (*symbol_visitor)(void *context, const char *name, const GElf_Sym *sym);

/* Calls visit for every named symbol of elf's symbol table. false when the
 * object cannot be read (its structure is damaged). */
static bool visit_symbols(Elf *elf, symbol_visitor visit, void *context)
{
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(elf, scn)) != NULL) {
        GElf_Shdr shdr;
        if (gelf_getshdr(scn, &shdr) == NULL)
            return false;
        if (shdr.sh_type != SHT_SYMTAB)
            continue;
        size_t entry = gelf_fsize(elf, ELF_T_SYM, 1, EV_CURRENT);
        Elf_Data *data = elf_getdata(scn, NULL);
        if (entry == 0 || data == NULL || data->d_size % entry != 0)
            return false;
        size_t count = data->d_size / entry;
        for (size_t i = 1; i < count; i++) {
            GElf_Sym sym;
            if (gelf_getsym(data, (int)i, &sym) == NULL)
                return false;
            if (sym.st_name == 0)
                continue;
            const char *name = elf_strptr(elf, shdr.sh_link, sym.st_name);
            if (name == NULL)
                return false;
            visit(context, name, &sym);
        }
    }
    return true;
}

typedef struct definitions_context {
    dg_names *defined;
    nn_status status;
    nn_error *err;
} definitions_context;

static void collect_definition(void *context, const char *name, const GElf_Sym *sym)
{
    definitions_context *c = context;
    if (c->status == NN_OK && sym->st_shndx != SHN_UNDEF && external(sym))
        c->status = dg_names_add(c->defined, name, c->err);
}

nn_status dg_inspect_archive_definitions(dg_names *defined, const char *path,
                                         const char *member, nn_error *err)
{
    start_libelf();
    size_t size;
    bool too_big;
    unsigned char *bytes = read_bounded(path, 1u << 30, &size, &too_big, err);
    if (bytes == NULL)
        return err != NULL && err->status != NN_OK ? err->status : NN_ERR_IO;
    Elf *archive = elf_memory((char *)bytes, size);
    if (archive == NULL || elf_kind(archive) != ELF_K_AR) {
        elf_end(archive);
        free(bytes);
        return nn_error_set(err, NN_ERR_FORMAT, "%s: not an archive", path);
    }
    definitions_context context = { .defined = defined, .status = NN_OK, .err = err };
    Elf_Cmd command = ELF_C_READ_MMAP;
    Elf *object;
    while (context.status == NN_OK && (object = elf_begin(-1, command, archive)) != NULL) {
        Elf_Arhdr *header = elf_getarhdr(object);
        if (header != NULL && header->ar_name != NULL && strcmp(header->ar_name, member) == 0
            && elf_kind(object) == ELF_K_ELF && !visit_symbols(object, collect_definition,
                                                               &context))
            context.status = nn_error_set(err, NN_ERR_FORMAT, "%s(%s): damaged", path, member);
        command = elf_next(object);
        elf_end(object);
    }
    elf_end(archive);
    free(bytes);
    dg_names_sort(defined);
    return context.status;
}

/* ---- the inspection ---------------------------------------------------------------- */

/* Problems are listed in a fixed order, whatever the compiler's order of
 * symbols: by kind (an unreadable object, code that runs by itself, what
 * the unit defines, what it calls), then alphabetically. */
enum { UNREADABLE, RUNS_BY_ITSELF, DEFINES, CALLS };

/* Problems kept for the list; more are only counted. */
#define KEPT_PROBLEMS 4096

typedef struct found_problem {
    int kind;
    char *line;
} found_problem;

typedef struct inspection_context {
    dg_inspection *result;
    const dg_inspect_rules *rules;
    found_problem *found;
    size_t found_count, found_capacity;
    bool out_of_memory;
} inspection_context;

static void problem(inspection_context *c, int kind, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Records one problem: a sentence after the file's name. */
static void problem(inspection_context *c, int kind, const char *format, ...)
{
    c->result->refused = true;
    c->result->problem_count++;
    if (c->found_count == KEPT_PROBLEMS)
        return;
    char line[512];
    int used = snprintf(line, sizeof line, "%s", c->rules->file);
    if (used < 0 || (size_t)used >= sizeof line)
        used = 0;
    va_list args;
    va_start(args, format);
    vsnprintf(line + used, sizeof line - (size_t)used, format, args);
    va_end(args);
    if (c->found_count == c->found_capacity) {
        size_t capacity = c->found_capacity ? 2 * c->found_capacity : 16;
        found_problem *grown = realloc(c->found, capacity * sizeof *grown);
        if (grown == NULL) {
            c->out_of_memory = true;
            return;
        }
        c->found = grown;
        c->found_capacity = capacity;
    }
    c->found[c->found_count].kind = kind;
    c->found[c->found_count].line = strdup(line);
    if (c->found[c->found_count].line == NULL)
        c->out_of_memory = true;
    else
        c->found_count++;
}

static int compare_problems(const void *a, const void *b)
{
    const found_problem *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return strcmp(x->line, y->line);
}

/* Sorts the problems into result's first line and list. */
static void finish(inspection_context *c)
{
    dg_inspection *result = c->result;
    if (c->found_count > 0)
        qsort(c->found, c->found_count, sizeof *c->found, compare_problems);
    size_t listed = c->found_count < DG_INSPECT_MAX_PROBLEMS ? c->found_count
                                                             : DG_INSPECT_MAX_PROBLEMS;
    size_t size = 64;
    for (size_t i = 0; i < listed; i++)
        size += strlen(c->found[i].line) + 1;
    if (c->found_count > 0) {
        snprintf(result->first, sizeof result->first, "%s", c->found[0].line);
        result->details = malloc(size);
        if (result->details == NULL) {
            c->out_of_memory = true;
        } else {
            size_t used = 0;
            for (size_t i = 0; i < listed; i++)
                used += (size_t)snprintf(result->details + used, size - used, "%s\n",
                                         c->found[i].line);
            if (result->problem_count > (int)listed)
                snprintf(result->details + used, size - used, "... and %d more problems\n",
                         result->problem_count - (int)listed);
        }
    }
    for (size_t i = 0; i < c->found_count; i++)
        free(c->found[i].line);
    free(c->found);
    c->found = NULL;
    c->found_count = c->found_capacity = 0;
}

/* Whether the C library (libc or libm, as this process has them loaded)
 * has a symbol of that name. Only names are looked up: nothing is loaded
 * (RTLD_NOLOAD) and nothing is called. */
static bool in_c_library(const char *name)
{
    static void *libraries[2];
    static bool opened;
    if (!opened) {
        libraries[0] = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
        libraries[1] = dlopen("libm.so.6", RTLD_LAZY | RTLD_NOLOAD);
        opened = true;
    }
    for (int i = 0; i < 2; i++)
        if (libraries[i] != NULL && dlsym(libraries[i], name) != NULL)
            return true;
    /* Without the dynamic libraries to ask, the table of allowed calls
     * still names the common ones. */
    return dg_inspect_call_allowed(name) || in_list(library_data, name);
}

static bool starts_with(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

static void judge_definition(inspection_context *c, const char *name, const GElf_Sym *sym)
{
    int type = GELF_ST_TYPE(sym->st_info);
    const char *file = c->rules->file;
    if (dg_names_has(&c->rules->own, name)) {
        /* A weak definition invites another to win at link time. */
        if (GELF_ST_BIND(sym->st_info) == STB_WEAK)
            problem(c, DEFINES, " defines %s as a weak symbol: remove __attribute__((weak))",
                    name);
    } else if (starts_with(name, "dg_")) {
        problem(c, DEFINES, " defines %s, a name of the grader's harness", name);
    } else if (strcmp(name, "main") == 0) {
        problem(c, DEFINES,
                " defines main, a C runtime function: the program around your unit has its own");
    } else if (starts_with(name, "nn_")) {
        problem(c, DEFINES, " defines %s, a library function that is not part of %s", name,
                file);
    } else if (in_c_library(name)) {
        problem(c, DEFINES, " defines %s, a C library function", name);
    } else if (name[0] == '_') {
        problem(c, DEFINES, " defines %s, a name reserved for the C runtime", name);
    } else if (type == STT_FUNC || type == STT_GNU_IFUNC) {
        problem(c, DEFINES, ": helper `%s` has external linkage: declare it static", name);
    } else {
        problem(c, DEFINES, ": global variable `%s` has external linkage: declare it static",
                name);
    }
}

static void judge_reference(inspection_context *c, const char *name)
{
    if (dg_names_has(&c->rules->reference_only, name)) {
        problem(c, CALLS,
                " calls %s, which belongs to the reference solution and is not linked with "
                "submissions: use the functions of framework/include/nn/", name);
    } else if (starts_with(name, "nn_")) {
        if (!dg_names_has(&c->rules->api, name))
            problem(c, CALLS, " calls %s, which the library's headers do not declare", name);
    } else if (dg_inspect_call_allowed(name)) {
        return;
    } else if (starts_with(name, "dg_")) {
        problem(c, CALLS,
                " calls %s, a function of the grader's harness, which is not available to a "
                "layer", name);
    } else if (in_list(library_data, name)) {
        problem(c, CALLS, " uses %s, which is not available to a layer", name);
    } else if (strcmp(name, "exit") == 0 || strcmp(name, "_exit") == 0
               || strcmp(name, "_Exit") == 0 || strcmp(name, "quick_exit") == 0) {
        problem(c, CALLS,
                " calls %s, which is not available to a layer (return an nn_status instead)",
                name);
    } else {
        problem(c, CALLS, " calls %s, which is not available to a layer", name);
    }
}

static void judge_symbol(void *context, const char *name, const GElf_Sym *sym)
{
    inspection_context *c = context;
    if (GELF_ST_TYPE(sym->st_info) == STT_GNU_IFUNC)
        problem(c, RUNS_BY_ITSELF, " runs code before main: `%s` is an ifunc, whose resolver "
                                   "runs while the program loads", name);
    if (!external(sym))
        return;
    if (sym->st_shndx == SHN_UNDEF)
        judge_reference(c, name);
    else
        judge_definition(c, name, sym);
}

/* Sections whose contents the loader or the C runtime run by themselves,
 * before main (constructors) or after it (destructors). */
static void judge_section(inspection_context *c, const char *name, const GElf_Shdr *shdr)
{
    static const char *const before[] = { ".init_array", ".preinit_array", ".ctors", NULL };
    static const char *const after[] = { ".fini_array", ".dtors", NULL };
    bool constructor = shdr->sh_type == SHT_INIT_ARRAY || shdr->sh_type == SHT_PREINIT_ARRAY
                       || strcmp(name, ".init") == 0;
    bool destructor = shdr->sh_type == SHT_FINI_ARRAY || strcmp(name, ".fini") == 0;
    for (int i = 0; before[i] != NULL; i++) {
        size_t n = strlen(before[i]);
        constructor |= strncmp(name, before[i], n) == 0 && (name[n] == '\0' || name[n] == '.');
    }
    for (int i = 0; after[i] != NULL; i++) {
        size_t n = strlen(after[i]);
        destructor |= strncmp(name, after[i], n) == 0 && (name[n] == '\0' || name[n] == '.');
    }
    if (constructor)
        problem(c, RUNS_BY_ITSELF, " runs code before main (a constructor): section %s", name);
    else if (destructor)
        problem(c, RUNS_BY_ITSELF, " runs code after main (a destructor): section %s", name);
}

/* Whether the section table and every section's contents lie within the
 * image, and there is a symbol table: what a compiler always writes, and
 * what a truncated object lacks (libelf would read it as fewer sections,
 * or none, and nothing refused). */
static bool sections_in_bounds(Elf *elf, const GElf_Ehdr *header, size_t size)
{
    size_t count;
    if (elf_getshdrnum(elf, &count) != 0 || count == 0 || header->e_shoff == 0
        || header->e_shoff > size || header->e_shentsize == 0
        || (size - header->e_shoff) / header->e_shentsize < count)
        return false;
    bool symbols = false;
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(elf, scn)) != NULL) {
        GElf_Shdr shdr;
        if (gelf_getshdr(scn, &shdr) == NULL)
            return false;
        if (shdr.sh_type != SHT_NOBITS && shdr.sh_type != SHT_NULL
            && (shdr.sh_offset > size || shdr.sh_size > size - shdr.sh_offset))
            return false;
        symbols |= shdr.sh_type == SHT_SYMTAB;
    }
    return symbols;
}

nn_status dg_inspect_memory(dg_inspection *result, const unsigned char *bytes, size_t size,
                            const dg_inspect_rules *rules, nn_error *err)
{
    start_libelf();
    *result = (dg_inspection){ 0 };
    inspection_context c = { .result = result, .rules = rules };
    /* libelf reads the image in place; a private copy keeps the caller's
     * bytes const. */
    char *image = malloc(size ? size : 1);
    if (image == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "out of memory inspecting %s", rules->file);
    if (size > 0)
        memcpy(image, bytes, size);
    Elf *elf = elf_memory(image, size);
    GElf_Ehdr header;
    size_t names_index;
    if (elf == NULL || elf_kind(elf) != ELF_K_ELF || gelf_getehdr(elf, &header) == NULL) {
        problem(&c, UNREADABLE,
                " did not compile to an object the grader can read (not an ELF file)");
    } else if (header.e_type != ET_REL) {
        problem(&c, UNREADABLE, " did not compile to a relocatable object (ELF type %d)",
                (int)header.e_type);
    } else if (elf_getshdrstrndx(elf, &names_index) != 0) {
        const char *why = elf_errmsg(-1);
        problem(&c, UNREADABLE, " did not compile to an object the grader can read (%s)",
                why != NULL ? why : "no section names");
    } else if (!sections_in_bounds(elf, &header, size)) {
        problem(&c, UNREADABLE,
                " did not compile to an object the grader can read (cut short or damaged)");
    } else {
        bool damaged = false;
        Elf_Scn *scn = NULL;
        while (!damaged && (scn = elf_nextscn(elf, scn)) != NULL) {
            GElf_Shdr shdr;
            const char *name = NULL;
            damaged = gelf_getshdr(scn, &shdr) == NULL
                      || (name = elf_strptr(elf, names_index, shdr.sh_name)) == NULL;
            if (!damaged)
                judge_section(&c, name, &shdr);
        }
        if (damaged || !visit_symbols(elf, judge_symbol, &c)) {
            const char *why = elf_errmsg(-1);
            problem(&c, UNREADABLE,
                    " did not compile to an object the grader can read (damaged: %s)",
                    why != NULL ? why : "inconsistent tables");
        }
    }
    elf_end(elf);
    free(image);
    finish(&c);
    if (c.out_of_memory) {
        dg_inspection_release(result);
        return nn_error_set(err, NN_ERR_MEMORY, "out of memory inspecting %s", rules->file);
    }
    return NN_OK;
}

nn_status dg_inspect_object(dg_inspection *result, const char *path,
                            const dg_inspect_rules *rules, nn_error *err)
{
    *result = (dg_inspection){ 0 };
    size_t size = 0;
    bool too_big;
    nn_error read_error = { 0 };
    unsigned char *bytes = read_bounded(path, DG_INSPECT_MAX_OBJECT_BYTES, &size, &too_big,
                                        &read_error);
    if (bytes == NULL) {
        if (read_error.status == NN_ERR_MEMORY)
            return nn_error_set(err, NN_ERR_MEMORY, "%s", read_error.message);
        inspection_context c = { .result = result, .rules = rules };
        if (too_big)
            problem(&c, UNREADABLE,
                    " compiled to an object of %zu MiB, more than the %u MiB allowed (a huge "
                    "initialised array?)", size >> 20, DG_INSPECT_MAX_OBJECT_BYTES >> 20);
        else {
            /* The reason without the path, which is the grader's. */
            const char *reason = read_error.message;
            size_t length = strlen(path);
            if (strncmp(reason, path, length) == 0 && reason[length] == ':')
                reason += length + 2;
            problem(&c, UNREADABLE, " did not compile to an object the grader can read (%s)",
                    reason);
        }
        finish(&c);
        if (c.out_of_memory) {
            dg_inspection_release(result);
            return nn_error_set(err, NN_ERR_MEMORY, "out of memory inspecting %s", rules->file);
        }
        return NN_OK;
    }
    nn_status status = dg_inspect_memory(result, bytes, size, rules, err);
    free(bytes);
    return status;
}

void dg_inspection_release(dg_inspection *result)
{
    free(result->details);
    result->details = NULL;
}
