/*
 * check_spec.c - the YAML model spec: a full spec parses into layers,
 * options, names, loss and training settings; defaults fill what is left
 * out; and every kind of mistake is refused with the exact file:line:column
 * of the offending text and a message that names the problem (the unknown
 * key and the known ones, the range, the expected type).
 *
 * Errors found while parsing and errors found while building the network
 * (option values, which only the layer types can judge) are both checked:
 * either way nothing has run yet.
 */
#include "nn/network.h"
#include "testutil.h"

static void assert_ok(nn_status status, const nn_error *err)
{
    ck_assert_msg(status == NN_OK, "status %s: %s", nn_status_name(status), err->message);
}

static nn_model_spec *parse(const char *text)
{
    nn_model_spec *spec;
    nn_error err;
    assert_ok(nn_model_spec_parse(&spec, "model.yaml", text, &err), &err);
    return spec;
}

/* The message starts with `location` ("model.yaml:L:C: ") and contains each
 * of the NULL-terminated parts. */
static void assert_message(const nn_error *err, const char *location, const char *const *parts)
{
    ck_assert_msg(strncmp(err->message, location, strlen(location)) == 0,
                  "message '%s' is not located at '%s'", err->message, location);
    for (int i = 0; parts != NULL && parts[i] != NULL; i++)
        ck_assert_msg(strstr(err->message, parts[i]) != NULL,
                      "message '%s' does not mention '%s'", err->message, parts[i]);
}

/* Parsing text fails with NN_ERR_FORMAT located at `location`. */
static void expect_parse_error(const char *text, const char *location, const char *const *parts)
{
    nn_model_spec *spec = (nn_model_spec *)1;
    nn_error err;
    nn_status status = nn_model_spec_parse(&spec, "model.yaml", text, &err);
    ck_assert_msg(status == NN_ERR_FORMAT, "status %s (%s) for:\n%s", nn_status_name(status),
                  status == NN_OK ? "parsed" : err.message, text);
    ck_assert_ptr_null(spec);
    ck_assert_int_eq(err.status, NN_ERR_FORMAT);
    assert_message(&err, location, parts);
}

/* Parsing succeeds and building the network fails with `expected`. */
static void expect_build_error(const char *text, nn_status expected, const char *location,
                               const char *const *parts)
{
    nn_model_spec *spec = parse(text);
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    nn_network *network = (nn_network *)1;
    nn_error err;
    nn_status status = nn_network_new(&network, spec, 4, &rng, &err);
    ck_assert_msg(status == expected, "status %s, expected %s (%s)", nn_status_name(status),
                  nn_status_name(expected), status == NN_OK ? "built" : err.message);
    ck_assert_ptr_null(network);
    assert_message(&err, location, parts);
    nn_model_spec_free(spec);
}

#define PARTS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ---- valid specs ------------------------------------------------------------ */

static const char full_spec[] =
    "name: tiny\n"                       /* 1 */
    "input: [1, 4, 4]\n"                 /* 2 */
    "layers:\n"                          /* 3 */
    "  - type: flatten\n"                /* 4 */
    "  - type: linear\n"                 /* 5 */
    "    name: hidden\n"                 /* 6 */
    "    out: 8\n"                       /* 7 */
    "    init: xavier_normal\n"          /* 8 */
    "  - type: relu\n"                   /* 9 */
    "  - {type: dropout, p: 0.25}\n"     /* 10 */
    "  - type: linear\n"                 /* 11 */
    "    out: 3\n"                       /* 12 */
    "loss: softmax_cross_entropy\n"      /* 13 */
    "train:\n"                           /* 14 */
    "  optimizer: sgd\n"
    "  learning_rate: 0.05\n"
    "  momentum: 0.9\n"
    "  nesterov: true\n"
    "  weight_decay: 0.0005\n"
    "  batch_size: 32\n"
    "  epochs: 7\n"
    "  schedule: {kind: step, gamma: 0.5, step_size: 3}\n"
    "  augment: {flip: true, crop: 2}\n";

START_TEST(full_spec_parses_every_field)
{
    nn_model_spec *spec = parse(full_spec);
    ck_assert_str_eq(spec->path, "model.yaml");
    ck_assert_str_eq(spec->name, "tiny");
    ck_assert_int_eq(spec->input_shape.rank, 3);
    ck_assert_uint_eq(spec->input_shape.dims[0], 1);
    ck_assert_uint_eq(spec->input_shape.dims[1], 4);
    ck_assert_uint_eq(spec->input_shape.dims[2], 4);
    ck_assert_int_eq(spec->layer_count, 5);

    static const char *const types[] = { "flatten", "linear", "relu", "dropout", "linear" };
    static const char *const names[] = { "flatten1", "hidden", "relu3", "dropout4", "linear5" };
    static const int lines[] = { 4, 5, 9, 10, 11 };
    static const int columns[] = { 5, 5, 5, 5, 5 };
    for (int i = 0; i < 5; i++) {
        ck_assert_str_eq(spec->layers[i].type, types[i]);
        ck_assert_str_eq(spec->layers[i].name, names[i]);
        ck_assert_int_eq(spec->layers[i].line, lines[i]);
        ck_assert_int_eq(spec->layers[i].column, columns[i]);
    }
    /* `type` and `name` are not options; the rest are kept as located text. */
    const nn_layer_spec *hidden = &spec->layers[1];
    ck_assert_int_eq(hidden->option_count, 2);
    const nn_spec_option *out = nn_layer_spec_option(hidden, "out");
    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out->value, "8");
    ck_assert_int_eq(out->line, 7);
    ck_assert_int_eq(out->column, 10);
    const char *init;
    nn_layer_spec_string(&init, hidden, "init", "he_uniform");
    ck_assert_str_eq(init, "xavier_normal");
    nn_layer_spec_string(&init, &spec->layers[4], "init", "he_uniform");
    ck_assert_str_eq(init, "he_uniform");
    ck_assert_ptr_null(nn_layer_spec_option(hidden, "name"));
    const nn_spec_option *p = nn_layer_spec_option(&spec->layers[3], "p");
    ck_assert_str_eq(p->value, "0.25");
    ck_assert_int_eq(p->line, 10);
    ck_assert_int_eq(p->column, 24);

    ck_assert_int_eq(spec->loss, NN_LOSS_SOFTMAX_CROSS_ENTROPY);
    const nn_train_spec *train = &spec->train;
    ck_assert_int_eq(train->optimizer.kind, NN_OPTIMIZER_SGD);
    ck_assert(train->optimizer.sgd.learning_rate == 0.05);
    ck_assert(train->optimizer.sgd.momentum == 0.9);
    ck_assert(train->optimizer.sgd.nesterov);
    ck_assert(train->optimizer.sgd.weight_decay == 0.0005);
    ck_assert_int_eq(train->batch_size, 32);
    ck_assert_int_eq(train->epochs, 7);
    ck_assert_int_eq(train->schedule, NN_SCHEDULE_STEP);
    ck_assert(train->schedule_gamma == 0.5);
    ck_assert_int_eq(train->schedule_step_size, 3);
    ck_assert(train->augment_flip);
    ck_assert_int_eq(train->augment_crop, 2);
    nn_model_spec_free(spec);
}
END_TEST

START_TEST(minimal_spec_takes_the_defaults)
{
    nn_model_spec *spec = parse("input: [2]\n"
                                "layers: [relu, {type: linear, out: 1}]\n");
    ck_assert_str_eq(spec->name, "model");
    ck_assert_int_eq(spec->input_shape.rank, 1);
    ck_assert_uint_eq(spec->input_shape.dims[0], 2);
    ck_assert_int_eq(spec->layer_count, 2);
    /* A bare string is a layer without options. */
    ck_assert_str_eq(spec->layers[0].type, "relu");
    ck_assert_str_eq(spec->layers[0].name, "relu1");
    ck_assert_int_eq(spec->layers[0].option_count, 0);
    ck_assert_int_eq(spec->layers[0].line, 2);
    ck_assert_int_eq(spec->layers[0].column, 10);
    ck_assert_str_eq(spec->layers[1].name, "linear2");
    ck_assert_int_eq(spec->loss, NN_LOSS_SOFTMAX_CROSS_ENTROPY);
    const nn_train_spec *train = &spec->train;
    ck_assert_int_eq(train->optimizer.kind, NN_OPTIMIZER_ADAM);
    ck_assert(train->optimizer.adam.learning_rate == 0.001);
    ck_assert(train->optimizer.adam.beta1 == 0.9);
    ck_assert(train->optimizer.adam.beta2 == 0.999);
    ck_assert(train->optimizer.adam.bias_correction);
    ck_assert(!train->optimizer.adam.decoupled);
    ck_assert(train->optimizer.adam.weight_decay == 0);
    ck_assert_int_eq(train->batch_size, 64);
    ck_assert_int_eq(train->epochs, 5);
    ck_assert_int_eq(train->schedule, NN_SCHEDULE_CONSTANT);
    ck_assert(!train->augment_flip);
    ck_assert_int_eq(train->augment_crop, 0);
    nn_model_spec_free(spec);
}
END_TEST

START_TEST(optimizer_settings_reach_their_optimizer)
{
    nn_model_spec *spec = parse("input: [2]\n"
                                "layers: [{type: linear, out: 2}]\n"
                                "loss: mse\n"
                                "train: {optimizer: adam, learning_rate: 0.01, beta1: 0.8,\n"
                                "        beta2: 0.99, epsilon: 1e-6, weight_decay: 0.01,\n"
                                "        decoupled: yes, bias_correction: false,\n"
                                "        schedule: {kind: plateau, patience: 4, gamma: 0.2}}\n");
    const nn_optimizer_config *optimizer = &spec->train.optimizer;
    ck_assert_int_eq(spec->loss, NN_LOSS_MSE);
    ck_assert_int_eq(optimizer->kind, NN_OPTIMIZER_ADAM);
    ck_assert(optimizer->adam.learning_rate == 0.01);
    ck_assert(optimizer->adam.beta1 == 0.8);
    ck_assert(optimizer->adam.beta2 == 0.99);
    ck_assert(optimizer->adam.epsilon == 1e-6);
    ck_assert(optimizer->adam.weight_decay == 0.01);
    ck_assert(optimizer->adam.decoupled);
    ck_assert(!optimizer->adam.bias_correction);
    ck_assert_int_eq(spec->train.schedule, NN_SCHEDULE_PLATEAU);
    ck_assert_int_eq(spec->train.schedule_patience, 4);
    ck_assert(spec->train.schedule_gamma == 0.2);
    nn_model_spec_free(spec);

    spec = parse("input: [2]\n"
                 "layers: [{type: linear, out: 1}]\n"
                 "loss: bce_with_logits\n"
                 "train: {optimizer: rmsprop, learning_rate: 0.002, decay: 0.9}\n");
    ck_assert_int_eq(spec->loss, NN_LOSS_BCE_WITH_LOGITS);
    ck_assert_int_eq(spec->train.optimizer.kind, NN_OPTIMIZER_RMSPROP);
    ck_assert(spec->train.optimizer.rmsprop.learning_rate == 0.002);
    ck_assert(spec->train.optimizer.rmsprop.decay == 0.9);
    nn_model_spec_free(spec);
}
END_TEST

START_TEST(spec_loads_from_a_file_and_names_it_in_errors)
{
    char dir[256], path[512];
    test_make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/mlp.yaml", dir);
    FILE *file = fopen(path, "w");
    ck_assert_ptr_nonnull(file);
    fputs(full_spec, file);
    fclose(file);
    nn_model_spec *spec;
    nn_error err;
    assert_ok(nn_model_spec_load(&spec, path, &err), &err);
    ck_assert_str_eq(spec->path, path);
    ck_assert_int_eq(spec->layer_count, 5);
    nn_model_spec_free(spec);

    file = fopen(path, "w");
    fputs("input: [3]\nlayers:\n  - type: lineer\n", file);
    fclose(file);
    ck_assert_int_eq(nn_model_spec_load(&spec, path, &err), NN_ERR_FORMAT);
    char location[600];
    snprintf(location, sizeof location, "%s:3:11: ", path);
    assert_message(&err, location, PARTS("lineer"));
    test_remove_dir(dir);

    ck_assert_int_eq(nn_model_spec_load(&spec, path, &err), NN_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.message, path));
    nn_model_spec_free(NULL);
}
END_TEST

/* ---- errors found while parsing ----------------------------------------------- */

START_TEST(unknown_top_level_key_is_located_and_lists_the_known_ones)
{
    expect_parse_error("input: [4]\n"
                       "layers: [relu]\n"
                       "optimizer: adam\n",
                       "model.yaml:3:1: ",
                       PARTS("unknown key 'optimizer'", "name, input, layers, loss, train"));
}
END_TEST

START_TEST(unknown_layer_type_lists_the_known_types)
{
    expect_parse_error("input: [4]\n"
                       "layers:\n"
                       "  - type: relu\n"
                       "  - type: conv3d\n"
                       "    out: 2\n",
                       "model.yaml:4:11: ",
                       PARTS("unknown layer type 'conv3d'", "linear", "relu", "dropout",
                             "batchnorm", "flatten", "softmax"));
}
END_TEST

START_TEST(misspelt_layer_option_is_refused_at_the_key)
{
    const char *const known = "out, bias, init, value";
    expect_parse_error("input: [64]\n"
                       "layers:\n"
                       "  - type: linear\n"
                       "    ouput: 10\n",
                       "model.yaml:4:5: ",
                       PARTS("layer linear1", "unknown key 'ouput' for a linear layer", known));
    /* Even with a value of the wrong type, the key is the first problem. */
    expect_parse_error("input: [64]\n"
                       "layers:\n"
                       "  - {type: linear, out: 3}\n"
                       "  - {type: dropout, rate: [0.5]}\n",
                       "model.yaml:4:21: ", PARTS("unknown key 'rate'", "(known: type, name, p)"));
    expect_parse_error("input: [64]\n"
                       "layers:\n"
                       "  - type: relu\n"
                       "    slope: 0.1\n",
                       "model.yaml:4:5: ", PARTS("unknown key 'slope' for a relu layer"));
}
END_TEST

START_TEST(layer_without_type_is_refused)
{
    expect_parse_error("input: [4]\n"
                       "layers:\n"
                       "  - out: 3\n",
                       "model.yaml:3:5: ", PARTS("layer 1 has no 'type'", "linear"));
    expect_parse_error("input: [4]\n"
                       "layers:\n"
                       "  - type: [linear]\n",
                       "model.yaml:3:11: ", PARTS("a layer type must be a single value"));
}
END_TEST

START_TEST(wrong_value_types_are_refused_where_they_are)
{
    /* A list where a number is expected, in a layer and in train. */
    expect_parse_error("input: [4]\n"
                       "layers:\n"
                       "  - type: linear\n"
                       "    out: [10, 20]\n",
                       "model.yaml:4:10: ", PARTS("layer linear1: out", "not a list"));
    expect_parse_error("input: [4]\n"
                       "layers: [relu]\n"
                       "train:\n"
                       "  learning_rate: [0.1]\n",
                       "model.yaml:4:18: ",
                       PARTS("learning_rate must be a single value, not a list"));
    expect_parse_error("input: [4]\n"
                       "layers: [relu]\n"
                       "train: {batch_size: 2.5}\n",
                       "model.yaml:3:21: ", PARTS("batch_size must be an integer, not '2.5'"));
    expect_parse_error("input: [4]\n"
                       "layers: [relu]\n"
                       "train: {nesterov: sometimes}\n",
                       "model.yaml:3:19: ", PARTS("nesterov must be true or false"));
    expect_parse_error("input: 784\n"
                       "layers: [relu]\n",
                       "model.yaml:1:8: ", PARTS("input must be a list"));
    expect_parse_error("input: [1, 28, many]\n"
                       "layers: [relu]\n",
                       "model.yaml:1:16: ", PARTS("an input size must be an integer"));
    expect_parse_error("input: [4]\n"
                       "layers: [relu]\n"
                       "train: adam\n",
                       "model.yaml:3:8: ", PARTS("train must be a mapping"));
    expect_parse_error("input: [4]\n"
                       "layers:\n"
                       "  type: relu\n",
                       "model.yaml:3:3: ", PARTS("layers must be a non-empty list"));
    expect_parse_error("- input\n- layers\n", "model.yaml:1:1: ",
                       PARTS("a model spec is a mapping"));
}
END_TEST

START_TEST(out_of_range_settings_are_refused_with_the_range)
{
    expect_parse_error("input: [4]\n"
                       "layers: [relu]\n"
                       "train:\n"
                       "  epochs: 0\n",
                       "model.yaml:4:11: ", PARTS("epochs is 0, outside 1..100000"));
    expect_parse_error("input: [4]\n"
                       "layers: [relu]\n"
                       "train:\n"
                       "  momentum: 1.5\n",
                       "model.yaml:4:13: ", PARTS("momentum is 1.5"));
    expect_parse_error("input: [4]\n"
                       "layers: [relu]\n"
                       "train:\n"
                       "  learning_rate: -0.1\n",
                       "model.yaml:4:18: ", PARTS("learning_rate is -0.1"));
    expect_parse_error("input: [0, 4]\n"
                       "layers: [relu]\n",
                       "model.yaml:1:9: ", PARTS("an input size is 0"));
    expect_parse_error("input: [1, 2, 3, 4]\n"
                       "layers: [relu]\n",
                       "model.yaml:1:8: ", PARTS("1 to 3 sizes"));
    expect_parse_error("input: [4]\n"
                       "layers: [relu]\n"
                       "train: {augment: {crop: 100}}\n",
                       "model.yaml:3:25: ", PARTS("crop is 100, outside 0..64"));
    expect_parse_error("input: [4]\n"
                       "layers: [relu]\n"
                       "train: {schedule: {kind: step, gamma: 0}}\n",
                       "model.yaml:3:39: ", PARTS("gamma must be above 0"));
}
END_TEST

START_TEST(missing_input_is_refused)
{
    expect_parse_error("name: x\n"
                       "layers: [relu]\n",
                       "model.yaml:1:1: ", PARTS("no input shape", "input: ["));
}
END_TEST

START_TEST(empty_or_missing_layers_are_refused)
{
    expect_parse_error("input: [4]\n"
                       "layers: []\n",
                       "model.yaml:2:9: ", PARTS("layers must be a non-empty list"));
    expect_parse_error("input: [4]\n"
                       "layers:\n"
                       "loss: mse\n",
                       "model.yaml:2:8: ", PARTS("layers must be a non-empty list"));
    expect_parse_error("input: [4]\n"
                       "loss: mse\n",
                       "model.yaml:1:1: ", PARTS("layers must be a non-empty list"));
}
END_TEST

START_TEST(unknown_optimizer_schedule_and_loss_are_named)
{
    expect_parse_error("input: [4]\n"
                       "layers: [relu]\n"
                       "train:\n"
                       "  optimizer: adamw\n",
                       "model.yaml:4:14: ",
                       PARTS("unknown optimizer 'adamw'", "sgd, rmsprop, adam"));
    expect_parse_error("input: [4]\n"
                       "layers: [relu]\n"
                       "train:\n"
                       "  schedule:\n"
                       "    kind: cosine\n",
                       "model.yaml:5:11: ",
                       PARTS("unknown schedule 'cosine'", "constant, step, exponential, plateau"));
    expect_parse_error("input: [4]\n"
                       "layers: [relu]\n"
                       "train: {schedule: step}\n",
                       "model.yaml:3:19: ", PARTS("schedule must be a mapping"));
    expect_parse_error("input: [4]\n"
                       "layers: [relu]\n"
                       "train: {schedule: {gamma: 0.5}}\n",
                       "model.yaml:3:19: ", PARTS("schedule needs a kind"));
    expect_parse_error("input: [4]\n"
                       "layers: [relu]\n"
                       "loss: cross_entropy\n",
                       "model.yaml:3:7: ",
                       PARTS("unknown loss 'cross_entropy'", "softmax_cross_entropy"));
}
END_TEST

START_TEST(unknown_keys_in_sections_are_refused)
{
    expect_parse_error("input: [4]\n"
                       "layers: [relu]\n"
                       "train:\n"
                       "  epochs: 3\n"
                       "  lr: 0.1\n",
                       "model.yaml:5:3: ", PARTS("train: unknown key 'lr'", "learning_rate"));
    expect_parse_error("input: [4]\n"
                       "layers: [relu]\n"
                       "train: {schedule: {kind: step, steps: 2}}\n",
                       "model.yaml:3:32: ", PARTS("schedule: unknown key 'steps'", "step_size"));
    expect_parse_error("input: [4]\n"
                       "layers: [relu]\n"
                       "train: {augment: {rotate: 10}}\n",
                       "model.yaml:3:19: ", PARTS("augment: unknown key 'rotate'", "flip, crop"));
}
END_TEST

START_TEST(repeated_keys_are_refused_at_the_second)
{
    expect_parse_error("input: [4]\n"
                       "layers:\n"
                       "  - type: linear\n"
                       "    out: 10\n"
                       "    out: 20\n",
                       "model.yaml:5:5: ", PARTS("key 'out' appears twice", "line 4"));
    expect_parse_error("input: [4]\n"
                       "layers: [relu]\n"
                       "input: [5]\n",
                       "model.yaml:3:1: ", PARTS("key 'input' appears twice"));
    expect_parse_error("input: [4]\n"
                       "layers: [relu]\n"
                       "train: {epochs: 2, epochs: 3}\n",
                       "model.yaml:3:20: ", PARTS("key 'epochs' appears twice"));
}
END_TEST

START_TEST(layer_names_must_be_unique)
{
    expect_parse_error("input: [4]\n"
                       "layers:\n"
                       "  - {type: linear, out: 4, name: fc}\n"
                       "  - type: relu\n"
                       "  - {type: linear, out: 2, name: fc}\n",
                       "model.yaml:5:5: ", PARTS("'fc' is already used by layer 1 (line 3)"));
    /* An explicit name may not take another layer's automatic one. */
    expect_parse_error("input: [4]\n"
                       "layers:\n"
                       "  - {type: relu, name: tanh2}\n"
                       "  - tanh\n",
                       "model.yaml:4:5: ", PARTS("'tanh2' is already used by layer 1"));
}
END_TEST

/* ---- errors found while building: option values ------------------------------- */

START_TEST(missing_out_for_linear_is_located_at_the_layer)
{
    expect_build_error("input: [4]\n"
                       "layers:\n"
                       "  - type: relu\n"
                       "  - type: linear\n"
                       "    init: he_normal\n",
                       NN_ERR_FORMAT, "model.yaml:4:5: ",
                       PARTS("layer linear2", "needs `out`"));
}
END_TEST

START_TEST(out_of_range_option_is_located_at_its_value)
{
    expect_build_error("input: [4]\n"
                       "layers:\n"
                       "  - {type: linear, out: 4}\n"
                       "  - type: dropout\n"
                       "    p: 1.5\n",
                       NN_ERR_FORMAT, "model.yaml:5:8: ",
                       PARTS("layer dropout2", "p is 1.5, outside [0, 0.99]"));
    expect_build_error("input: [4]\n"
                       "layers:\n"
                       "  - type: linear\n"
                       "    out: 0\n",
                       NN_ERR_FORMAT, "model.yaml:4:10: ", PARTS("out is 0, outside 1.."));
    expect_build_error("input: [4]\n"
                       "layers:\n"
                       "  - {type: linear, out: ten}\n",
                       NN_ERR_FORMAT, "model.yaml:3:25: ",
                       PARTS("out must be an integer, not 'ten'"));
    expect_build_error("input: [4]\n"
                       "layers:\n"
                       "  - {type: leaky_relu, slope: -1}\n"
                       "  - {type: linear, out: 1}\n",
                       NN_ERR_FORMAT, "model.yaml:3:31: ", PARTS("slope is -1"));
    expect_build_error("input: [4]\n"
                       "layers:\n"
                       "  - {type: linear, out: 3, init: zeros}\n",
                       NN_ERR_FORMAT, "model.yaml:3:34: ",
                       PARTS("unknown initialisation 'zeros'", "he_uniform"));
    expect_build_error("input: [4]\n"
                       "layers:\n"
                       "  - {type: linear, out: 3, bias: maybe}\n",
                       NN_ERR_FORMAT, "model.yaml:3:34: ", PARTS("bias must be true or false"));
}
END_TEST

START_TEST(bias_option_accepts_yaml_booleans)
{
    static const char *const spellings[] = { "false", "no", "0" };
    for (int i = 0; i < 3; i++) {
        char text[200];
        snprintf(text, sizeof text,
                 "input: [4]\nlayers:\n  - {type: linear, out: 3, bias: %s}\nloss: mse\n",
                 spellings[i]);
        nn_model_spec *spec = parse(text);
        nn_rng rng;
        nn_rng_seed(&rng, 2);
        nn_network *network;
        nn_error err;
        assert_ok(nn_network_new(&network, spec, 2, &rng, &err), &err);
        ck_assert_uint_eq(network->parameter_total, 12);  /* weights only */
        nn_network_free(network);
        nn_model_spec_free(spec);
    }
}
END_TEST

Suite *spec_suite(void);
Suite *spec_suite(void)
{
    Suite *suite = suite_create("spec");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, full_spec_parses_every_field);
    tcase_add_test(tc, minimal_spec_takes_the_defaults);
    tcase_add_test(tc, optimizer_settings_reach_their_optimizer);
    tcase_add_test(tc, spec_loads_from_a_file_and_names_it_in_errors);
    tcase_add_test(tc, bias_option_accepts_yaml_booleans);
    suite_add_tcase(suite, tc);
    tc = tcase_create("parse_errors");
    tcase_add_test(tc, unknown_top_level_key_is_located_and_lists_the_known_ones);
    tcase_add_test(tc, unknown_layer_type_lists_the_known_types);
    tcase_add_test(tc, misspelt_layer_option_is_refused_at_the_key);
    tcase_add_test(tc, layer_without_type_is_refused);
    tcase_add_test(tc, wrong_value_types_are_refused_where_they_are);
    tcase_add_test(tc, out_of_range_settings_are_refused_with_the_range);
    tcase_add_test(tc, missing_input_is_refused);
    tcase_add_test(tc, empty_or_missing_layers_are_refused);
    tcase_add_test(tc, unknown_optimizer_schedule_and_loss_are_named);
    tcase_add_test(tc, unknown_keys_in_sections_are_refused);
    tcase_add_test(tc, repeated_keys_are_refused_at_the_second);
    tcase_add_test(tc, layer_names_must_be_unique);
    suite_add_tcase(suite, tc);
    tc = tcase_create("build_errors");
    tcase_add_test(tc, missing_out_for_linear_is_located_at_the_layer);
    tcase_add_test(tc, out_of_range_option_is_located_at_its_value);
    suite_add_tcase(suite, tc);
    return suite;
}
