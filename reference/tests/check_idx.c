/*
 * check_idx.c - the IDX reader accepts exactly the well-formed files and
 * rejects every damaged one with a message that names the file and the
 * problem; the writer round-trips; checksums of decompressed content.
 *
 * Each test builds its own small files (gzip through zlib, or plain) in a
 * private temporary directory.
 */
#include "nn/idx.h"
#include "testutil.h"

#include <stdarg.h>
#include <zlib.h>

typedef struct scratch {
    char dir[256];
    char path[512];
} scratch;

static void scratch_open(scratch *s, const char *name)
{
    test_make_temp_dir(s->dir, sizeof s->dir);
    snprintf(s->path, sizeof s->path, "%s/%s", s->dir, name);
}

static void write_gz(const char *path, const unsigned char *bytes, size_t count)
{
    gzFile file = gzopen(path, "wb");
    ck_assert_ptr_nonnull(file);
    if (count > 0)
        ck_assert_int_eq(gzwrite(file, bytes, (unsigned)count), (int)count);
    ck_assert_int_eq(gzclose(file), Z_OK);
}

static void write_plain(const char *path, const unsigned char *bytes, size_t count)
{
    FILE *file = fopen(path, "wb");
    ck_assert_ptr_nonnull(file);
    ck_assert_uint_eq(fwrite(bytes, 1, count, file), count);
    ck_assert_int_eq(fclose(file), 0);
}

/* Reads a whole file into a malloc'd buffer. */
static unsigned char *read_plain(const char *path, size_t *count)
{
    FILE *file = fopen(path, "rb");
    ck_assert_ptr_nonnull(file);
    ck_assert_int_eq(fseek(file, 0, SEEK_END), 0);
    long size = ftell(file);
    ck_assert_int_gt(size, 0);
    rewind(file);
    unsigned char *bytes = malloc((size_t)size);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_uint_eq(fread(bytes, 1, (size_t)size, file), (size_t)size);
    fclose(file);
    *count = (size_t)size;
    return bytes;
}

/* An IDX header of type 0x08 for the given dimensions; returns its size. */
static size_t make_header(unsigned char *header, int rank, const uint32_t *dims)
{
    header[0] = 0;
    header[1] = 0;
    header[2] = 0x08;
    header[3] = (unsigned char)rank;
    for (int i = 0; i < rank; i++) {
        header[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
        header[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
        header[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
        header[7 + 4 * i] = (unsigned char)dims[i];
    }
    return 4 + 4 * (size_t)rank;
}

/* A deterministic byte pattern with some repetition, so that deflate both
 * matches strings and codes literals. */
static void fill_pattern(unsigned char *bytes, size_t count, uint64_t seed)
{
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    for (size_t i = 0; i < count; i++)
        bytes[i] = (unsigned char)(nn_rng_below(&rng, 16) * 17);
}

/* Loading path must fail with `status`, leave *out NULL, and give a message
 * that names the file and contains every one of the NULL-terminated
 * phrases. */
static void assert_load_fails(const char *path, nn_status status, ...)
{
    nn_error err;
    nn_error_clear(&err);
    static nn_idx sentinel;
    nn_idx *idx = &sentinel; /* not NULL, so that the test sees it reset */
    nn_status got = nn_idx_load(&idx, path, &err);
    ck_assert_msg(got == status, "loading %s gave '%s' (%s), expected %s", path,
                  nn_status_name(got), err.message, nn_status_name(status));
    ck_assert_ptr_null(idx);
    ck_assert_msg(strstr(err.message, path) != NULL, "message does not name %s: %s", path,
                  err.message);
    va_list phrases;
    va_start(phrases, status);
    for (const char *phrase = va_arg(phrases, const char *); phrase != NULL;
         phrase = va_arg(phrases, const char *))
        ck_assert_msg(strstr(err.message, phrase) != NULL, "message lacks '%s': %s", phrase,
                      err.message);
    va_end(phrases);
}

START_TEST(valid_files_round_trip_in_every_rank)
{
    static const size_t shapes[][NN_IDX_MAX_RANK] = {
        { 7 }, { 3, 5 }, { 2, 3, 4 }, { 2, 1, 3, 5 },
    };
    for (int rank = 1; rank <= NN_IDX_MAX_RANK; rank++) {
        scratch s;
        scratch_open(&s, "round.idx.gz");
        const size_t *dims = shapes[rank - 1];
        size_t size = 1;
        for (int i = 0; i < rank; i++)
            size *= dims[i];
        unsigned char data[120];
        fill_pattern(data, size, (uint64_t)rank);
        nn_error err;
        ck_assert_int_eq(nn_idx_save_gz(s.path, rank, dims, data, &err), NN_OK);
        nn_idx *idx = NULL;
        ck_assert_msg(nn_idx_load(&idx, s.path, &err) == NN_OK, "%s", err.message);
        ck_assert_int_eq(idx->rank, rank);
        ck_assert_uint_eq(idx->size, size);
        for (int i = 0; i < NN_IDX_MAX_RANK; i++)
            ck_assert_uint_eq(idx->dims[i], i < rank ? dims[i] : 1);
        ck_assert_mem_eq(idx->data, data, size);
        nn_idx_free(idx);
        test_remove_dir(s.dir);
    }
}
END_TEST

/* Past the reader's first allocation (64 MiB) its buffer grows: the bytes
 * on both sides of the boundary and at the end must survive the move. */
START_TEST(data_larger_than_the_first_allocation_is_read_whole)
{
    scratch s;
    scratch_open(&s, "big.idx.gz");
    const size_t dims[2] = { 2, ((size_t)32 << 20) + 3 };
    size_t size = dims[0] * dims[1];
    unsigned char *data = calloc(size, 1);
    ck_assert_ptr_nonnull(data);
    const size_t marks[] = { 0, ((size_t)64 << 20) - 1, (size_t)64 << 20, size - 1 };
    for (size_t m = 0; m < 4; m++)
        data[marks[m]] = (unsigned char)(m + 1);
    nn_error err;
    ck_assert_int_eq(nn_idx_save_gz(s.path, 2, dims, data, &err), NN_OK);
    nn_idx *idx;
    ck_assert_msg(nn_idx_load(&idx, s.path, &err) == NN_OK, "%s", err.message);
    ck_assert_uint_eq(idx->size, size);
    ck_assert_int_eq(memcmp(idx->data, data, size), 0);
    for (size_t m = 0; m < 4; m++)
        ck_assert_uint_eq(idx->data[marks[m]], m + 1);
    nn_idx_free(idx);
    free(data);
    test_remove_dir(s.dir);
}
END_TEST

START_TEST(written_file_is_gzip_with_the_idx_header)
{
    scratch s;
    scratch_open(&s, "header.idx.gz");
    const size_t dims[2] = { 2, 258 };
    unsigned char data[516];
    fill_pattern(data, sizeof data, 9);
    nn_error err;
    ck_assert_int_eq(nn_idx_save_gz(s.path, 2, dims, data, &err), NN_OK);
    size_t count;
    unsigned char *bytes = read_plain(s.path, &count);
    ck_assert_uint_eq(bytes[0], 0x1f); /* gzip magic */
    ck_assert_uint_eq(bytes[1], 0x8b);
    free(bytes);
    /* Decompressed by zlib directly: magic, rank, big-endian dimensions. */
    gzFile file = gzopen(s.path, "rb");
    unsigned char header[12];
    ck_assert_int_eq(gzread(file, header, sizeof header), 12);
    gzclose(file);
    const unsigned char expected[12] = { 0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 1, 2 };
    ck_assert_mem_eq(header, expected, sizeof expected);
    test_remove_dir(s.dir);
}
END_TEST

START_TEST(plain_uncompressed_file_is_read_too)
{
    scratch s;
    scratch_open(&s, "plain.idx");
    unsigned char bytes[64];
    const uint32_t dims[2] = { 4, 6 };
    size_t header = make_header(bytes, 2, dims);
    fill_pattern(bytes + header, 24, 3);
    write_plain(s.path, bytes, header + 24);
    nn_idx *idx;
    nn_error err;
    ck_assert_msg(nn_idx_load(&idx, s.path, &err) == NN_OK, "%s", err.message);
    ck_assert_int_eq(idx->rank, 2);
    ck_assert_uint_eq(idx->dims[0], 4);
    ck_assert_uint_eq(idx->dims[1], 6);
    ck_assert_mem_eq(idx->data, bytes + header, 24);
    nn_idx_free(idx);
    test_remove_dir(s.dir);
}
END_TEST

START_TEST(wrong_magic_is_rejected)
{
    scratch s;
    scratch_open(&s, "magic.gz");
    unsigned char bytes[16] = { 0, 1, 8, 1, 0, 0, 0, 4, 1, 2, 3, 4 };
    write_gz(s.path, bytes, 12);
    assert_load_fails(s.path, NN_ERR_FORMAT, "bad magic at byte 0", "0x00 0x01", NULL);
    test_remove_dir(s.dir);
}
END_TEST

START_TEST(gzip_compressed_twice_is_named)
{
    scratch s;
    scratch_open(&s, "twice.gz");
    const size_t dims[1] = { 3 };
    const unsigned char data[3] = { 1, 2, 3 };
    ck_assert_int_eq(nn_idx_save_gz(s.path, 1, dims, data, NULL), NN_OK);
    size_t count;
    unsigned char *once = read_plain(s.path, &count);
    write_gz(s.path, once, count);
    free(once);
    assert_load_fails(s.path, NN_ERR_FORMAT, "bad magic", "compressed twice", NULL);
    test_remove_dir(s.dir);
}
END_TEST

START_TEST(unsupported_type_byte_is_named)
{
    static const struct {
        unsigned char type;
        const char *name;
    } cases[] = {
        { 0x09, "0x09 (signed byte)" },  { 0x0B, "0x0b (16-bit integer)" },
        { 0x0C, "0x0c (32-bit integer)" }, { 0x0D, "0x0d (32-bit float)" },
        { 0x0E, "0x0e (64-bit float)" }, { 0x42, "0x42 (not an IDX type)" },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        scratch s;
        scratch_open(&s, "type.gz");
        unsigned char bytes[16] = { 0, 0, cases[c].type, 1, 0, 0, 0, 2, 7, 7, 7, 7, 7, 7, 7, 7 };
        write_gz(s.path, bytes, sizeof bytes);
        assert_load_fails(s.path, NN_ERR_FORMAT, "unsupported element type", cases[c].name,
                          "byte 2", NULL);
        test_remove_dir(s.dir);
    }
}
END_TEST

START_TEST(rank_zero_and_rank_five_are_rejected)
{
    static const struct {
        int rank;
        const char *phrase;
    } cases[] = { { 0, "rank 0 at byte 3" }, { 5, "rank 5 at byte 3" }, { 255, "rank 255" } };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        scratch s;
        scratch_open(&s, "rank.gz");
        unsigned char bytes[32] = { 0, 0, 8, (unsigned char)cases[c].rank };
        for (int i = 4; i < 24; i += 4)
            bytes[i + 3] = 1; /* dimensions of 1, should the rank be believed */
        write_gz(s.path, bytes, sizeof bytes);
        assert_load_fails(s.path, NN_ERR_FORMAT, cases[c].phrase, "outside 1..4", NULL);
        test_remove_dir(s.dir);
    }
}
END_TEST

START_TEST(zero_dimension_is_rejected)
{
    scratch s;
    scratch_open(&s, "zero.gz");
    unsigned char bytes[32];
    const uint32_t dims[3] = { 2, 0, 3 };
    size_t header = make_header(bytes, 3, dims);
    write_gz(s.path, bytes, header);
    assert_load_fails(s.path, NN_ERR_FORMAT, "dimension 1 (bytes 8..11) is zero", NULL);
    test_remove_dir(s.dir);
}
END_TEST

START_TEST(absurd_element_count_is_rejected_before_allocating)
{
    scratch s;
    scratch_open(&s, "huge.gz");
    unsigned char bytes[32];
    const uint32_t dims[3] = { 65536, 65536, 2 };
    size_t header = make_header(bytes, 3, dims);
    write_gz(s.path, bytes, header + 4);
    assert_load_fails(s.path, NN_ERR_FORMAT, "(65536, 65536, 2)", "more elements than the 2^31", NULL);
    test_remove_dir(s.dir);
}
END_TEST

START_TEST(truncated_data_says_expected_and_found)
{
    scratch s;
    scratch_open(&s, "short.gz");
    unsigned char bytes[64];
    const uint32_t dims[3] = { 2, 3, 4 };
    size_t header = make_header(bytes, 3, dims);
    fill_pattern(bytes + header, 10, 4);
    write_gz(s.path, bytes, header + 10);
    assert_load_fails(s.path, NN_ERR_FORMAT, "truncated data", "(2, 3, 4) needs 24 bytes",
                      "16-byte header", "found only 10", "ends at byte 26", NULL);
    test_remove_dir(s.dir);
}
END_TEST

START_TEST(huge_declared_size_on_short_file_is_truncated_not_out_of_memory)
{
    scratch s;
    scratch_open(&s, "liar.gz");
    unsigned char bytes[64];
    const uint32_t dims[2] = { 32768, 65536 }; /* exactly 2^31 elements */
    size_t header = make_header(bytes, 2, dims);
    fill_pattern(bytes + header, 20, 5);
    write_gz(s.path, bytes, header + 20);
    assert_load_fails(s.path, NN_ERR_FORMAT, "needs 2147483648 bytes", "found only 20", NULL);
    test_remove_dir(s.dir);
}
END_TEST

START_TEST(truncated_header_is_rejected)
{
    scratch s;
    scratch_open(&s, "header.gz");
    const unsigned char magic_only[3] = { 0, 0, 8 };
    write_gz(s.path, magic_only, sizeof magic_only);
    assert_load_fails(s.path, NN_ERR_FORMAT, "truncated header", "ends after 3 bytes", NULL);
    const unsigned char short_dims[10] = { 0, 0, 8, 3, 0, 0, 0, 1, 0, 0 };
    write_gz(s.path, short_dims, sizeof short_dims);
    assert_load_fails(s.path, NN_ERR_FORMAT, "truncated header", "rank 3 needs 16",
                      "ends after 10", NULL);
    write_gz(s.path, short_dims, 0);
    assert_load_fails(s.path, NN_ERR_FORMAT, "empty", NULL);
    test_remove_dir(s.dir);
}
END_TEST

START_TEST(trailing_bytes_are_an_error)
{
    scratch s;
    scratch_open(&s, "long.gz");
    unsigned char bytes[64];
    const uint32_t dims[2] = { 3, 4 };
    size_t header = make_header(bytes, 2, dims);
    fill_pattern(bytes + header, 15, 6);
    write_gz(s.path, bytes, header + 15);
    assert_load_fails(s.path, NN_ERR_FORMAT, "trailing data at byte 24: 3 bytes after",
                      "shape (3, 4)", NULL);
    /* The same in a plain file: one extra byte is enough. */
    write_plain(s.path, bytes, header + 13);
    assert_load_fails(s.path, NN_ERR_FORMAT, "trailing data at byte 24: 1 byte after", NULL);
    test_remove_dir(s.dir);
}
END_TEST

/* A valid gzip IDX file of 2x500 bytes, returned as its raw bytes. */
static unsigned char *make_valid_gz(const char *path, size_t *count)
{
    const size_t dims[2] = { 2, 500 };
    unsigned char data[1000];
    fill_pattern(data, sizeof data, 7);
    ck_assert_int_eq(nn_idx_save_gz(path, 2, dims, data, NULL), NN_OK);
    nn_idx *idx;
    ck_assert_int_eq(nn_idx_load(&idx, path, NULL), NN_OK); /* valid before damage */
    nn_idx_free(idx);
    return read_plain(path, count);
}

START_TEST(corrupted_gzip_crc_trailer_is_detected)
{
    scratch s;
    scratch_open(&s, "crc.gz");
    size_t count;
    unsigned char *bytes = make_valid_gz(s.path, &count);
    /* The gzip trailer is CRC-32 then length, 4 bytes each, little-endian. */
    bytes[count - 8] ^= 0x01;
    write_plain(s.path, bytes, count);
    assert_load_fails(s.path, NN_ERR_FORMAT, "corrupted gzip stream",
                      "zlib: incorrect data check", NULL);
    bytes[count - 8] ^= 0x01;
    bytes[count - 4] ^= 0x01;
    write_plain(s.path, bytes, count);
    assert_load_fails(s.path, NN_ERR_FORMAT, "corrupted gzip stream",
                      "zlib: incorrect length check", NULL);
    free(bytes);
    test_remove_dir(s.dir);
}
END_TEST

START_TEST(corrupted_deflate_body_is_detected)
{
    scratch s;
    scratch_open(&s, "body.gz");
    size_t count;
    unsigned char *bytes = make_valid_gz(s.path, &count);
    ck_assert_uint_gt(count, 60);
    /* Several positions inside the deflate data (after the 10-byte gzip
     * header, before the 8-byte trailer), one damaged file at a time. */
    for (size_t at = 12; at < count - 8; at += (count - 20) / 7) {
        bytes[at] ^= 0x5a;
        write_plain(s.path, bytes, count);
        assert_load_fails(s.path, NN_ERR_FORMAT, "corrupted gzip stream", "zlib: ", NULL);
        bytes[at] ^= 0x5a;
    }
    free(bytes);
    test_remove_dir(s.dir);
}
END_TEST

START_TEST(gzip_stream_cut_short_is_detected)
{
    scratch s;
    scratch_open(&s, "cut.gz");
    size_t count;
    unsigned char *bytes = make_valid_gz(s.path, &count);
    /* Without its trailer, all data present: the checksum is missing. */
    write_plain(s.path, bytes, count - 8);
    assert_load_fails(s.path, NN_ERR_FORMAT, "cut short", "unexpected end of file", NULL);
    /* Cut in the middle of the deflate data: the elements are missing. */
    write_plain(s.path, bytes, count / 2);
    assert_load_fails(s.path, NN_ERR_FORMAT, "truncated data", "needs 1000 bytes",
                      "unexpected end of file", NULL);
    free(bytes);
    test_remove_dir(s.dir);
}
END_TEST

START_TEST(missing_file_is_an_io_error_naming_the_path)
{
    scratch s;
    scratch_open(&s, "does-not-exist.gz");
    assert_load_fails(s.path, NN_ERR_IO, "cannot open", "No such file", NULL);
    /* A directory opens but cannot be read. */
    assert_load_fails(s.dir, NN_ERR_IO, "read error", NULL);
    test_remove_dir(s.dir);
}
END_TEST

START_TEST(writer_rejects_bad_shapes_and_unwritable_paths)
{
    scratch s;
    scratch_open(&s, "w.gz");
    const size_t zero[2] = { 3, 0 }, fine[2] = { 1, 1 };
    const unsigned char data[1] = { 0 };
    nn_error err;
    ck_assert_int_eq(nn_idx_save_gz(s.path, 0, fine, data, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "rank 0"));
    ck_assert_int_eq(nn_idx_save_gz(s.path, 5, fine, data, &err), NN_ERR_ARGUMENT);
    ck_assert_int_eq(nn_idx_save_gz(s.path, 2, zero, data, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "dimension 1"));
    char bad[600];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.gz", s.dir);
    ck_assert_int_eq(nn_idx_save_gz(bad, 2, fine, data, &err), NN_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.message, bad));
    test_remove_dir(s.dir);
}
END_TEST

START_TEST(content_crc32_covers_the_decompressed_bytes)
{
    scratch s;
    scratch_open(&s, "sum.gz");
    unsigned char bytes[300];
    fill_pattern(bytes, sizeof bytes, 8);
    write_gz(s.path, bytes, sizeof bytes);
    uint32_t crc;
    size_t length;
    nn_error err;
    ck_assert_msg(nn_idx_content_crc32(s.path, &crc, &length, &err) == NN_OK, "%s",
                  err.message);
    ck_assert_uint_eq(length, sizeof bytes);
    ck_assert_uint_eq(crc, (uint32_t)crc32(0L, bytes, sizeof bytes));
    /* The same content uncompressed has the same checksum. */
    write_plain(s.path, bytes, sizeof bytes);
    uint32_t plain_crc;
    ck_assert_int_eq(nn_idx_content_crc32(s.path, &plain_crc, &length, &err), NN_OK);
    ck_assert_uint_eq(plain_crc, crc);
    /* The CRC-32 of "123456789" is 0xcbf43926 (the standard check value). */
    write_gz(s.path, (const unsigned char *)"123456789", 9);
    ck_assert_int_eq(nn_idx_content_crc32(s.path, &crc, &length, &err), NN_OK);
    ck_assert_uint_eq(crc, 0xcbf43926u);
    ck_assert_uint_eq(length, 9);
    test_remove_dir(s.dir);
}
END_TEST

START_TEST(checksum_list_accepts_matching_files_and_names_a_mismatch)
{
    scratch s;
    scratch_open(&s, "a.gz");
    write_gz(s.path, (const unsigned char *)"123456789", 9);
    char list[600];
    snprintf(list, sizeof list, "%s/sums.crc32", s.dir);
    const char *good = "# comment\n\ncbf43926  9  a.gz\n";
    write_plain(list, (const unsigned char *)good, strlen(good));
    nn_error err;
    ck_assert_msg(nn_idx_verify_checksums(s.dir, list, &err) == NN_OK, "%s", err.message);

    const char *wrong = "cbf43926 9 a.gz\ncbf43927  9  a.gz\n";
    write_plain(list, (const unsigned char *)wrong, strlen(wrong));
    ck_assert_int_eq(nn_idx_verify_checksums(s.dir, list, &err), NN_ERR_FORMAT);
    ck_assert_msg(strstr(err.message, s.path) != NULL, "%s", err.message);
    ck_assert_msg(strstr(err.message, "CRC-32 cbf43926 and 9 bytes") != NULL, "%s",
                  err.message);
    ck_assert_msg(strstr(err.message, "sums.crc32:2 expects cbf43927 and 9 bytes") != NULL,
                  "%s", err.message);

    const char *length = "cbf43926  10  a.gz\n";
    write_plain(list, (const unsigned char *)length, strlen(length));
    ck_assert_int_eq(nn_idx_verify_checksums(s.dir, list, &err), NN_ERR_FORMAT);
    ck_assert_msg(strstr(err.message, "expects cbf43926 and 10 bytes") != NULL, "%s",
                  err.message);

    const char *malformed = "cbf43926  9  a.gz\nxyz 9 a.gz\n";
    write_plain(list, (const unsigned char *)malformed, strlen(malformed));
    ck_assert_int_eq(nn_idx_verify_checksums(s.dir, list, &err), NN_ERR_FORMAT);
    ck_assert_msg(strstr(err.message, "sums.crc32:2: expected") != NULL, "%s", err.message);

    const char *missing = "cbf43926  9  b.gz\n";
    write_plain(list, (const unsigned char *)missing, strlen(missing));
    ck_assert_int_eq(nn_idx_verify_checksums(s.dir, list, &err), NN_ERR_IO);
    ck_assert_msg(strstr(err.message, "b.gz: cannot open") != NULL, "%s", err.message);

    write_plain(list, (const unsigned char *)"# nothing\n", 10);
    ck_assert_int_eq(nn_idx_verify_checksums(s.dir, list, &err), NN_ERR_FORMAT);
    ck_assert_msg(strstr(err.message, "no checksums") != NULL, "%s", err.message);
    test_remove_dir(s.dir);
}
END_TEST

Suite *idx_suite(void);
Suite *idx_suite(void)
{
    Suite *suite = suite_create("idx");
    TCase *valid = tcase_create("valid");
    tcase_add_test(valid, valid_files_round_trip_in_every_rank);
    tcase_add_test(valid, data_larger_than_the_first_allocation_is_read_whole);
    tcase_add_test(valid, written_file_is_gzip_with_the_idx_header);
    tcase_add_test(valid, plain_uncompressed_file_is_read_too);
    tcase_add_test(valid, writer_rejects_bad_shapes_and_unwritable_paths);
    suite_add_tcase(suite, valid);
    TCase *header = tcase_create("bad header");
    tcase_add_test(header, wrong_magic_is_rejected);
    tcase_add_test(header, gzip_compressed_twice_is_named);
    tcase_add_test(header, unsupported_type_byte_is_named);
    tcase_add_test(header, rank_zero_and_rank_five_are_rejected);
    tcase_add_test(header, zero_dimension_is_rejected);
    tcase_add_test(header, absurd_element_count_is_rejected_before_allocating);
    tcase_add_test(header, truncated_header_is_rejected);
    suite_add_tcase(suite, header);
    TCase *data = tcase_create("bad data");
    tcase_add_test(data, truncated_data_says_expected_and_found);
    tcase_add_test(data, huge_declared_size_on_short_file_is_truncated_not_out_of_memory);
    tcase_add_test(data, trailing_bytes_are_an_error);
    tcase_add_test(data, corrupted_gzip_crc_trailer_is_detected);
    tcase_add_test(data, corrupted_deflate_body_is_detected);
    tcase_add_test(data, gzip_stream_cut_short_is_detected);
    tcase_add_test(data, missing_file_is_an_io_error_naming_the_path);
    suite_add_tcase(suite, data);
    TCase *sums = tcase_create("checksums");
    tcase_add_test(sums, content_crc32_covers_the_decompressed_bytes);
    tcase_add_test(sums, checksum_list_accepts_matching_files_and_names_a_mismatch);
    suite_add_tcase(suite, sums);
    return suite;
}
