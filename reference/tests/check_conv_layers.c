/*
 * check_conv_layers.c - the convolutional layer adapters of the network
 * container (reference/src/network/conv_layers.c and pool_layers.c): shapes
 * inferred from specs, the exam's shape and parameter questions, errors
 * located at the layer, and whole-network gradient checks through
 * convolution, transposed convolution, pooling, upsampling and the
 * residual block.
 */
#include "nn/gradcheck.h"
#include "netutil.h"

typedef struct conv_case {
    nn_network *network;
    const nn_real *x;
    const int *labels;
    int batch;
} conv_case;

static double conv_case_loss(void *context)
{
    conv_case *c = context;
    nn_run_context run = { .training = true, .rng = NULL };
    double loss = NAN;
    if (nn_network_forward(c->network, c->x, c->batch, &run, NULL) != NN_OK
        || nn_network_loss(c->network, &loss, c->labels, NULL, c->batch, false, NULL) != NN_OK)
        return NAN;
    return loss;
}

/* Checks every parameter's gradient of the network in spec against
 * central differences; returns how many arrays had a gradient above the
 * floor somewhere. */
static size_t check_network_gradients(const char *spec, size_t input_size, int classes,
                                      int spatial, double floor)
{
    enum { BATCH = 3 };
    nn_network *network = net_build(spec, BATCH, 11);
    nn_real *x = malloc(BATCH * input_size * sizeof *x);
    int *labels = malloc((size_t)BATCH * (size_t)spatial * sizeof *labels);
    nn_rng rng;
    nn_rng_seed(&rng, 12);
    test_fill_uniform(x, BATCH * input_size, &rng, -1, 1);
    for (int i = 0; i < BATCH * spatial; i++)
        labels[i] = (int)nn_rng_below(&rng, (uint64_t)classes);
    conv_case c = { network, x, labels, BATCH };
    nn_error err;
    nn_run_context run = { .training = true, .rng = NULL };
    double loss;
    net_assert_ok(nn_network_forward(network, x, BATCH, &run, &err), &err);
    nn_network_zero_grad(network);
    net_assert_ok(nn_network_loss(network, &loss, labels, NULL, BATCH, true, &err), &err);
    net_assert_ok(nn_network_backward(network, BATCH, &err), &err);
    nn_gradcheck_config config = nn_gradcheck_default_config();
    config.max_samples = 40;
    if (floor > 0)
        config.denominator_floor = floor;
    config.reject_all_zero = false;
    size_t informative = 0;
    for (size_t p = 0; p < network->parameter_count; p++) {
        size_t count = network->parameters[p].count;
        nn_real *analytic = malloc(count * sizeof *analytic);
        memcpy(analytic, network->parameters[p].grad, count * sizeof *analytic);
        nn_gradcheck_result result;
        net_assert_ok(nn_gradcheck(&result, network->parameters[p].value, analytic, count,
                                   conv_case_loss, &c, &config, &rng, &err),
                      &err);
        char line[300], name[32];
        snprintf(name, sizeof name, "parameter %zu", p);
        ck_assert_msg(result.passed, "%s",
                      nn_gradcheck_describe(line, sizeof line, name, NULL, &result, &config));
        informative += !result.all_zero;
        free(analytic);
    }
    free(x);
    free(labels);
    nn_network_free(network);
    return informative;
}

/* Smooth everywhere (tanh, average pooling, bilinear upsampling), so the
 * check is meaningful in both precisions. */
START_TEST(smooth_conv_network_backward_matches_numerical_gradients)
{
    const char *spec = "input: [2, 6, 6]\n"
                       "layers:\n"
                       "  - {type: conv, filters: 3, kernel: 3, padding: 1}\n"
                       "  - tanh\n"
                       "  - {type: avg_pool, kernel: 2}\n"
                       "  - {type: conv_transpose, filters: 2, kernel: 2, stride: 2}\n"
                       "  - tanh\n"
                       "  - {type: upsample, scale: 2, mode: bilinear}\n"
                       "  - {type: conv, filters: 4, kernel: 3, stride: 2, dilation: 2}\n"
                       "  - global_avg_pool\n"
                       "  - {type: linear, out: 3}\n"
                       "loss: softmax_cross_entropy\n";
    size_t informative = check_network_gradients(spec, 2 * 6 * 6, 3, 1,
                                                 NN_REAL_IS_DOUBLE ? 0 : 3e-3);
    ck_assert_uint_ge(informative, NN_REAL_IS_DOUBLE ? 8 : 4);
}
END_TEST

#if NN_REAL_IS_DOUBLE
/* ReLU and max pooling have kinks; random inputs almost never sit within
 * the double build's step (1e-5) of one, the float build's (1e-2) often
 * does, so this check belongs to the double build. */
START_TEST(residual_segmentation_network_backward_matches_numerical_gradients)
{
    const char *spec = "input: [3, 8, 8]\n"
                       "layers:\n"
                       "  - {type: conv, filters: 4, kernel: 3, padding: 1}\n"
                       "  - relu\n"
                       "  - {type: max_pool, kernel: 2}\n"
                       "  - residual\n"
                       "  - {type: conv_transpose, filters: 3, kernel: 2, stride: 2}\n"
                       "  - {type: upsample, scale: 1}\n"
                       "  - {type: conv, filters: 5, kernel: 1}\n"
                       "loss: softmax_cross_entropy\n";
    /* Per-pixel labels: (5, 8, 8) scores for 64 pixels. */
    size_t informative = check_network_gradients(spec, 3 * 8 * 8, 5, 64, 0);
    ck_assert_uint_ge(informative, 8);
}
END_TEST
#endif

START_TEST(exam_shapes_and_parameters_come_out_of_the_spec)
{
    /* 2.6: 6 filters, kernel 5, stride 3, padding 2 on 28x28 -> 6x10x10.
     * 2.7: 3 -> 5 channels, kernel 4: (3*4*4 + 1) * 5 = 245 parameters. */
    nn_network *network = net_build("input: [28, 28, 28]\n"
                                    "layers:\n"
                                    "  - {type: conv, filters: 6, kernel: 5, stride: 3, padding: 2}\n"
                                    "  - flatten\n"
                                    "  - {type: linear, out: 2}\n",
                                    1, 1);
    nn_shape expected = nn_shape_3d(6, 10, 10);
    ck_assert(nn_shape_equal(&network->layers[0]->output_shape, &expected));
    nn_network_free(network);
    network = net_build("input: [3, 16, 16]\n"
                        "layers:\n"
                        "  - {type: conv, filters: 5, kernel: 4, stride: 2, padding: 1}\n"
                        "  - global_avg_pool\n",
                        1, 1);
    ck_assert_uint_eq(network->parameter_total, 245);
    expected = nn_shape_3d(5, 8, 8);
    ck_assert(nn_shape_equal(&network->layers[0]->output_shape, &expected));
    nn_network_free(network);
    /* 2.13: batch norm after 16 filters has 32 learnable values. */
    network = net_build("input: [1, 4, 4]\n"
                        "layers:\n"
                        "  - {type: conv, filters: 16, kernel: 3, padding: 1, bias: false}\n"
                        "  - batchnorm\n"
                        "  - global_avg_pool\n",
                        1, 1);
    ck_assert_uint_eq(network->parameter_total, 16 * 9 + 32);
    nn_network_free(network);
}
END_TEST

START_TEST(global_pooling_accepts_any_input_size)
{
    /* Exam 3.6: without a fully-connected layer on the feature map, the
     * same layers work for any input size. */
    for (int size = 8; size <= 20; size += 4) {
        char spec[256];
        snprintf(spec, sizeof spec,
                 "input: [1, %d, %d]\nlayers:\n  - {type: conv, filters: 4, kernel: 3}\n"
                 "  - global_avg_pool\n  - {type: linear, out: 2}\n", size, size);
        nn_network *network = net_build(spec, 1, 1);
        ck_assert_uint_eq(network->parameter_total, 4 * 9 + 4 + 4 * 2 + 2);
        nn_network_free(network);
    }
}
END_TEST

START_TEST(a_kernel_larger_than_its_input_is_located)
{
    nn_model_spec *spec;
    nn_error err;
    net_assert_ok(nn_model_spec_parse(&spec, "model.yaml",
                                      "input: [1, 4, 4]\n"
                                      "layers:\n"
                                      "  - {type: conv, filters: 2, kernel: 3}\n"
                                      "  - {type: conv, filters: 2, kernel: 5}\n",
                                      &err),
                  &err);
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    nn_network *network;
    ck_assert_int_eq(nn_network_new(&network, spec, 1, &rng, &err), NN_ERR_SHAPE);
    ck_assert_msg(strstr(err.message, "model.yaml:4:5: layer conv2") != NULL, "%s", err.message);
    ck_assert_msg(strstr(err.message, "does not fit") != NULL, "%s", err.message);
    nn_model_spec_free(spec);
}
END_TEST

START_TEST(pooling_on_a_flat_input_is_refused)
{
    nn_model_spec *spec;
    nn_error err;
    net_assert_ok(nn_model_spec_parse(&spec, "model.yaml",
                                      "input: [16]\nlayers:\n  - {type: max_pool, kernel: 2}\n",
                                      &err),
                  &err);
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    nn_network *network;
    ck_assert_int_eq(nn_network_new(&network, spec, 1, &rng, &err), NN_ERR_SHAPE);
    ck_assert_msg(strstr(err.message, "(C, H, W)") != NULL, "%s", err.message);
    nn_model_spec_free(spec);
}
END_TEST

Suite *conv_layers_suite(void);
Suite *conv_layers_suite(void)
{
    Suite *suite = suite_create("conv_layers");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, smooth_conv_network_backward_matches_numerical_gradients);
#if NN_REAL_IS_DOUBLE
    tcase_add_test(tc, residual_segmentation_network_backward_matches_numerical_gradients);
#endif
    tcase_add_test(tc, exam_shapes_and_parameters_come_out_of_the_spec);
    tcase_add_test(tc, global_pooling_accepts_any_input_size);
    tcase_add_test(tc, a_kernel_larger_than_its_input_is_located);
    tcase_add_test(tc, pooling_on_a_flat_input_is_refused);
    suite_add_tcase(suite, tc);
    return suite;
}
