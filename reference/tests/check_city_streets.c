/*
 * check_city_streets.c - the procedural street scenes: reproducible, well
 * formed, laid out like a street (sky on top, road at the bottom), every
 * class present, not solvable by colour alone, and written out as PPM.
 */
#include "nn/synthetic.h"
#include "testutil.h"

static nn_dataset *make_city(uint64_t seed, size_t count, size_t size)
{
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_dataset *set = NULL;
    nn_error err = { 0 };
    nn_status status = nn_synthetic_city_streets(&set, &rng, count, size, &err);
    ck_assert_msg(status == NN_OK, "city streets failed: %s", err.message);
    return set;
}

START_TEST(city_same_seed_gives_identical_bytes)
{
    nn_dataset *a = make_city(61, 8, 64), *b = make_city(61, 8, 64);
    ck_assert_int_eq(memcmp(a->inputs, b->inputs, 8 * 3 * 64 * 64 * sizeof(nn_real)), 0);
    ck_assert_int_eq(memcmp(a->labels, b->labels, 8 * 64 * 64 * sizeof(int)), 0);
    nn_dataset_free(a);
    nn_dataset_free(b);
}
END_TEST

START_TEST(city_different_seeds_give_different_scenes)
{
    nn_dataset *a = make_city(61, 8, 64), *b = make_city(62, 8, 64);
    size_t pixels = 8 * 64 * 64, same_label = 0, same_value = 0;
    for (size_t p = 0; p < pixels; p++)
        same_label += a->labels[p] == b->labels[p];
    for (size_t v = 0; v < 3 * pixels; v++)
        same_value += a->inputs[v] == b->inputs[v];
    /* Two unrelated street scenes still agree on much of their layout (sky
     * on top, road at the bottom), but far from all of it; values agree
     * only where both are clipped to 0 or 1. */
    ck_assert_uint_lt(same_label, pixels * 3 / 4);
    ck_assert_uint_lt(same_value, 3 * pixels / 100);
    nn_dataset_free(a);
    nn_dataset_free(b);
}
END_TEST

START_TEST(city_shorter_set_is_a_prefix_of_a_longer_one)
{
    nn_dataset *a = make_city(63, 3, 32), *b = make_city(63, 7, 32);
    ck_assert_int_eq(memcmp(a->inputs, b->inputs, 3 * 3 * 32 * 32 * sizeof(nn_real)), 0);
    ck_assert_int_eq(memcmp(a->labels, b->labels, 3 * 32 * 32 * sizeof(int)), 0);
    nn_dataset_free(a);
    nn_dataset_free(b);
}
END_TEST

START_TEST(city_images_are_rgb_with_a_label_per_pixel)
{
    static const size_t sizes[] = { NN_CITY_MIN_SIZE, 40, NN_CITY_DEFAULT_SIZE };
    for (size_t s = 0; s < 3; s++) {
        size_t size = sizes[s];
        nn_dataset *set = make_city(64, 5, size);
        ck_assert_uint_eq(set->count, 5);
        ck_assert_int_eq(set->sample_shape.rank, 3);
        ck_assert_uint_eq(set->sample_shape.dims[0], 3);
        ck_assert_uint_eq(set->sample_shape.dims[1], size);
        ck_assert_uint_eq(set->sample_shape.dims[2], size);
        ck_assert_uint_eq(set->sample_size, 3 * size * size);
        ck_assert_int_eq(set->target_kind, NN_TARGET_MAP);
        ck_assert_uint_eq(set->target_size, size * size);
        ck_assert_int_eq(set->class_count, NN_CITY_CLASS_COUNT);
        ck_assert_str_eq(set->name, "city_streets");
        nn_dataset_free(set);
    }
}
END_TEST

START_TEST(city_values_lie_in_the_unit_interval_and_labels_in_range)
{
    nn_dataset *set = make_city(65, 20, 64);
    for (size_t v = 0; v < set->count * set->sample_size; v++)
        ck_assert_msg(set->inputs[v] >= 0 && set->inputs[v] <= 1, "value %zu is %g", v,
                      (double)set->inputs[v]);
    for (size_t p = 0; p < set->count * set->target_size; p++) {
        ck_assert_int_ge(set->labels[p], 0);
        ck_assert_int_lt(set->labels[p], NN_CITY_CLASS_COUNT);
    }
    nn_dataset_free(set);
}
END_TEST

/* Road is in every scene, sky in nearly all (a tall building front can
 * hide it), vehicles and nature in most: a batch of 20 holds every class
 * and most images hold several. */
START_TEST(city_every_class_appears_across_a_batch)
{
    const size_t count = 100, pixels = 64 * 64;
    nn_dataset *set = make_city(66, count, 64);
    int images_with[NN_CITY_CLASS_COUNT] = { 0 };
    for (size_t i = 0; i < count; i++) {
        bool present[NN_CITY_CLASS_COUNT] = { false };
        for (size_t p = 0; p < pixels; p++)
            present[set->labels[i * pixels + p]] = true;
        for (int c = 0; c < NN_CITY_CLASS_COUNT; c++)
            images_with[c] += present[c];
        if (i == 19)
            for (int c = 0; c < NN_CITY_CLASS_COUNT; c++)
                ck_assert_msg(images_with[c] > 0, "no %s in the first 20 images",
                              nn_synthetic_city_class_name(c));
    }
    ck_assert_int_eq(images_with[NN_CITY_ROAD], 100);
    ck_assert_int_ge(images_with[NN_CITY_SKY], 95);
    ck_assert_int_ge(images_with[NN_CITY_OTHER], 95);
    ck_assert_int_ge(images_with[NN_CITY_VEHICLE], 75);
    ck_assert_int_ge(images_with[NN_CITY_NATURE], 80);
    nn_dataset_free(set);
}
END_TEST

/* The layout a segmenter can learn from position: sky above, road below,
 * at every supported size. */
START_TEST(city_sky_sits_at_the_top_and_road_at_the_bottom)
{
    static const size_t sizes[] = { NN_CITY_MIN_SIZE, NN_CITY_DEFAULT_SIZE, 96 };
    for (size_t s = 0; s < 3; s++) {
        size_t size = sizes[s], count = 60;
        nn_dataset *set = make_city(67, count, size);
        size_t sky = 0, sky_top = 0, road = 0, road_bottom = 0;
        size_t top_row[NN_CITY_CLASS_COUNT] = { 0 }, bottom_row[NN_CITY_CLASS_COUNT] = { 0 };
        for (size_t i = 0; i < count; i++)
            for (size_t y = 0; y < size; y++)
                for (size_t x = 0; x < size; x++) {
                    int label = set->labels[(i * size + y) * size + x];
                    sky += label == NN_CITY_SKY;
                    sky_top += label == NN_CITY_SKY && y < size / 2;
                    road += label == NN_CITY_ROAD;
                    road_bottom += label == NN_CITY_ROAD && y >= size / 2;
                    if (y == 0)
                        top_row[label]++;
                    if (y == size - 1)
                        bottom_row[label]++;
                }
        double sky_fraction = (double)sky_top / sky, road_fraction = (double)road_bottom / road;
        ck_assert_msg(sky_fraction > 0.95, "size %zu: only %.3f of sky in the top half", size,
                      sky_fraction);
        ck_assert_msg(road_fraction > 0.9, "size %zu: only %.3f of road in the bottom half",
                      size, road_fraction);
        /* The top row is mostly sky, the bottom row mostly road. */
        ck_assert_uint_gt(top_row[NN_CITY_SKY], count * size / 2);
        ck_assert_uint_gt(bottom_row[NN_CITY_ROAD], count * size / 2);
        nn_dataset_free(set);
    }
}
END_TEST

/* Always answering the most frequent class must be a weak baseline. Over
 * 200 scenes of seed 1 the largest class ("other") holds about a third of
 * the pixels and the rarest (vehicle) several percent. */
START_TEST(city_majority_class_baseline_is_weak)
{
    nn_dataset *set = make_city(1, 200, 64);
    double fractions[NN_CITY_CLASS_COUNT];
    nn_error err = { 0 };
    ck_assert_int_eq(nn_synthetic_class_fractions(fractions, set, &err), NN_OK);
    double largest = 0.0, smallest = 1.0;
    for (int c = 0; c < NN_CITY_CLASS_COUNT; c++) {
        largest = fmax(largest, fractions[c]);
        smallest = fmin(smallest, fractions[c]);
    }
    ck_assert_msg(largest > 0.25 && largest < 0.45, "majority class holds %.3f", largest);
    ck_assert_msg(smallest > 0.03, "rarest class holds %.3f", smallest);
    nn_dataset_free(set);
}
END_TEST

/* The best rule that looks at nothing but a pixel's colour (quantised to 8
 * levels a channel, each colour cell answering its most frequent class,
 * scored on the very images it was fitted to, so an optimistic figure)
 * must fall well short of perfect: classes overlap in colour. */
START_TEST(city_colour_alone_does_not_decide_the_class)
{
    const size_t count = 100, pixels = 64 * 64;
    nn_dataset *set = make_city(68, count, 64);
    static int cells[512][NN_CITY_CLASS_COUNT];
    memset(cells, 0, sizeof cells);
    for (size_t i = 0; i < count; i++) {
        const nn_real *image = set->inputs + i * 3 * pixels;
        for (size_t p = 0; p < pixels; p++) {
            int cell = 0;
            for (int c = 0; c < 3; c++)
                cell = cell * 8 + (int)fmin(7.0, (double)image[c * pixels + p] * 8.0);
            cells[cell][set->labels[i * pixels + p]]++;
        }
    }
    size_t correct = 0;
    for (int cell = 0; cell < 512; cell++) {
        int best = 0;
        for (int c = 0; c < NN_CITY_CLASS_COUNT; c++)
            best = cells[cell][c] > best ? cells[cell][c] : best;
        correct += (size_t)best;
    }
    double accuracy = (double)correct / (double)(count * pixels);
    ck_assert_msg(accuracy < 0.8, "a colour lookup table scores %.3f", accuracy);
    nn_dataset_free(set);
}
END_TEST

START_TEST(city_class_names_and_colours_follow_the_exam_order)
{
    static const char *const names[] = { "vehicle", "road", "sky", "nature", "other" };
    for (int c = 0; c < NN_CITY_CLASS_COUNT; c++)
        ck_assert_str_eq(nn_synthetic_city_class_name(c), names[c]);
    ck_assert_ptr_null(nn_synthetic_city_class_name(-1));
    ck_assert_ptr_null(nn_synthetic_city_class_name(NN_CITY_CLASS_COUNT));
    unsigned char colours[NN_CITY_CLASS_COUNT][3];
    for (int c = 0; c < NN_CITY_CLASS_COUNT; c++)
        ck_assert(nn_synthetic_city_class_colour(colours[c], c));
    for (int a = 0; a < NN_CITY_CLASS_COUNT; a++)
        for (int b = a + 1; b < NN_CITY_CLASS_COUNT; b++)
            ck_assert_int_ne(memcmp(colours[a], colours[b], 3), 0);
    unsigned char unused[3];
    ck_assert(!nn_synthetic_city_class_colour(unused, 5));
}
END_TEST

static unsigned char *read_ppm(const char *path, size_t *width, size_t *height)
{
    FILE *file = fopen(path, "rb");
    ck_assert_ptr_nonnull(file);
    ck_assert_int_eq(fscanf(file, "P6 %zu %zu 255", width, height), 2);
    ck_assert_int_eq(fgetc(file), '\n');
    size_t bytes = 3 * *width * *height;
    unsigned char *data = malloc(bytes + 1);
    ck_assert_uint_eq(fread(data, 1, bytes + 1, file), bytes); /* nothing after */
    fclose(file);
    return data;
}

START_TEST(city_ppm_files_hold_the_image_and_its_label_colours)
{
    const size_t size = 48, pixels = size * size, index = 2;
    nn_dataset *set = make_city(69, 3, size);
    char dir[256], image_path[300], label_path[300];
    test_make_temp_dir(dir, sizeof dir);
    snprintf(image_path, sizeof image_path, "%s/image.ppm", dir);
    snprintf(label_path, sizeof label_path, "%s/labels.ppm", dir);
    nn_error err = { 0 };
    ck_assert_int_eq(nn_synthetic_city_write_ppm(set, index, image_path, label_path, &err),
                     NN_OK);
    size_t width, height;
    unsigned char *image = read_ppm(image_path, &width, &height);
    ck_assert_uint_eq(width, size);
    ck_assert_uint_eq(height, size);
    const nn_real *source = set->inputs + index * set->sample_size;
    for (size_t p = 0; p < pixels; p++)
        for (size_t c = 0; c < 3; c++)
            ck_assert_int_eq(image[3 * p + c], (int)lround(source[c * pixels + p] * 255.0));
    free(image);
    unsigned char *labels = read_ppm(label_path, &width, &height);
    for (size_t p = 0; p < pixels; p++) {
        unsigned char expected[3];
        ck_assert(nn_synthetic_city_class_colour(expected, set->labels[index * pixels + p]));
        ck_assert_int_eq(memcmp(labels + 3 * p, expected, 3), 0);
    }
    free(labels);
    /* A NULL path skips that file. */
    ck_assert_int_eq(remove(label_path), 0);
    ck_assert_int_eq(nn_synthetic_city_write_ppm(set, 0, image_path, NULL, &err), NN_OK);
    ck_assert_int_ne(access(label_path, F_OK), 0);
    test_remove_dir(dir);
    nn_dataset_free(set);
}
END_TEST

START_TEST(city_ppm_writer_refuses_other_datasets_bad_indices_and_paths)
{
    nn_dataset *set = make_city(70, 2, 16);
    nn_error err = { 0 };
    ck_assert_int_eq(nn_synthetic_city_write_ppm(set, 2, "/tmp/unused.ppm", NULL, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "sample 2"));
    ck_assert_int_eq(nn_synthetic_city_write_ppm(set, 0, "/nonexistent-dir/x.ppm", NULL, &err),
                     NN_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.message, "/nonexistent-dir/x.ppm"));
    set->labels[5] = 9;
    ck_assert_int_eq(nn_synthetic_city_write_ppm(set, 0, NULL, "/tmp/unused.ppm", &err),
                     NN_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.message, "label 9 at pixel 5"));
    nn_dataset_free(set);

    nn_rng rng;
    nn_rng_seed(&rng, 1);
    nn_dataset *blobs;
    ck_assert_int_eq(nn_synthetic_blobs(&blobs, &rng, 10, 2, 0.5, &err), NN_OK);
    ck_assert_int_eq(nn_synthetic_city_write_ppm(blobs, 0, "/tmp/unused.ppm", NULL, &err),
                     NN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.message, "blobs"));
    nn_dataset_free(blobs);
}
END_TEST

START_TEST(city_refuses_bad_arguments_with_a_message)
{
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    nn_dataset sentinel;
    nn_dataset *set = &sentinel;
    nn_error err = { 0 };
    ck_assert_int_eq(nn_synthetic_city_streets(&set, &rng, 4, NN_CITY_MIN_SIZE - 1, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_null(set);
    ck_assert_ptr_nonnull(strstr(err.message, "image size 15, need between 16 and 1024"));
    ck_assert_int_eq(nn_synthetic_city_streets(&set, &rng, 4, NN_CITY_MAX_SIZE + 1, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_int_eq(nn_synthetic_city_streets(&set, &rng, 0, 64, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "0 images"));
    ck_assert_int_eq(nn_synthetic_city_streets(&set, &rng, SIZE_MAX / 8, 64, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_int_eq(nn_synthetic_city_streets(&set, NULL, 4, 64, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "generator is NULL"));
    ck_assert_ptr_null(set);
}
END_TEST

Suite *city_streets_suite(void);
Suite *city_streets_suite(void)
{
    Suite *suite = suite_create("city_streets");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, city_same_seed_gives_identical_bytes);
    tcase_add_test(tc, city_different_seeds_give_different_scenes);
    tcase_add_test(tc, city_shorter_set_is_a_prefix_of_a_longer_one);
    tcase_add_test(tc, city_images_are_rgb_with_a_label_per_pixel);
    tcase_add_test(tc, city_values_lie_in_the_unit_interval_and_labels_in_range);
    tcase_add_test(tc, city_every_class_appears_across_a_batch);
    tcase_add_test(tc, city_sky_sits_at_the_top_and_road_at_the_bottom);
    tcase_add_test(tc, city_majority_class_baseline_is_weak);
    tcase_add_test(tc, city_colour_alone_does_not_decide_the_class);
    tcase_add_test(tc, city_class_names_and_colours_follow_the_exam_order);
    tcase_add_test(tc, city_ppm_files_hold_the_image_and_its_label_colours);
    tcase_add_test(tc, city_ppm_writer_refuses_other_datasets_bad_indices_and_paths);
    tcase_add_test(tc, city_refuses_bad_arguments_with_a_message);
    suite_add_tcase(suite, tc);
    return suite;
}
