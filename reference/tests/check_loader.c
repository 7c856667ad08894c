/*
 * check_loader.c - the mini-batch loader: each sample once per epoch, the
 * order a function of the seed alone, batch sizes with and without
 * drop_last, targets travelling with their inputs through shuffling and
 * augmentation, and per-channel normalisation to mean 0, std 1.
 */
#include "nn/loader.h"
#include "testutil.h"

static void assert_ok(nn_status status, const nn_error *err)
{
    ck_assert_msg(status == NN_OK, "status %s: %s", nn_status_name(status), err->message);
}

/* count samples of shape (C, H, W); sample i has every value equal to
 * (i + 1) / (count + 1) plus a small pattern, so a batch row tells which
 * sample it came from; label i % classes. */
static nn_dataset *make_images(size_t count, int c, int h, int w, int classes)
{
    nn_dataset *dataset;
    nn_error err;
    nn_shape shape = nn_shape_3d((size_t)c, (size_t)h, (size_t)w);
    assert_ok(nn_dataset_new(&dataset, "images", count, &shape, NN_TARGET_CLASS, 1, classes,
                             &err),
              &err);
    for (size_t i = 0; i < count; i++) {
        for (size_t v = 0; v < dataset->sample_size; v++)
            dataset->inputs[i * dataset->sample_size + v] =
                (nn_real)((double)(i + 1) / (double)(count + 1) + 1e-3 * (double)(v % 7));
        dataset->labels[i] = (int)(i % (size_t)classes);
    }
    return dataset;
}

/* Which sample a batch row was copied from (no augmentation): the first
 * value encodes it. */
static size_t sample_of_row(const nn_real *row, size_t count)
{
    return (size_t)lround((double)row[0] * (double)(count + 1)) - 1;
}

/* The sample order of one whole epoch, through the indices. */
static void epoch_order(nn_loader *loader, size_t *order, size_t count)
{
    nn_batch batch;
    size_t seen = 0;
    nn_loader_start_epoch(loader);
    while (nn_loader_next(loader, &batch)) {
        for (size_t j = 0; j < batch.size; j++) {
            ck_assert_uint_lt(seen, count);
            order[seen++] = batch.indices[j];
        }
    }
    ck_assert_uint_eq(seen, count);
}

/* ---- order --------------------------------------------------------------- */

START_TEST(every_sample_appears_exactly_once_per_epoch)
{
    const size_t count = 23;
    nn_dataset *dataset = make_images(count, 1, 2, 2, 3);
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    nn_loader *loader;
    nn_error err;
    assert_ok(nn_loader_new(&loader, dataset, 5, true, false, &rng, &err), &err);
    for (int epoch = 0; epoch < 4; epoch++) {
        int by_index[23] = { 0 }, by_content[23] = { 0 };
        nn_loader_start_epoch(loader);
        nn_batch batch;
        while (nn_loader_next(loader, &batch)) {
            for (size_t j = 0; j < batch.size; j++) {
                ck_assert_uint_lt(batch.indices[j], count);
                by_index[batch.indices[j]]++;
                size_t from = sample_of_row(batch.inputs + j * dataset->sample_size, count);
                ck_assert_uint_lt(from, count);
                by_content[from]++;
            }
        }
        for (size_t i = 0; i < count; i++) {
            ck_assert_msg(by_index[i] == 1, "epoch %d: sample %zu indexed %d times", epoch, i,
                          by_index[i]);
            ck_assert_msg(by_content[i] == 1, "epoch %d: sample %zu's input seen %d times",
                          epoch, i, by_content[i]);
        }
    }
    nn_loader_free(loader);
    nn_dataset_free(dataset);
}
END_TEST

START_TEST(same_seed_gives_same_order_and_different_seed_another)
{
    const size_t count = 40;
    nn_dataset *dataset = make_images(count, 1, 1, 3, 2);
    size_t orders[3][3][40];  /* [loader][epoch][step] */
    const uint64_t seeds[3] = { 7, 7, 8 };
    for (int l = 0; l < 3; l++) {
        nn_rng rng;
        nn_rng_seed(&rng, seeds[l]);
        nn_loader *loader;
        nn_error err;
        assert_ok(nn_loader_new(&loader, dataset, 6, true, false, &rng, &err), &err);
        for (int e = 0; e < 3; e++)
            epoch_order(loader, orders[l][e], count);
        nn_loader_free(loader);
    }
    for (int e = 0; e < 3; e++) {
        ck_assert(memcmp(orders[0][e], orders[1][e], sizeof orders[0][e]) == 0);
        /* 40! orders: two seeds agreeing would be a broken generator */
        ck_assert(memcmp(orders[0][e], orders[2][e], sizeof orders[0][e]) != 0);
    }
    /* the caller's generator moved on by exactly one draw, so a second
     * loader made from it shuffles differently */
    nn_rng rng, expected;
    nn_rng_seed(&rng, 7);
    expected = rng;
    nn_rng_next(&expected);
    nn_loader *second;
    nn_error err;
    assert_ok(nn_loader_new(&second, dataset, 6, true, false, &rng, &err), &err);
    ck_assert(memcmp(&rng, &expected, sizeof rng) == 0);
    nn_loader_free(second);
    assert_ok(nn_loader_new(&second, dataset, 6, true, false, &rng, &err), &err);
    size_t other[40];
    epoch_order(second, other, count);
    ck_assert(memcmp(orders[0][0], other, sizeof other) != 0);
    nn_loader_free(second);
    /* reshuffled each epoch, and not left in dataset order */
    ck_assert(memcmp(orders[0][0], orders[0][1], sizeof orders[0][0]) != 0);
    ck_assert(memcmp(orders[0][1], orders[0][2], sizeof orders[0][0]) != 0);
    size_t in_place = 0;
    for (size_t i = 0; i < count; i++)
        in_place += orders[0][0][i] == i;
    ck_assert_uint_lt(in_place, count / 2);
    nn_dataset_free(dataset);
}
END_TEST

START_TEST(without_shuffle_order_is_dataset_order)
{
    const size_t count = 11;
    nn_dataset *dataset = make_images(count, 1, 1, 1, 2);
    nn_loader *loader;
    nn_error err;
    assert_ok(nn_loader_new(&loader, dataset, 4, false, false, NULL, &err), &err);
    size_t order[11];
    for (int e = 0; e < 2; e++) {
        epoch_order(loader, order, count);
        for (size_t i = 0; i < count; i++)
            ck_assert_uint_eq(order[i], i);
    }
    nn_loader_free(loader);
    nn_dataset_free(dataset);
}
END_TEST

START_TEST(first_epoch_starts_by_itself_and_ends_until_restarted)
{
    const size_t count = 6;
    nn_dataset *dataset = make_images(count, 1, 1, 1, 2);
    nn_loader *loader;
    nn_error err;
    assert_ok(nn_loader_new(&loader, dataset, 4, false, false, NULL, &err), &err);
    nn_batch batch;
    ck_assert(nn_loader_next(loader, &batch));  /* no start_epoch needed */
    ck_assert_uint_eq(batch.size, 4);
    ck_assert(nn_loader_next(loader, &batch));
    ck_assert_uint_eq(batch.size, 2);
    ck_assert(!nn_loader_next(loader, &batch));
    ck_assert(!nn_loader_next(loader, &batch));  /* stays ended */
    nn_loader_start_epoch(loader);
    ck_assert(nn_loader_next(loader, &batch));
    ck_assert_uint_eq(batch.indices[0], 0);
    nn_loader_free(loader);
    nn_dataset_free(dataset);
}
END_TEST

/* ---- batch sizes ------------------------------------------------------------ */

START_TEST(batch_sizes_keep_or_drop_the_last_partial_batch)
{
    const size_t count = 23;
    nn_dataset *dataset = make_images(count, 2, 3, 4, 5);
    struct {
        size_t batch_size;
        bool drop_last;
        size_t batches;
        size_t last;
    } cases[] = {
        { 5, false, 5, 3 },    /* 5 5 5 5 3 */
        { 5, true, 4, 5 },     /* 5 5 5 5 */
        { 23, false, 1, 23 },
        { 23, true, 1, 23 },
        { 30, false, 1, 23 },  /* one batch smaller than asked */
        { 1, true, 23, 1 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        nn_rng rng;
        nn_rng_seed(&rng, 2);
        nn_loader *loader;
        nn_error err;
        assert_ok(nn_loader_new(&loader, dataset, cases[k].batch_size, true,
                                cases[k].drop_last, &rng, &err),
                  &err);
        ck_assert_uint_eq(nn_loader_batch_count(loader), cases[k].batches);
        for (int e = 0; e < 2; e++) {
            nn_loader_start_epoch(loader);
            nn_batch batch;
            size_t batches = 0, samples = 0, last = 0;
            while (nn_loader_next(loader, &batch)) {
                batches++;
                samples += batch.size;
                last = batch.size;
                if (batches < cases[k].batches)
                    ck_assert_uint_eq(batch.size, cases[k].batch_size);
                /* (B, C, H, W) */
                ck_assert_int_eq(batch.shape.rank, 4);
                ck_assert_uint_eq(batch.shape.dims[0], batch.size);
                ck_assert_uint_eq(batch.shape.dims[1], 2);
                ck_assert_uint_eq(batch.shape.dims[2], 3);
                ck_assert_uint_eq(batch.shape.dims[3], 4);
            }
            ck_assert_uint_eq(batches, cases[k].batches);
            ck_assert_uint_eq(last, cases[k].last);
            ck_assert_uint_eq(samples, cases[k].drop_last
                                           ? cases[k].batches * cases[k].batch_size
                                           : count);
        }
        nn_loader_free(loader);
    }
    nn_dataset_free(dataset);
}
END_TEST

/* ---- targets travel with inputs ---------------------------------------- */

START_TEST(labels_travel_with_their_inputs)
{
    const size_t count = 17;
    nn_dataset *dataset = make_images(count, 1, 2, 3, 4);
    for (size_t i = 0; i < count; i++)
        dataset->labels[i] = (int)((i * 7) % 4);
    nn_rng rng;
    nn_rng_seed(&rng, 3);
    nn_loader *loader;
    nn_error err;
    assert_ok(nn_loader_new(&loader, dataset, 4, true, false, &rng, &err), &err);
    for (int e = 0; e < 3; e++) {
        nn_loader_start_epoch(loader);
        nn_batch batch;
        while (nn_loader_next(loader, &batch)) {
            ck_assert_ptr_null(batch.targets);
            for (size_t j = 0; j < batch.size; j++) {
                size_t from = sample_of_row(batch.inputs + j * dataset->sample_size, count);
                ck_assert_uint_eq(from, batch.indices[j]);
                ck_assert_int_eq(batch.labels[j], (int)((from * 7) % 4));
                ck_assert(memcmp(batch.inputs + j * dataset->sample_size,
                                 dataset->inputs + from * dataset->sample_size,
                                 dataset->sample_size * sizeof(nn_real)) == 0);
            }
        }
    }
    nn_loader_free(loader);
    nn_dataset_free(dataset);
}
END_TEST

START_TEST(label_maps_and_real_targets_travel_with_their_inputs)
{
    const size_t count = 9;
    nn_shape shape = nn_shape_3d(1, 2, 2);
    nn_dataset *maps, *reals;
    nn_error err;
    assert_ok(nn_dataset_new(&maps, "maps", count, &shape, NN_TARGET_MAP, 4, 5, &err), &err);
    nn_shape vector = nn_shape_1d(3);
    assert_ok(nn_dataset_new(&reals, "reals", count, &vector, NN_TARGET_REAL, 2, 0, &err),
              &err);
    for (size_t i = 0; i < count; i++) {
        for (size_t p = 0; p < 4; p++) {
            maps->inputs[i * 4 + p] = (nn_real)(i * 4 + p);
            maps->labels[i * 4 + p] = (int)((i + p) % 5);
        }
        for (size_t v = 0; v < 3; v++)
            reals->inputs[i * 3 + v] = (nn_real)(10 * i + v);
        reals->targets[i * 2] = (nn_real)(-(double)i);
        reals->targets[i * 2 + 1] = (nn_real)(0.5 * (double)i);
    }
    nn_rng rng;
    nn_rng_seed(&rng, 4);
    nn_loader *map_loader, *real_loader;
    assert_ok(nn_loader_new(&map_loader, maps, 4, true, false, &rng, &err), &err);
    assert_ok(nn_loader_new(&real_loader, reals, 4, true, false, &rng, &err), &err);
    nn_batch batch;
    while (nn_loader_next(map_loader, &batch)) {
        ck_assert_ptr_null(batch.targets);
        for (size_t j = 0; j < batch.size; j++) {
            size_t i = (size_t)batch.inputs[j * 4] / 4;
            ck_assert_uint_eq(i, batch.indices[j]);
            for (size_t p = 0; p < 4; p++)
                ck_assert_int_eq(batch.labels[j * 4 + p], (int)((i + p) % 5));
        }
    }
    while (nn_loader_next(real_loader, &batch)) {
        ck_assert_ptr_null(batch.labels);
        ck_assert_int_eq(batch.shape.rank, 2);
        ck_assert_uint_eq(batch.shape.dims[1], 3);
        for (size_t j = 0; j < batch.size; j++) {
            size_t i = (size_t)batch.inputs[j * 3] / 10;
            ck_assert_uint_eq(i, batch.indices[j]);
            ck_assert(batch.targets[j * 2] == (nn_real)(-(double)i));
            ck_assert(batch.targets[j * 2 + 1] == (nn_real)(0.5 * (double)i));
        }
    }
    nn_loader_free(map_loader);
    nn_loader_free(real_loader);
    nn_dataset_free(maps);
    nn_dataset_free(reals);
}
END_TEST

/* ---- augmentation through the loader ----------------------------------- */

static nn_augment_config only(int which)
{
    nn_augment_config config = nn_augment_config_none();
    switch (which) {
    case 0: config.flip_probability = 1.0; break;
    case 1: config.crop_padding = 2; break;
    case 2: config.rotation_min_degrees = -40; config.rotation_max_degrees = 40; break;
    case 3: config.max_brightness = 0.3; break;
    case 4: config.max_contrast = 0.5; break;
    case 5: config.blur_probability = 1.0; config.blur_sigma_min = 0.5;
            config.blur_sigma_max = 1.5; break;
    case 6: config.noise_std = 0.1; break;
    default: break;
    }
    return config;
}
#define AUGMENTATION_COUNT 7

/* Random images with a label each; every augmentation alone, then all at
 * once: the label of each batch row is its sample's, the dataset is left
 * untouched, and the images did change. */
START_TEST(labels_unchanged_by_every_augmentation)
{
    const size_t count = 12;
    const int c = 3, h = 8, w = 8;
    nn_dataset *dataset = make_images(count, c, h, w, 5);
    nn_rng fill;
    nn_rng_seed(&fill, 5);
    test_fill_uniform(dataset->inputs, count * dataset->sample_size, &fill, 0.0, 1.0);
    nn_dataset *original;
    nn_error err;
    assert_ok(nn_dataset_slice(&original, dataset, 0, count, &err), &err);
    for (int a = 0; a <= AUGMENTATION_COUNT; a++) {
        nn_augment_config config = only(a);
        if (a == AUGMENTATION_COUNT)  /* everything together */
            for (int b = 0; b < AUGMENTATION_COUNT; b++) {
                nn_augment_config one = only(b);
                config.flip_probability += one.flip_probability;
                config.crop_padding += one.crop_padding;
                config.rotation_min_degrees += one.rotation_min_degrees;
                config.rotation_max_degrees += one.rotation_max_degrees;
                config.max_brightness += one.max_brightness;
                config.max_contrast += one.max_contrast;
                config.blur_probability += one.blur_probability;
                config.blur_sigma_min += one.blur_sigma_min;
                config.blur_sigma_max += one.blur_sigma_max;
                config.noise_std += one.noise_std;
            }
        nn_rng rng;
        nn_rng_seed(&rng, 6);
        nn_loader *loader;
        assert_ok(nn_loader_new(&loader, dataset, 5, true, false, &rng, &err), &err);
        assert_ok(nn_loader_set_augment(loader, &config, &err), &err);
        nn_batch batch;
        size_t changed = 0;
        while (nn_loader_next(loader, &batch)) {
            for (size_t j = 0; j < batch.size; j++) {
                size_t i = batch.indices[j];
                ck_assert_int_eq(batch.labels[j], original->labels[i]);
                changed += memcmp(batch.inputs + j * dataset->sample_size,
                                  original->inputs + i * dataset->sample_size,
                                  dataset->sample_size * sizeof(nn_real)) != 0;
            }
        }
        ck_assert_msg(changed >= count / 2, "augmentation %d changed %zu of %zu images", a,
                      changed, count);
        ck_assert(memcmp(dataset->inputs, original->inputs,
                         count * dataset->sample_size * sizeof(nn_real)) == 0);
        ck_assert(memcmp(dataset->labels, original->labels, count * sizeof(int)) == 0);
        nn_loader_free(loader);
    }
    nn_dataset_free(original);
    nn_dataset_free(dataset);
}
END_TEST

START_TEST(augmentation_applies_in_training_only_and_keeps_the_order)
{
    const size_t count = 20;
    nn_dataset *dataset = make_images(count, 1, 4, 4, 2);
    size_t plain[20], augmented[20];
    nn_rng rng;
    nn_error err;
    nn_loader *loader;
    nn_rng_seed(&rng, 9);
    assert_ok(nn_loader_new(&loader, dataset, 6, true, false, &rng, &err), &err);
    epoch_order(loader, plain, count);
    nn_loader_free(loader);

    nn_rng_seed(&rng, 9);
    assert_ok(nn_loader_new(&loader, dataset, 6, true, false, &rng, &err), &err);
    nn_augment_config config = only(6);  /* noise */
    assert_ok(nn_loader_set_augment(loader, &config, &err), &err);
    epoch_order(loader, augmented, count);
    ck_assert(memcmp(plain, augmented, sizeof plain) == 0);

    nn_loader_set_training(loader, false);
    nn_loader_start_epoch(loader);
    nn_batch batch;
    while (nn_loader_next(loader, &batch))
        for (size_t j = 0; j < batch.size; j++)
            ck_assert(memcmp(batch.inputs + j * dataset->sample_size,
                             dataset->inputs + batch.indices[j] * dataset->sample_size,
                             dataset->sample_size * sizeof(nn_real)) == 0);
    nn_loader_set_training(loader, true);
    nn_loader_start_epoch(loader);
    ck_assert(nn_loader_next(loader, &batch));
    ck_assert(memcmp(batch.inputs, dataset->inputs + batch.indices[0] * dataset->sample_size,
                     dataset->sample_size * sizeof(nn_real)) != 0);
    nn_loader_free(loader);
    nn_dataset_free(dataset);
}
END_TEST

/* ---- normalisation -------------------------------------------------------- */

/* Three channels with very different levels and spreads; after the
 * loader's normalisation every channel over a whole epoch has mean 0 and
 * standard deviation 1, whatever the batch boundaries. */
START_TEST(normalization_gives_zero_mean_unit_std_per_channel)
{
    const size_t count = 50;
    const int c = 3, h = 5, w = 6;
    nn_dataset *dataset = make_images(count, c, h, w, 2);
    nn_rng rng;
    nn_rng_seed(&rng, 10);
    const double level[3] = { 0.2, 0.5, 100.0 }, spread[3] = { 0.05, 0.3, 20.0 };
    size_t plane = (size_t)h * w;
    for (size_t i = 0; i < count; i++)
        for (int ch = 0; ch < c; ch++)
            for (size_t p = 0; p < plane; p++)
                dataset->inputs[i * dataset->sample_size + (size_t)ch * plane + p] =
                    (nn_real)(level[ch] + spread[ch] * nn_rng_normal(&rng));
    ck_assert_uint_eq(nn_dataset_channel_count(dataset), 3);
    nn_real mean[3], std[3];
    nn_error err;
    assert_ok(nn_dataset_channel_stats(mean, std, dataset, 3, &err), &err);
    for (int ch = 0; ch < c; ch++) {
        /* n = 1500 values a channel: sampling error ~ 3% of the spread */
        ck_assert_double_eq_tol(mean[ch], level[ch], 0.1 * spread[ch]);
        ck_assert_double_eq_tol(std[ch], spread[ch], 0.1 * spread[ch]);
    }
    nn_loader *loader;
    assert_ok(nn_loader_new(&loader, dataset, 7, true, false, &rng, &err), &err);
    assert_ok(nn_loader_set_normalization(loader, mean, std, 3, &err), &err);
    double sum[3] = { 0 }, sum_sq[3] = { 0 };
    nn_batch batch;
    while (nn_loader_next(loader, &batch))
        for (size_t j = 0; j < batch.size; j++)
            for (int ch = 0; ch < c; ch++)
                for (size_t p = 0; p < plane; p++) {
                    double x = batch.inputs[j * dataset->sample_size + (size_t)ch * plane + p];
                    sum[ch] += x;
                    sum_sq[ch] += x * x;
                }
    double n = (double)(count * plane);
    for (int ch = 0; ch < c; ch++) {
        double m = sum[ch] / n;
        ck_assert_double_eq_tol(m, 0.0, 1e-4);
        ck_assert_double_eq_tol(sqrt(sum_sq[ch] / n - m * m), 1.0, 1e-4);
    }
    nn_loader_free(loader);
    nn_dataset_free(dataset);
}
END_TEST

/* Rank 1 and rank 2 samples: one channel per feature of the last axis. */
START_TEST(dataset_normalization_works_per_feature_for_vectors_and_sequences)
{
    const size_t count = 40;
    nn_shape shapes[2] = { nn_shape_1d(4), nn_shape_2d(6, 2) };
    size_t features[2] = { 4, 2 };
    nn_rng rng;
    nn_rng_seed(&rng, 11);
    for (int s = 0; s < 2; s++) {
        nn_dataset *dataset;
        nn_error err;
        assert_ok(nn_dataset_new(&dataset, "table", count, &shapes[s], NN_TARGET_REAL, 1, 0,
                                 &err),
                  &err);
        ck_assert_uint_eq(nn_dataset_channel_count(dataset), features[s]);
        size_t f = features[s];
        for (size_t i = 0; i < count * dataset->sample_size; i++)
            dataset->inputs[i] = (nn_real)(3.0 * (double)(i % f) +
                                           (1.0 + (double)(i % f)) * nn_rng_normal(&rng));
        nn_real mean[4], std[4];
        assert_ok(nn_dataset_channel_stats(mean, std, dataset, f, &err), &err);
        assert_ok(nn_dataset_normalize(dataset, mean, std, f, &err), &err);
        for (size_t k = 0; k < f; k++) {
            double sum = 0, sum_sq = 0, n = 0;
            for (size_t i = k; i < count * dataset->sample_size; i += f) {
                sum += dataset->inputs[i];
                sum_sq += (double)dataset->inputs[i] * dataset->inputs[i];
                n++;
            }
            ck_assert_double_eq_tol(sum / n, 0.0, 1e-4);
            ck_assert_double_eq_tol(sqrt(sum_sq / n - (sum / n) * (sum / n)), 1.0, 1e-4);
        }
        nn_dataset_free(dataset);
    }
}
END_TEST

START_TEST(constant_channel_gets_unit_std_and_is_only_centred)
{
    nn_shape shape = nn_shape_1d(2);
    nn_dataset *dataset;
    nn_error err;
    assert_ok(nn_dataset_new(&dataset, "flat", 3, &shape, NN_TARGET_CLASS, 1, 2, &err), &err);
    const nn_real values[6] = { 4, 1, 4, 2, 4, 3 };  /* feature 0 constant */
    memcpy(dataset->inputs, values, sizeof values);
    nn_real mean[2], std[2];
    assert_ok(nn_dataset_channel_stats(mean, std, dataset, 2, &err), &err);
    ck_assert_real_near(mean[0], 4.0, TEST_TOLERANCE);
    ck_assert_real_near(std[0], 1.0, TEST_TOLERANCE);
    ck_assert_real_near(mean[1], 2.0, TEST_TOLERANCE);
    ck_assert_real_near(std[1], sqrt(2.0 / 3.0), TEST_TOLERANCE);
    assert_ok(nn_dataset_normalize(dataset, mean, std, 2, &err), &err);
    for (int i = 0; i < 3; i++)
        ck_assert_real_near(dataset->inputs[2 * i], 0.0, TEST_TOLERANCE);
    nn_dataset_free(dataset);
}
END_TEST

/* ---- refusals -------------------------------------------------------------- */

START_TEST(invalid_loader_settings_are_refused_with_messages)
{
    nn_dataset *images = make_images(10, 1, 4, 4, 2);
    nn_shape vector = nn_shape_1d(3), map_shape = nn_shape_3d(1, 4, 4);
    nn_dataset *table, *maps;
    nn_error err;
    assert_ok(nn_dataset_new(&table, "table", 10, &vector, NN_TARGET_CLASS, 1, 2, &err), &err);
    assert_ok(nn_dataset_new(&maps, "maps", 10, &map_shape, NN_TARGET_MAP, 16, 5, &err), &err);
    nn_rng rng;
    nn_rng_seed(&rng, 12);
    nn_loader *loader = (nn_loader *)&rng;  /* must be reset to NULL on failure */

    ck_assert_int_eq(nn_loader_new(&loader, images, 0, true, false, &rng, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_null(loader);
    ck_assert_ptr_nonnull(strstr(err.message, "batch size 0"));
    ck_assert_int_eq(nn_loader_new(&loader, images, 11, true, true, &rng, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "no batch"));
    ck_assert_int_eq(nn_loader_new(&loader, images, 4, true, false, NULL, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "random generator"));

    nn_augment_config noise = only(6), flip = only(0), bad = only(1);
    bad.crop_padding = 4;  /* as large as the 4 x 4 image */
    assert_ok(nn_loader_new(&loader, table, 4, true, false, &rng, &err), &err);
    ck_assert_int_eq(nn_loader_set_augment(loader, &noise, &err), NN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.message, "(C, H, W)"));
    nn_real mean[2] = { 0, 0 }, std[2] = { 1, 1 };
    ck_assert_int_eq(nn_loader_set_normalization(loader, mean, std, 2, &err), NN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(err.message, "3 channels, got 2"));
    nn_loader_free(loader);

    assert_ok(nn_loader_new(&loader, maps, 4, true, false, &rng, &err), &err);
    ck_assert_int_eq(nn_loader_set_augment(loader, &flip, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "per-pixel labels"));
    assert_ok(nn_loader_set_augment(loader, &noise, &err), &err);  /* photometric is fine */
    nn_loader_free(loader);

    assert_ok(nn_loader_new(&loader, images, 4, false, false, NULL, &err), &err);
    ck_assert_int_eq(nn_loader_set_augment(loader, &noise, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "random generator"));
    nn_loader_free(loader);

    assert_ok(nn_loader_new(&loader, images, 4, true, false, &rng, &err), &err);
    ck_assert_int_eq(nn_loader_set_augment(loader, &bad, &err), NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "padding 4"));
    std[0] = 0;
    ck_assert_int_eq(nn_loader_set_normalization(loader, mean, std, 1, &err),
                     NN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "std[0]"));
    nn_loader_free(loader);

    nn_loader_free(NULL);
    nn_dataset_free(images);
    nn_dataset_free(table);
    nn_dataset_free(maps);
}
END_TEST

Suite *loader_suite(void);
Suite *loader_suite(void)
{
    Suite *suite = suite_create("loader");
    TCase *order = tcase_create("order and batches");
    tcase_add_test(order, every_sample_appears_exactly_once_per_epoch);
    tcase_add_test(order, same_seed_gives_same_order_and_different_seed_another);
    tcase_add_test(order, without_shuffle_order_is_dataset_order);
    tcase_add_test(order, first_epoch_starts_by_itself_and_ends_until_restarted);
    tcase_add_test(order, batch_sizes_keep_or_drop_the_last_partial_batch);
    tcase_add_test(order, labels_travel_with_their_inputs);
    tcase_add_test(order, label_maps_and_real_targets_travel_with_their_inputs);
    suite_add_tcase(suite, order);

    TCase *augment = tcase_create("augmentation");
    tcase_add_test(augment, labels_unchanged_by_every_augmentation);
    tcase_add_test(augment, augmentation_applies_in_training_only_and_keeps_the_order);
    suite_add_tcase(suite, augment);

    TCase *normal = tcase_create("normalisation");
    tcase_add_test(normal, normalization_gives_zero_mean_unit_std_per_channel);
    tcase_add_test(normal, dataset_normalization_works_per_feature_for_vectors_and_sequences);
    tcase_add_test(normal, constant_channel_gets_unit_std_and_is_only_centred);
    suite_add_tcase(suite, normal);

    TCase *refusals = tcase_create("refusals");
    tcase_add_test(refusals, invalid_loader_settings_are_refused_with_messages);
    suite_add_tcase(suite, refusals);
    return suite;
}
