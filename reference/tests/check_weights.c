/*
 * check_weights.c - the weights file: a save/load round trip reproduces the
 * network (values stored as float32), batch norm's running statistics
 * travel with the weights, and every kind of bad file is refused with its
 * path and a byte offset, leaving the network exactly as it was: another
 * architecture, a truncated file, a damaged gzip stream, altered content
 * recompressed with a valid gzip (the inner CRC must notice), a wrong magic
 * or version, extra bytes inside or after the stream, a file that is not
 * gzip, and a gzip bomb (read only up to a bound set by the model's
 * size). Saving somewhere impossible fails without leaving a temporary
 * file.
 */
#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <zlib.h>

#include "netutil.h"

static const char model_spec[] = "input: [2, 2, 2]\n"
                                 "layers:\n"
                                 "  - flatten\n"
                                 "  - {type: linear, out: 6}\n"
                                 "  - batchnorm\n"
                                 "  - prelu\n"
                                 "  - {type: linear, out: 3}\n";

enum { N = 8, INPUTS = 8, OUTPUTS = 3 };

/* A network whose every parameter and buffer is non-trivial: a few
 * training-mode passes move the running statistics, and gamma, beta and the
 * PReLU slope get random values. */
static nn_network *make_trained(const char *spec, uint64_t seed)
{
    nn_network *network = net_build(spec, N, seed);
    nn_rng rng;
    nn_rng_seed(&rng, seed + 1000);
    nn_real x[N * INPUTS];
    nn_run_context training = { .training = true, .rng = NULL };
    nn_error err;
    for (int pass = 0; pass < 3; pass++) {
        test_fill_uniform(x, N * INPUTS, &rng, -1, 3);
        net_assert_ok(nn_network_forward(network, x, N, &training, &err), &err);
    }
    for (size_t p = 0; p < network->parameter_count; p++)
        for (size_t i = 0; i < network->parameters[p].count; i++)
            network->parameters[p].value[i] += (nn_real)nn_rng_uniform_range(&rng, -0.5, 0.5);
    return network;
}

static void eval_outputs(nn_network *network, nn_real *out)
{
    nn_real x[N * INPUTS];
    nn_rng rng;
    nn_rng_seed(&rng, 77);
    test_fill_uniform(x, N * INPUTS, &rng, -2, 2);
    nn_run_context eval = { .training = false, .rng = NULL };
    nn_error err;
    net_assert_ok(nn_network_forward(network, x, N, &eval, &err), &err);
    memcpy(out, nn_network_output(network), N * OUTPUTS * sizeof(nn_real));
}

/* Every parameter and buffer value of a network, in weights-file order. */
static nn_real *snapshot(const nn_network *network, size_t *count)
{
    size_t total = 0;
    for (int i = 0; i < network->layer_count; i++) {
        const nn_layer *layer = network->layers[i];
        for (int p = 0; p < layer->parameter_count; p++)
            total += layer->parameters[p].count;
        for (int b = 0; b < layer->buffer_count; b++)
            total += layer->buffer_sizes[b];
    }
    nn_real *values = malloc(total * sizeof *values);
    size_t at = 0;
    for (int i = 0; i < network->layer_count; i++) {
        const nn_layer *layer = network->layers[i];
        for (int p = 0; p < layer->parameter_count; p++) {
            memcpy(values + at, layer->parameters[p].value,
                   layer->parameters[p].count * sizeof *values);
            at += layer->parameters[p].count;
        }
        for (int b = 0; b < layer->buffer_count; b++) {
            memcpy(values + at, layer->buffers[b], layer->buffer_sizes[b] * sizeof *values);
            at += layer->buffer_sizes[b];
        }
    }
    *count = total;
    return values;
}

/* ---- files ------------------------------------------------------------------ */

static unsigned char *read_raw(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    ck_assert_ptr_nonnull(file);
    fseek(file, 0, SEEK_END);
    long length = ftell(file);
    fseek(file, 0, SEEK_SET);
    unsigned char *bytes = malloc((size_t)length + 1);
    ck_assert_uint_eq(fread(bytes, 1, (size_t)length, file), (size_t)length);
    fclose(file);
    *size = (size_t)length;
    return bytes;
}

static void write_raw(const char *path, const unsigned char *bytes, size_t size)
{
    FILE *file = fopen(path, "wb");
    ck_assert_ptr_nonnull(file);
    ck_assert_uint_eq(fwrite(bytes, 1, size, file), size);
    fclose(file);
}

/* The uncompressed content of a gzip file. */
static unsigned char *read_content(const char *path, size_t *size)
{
    gzFile file = gzopen(path, "rb");
    ck_assert_ptr_nonnull(file);
    size_t capacity = 1 << 16, used = 0;
    unsigned char *bytes = malloc(capacity);
    int got;
    while ((got = gzread(file, bytes + used, (unsigned)(capacity - used))) > 0) {
        used += (size_t)got;
        if (used == capacity)
            bytes = realloc(bytes, capacity *= 2);
    }
    ck_assert_int_eq(got, 0);
    gzclose(file);
    *size = used;
    return bytes;
}

/* Writes content as a valid gzip file. */
static void write_content(const char *path, const unsigned char *bytes, size_t size)
{
    gzFile file = gzopen(path, "wb");
    ck_assert_ptr_nonnull(file);
    ck_assert_int_eq(gzwrite(file, bytes, (unsigned)size), (int)size);
    ck_assert_int_eq(gzclose(file), Z_OK);
}

static int count_entries(const char *dir)
{
    DIR *handle = opendir(dir);
    ck_assert_ptr_nonnull(handle);
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(handle)) != NULL)
        count += strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0;
    closedir(handle);
    return count;
}

/* Bytes one tensor takes in the content: name length, name, rank, dims,
 * float32 values (the layout documented in network.h and weights.c). */
static size_t entry_bytes(const char *name, int rank, size_t values)
{
    return 2 + strlen(name) + 1 + 4 * (size_t)rank + 4 * values;
}

enum { HEADER_BYTES = 16 };  /* magic, version, tensor count */

/* Rewrites the content's closing CRC-32 to match its new bytes, as a
 * writer of that content would have. */
static void reseal(unsigned char *content, size_t size)
{
    uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), content, (uInt)(size - 4));
    for (int k = 0; k < 4; k++)
        content[size - 4 + (size_t)k] = (unsigned char)(crc >> (8 * k));
}

/* ---- round trip -------------------------------------------------------------- */

START_TEST(save_then_load_reproduces_the_network)
{
    char dir[256], path[512], again[512];
    test_make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/model.dlw", dir);
    snprintf(again, sizeof again, "%s/again.dlw", dir);
    nn_network *original = make_trained(model_spec, 1);
    nn_network *copy = net_build(model_spec, N, 2);
    nn_real expected[N * OUTPUTS], got[N * OUTPUTS];
    eval_outputs(original, expected);
    eval_outputs(copy, got);
    ck_assert(net_max_difference(expected, got, N * OUTPUTS) > 0.1);  /* another seed */

    nn_error err;
    net_assert_ok(nn_weights_save(original, path, &err), &err);
    net_assert_ok(nn_weights_load(copy, path, &err), &err);
    /* Each value is the original rounded to float32: exact in the float
     * build, within float32's precision in the double build. */
    size_t count, copied_count;
    nn_real *want = snapshot(original, &count);
    nn_real *have = snapshot(copy, &copied_count);
    ck_assert_uint_eq(count, copied_count);
    for (size_t i = 0; i < count; i++)
        ck_assert_msg(have[i] == (nn_real)(float)want[i], "value %zu: %.9g, saved %.9g", i,
                      (double)have[i], (double)want[i]);
    eval_outputs(copy, got);
    double tolerance = NN_REAL_IS_DOUBLE ? 1e-5 : 0;
    for (size_t i = 0; i < N * OUTPUTS; i++)
        ck_assert_real_near(got[i], expected[i], tolerance);

    /* A second round trip changes nothing at all. */
    nn_network *third = net_build(model_spec, N, 3);
    net_assert_ok(nn_weights_save(copy, again, &err), &err);
    net_assert_ok(nn_weights_load(third, again, &err), &err);
    nn_real *third_values = snapshot(third, &copied_count);
    ck_assert_int_eq(memcmp(third_values, have, count * sizeof *have), 0);

    /* The file is gzip, and the temporary file is gone. */
    size_t size;
    unsigned char *raw = read_raw(path, &size);
    ck_assert_uint_gt(size, 2);
    ck_assert_uint_eq(raw[0], 0x1f);
    ck_assert_uint_eq(raw[1], 0x8b);
    ck_assert_int_eq(count_entries(dir), 2);
    free(raw), free(want), free(have), free(third_values);
    nn_network_free(original);
    nn_network_free(copy);
    nn_network_free(third);
    test_remove_dir(dir);
}
END_TEST

START_TEST(batchnorm_running_statistics_are_saved)
{
    char dir[256], path[512];
    test_make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/model.dlw", dir);
    nn_network *original = make_trained(model_spec, 4);
    nn_network *copy = net_build(model_spec, N, 5);
    const nn_layer *saved = original->layers[2], *loaded = copy->layers[2];
    ck_assert_str_eq(saved->buffer_names[0], "running_mean");
    ck_assert_str_eq(saved->buffer_names[1], "running_var");
    /* Fresh statistics are 0 and 1; training moved them. */
    for (size_t c = 0; c < 6; c++) {
        ck_assert(loaded->buffers[0][c] == 0 && loaded->buffers[1][c] == 1);
        ck_assert(saved->buffers[0][c] != 0 && saved->buffers[1][c] != 1);
    }
    nn_error err;
    net_assert_ok(nn_weights_save(original, path, &err), &err);
    net_assert_ok(nn_weights_load(copy, path, &err), &err);
    for (int b = 0; b < 2; b++)
        for (size_t c = 0; c < 6; c++)
            ck_assert(loaded->buffers[b][c] == (nn_real)(float)saved->buffers[b][c]);
    /* And the content lists them by name. */
    size_t size;
    unsigned char *content = read_content(path, &size);
    ck_assert_ptr_nonnull(memmem(content, size, "batchnorm3.running_var", 22));
    ck_assert_ptr_nonnull(memmem(content, size, "prelu4.slope", 12));
    free(content);
    nn_network_free(original);
    nn_network_free(copy);
    test_remove_dir(dir);
}
END_TEST

/* ---- refusals ------------------------------------------------------------------- */

/* Loading path into network fails with `status`; the message names the
 * path and each part; the network is unchanged. */
static void expect_refused(nn_network *network, const char *path, nn_status status,
                           const char *const *parts)
{
    size_t count, after_count;
    nn_real *before = snapshot(network, &count);
    nn_error err;
    nn_status got = nn_weights_load(network, path, &err);
    ck_assert_msg(got == status, "status %s, expected %s (%s)", nn_status_name(got),
                  nn_status_name(status), got == NN_OK ? "loaded" : err.message);
    ck_assert_msg(strncmp(err.message, path, strlen(path)) == 0,
                  "message '%s' does not start with the path", err.message);
    for (int i = 0; parts[i] != NULL; i++)
        ck_assert_msg(strstr(err.message, parts[i]) != NULL, "message '%s' does not mention '%s'",
                      err.message, parts[i]);
    nn_real *after = snapshot(network, &after_count);
    ck_assert_uint_eq(count, after_count);
    ck_assert_msg(memcmp(before, after, count * sizeof *before) == 0,
                  "a refused file changed the network");
    free(before), free(after);
}

#define PARTS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* A temporary directory with a saved model.dlw of model_spec, its
 * content in memory, and a network of the same spec to load into. */
typedef struct fixture {
    char dir[256], path[512], bad[512];
    unsigned char *content;
    size_t size;
    nn_network *network;
} fixture;

static void fixture_open(fixture *f)
{
    test_make_temp_dir(f->dir, sizeof f->dir);
    snprintf(f->path, sizeof f->path, "%s/model.dlw", f->dir);
    snprintf(f->bad, sizeof f->bad, "%s/bad.dlw", f->dir);
    nn_network *original = make_trained(model_spec, 6);
    nn_error err;
    net_assert_ok(nn_weights_save(original, f->path, &err), &err);
    nn_network_free(original);
    f->content = read_content(f->path, &f->size);
    f->network = make_trained(model_spec, 7);
}

static void fixture_close(fixture *f)
{
    free(f->content);
    nn_network_free(f->network);
    test_remove_dir(f->dir);
}

START_TEST(file_for_another_architecture_names_the_tensor_and_offset)
{
    char dir[256], path[512];
    test_make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/wide.dlw", dir);
    nn_network *wide = net_build("input: [4]\n"
                                 "layers: [{type: linear, out: 8}, relu, {type: linear, out: 3}]\n",
                                 N, 1);
    nn_error err;
    net_assert_ok(nn_weights_save(wide, path, &err), &err);

    /* Same names, another width: the first weight's shape differs. */
    nn_network *narrow = net_build("input: [4]\n"
                                   "layers: [{type: linear, out: 6}, relu, {type: linear, out: 3}]\n",
                                   N, 2);
    expect_refused(narrow, path, NN_ERR_SHAPE,
                   PARTS("offset 16:", "'linear1.weight'", "(8, 4)", "(6, 4)"));
    /* A layer more: tensor 3 has another name. */
    nn_network *deeper = net_build("input: [4]\n"
                                   "layers: [{type: linear, out: 8}, batchnorm, relu,\n"
                                   "         {type: linear, out: 3}]\n",
                                   N, 3);
    char offset[32];
    snprintf(offset, sizeof offset, "offset %zu:",
             HEADER_BYTES + entry_bytes("linear1.weight", 2, 32) + entry_bytes("linear1.bias", 1, 8));
    expect_refused(deeper, path, NN_ERR_FORMAT,
                   PARTS(offset, "tensor 3 is 'linear3.weight'", "expects 'batchnorm2.gamma'"));
    /* A prefix of the model: the file's extra tensor is named. */
    nn_network *shallow = net_build("input: [4]\n"
                                    "layers: [{type: linear, out: 8}]\n",
                                    N, 4);
    expect_refused(shallow, path, NN_ERR_FORMAT,
                   PARTS(offset, "holds 4 tensors", "has 2", "'linear3.weight' is extra"));
    /* The other way round: the model's missing tensor is named. */
    char short_path[512];
    snprintf(short_path, sizeof short_path, "%s/short.dlw", dir);
    net_assert_ok(nn_weights_save(shallow, short_path, &err), &err);
    expect_refused(wide, short_path, NN_ERR_FORMAT,
                   PARTS(offset, "holds 2 tensors", "'linear3.weight' is missing"));
    nn_network_free(wide);
    nn_network_free(narrow);
    nn_network_free(deeper);
    nn_network_free(shallow);
    test_remove_dir(dir);
}
END_TEST

START_TEST(truncated_file_is_refused)
{
    fixture f;
    fixture_open(&f);
    size_t size;
    unsigned char *raw = read_raw(f.path, &size);
    /* Cut inside the deflate data, and just before the gzip trailer. */
    write_raw(f.bad, raw, size / 2);
    expect_refused(f.network, f.bad, NN_ERR_FORMAT, PARTS("offset", "cut short"));
    write_raw(f.bad, raw, size - 3);
    expect_refused(f.network, f.bad, NN_ERR_FORMAT, PARTS("offset"));
    write_raw(f.bad, raw, 0);
    expect_refused(f.network, f.bad, NN_ERR_FORMAT, PARTS("offset 0:", "the file header"));
    /* Content cut short, validly compressed: the offset is where it ends. */
    write_content(f.bad, f.content, f.size - 6);
    char offset[32];
    snprintf(offset, sizeof offset, "offset %zu:", f.size - 6);
    expect_refused(f.network, f.bad, NN_ERR_FORMAT, PARTS(offset, "ends while reading"));
    free(raw);
    fixture_close(&f);
}
END_TEST

START_TEST(flipped_byte_in_the_gzip_stream_is_refused)
{
    fixture f;
    fixture_open(&f);
    size_t size;
    unsigned char *raw = read_raw(f.path, &size);
    /* Every 7th byte from the end of the gzip header (10 bytes) to the end
     * of the file: each flip must be caught, whether by the deflate
     * decoder, gzip's own CRC, or the file's. Not the last deflate byte
     * (size - 9): its high bits may be padding that inflate never reads. */
    for (size_t at = 10; at < size; at += 7) {
        if (at == size - 9)
            continue;
        raw[at] ^= 0x10;
        write_raw(f.bad, raw, size);
        /* Reported as damage, never as a model that merely differs. */
        expect_refused(f.network, f.bad, NN_ERR_FORMAT, PARTS("offset", "damaged"));
        raw[at] ^= 0x10;
    }
    free(raw);
    fixture_close(&f);
}
END_TEST

START_TEST(altered_content_with_a_valid_gzip_fails_the_inner_checksum)
{
    fixture f;
    fixture_open(&f);
    /* The low byte of the last value (before the 4-byte CRC): a tiny,
     * finite change, recompressed so that gzip itself sees nothing wrong. */
    f.content[f.size - 8] ^= 0x01;
    write_content(f.bad, f.content, f.size);
    char offset[32];
    snprintf(offset, sizeof offset, "offset %zu:", f.size - 4);
    expect_refused(f.network, f.bad, NN_ERR_FORMAT, PARTS(offset, "checksum mismatch"));
    fixture_close(&f);
}
END_TEST

START_TEST(non_finite_value_is_refused_at_its_offset)
{
    fixture f;
    fixture_open(&f);
    /* The first value of the first tensor becomes +infinity. */
    size_t at = HEADER_BYTES + 2 + strlen("linear2.weight") + 1 + 8;
    static const unsigned char infinity[4] = { 0x00, 0x00, 0x80, 0x7f };
    memcpy(f.content + at, infinity, 4);
    reseal(f.content, f.size);
    write_content(f.bad, f.content, f.size);
    char offset[32];
    snprintf(offset, sizeof offset, "offset %zu:", at);
    expect_refused(f.network, f.bad, NN_ERR_FORMAT,
                   PARTS(offset, "'linear2.weight' value 0 is not finite"));
    fixture_close(&f);
}
END_TEST

START_TEST(wrong_magic_and_version_are_refused)
{
    fixture f;
    fixture_open(&f);
    ck_assert_int_eq(memcmp(f.content, "DLGRADEW", 8), 0);
    f.content[7] = 'X';
    write_content(f.bad, f.content, f.size);
    expect_refused(f.network, f.bad, NN_ERR_FORMAT, PARTS("offset 0:", "not a dlgrade weights"));
    f.content[7] = 'W';
    ck_assert_uint_eq(f.content[8], 1);  /* version 1, little-endian */
    /* An intact file of a later version is refused for its version... */
    f.content[8] = 2;
    reseal(f.content, f.size);
    write_content(f.bad, f.content, f.size);
    expect_refused(f.network, f.bad, NN_ERR_FORMAT, PARTS("offset 8:", "version 2"));
    /* ...a damaged one for the damage, which the version only seems. */
    f.content[f.size - 1] ^= 0x40;
    write_content(f.bad, f.content, f.size);
    char offset[32];
    snprintf(offset, sizeof offset, "offset %zu:", f.size - 4);
    expect_refused(f.network, f.bad, NN_ERR_FORMAT, PARTS(offset, "checksum mismatch"));
    fixture_close(&f);
}
END_TEST

START_TEST(extra_bytes_are_refused)
{
    fixture f;
    fixture_open(&f);
    /* Inside the content, after the checksum. */
    unsigned char *longer = malloc(f.size + 3);
    memcpy(longer, f.content, f.size);
    memcpy(longer + f.size, "abc", 3);
    write_content(f.bad, longer, f.size + 3);
    char offset[32];
    snprintf(offset, sizeof offset, "offset %zu:", f.size);
    expect_refused(f.network, f.bad, NN_ERR_FORMAT,
                   PARTS(offset, "unexpected bytes after the checksum"));
    /* After the gzip stream, in the file. */
    size_t size;
    unsigned char *raw = read_raw(f.path, &size);
    raw = realloc(raw, size + 5);
    memcpy(raw + size, "trail", 5);
    write_raw(f.bad, raw, size + 5);
    snprintf(offset, sizeof offset, "file offset %zu:", size);
    expect_refused(f.network, f.bad, NN_ERR_FORMAT,
                   PARTS(offset, "5 unexpected bytes after the gzip stream"));
    /* A second gzip member is extra bytes too. */
    unsigned char *twice = malloc(2 * size);
    memcpy(twice, raw, size);
    memcpy(twice + size, raw, size);
    write_raw(f.bad, twice, 2 * size);
    expect_refused(f.network, f.bad, NN_ERR_FORMAT, PARTS("after the gzip stream"));
    free(longer), free(raw), free(twice);
    fixture_close(&f);
}
END_TEST

START_TEST(uncompressed_or_missing_file_is_refused)
{
    fixture f;
    fixture_open(&f);
    write_raw(f.bad, f.content, f.size);
    expect_refused(f.network, f.bad, NN_ERR_FORMAT, PARTS("offset 0:", "not a gzip file"));
    char missing[600];
    snprintf(missing, sizeof missing, "%s/absent.dlw", f.dir);
    expect_refused(f.network, missing, NN_ERR_IO, PARTS("cannot open"));
    fixture_close(&f);
}
END_TEST

START_TEST(saving_a_diverged_model_is_refused)
{
    char dir[256], path[600];
    test_make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/model.dlw", dir);
    nn_network *network = net_build(model_spec, N, 1);
    network->layers[4]->parameters[1].value[2] = (nn_real)NAN;
    nn_error err;
    ck_assert_int_eq(nn_weights_save(network, path, &err), NN_ERR_NUMERIC);
    ck_assert_ptr_nonnull(strstr(err.message, "'linear5.bias' value 2"));
    ck_assert_int_eq(count_entries(dir), 0);
    nn_network_free(network);
    test_remove_dir(dir);
}
END_TEST

START_TEST(saving_to_an_impossible_path_fails_cleanly)
{
    char dir[256], path[600];
    test_make_temp_dir(dir, sizeof dir);
    nn_network *network = net_build(model_spec, N, 1);
    nn_error err;
    /* A directory that does not exist. */
    snprintf(path, sizeof path, "%s/no/such/dir/model.dlw", dir);
    ck_assert_int_eq(nn_weights_save(network, path, &err), NN_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.message, path));
    /* A path that is a directory: the temporary file is written, the
     * rename fails, and the temporary file must be removed. */
    snprintf(path, sizeof path, "%s/taken", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    ck_assert_int_eq(nn_weights_save(network, path, &err), NN_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.message, path));
    ck_assert_int_eq(count_entries(dir), 1);  /* only "taken" */
    ck_assert_int_eq(count_entries(path), 0);
    nn_network_free(network);
    test_remove_dir(dir);
}
END_TEST

/* A gzip file of `zeros` zero bytes whose gzip trailer (its CRC) is wrong:
 * only a reader that reaches the end of the stream can tell. */
static void write_damaged_zeros(const char *path, size_t zeros)
{
    unsigned char *content = calloc(zeros, 1);
    ck_assert_ptr_nonnull(content);
    write_content(path, content, zeros);
    free(content);
    size_t size;
    unsigned char *raw = read_raw(path, &size);
    raw[size - 8] ^= 0x01;   /* the trailer: CRC-32, then the length */
    write_raw(path, raw, size);
    free(raw);
}

START_TEST(a_gzip_bomb_is_read_no_further_than_a_bound)
{
    fixture f;
    fixture_open(&f);
    /* Small: the reader goes to the end to tell damage from another kind
     * of file, and finds the damage. */
    write_damaged_zeros(f.bad, (size_t)64 << 10);
    expect_refused(f.network, f.bad, NN_ERR_FORMAT, PARTS("damaged"));
    /* 8 MiB of zeros (8 KiB of gzip) for a model of a few hundred bytes:
     * the reader stops long before the damaged end, and says what it
     * knows, that this is no weights file. */
    write_damaged_zeros(f.bad, (size_t)8 << 20);
    expect_refused(f.network, f.bad, NN_ERR_FORMAT,
                   PARTS("offset 0:", "not a dlgrade weights file"));
    fixture_close(&f);
}
END_TEST

Suite *weights_suite(void);
Suite *weights_suite(void)
{
    Suite *suite = suite_create("weights");
    TCase *tc = tcase_create("round_trip");
    tcase_add_test(tc, save_then_load_reproduces_the_network);
    tcase_add_test(tc, batchnorm_running_statistics_are_saved);
    suite_add_tcase(suite, tc);
    tc = tcase_create("refusals");
    tcase_add_test(tc, file_for_another_architecture_names_the_tensor_and_offset);
    tcase_add_test(tc, truncated_file_is_refused);
    tcase_add_test(tc, flipped_byte_in_the_gzip_stream_is_refused);
    tcase_add_test(tc, altered_content_with_a_valid_gzip_fails_the_inner_checksum);
    tcase_add_test(tc, non_finite_value_is_refused_at_its_offset);
    tcase_add_test(tc, wrong_magic_and_version_are_refused);
    tcase_add_test(tc, extra_bytes_are_refused);
    tcase_add_test(tc, uncompressed_or_missing_file_is_refused);
    tcase_add_test(tc, a_gzip_bomb_is_read_no_further_than_a_bound);
    tcase_add_test(tc, saving_a_diverged_model_is_refused);
    tcase_add_test(tc, saving_to_an_impossible_path_fails_cleanly);
    suite_add_tcase(suite, tc);
    return suite;
}
