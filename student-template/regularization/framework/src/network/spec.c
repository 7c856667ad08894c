/*
 * spec.c - the YAML model spec: parsing, validation of every key and value
 * against what the layer types accept, and typed option lookup.
 *
 * Layer options are kept as text with their location, and converted by the
 * layer constructors (which know the ranges); unknown keys are refused here,
 * so a typo like `ouput: 10` never silently falls back to a default.
 */
#include "nn/network.h"
#include "nn/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const model_keys[] = { "name", "input", "layers", "loss", "train", NULL };
static const char *const train_keys[] = {
    "optimizer", "learning_rate", "momentum", "nesterov", "beta1", "beta2", "epsilon",
    "decay", "weight_decay", "decoupled", "bias_correction", "batch_size", "epochs",
    "schedule", "augment", NULL
};
static const char *const schedule_keys[] = { "kind", "gamma", "step_size", "patience", NULL };
static const char *const augment_keys[] = { "flip", "crop", NULL };

static bool key_in(const char *key, const char *const *keys)
{
    for (int i = 0; keys != NULL && keys[i] != NULL; i++)
        if (strcmp(keys[i], key) == 0)
            return true;
    return false;
}

static void list_keys(char *buffer, size_t size, const char *const *keys)
{
    size_t used = 0;
    buffer[0] = '\0';
    for (int i = 0; keys != NULL && keys[i] != NULL && used < size; i++)
        used += (size_t)snprintf(buffer + used, size - used, "%s%s", i ? ", " : "", keys[i]);
}

/* libyaml keeps both pairs of a repeated key, and a lookup would silently
 * take the first: `out: 10` written twice with different values must be an
 * error, located at the second. */
static nn_status check_duplicate(nn_yaml_document *document, const nn_yaml_node *mapping,
                                 int i, const char *what, nn_error *err)
{
    nn_yaml_node *key_node;
    const char *key = nn_yaml_mapping_key(document, mapping, i, &key_node);
    for (int j = 0; key != NULL && j < i; j++) {
        nn_yaml_node *first_node;
        const char *first = nn_yaml_mapping_key(document, mapping, j, &first_node);
        if (first != NULL && strcmp(first, key) == 0)
            return nn_yaml_error(err, NN_ERR_FORMAT, document, key_node,
                                 "%s: key '%s' appears twice (first at line %d)", what, key,
                                 nn_yaml_line(first_node));
    }
    return NN_OK;
}

/* Every key of a mapping must be a scalar from `keys`, and appear once. */
static nn_status check_keys(nn_yaml_document *document, const nn_yaml_node *mapping,
                            const char *what, const char *const *keys, nn_error *err)
{
    for (int i = 0; i < nn_yaml_mapping_size(mapping); i++) {
        nn_yaml_node *key_node;
        const char *key = nn_yaml_mapping_key(document, mapping, i, &key_node);
        if (key == NULL)
            return nn_yaml_error(err, NN_ERR_FORMAT, document, key_node,
                                 "%s: keys must be plain names", what);
        nn_status status = check_duplicate(document, mapping, i, what, err);
        if (status != NN_OK)
            return status;
        if (!key_in(key, keys)) {
            char allowed[256];
            list_keys(allowed, sizeof allowed, keys);
            return nn_yaml_error(err, NN_ERR_FORMAT, document, key_node,
                                 "%s: unknown key '%s' (known: %s)", what, key, allowed);
        }
    }
    return NN_OK;
}

static nn_status parse_input(nn_model_spec *spec, nn_yaml_document *document,
                             const nn_yaml_node *node, nn_error *err)
{
    if (!nn_yaml_is_sequence(node) || nn_yaml_sequence_size(node) < 1
        || nn_yaml_sequence_size(node) > NN_MAX_DIMS - 1)
        return nn_yaml_error(err, NN_ERR_FORMAT, document, node,
                             "input must be a list of 1 to %d sizes, e.g. [1, 28, 28]",
                             NN_MAX_DIMS - 1);
    spec->input_shape.rank = nn_yaml_sequence_size(node);
    for (int i = 0; i < NN_MAX_DIMS; i++)
        spec->input_shape.dims[i] = 1;
    for (int i = 0; i < spec->input_shape.rank; i++) {
        long size;
        nn_status status = nn_yaml_to_long(&size, document,
                                           nn_yaml_sequence_item(document, node, i),
                                           "an input size", 1, 1 << 20, err);
        if (status != NN_OK)
            return status;
        spec->input_shape.dims[i] = (size_t)size;
    }
    return NN_OK;
}

static nn_status parse_layer(nn_model_spec *spec, nn_layer_spec *layer, int index,
                             nn_yaml_document *document, const nn_yaml_node *node,
                             nn_error *err)
{
    layer->line = nn_yaml_line(node);
    layer->column = nn_yaml_column(node);
    const nn_yaml_node *type_node = node;
    if (nn_yaml_is_mapping(node)) {
        type_node = nn_yaml_get(document, node, "type");
        if (type_node == NULL)
            return nn_yaml_error(err, NN_ERR_FORMAT, document, node,
                                 "layer %d has no 'type' (one of: %s)", index + 1,
                                 nn_layer_type_names());
    }
    const char *type;
    nn_status status = nn_yaml_to_string(&type, document, type_node, "a layer type", err);
    if (status != NN_OK)
        return status;
    const nn_layer_type *known = nn_layer_type_find(type);
    if (known == NULL)
        return nn_yaml_error(err, NN_ERR_FORMAT, document, type_node,
                             "unknown layer type '%s' (known: %s)", type,
                             nn_layer_type_names());
    snprintf(layer->type, sizeof layer->type, "%s", type);
    snprintf(layer->name, sizeof layer->name, "%s%d", type, index + 1);
    if (!nn_yaml_is_mapping(node))
        return NN_OK;

    for (int i = 0; i < nn_yaml_mapping_size(node); i++) {
        nn_yaml_node *key_node;
        const char *key = nn_yaml_mapping_key(document, node, i, &key_node);
        nn_yaml_node *value_node = nn_yaml_mapping_value(document, node, i);
        if (key == NULL)
            return nn_yaml_error(err, NN_ERR_FORMAT, document, key_node,
                                 "layer %s: keys must be plain names", layer->name);
        char what[80];
        snprintf(what, sizeof what, "layer %s", layer->name);
        status = check_duplicate(document, node, i, what, err);
        if (status != NN_OK)
            return status;
        if (strcmp(key, "type") == 0)
            continue;
        /* The key first: `ouput: [10]` is a misspelt key before it is a
         * value of the wrong type. */
        if (strcmp(key, "name") != 0 && !key_in(key, known->keys)) {
            char allowed[256];
            list_keys(allowed, sizeof allowed, known->keys);
            return nn_yaml_error(err, NN_ERR_FORMAT, document, key_node,
                                 "layer %s: unknown key '%s' for a %s layer (known: type, "
                                 "name%s%s)", layer->name, key, type, allowed[0] ? ", " : "",
                                 allowed);
        }
        const char *value;
        char option_what[120];
        snprintf(option_what, sizeof option_what, "layer %s: %s", layer->name, key);
        status = nn_yaml_to_string(&value, document, value_node, option_what, err);
        if (status != NN_OK)
            return status;
        if (strcmp(key, "name") == 0) {
            if (strlen(value) == 0 || strlen(value) >= sizeof layer->name)
                return nn_yaml_error(err, NN_ERR_FORMAT, document, value_node,
                                     "a layer name must have 1 to %zu characters",
                                     sizeof layer->name - 1);
            snprintf(layer->name, sizeof layer->name, "%s", value);
            continue;
        }
        if (layer->option_count == NN_SPEC_MAX_OPTIONS || strlen(value) >= 64)
            return nn_yaml_error(err, NN_ERR_FORMAT, document, value_node,
                                 "layer %s: too many options or a value too long", layer->name);
        nn_spec_option *option = &layer->options[layer->option_count++];
        snprintf(option->key, sizeof option->key, "%s", key);
        snprintf(option->value, sizeof option->value, "%s", value);
        option->line = nn_yaml_line(value_node);
        option->column = nn_yaml_column(value_node);
    }
    (void)spec;
    return NN_OK;
}

static nn_status parse_loss(nn_model_spec *spec, nn_yaml_document *document,
                            const nn_yaml_node *node, nn_error *err)
{
    const char *name;
    nn_status status = nn_yaml_to_string(&name, document, node, "loss", err);
    if (status != NN_OK)
        return status;
    static const nn_loss_kind kinds[] = { NN_LOSS_SOFTMAX_CROSS_ENTROPY,
                                          NN_LOSS_BCE_WITH_LOGITS, NN_LOSS_MSE, NN_LOSS_L1 };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(name, nn_loss_kind_name(kinds[i])) == 0) {
            spec->loss = kinds[i];
            return NN_OK;
        }
    }
    return nn_yaml_error(err, NN_ERR_FORMAT, document, node,
                         "unknown loss '%s' (known: softmax_cross_entropy, bce_with_logits, "
                         "mse, l1)", name);
}

static void default_train(nn_train_spec *train)
{
    *train = (nn_train_spec){
        .optimizer = {
            .kind = NN_OPTIMIZER_ADAM,
            .sgd = { .learning_rate = 0.01, .momentum = 0.0 },
            .rmsprop = { .learning_rate = 0.001, .decay = 0.99, .epsilon = 1e-8 },
            .adam = { .learning_rate = 0.001, .beta1 = 0.9, .beta2 = 0.999, .epsilon = 1e-8,
                      .bias_correction = true },
        },
        .schedule = NN_SCHEDULE_CONSTANT,
        .schedule_gamma = 0.1,
        .schedule_step_size = 1,
        .schedule_patience = 2,
        .batch_size = 64,
        .epochs = 5,
    };
}

static nn_status get_double(double *out, nn_yaml_document *document, const nn_yaml_node *map,
                            const char *key, double minimum, double maximum, nn_error *err)
{
    nn_yaml_node *node = nn_yaml_get(document, map, key);
    if (node == NULL)
        return NN_OK;
    return nn_yaml_to_double(out, document, node, key, minimum, maximum, err);
}

static nn_status get_int(int *out, nn_yaml_document *document, const nn_yaml_node *map,
                         const char *key, long minimum, long maximum, nn_error *err)
{
    nn_yaml_node *node = nn_yaml_get(document, map, key);
    if (node == NULL)
        return NN_OK;
    long value;
    nn_status status = nn_yaml_to_long(&value, document, node, key, minimum, maximum, err);
    if (status == NN_OK)
        *out = (int)value;
    return status;
}

static nn_status get_bool(bool *out, nn_yaml_document *document, const nn_yaml_node *map,
                          const char *key, nn_error *err)
{
    nn_yaml_node *node = nn_yaml_get(document, map, key);
    if (node == NULL)
        return NN_OK;
    return nn_yaml_to_bool(out, document, node, key, err);
}

#define TRY(expression)                  \
    do {                                 \
        nn_status status_ = (expression); \
        if (status_ != NN_OK)            \
            return status_;              \
    } while (0)

static nn_status parse_train(nn_train_spec *train, nn_yaml_document *document,
                             const nn_yaml_node *node, nn_error *err)
{
    if (!nn_yaml_is_mapping(node))
        return nn_yaml_error(err, NN_ERR_FORMAT, document, node,
                             "train must be a mapping of settings");
    TRY(check_keys(document, node, "train", train_keys, err));
    nn_yaml_node *optimizer = nn_yaml_get(document, node, "optimizer");
    if (optimizer != NULL) {
        const char *name;
        TRY(nn_yaml_to_string(&name, document, optimizer, "optimizer", err));
        if (nn_optimizer_kind_parse(&train->optimizer.kind, name, NULL) != NN_OK)
            return nn_yaml_error(err, NN_ERR_FORMAT, document, optimizer,
                                 "unknown optimizer '%s' (known: sgd, rmsprop, adam)", name);
    }
    double learning_rate = -1;
    TRY(get_double(&learning_rate, document, node, "learning_rate", 0, 10, err));
    if (learning_rate >= 0) {
        train->optimizer.sgd.learning_rate = learning_rate;
        train->optimizer.rmsprop.learning_rate = learning_rate;
        train->optimizer.adam.learning_rate = learning_rate;
    }
    double weight_decay = 0;
    TRY(get_double(&weight_decay, document, node, "weight_decay", 0, 1, err));
    train->optimizer.sgd.weight_decay = weight_decay;
    train->optimizer.rmsprop.weight_decay = weight_decay;
    train->optimizer.adam.weight_decay = weight_decay;
    TRY(get_double(&train->optimizer.sgd.momentum, document, node, "momentum", 0, 0.9999, err));
    TRY(get_bool(&train->optimizer.sgd.nesterov, document, node, "nesterov", err));
    TRY(get_double(&train->optimizer.adam.beta1, document, node, "beta1", 0, 0.9999, err));
    TRY(get_double(&train->optimizer.adam.beta2, document, node, "beta2", 0, 0.99999999, err));
    double epsilon = -1;
    TRY(get_double(&epsilon, document, node, "epsilon", 0, 1, err));
    if (epsilon >= 0)
        train->optimizer.adam.epsilon = train->optimizer.rmsprop.epsilon = epsilon;
    TRY(get_double(&train->optimizer.rmsprop.decay, document, node, "decay", 0, 0.99999, err));
    TRY(get_bool(&train->optimizer.adam.decoupled, document, node, "decoupled", err));
    TRY(get_bool(&train->optimizer.adam.bias_correction, document, node, "bias_correction",
                 err));
    TRY(get_int(&train->batch_size, document, node, "batch_size", 1, 65536, err));
    TRY(get_int(&train->epochs, document, node, "epochs", 1, 100000, err));

    nn_yaml_node *schedule = nn_yaml_get(document, node, "schedule");
    if (schedule != NULL) {
        if (!nn_yaml_is_mapping(schedule))
            return nn_yaml_error(err, NN_ERR_FORMAT, document, schedule,
                                 "schedule must be a mapping, e.g. {kind: step, step_size: 2}");
        TRY(check_keys(document, schedule, "schedule", schedule_keys, err));
        nn_yaml_node *kind = nn_yaml_get(document, schedule, "kind");
        if (kind == NULL)
            return nn_yaml_error(err, NN_ERR_FORMAT, document, schedule,
                                 "schedule needs a kind (constant, step, exponential, plateau)");
        const char *name;
        TRY(nn_yaml_to_string(&name, document, kind, "schedule kind", err));
        if (nn_schedule_kind_parse(&train->schedule, name, NULL) != NN_OK)
            return nn_yaml_error(err, NN_ERR_FORMAT, document, kind,
                                 "unknown schedule '%s' (known: constant, step, exponential, "
                                 "plateau)", name);
        TRY(get_double(&train->schedule_gamma, document, schedule, "gamma", 0, 1, err));
        /* gamma 0 would set the rate to 0 after the first decay: training
         * would silently stop (nn_schedule_validate refuses it too). */
        if (train->schedule_gamma <= 0)
            return nn_yaml_error(err, NN_ERR_FORMAT, document,
                                 nn_yaml_get(document, schedule, "gamma"),
                                 "gamma must be above 0 (it multiplies the learning rate)");
        TRY(get_int(&train->schedule_step_size, document, schedule, "step_size", 1, 100000,
                    err));
        TRY(get_int(&train->schedule_patience, document, schedule, "patience", 0, 100000, err));
    }
    nn_yaml_node *augment = nn_yaml_get(document, node, "augment");
    if (augment != NULL) {
        if (!nn_yaml_is_mapping(augment))
            return nn_yaml_error(err, NN_ERR_FORMAT, document, augment,
                                 "augment must be a mapping, e.g. {flip: true, crop: 2}");
        TRY(check_keys(document, augment, "augment", augment_keys, err));
        TRY(get_bool(&train->augment_flip, document, augment, "flip", err));
        TRY(get_int(&train->augment_crop, document, augment, "crop", 0, 64, err));
    }
    return NN_OK;
}

static nn_status parse_document(nn_model_spec *spec, nn_yaml_document *document,
                                nn_error *err)
{
    nn_yaml_node *root = nn_yaml_root(document);
    if (!nn_yaml_is_mapping(root))
        return nn_yaml_error(err, NN_ERR_FORMAT, document, root,
                             "a model spec is a mapping with input, layers and loss");
    TRY(check_keys(document, root, "model", model_keys, err));

    nn_yaml_node *name = nn_yaml_get(document, root, "name");
    if (name != NULL) {
        const char *text;
        TRY(nn_yaml_to_string(&text, document, name, "name", err));
        snprintf(spec->name, sizeof spec->name, "%s", text);
    }
    nn_yaml_node *input = nn_yaml_get(document, root, "input");
    if (input == NULL)
        return nn_yaml_error(err, NN_ERR_FORMAT, document, root,
                             "the model has no input shape (e.g. input: [1, 28, 28])");
    TRY(parse_input(spec, document, input, err));

    nn_yaml_node *layers = nn_yaml_get(document, root, "layers");
    if (layers == NULL || !nn_yaml_is_sequence(layers) || nn_yaml_sequence_size(layers) == 0)
        return nn_yaml_error(err, NN_ERR_FORMAT, document, layers ? layers : root,
                             "layers must be a non-empty list");
    spec->layer_count = nn_yaml_sequence_size(layers);
    spec->layers = calloc((size_t)spec->layer_count, sizeof *spec->layers);
    if (spec->layers == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "%s: out of memory", spec->path);
    for (int i = 0; i < spec->layer_count; i++) {
        TRY(parse_layer(spec, &spec->layers[i], i, document,
                        nn_yaml_sequence_item(document, layers, i), err));
        /* Names identify tensors in weights files and layers in messages:
         * two layers may not share one (an explicit name may also collide
         * with another layer's automatic one). */
        for (int j = 0; j < i; j++)
            if (strcmp(spec->layers[i].name, spec->layers[j].name) == 0)
                return nn_error_set(err, NN_ERR_FORMAT, "%s:%d:%d: layer %d: the name '%s' is "
                                    "already used by layer %d (line %d)", spec->path,
                                    spec->layers[i].line, spec->layers[i].column, i + 1,
                                    spec->layers[i].name, j + 1, spec->layers[j].line);
    }

    nn_yaml_node *loss = nn_yaml_get(document, root, "loss");
    if (loss != NULL)
        TRY(parse_loss(spec, document, loss, err));
    default_train(&spec->train);
    nn_yaml_node *train = nn_yaml_get(document, root, "train");
    if (train != NULL)
        TRY(parse_train(&spec->train, document, train, err));
    return NN_OK;
}

static nn_status finish(nn_model_spec **out, nn_yaml_document *document, const char *path,
                        nn_error *err)
{
    nn_model_spec *spec = calloc(1, sizeof *spec);
    if (spec == NULL) {
        nn_yaml_free(document);
        return nn_error_set(err, NN_ERR_MEMORY, "%s: out of memory", path);
    }
    snprintf(spec->path, sizeof spec->path, "%s", path);
    snprintf(spec->name, sizeof spec->name, "model");
    spec->loss = NN_LOSS_SOFTMAX_CROSS_ENTROPY;
    nn_status status = parse_document(spec, document, err);
    nn_yaml_free(document);
    if (status != NN_OK) {
        nn_model_spec_free(spec);
        return status;
    }
    *out = spec;
    return NN_OK;
}

nn_status nn_model_spec_load(nn_model_spec **out, const char *path, nn_error *err)
{
    *out = NULL;
    nn_yaml_document *document;
    nn_status status = nn_yaml_load(&document, path, err);
    if (status != NN_OK)
        return status;
    return finish(out, document, path, err);
}

nn_status nn_model_spec_parse(nn_model_spec **out, const char *name, const char *text,
                              nn_error *err)
{
    *out = NULL;
    nn_yaml_document *document;
    nn_status status = nn_yaml_load_string(&document, name, text, err);
    if (status != NN_OK)
        return status;
    return finish(out, document, name, err);
}

void nn_model_spec_free(nn_model_spec *spec)
{
    if (spec == NULL)
        return;
    free(spec->layers);
    free(spec);
}

const char *nn_loss_kind_name(nn_loss_kind kind)
{
    switch (kind) {
    case NN_LOSS_SOFTMAX_CROSS_ENTROPY: return "softmax_cross_entropy";
    case NN_LOSS_BCE_WITH_LOGITS: return "bce_with_logits";
    case NN_LOSS_MSE: return "mse";
    case NN_LOSS_L1: return "l1";
    }
    return "unknown";
}

const nn_spec_option *nn_layer_spec_option(const nn_layer_spec *layer, const char *key)
{
    for (int i = 0; i < layer->option_count; i++)
        if (strcmp(layer->options[i].key, key) == 0)
            return &layer->options[i];
    return NULL;
}

nn_status nn_layer_spec_error(nn_error *err, nn_status status, const nn_model_spec *model,
                              const nn_layer_spec *layer, const char *format, ...)
{
    char message[NN_ERROR_MESSAGE_SIZE];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    return nn_error_set(err, status, "%s:%d:%d: layer %s: %s", model->path, layer->line,
                        layer->column, layer->name, message);
}

nn_status nn_layer_spec_int(int *out, const nn_model_spec *model, const nn_layer_spec *layer,
                            const char *key, int fallback, int minimum, int maximum,
                            nn_error *err)
{
    const nn_spec_option *option = nn_layer_spec_option(layer, key);
    if (option == NULL) {
        *out = fallback;
        return NN_OK;
    }
    char *end;
    errno = 0;
    long value = strtol(option->value, &end, 10);
    if (end == option->value || *end != '\0' || errno == ERANGE)
        return nn_error_set(err, NN_ERR_FORMAT, "%s:%d:%d: layer %s: %s must be an integer, "
                            "not '%s'", model->path, option->line, option->column, layer->name,
                            key, option->value);
    if (value < minimum || value > maximum)
        return nn_error_set(err, NN_ERR_FORMAT, "%s:%d:%d: layer %s: %s is %ld, outside "
                            "%d..%d", model->path, option->line, option->column, layer->name,
                            key, value, minimum, maximum);
    *out = (int)value;
    return NN_OK;
}

nn_status nn_layer_spec_double(double *out, const nn_model_spec *model,
                               const nn_layer_spec *layer, const char *key, double fallback,
                               double minimum, double maximum, nn_error *err)
{
    const nn_spec_option *option = nn_layer_spec_option(layer, key);
    if (option == NULL) {
        *out = fallback;
        return NN_OK;
    }
    char *end;
    errno = 0;
    double value = strtod(option->value, &end);
    if (end == option->value || *end != '\0' || errno == ERANGE || !isfinite(value))
        return nn_error_set(err, NN_ERR_FORMAT, "%s:%d:%d: layer %s: %s must be a number, "
                            "not '%s'", model->path, option->line, option->column, layer->name,
                            key, option->value);
    if (value < minimum || value > maximum)
        return nn_error_set(err, NN_ERR_FORMAT, "%s:%d:%d: layer %s: %s is %g, outside "
                            "[%g, %g]", model->path, option->line, option->column, layer->name,
                            key, value, minimum, maximum);
    *out = value;
    return NN_OK;
}

nn_status nn_layer_spec_bool(bool *out, const nn_model_spec *model, const nn_layer_spec *layer,
                             const char *key, bool fallback, nn_error *err)
{
    const nn_spec_option *option = nn_layer_spec_option(layer, key);
    if (option == NULL) {
        *out = fallback;
        return NN_OK;
    }
    /* YAML's spellings, plus 1 and 0, which older specs used. */
    static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "1" };
    static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "0" };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcmp(option->value, yes[i]) == 0) {
            *out = true;
            return NN_OK;
        }
        if (strcmp(option->value, no[i]) == 0) {
            *out = false;
            return NN_OK;
        }
    }
    return nn_error_set(err, NN_ERR_FORMAT, "%s:%d:%d: layer %s: %s must be true or false, not "
                        "'%s'", model->path, option->line, option->column, layer->name, key,
                        option->value);
}

nn_status nn_layer_spec_string(const char **out, const nn_layer_spec *layer, const char *key,
                               const char *fallback)
{
    const nn_spec_option *option = nn_layer_spec_option(layer, key);
    *out = option != NULL ? option->value : fallback;
    return NN_OK;
}
