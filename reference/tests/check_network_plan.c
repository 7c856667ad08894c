/*
 * check_network_plan.c - sizing a spec without building it: a plan agrees
 * with the network built from the same spec for every layer type (its
 * parameters, buffers, FLOPs, activations and output shape), a planned
 * layer holds counts but no arrays, a spec of about 10^12 parameters is
 * measured exactly without a byte of them allocated, and each limit is
 * refused at the line and column of the layer that crosses it.
 */
#include "netutil.h"

/* Every layer type of the library, on 2-channel 8x8 images, ending in
 * class scores. */
static const char every_layer[] = "input: [2, 8, 8]\n"
                                  "layers:\n"
                                  "  - {type: conv, filters: 4, kernel: 3, padding: 1}\n"
                                  "  - batchnorm\n"
                                  "  - {type: prelu, per_channel: true}\n"
                                  "  - residual\n"
                                  "  - {type: max_pool, kernel: 2}\n"
                                  "  - {type: conv_transpose, filters: 3, kernel: 2, stride: 2}\n"
                                  "  - {type: avg_pool, kernel: 2}\n"
                                  "  - {type: upsample, scale: 2, mode: bilinear}\n"
                                  "  - leaky_relu\n"
                                  "  - {type: dropout, p: 0.25}\n"
                                  "  - sigmoid\n"
                                  "  - global_avg_pool\n"
                                  "  - tanh\n"
                                  "  - {type: linear, out: 7}\n"
                                  "  - relu\n"
                                  "  - flatten\n"
                                  "  - {type: linear, out: 5}\n";

static nn_model_spec *parse(const char *text)
{
    nn_model_spec *spec;
    nn_error err;
    net_assert_ok(nn_model_spec_parse(&spec, "model.yaml", text, &err), &err);
    return spec;
}

START_TEST(plan_agrees_with_the_built_network_for_every_layer_type)
{
    nn_model_spec *spec = parse(every_layer);
    nn_network_plan plan;
    nn_error err;
    net_assert_ok(nn_network_plan_spec(&plan, spec, NULL, &err), &err);
    nn_network *network = net_build(every_layer, 3, 1);
    /* What the built network holds, counted from its layers. */
    size_t buffers = 0, activations = nn_shape_size(&spec->input_shape);
    double flops = 0;
    for (int i = 0; i < network->layer_count; i++) {
        const nn_layer *layer = network->layers[i];
        for (int b = 0; b < layer->buffer_count; b++)
            buffers += layer->buffer_sizes[b];
        flops += layer->flops;
        activations += layer->output_size;
    }
    ck_assert_int_eq(plan.layer_count, 17);
    ck_assert_int_eq(plan.layer_count, network->layer_count);
    ck_assert_uint_eq(plan.parameters, network->parameter_total);
    ck_assert_uint_eq(plan.buffers, buffers);
    ck_assert_uint_eq(plan.buffers, 8);   /* batch norm's running mean and variance, 4 each */
    ck_assert_double_eq(plan.flops, flops);
    ck_assert_uint_eq(plan.activations, activations);
    ck_assert(nn_shape_equal(&plan.output_shape,
                             &network->layers[network->layer_count - 1]->output_shape));
    ck_assert_uint_eq(nn_shape_size(&plan.output_shape), 5);
    nn_network_free(network);
    nn_model_spec_free(spec);
}
END_TEST

START_TEST(a_planned_layer_has_counts_but_no_arrays)
{
    nn_model_spec *spec = parse("input: [6]\nlayers:\n  - {type: linear, out: 4}\n");
    spec->layers[0].plan_only = true;
    const nn_layer_type *type = nn_layer_type_find("linear");
    ck_assert_ptr_nonnull(type);
    nn_layer *layer;
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    nn_error err;
    net_assert_ok(type->create(&layer, spec, &spec->layers[0], &spec->input_shape, 8, &rng, &err),
                  &err);
    ck_assert(layer->planned);
    ck_assert_int_eq(layer->parameter_count, 2);
    ck_assert_uint_eq(layer->parameters[0].count, 24);
    ck_assert_uint_eq(layer->parameters[1].count, 4);
    for (int p = 0; p < 2; p++) {
        ck_assert_ptr_null(layer->parameters[p].value);
        ck_assert_ptr_null(layer->parameters[p].grad);
    }
    ck_assert_double_eq(layer->flops, 2.0 * 6 * 4);
    layer->ops->destroy(layer);
    nn_model_spec_free(spec);
}
END_TEST

/* 2 -> 2^20 -> 2^20 -> 4: (2 + 1) 2^20 + (2^20 + 1) 2^20 + (2^20 + 1) 4. */
static const char trillion[] = "input: [2]\n"
                               "layers:\n"
                               "  - {type: linear, out: 1048576}\n"
                               "  - relu\n"
                               "  - type: linear\n"
                               "    out: 1048576\n"
                               "  - relu\n"
                               "  - {type: linear, out: 4}\n";

START_TEST(a_trillion_parameters_are_counted_without_being_allocated)
{
    /* Built, this would take 17.6 TB (values and gradients, 8 bytes each
     * in double): the plan can only succeed by allocating none of it. */
    nn_model_spec *spec = parse(trillion);
    nn_network_plan plan;
    nn_error err;
    net_assert_ok(nn_network_plan_spec(&plan, spec, NULL, &err), &err);
    size_t wide = (size_t)1 << 20;
    ck_assert_uint_eq(plan.parameters, 3 * wide + (wide + 1) * wide + (wide + 1) * 4);
    ck_assert_uint_gt(plan.parameters, (size_t)1000000000000);
    ck_assert_double_eq(plan.flops, 2.0 * (2 * (double)wide + (double)wide * (double)wide
                                           + 4 * (double)wide));
    nn_model_spec_free(spec);
}
END_TEST

/* Plans spec under limits and expects a refusal located at `location`
 * that mentions each of parts. */
static void expect_refused(const char *text, const nn_network_limits *limits, int layers,
                           const char *location, const char *const *parts)
{
    nn_model_spec *spec = parse(text);
    nn_network_plan plan;
    nn_error err;
    nn_status status = nn_network_plan_spec(&plan, spec, limits, &err);
    ck_assert_msg(status == NN_ERR_ARGUMENT, "status %s (%s)", nn_status_name(status),
                  status == NN_OK ? "planned" : err.message);
    ck_assert_msg(strncmp(err.message, location, strlen(location)) == 0,
                  "message '%s' is not located at '%s'", err.message, location);
    for (int i = 0; parts[i] != NULL; i++)
        ck_assert_msg(strstr(err.message, parts[i]) != NULL, "message '%s' does not mention '%s'",
                      err.message, parts[i]);
    /* The sums stop at the layer that crossed. */
    ck_assert_int_eq(plan.layer_count, layers);
    nn_model_spec_free(spec);
}

#define PARTS(...) ((const char *const[]){ __VA_ARGS__, NULL })

START_TEST(each_limit_is_refused_at_the_layer_that_crosses_it)
{
    nn_network_limits parameters = { .max_parameters = 1000000 };
    expect_refused(trillion, &parameters, 1, "model.yaml:3:5: ",
                   PARTS("layer linear1", "3145728 parameters", "the 1000000 allowed"));
    /* 2 -> 512 -> 512: 1536, then 262656 more; FLOPs 2048 then 526336. */
    const char *wide = "input: [2]\n"
                       "layers:\n"
                       "  - {type: linear, out: 512}\n"
                       "  - relu\n"
                       "  - type: linear\n"
                       "    out: 512\n";
    nn_network_limits flops = { .max_parameters = 1000000, .max_flops = 100000 };
    expect_refused(wide, &flops, 3, "model.yaml:5:5: ",
                   PARTS("layer linear3", "524288 FLOPs", "526336", "the 100000 allowed"));
    /* Activations: 2 + 512 + 512 + 512 values per sample. */
    nn_network_limits activations = { .max_activations = 1500 };
    expect_refused(wide, &activations, 3, "model.yaml:5:5: ",
                   PARTS("layer linear3", "1538", "the 1500 allowed"));
    /* Batch norm's saved statistics count with the parameters. */
    nn_network_limits tight = { .max_parameters = 24 };
    expect_refused("input: [2]\nlayers:\n  - {type: linear, out: 4}\n  - batchnorm\n", &tight,
                   2, "model.yaml:4:5: ", PARTS("layer batchnorm2", "16 parameters", "28"));
}
END_TEST

START_TEST(an_input_above_the_activation_limit_is_refused_before_any_layer)
{
    nn_model_spec *spec = parse("input: [1, 1024, 1024]\nlayers:\n  - flatten\n");
    nn_network_limits limits = { .max_activations = 1000 };
    nn_network_plan plan;
    nn_error err;
    ck_assert_int_eq(nn_network_plan_spec(&plan, spec, &limits, &err), NN_ERR_ARGUMENT);
    ck_assert_msg(strstr(err.message, "model.yaml: the input (1, 1024, 1024) has 1048576 values")
                      != NULL, "%s", err.message);
    ck_assert_int_eq(plan.layer_count, 0);
    nn_model_spec_free(spec);
}
END_TEST

START_TEST(a_spec_that_cannot_be_built_fails_the_plan_as_it_fails_the_build)
{
    const char *texts[] = {
        "input: [1, 28, 28]\nlayers:\n  - type: linear\n    out: 10\n",
        "input: [4]\nlayers:\n  - {type: linear, out: 3}\n  - type: softmax\n",
    };
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        nn_model_spec *spec = parse(texts[t]);
        nn_network_plan plan;
        nn_error planned, built;
        nn_status plan_status = nn_network_plan_spec(&plan, spec, NULL, &planned);
        nn_network *network = NULL;
        nn_rng rng;
        nn_rng_seed(&rng, 1);
        nn_status build_status = nn_network_new(&network, spec, 1, &rng, &built);
        ck_assert_int_ne(build_status, NN_OK);
        ck_assert_int_eq(plan_status, build_status);
        ck_assert_str_eq(planned.message, built.message);
        nn_model_spec_free(spec);
    }
}
END_TEST

Suite *network_plan_suite(void);
Suite *network_plan_suite(void)
{
    Suite *suite = suite_create("network_plan");
    TCase *tc = tcase_create("plan");
    tcase_add_test(tc, plan_agrees_with_the_built_network_for_every_layer_type);
    tcase_add_test(tc, a_planned_layer_has_counts_but_no_arrays);
    tcase_add_test(tc, a_trillion_parameters_are_counted_without_being_allocated);
    tcase_add_test(tc, each_limit_is_refused_at_the_layer_that_crosses_it);
    tcase_add_test(tc, an_input_above_the_activation_limit_is_refused_before_any_layer);
    tcase_add_test(tc, a_spec_that_cannot_be_built_fails_the_plan_as_it_fails_the_build);
    suite_add_tcase(suite, tc);
    return suite;
}
