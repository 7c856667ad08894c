/*
 * optimizer.c - the nn_optimizer object: one optimizer applied to every
 * parameter array of a network.
 *
 * The optimizer copies the caller's list of parameters (the arrays
 * themselves stay borrowed from the network) and owns the per-parameter
 * state in one zero-filled slab: a velocity for SGD with momentum, the
 * average of squared gradients for RMSProp, the two moments for Adam. Zero
 * is the starting state every kernel expects.
 *
 * Weight decay is a property of the parameter as well as of the optimizer:
 * it applies only to parameters marked `decay` (weights), never to biases or
 * batch-norm scales and shifts, as PyTorch users arrange with two parameter
 * groups. The step counter t that Adam's bias correction needs counts calls
 * to nn_optimizer_step, starting from 1.
 */
#include "nn/optim.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The state arrays of one parameter; unused ones are NULL. */
typedef struct optimizer_state {
    nn_real *first;  /* SGD velocity, RMSProp square average, Adam m */
    nn_real *second; /* Adam v */
} optimizer_state;

struct nn_optimizer {
    nn_optimizer_config config;
    nn_parameter *parameters; /* (parameter_count), copied from the caller */
    optimizer_state *states;  /* (parameter_count) */
    size_t parameter_count;
    nn_real *slab;            /* every state array, zero at the start */
    long step;                /* steps taken so far */
};

static const char *const optimizer_names[] = {
    [NN_OPTIMIZER_SGD] = "sgd",
    [NN_OPTIMIZER_RMSPROP] = "rmsprop",
    [NN_OPTIMIZER_ADAM] = "adam",
};

#define OPTIMIZER_KIND_COUNT (sizeof optimizer_names / sizeof optimizer_names[0])

/* Values the update formulas make sense for: a learning rate or decay that
 * is negative or not finite, or a moving-average factor outside [0, 1),
 * would diverge or divide by zero, so they are refused here rather than
 * discovered as NaNs several epochs later. */
static nn_status check_nonnegative(double value, const char *name, nn_error *err)
{
    if (!isfinite(value) || value < 0.0)
        return nn_error_set(err, NN_ERR_ARGUMENT, "optimizer: %s is %g, must be finite and >= 0",
                            name, value);
    return NN_OK;
}

static nn_status check_average_factor(double value, const char *name, nn_error *err)
{
    if (!(value >= 0.0 && value < 1.0))
        return nn_error_set(err, NN_ERR_ARGUMENT, "optimizer: %s is %g, must be in [0, 1)",
                            name, value);
    return NN_OK;
}

static nn_status validate_config(const nn_optimizer_config *config, nn_error *err)
{
    nn_status status = NN_OK;
    switch (config->kind) {
    case NN_OPTIMIZER_SGD: {
        const nn_sgd_config *c = &config->sgd;
        if ((status = check_nonnegative(c->learning_rate, "sgd learning_rate", err)) ||
            (status = check_average_factor(c->momentum, "sgd momentum", err)) ||
            (status = check_nonnegative(c->weight_decay, "sgd weight_decay", err)))
            return status;
        if (c->nesterov && c->momentum == 0.0)
            return nn_error_set(err, NN_ERR_ARGUMENT,
                                "optimizer: sgd nesterov needs a momentum above 0");
        return NN_OK;
    }
    case NN_OPTIMIZER_RMSPROP: {
        const nn_rmsprop_config *c = &config->rmsprop;
        if ((status = check_nonnegative(c->learning_rate, "rmsprop learning_rate", err)) ||
            (status = check_average_factor(c->decay, "rmsprop decay", err)) ||
            (status = check_nonnegative(c->epsilon, "rmsprop epsilon", err)) ||
            (status = check_nonnegative(c->weight_decay, "rmsprop weight_decay", err)))
            return status;
        return NN_OK;
    }
    case NN_OPTIMIZER_ADAM: {
        const nn_adam_config *c = &config->adam;
        if ((status = check_nonnegative(c->learning_rate, "adam learning_rate", err)) ||
            (status = check_average_factor(c->beta1, "adam beta1", err)) ||
            (status = check_average_factor(c->beta2, "adam beta2", err)) ||
            (status = check_nonnegative(c->epsilon, "adam epsilon", err)) ||
            (status = check_nonnegative(c->weight_decay, "adam weight_decay", err)))
            return status;
        return NN_OK;
    }
    }
    return nn_error_set(err, NN_ERR_ARGUMENT, "optimizer: unknown kind %d", (int)config->kind);
}

/* State arrays a parameter needs, each as long as the parameter. */
static size_t state_slots(const nn_optimizer_config *config)
{
    switch (config->kind) {
    case NN_OPTIMIZER_SGD:
        return config->sgd.momentum != 0.0 ? 1 : 0;
    case NN_OPTIMIZER_RMSPROP:
        return 1;
    case NN_OPTIMIZER_ADAM:
        return 2;
    }
    return 0;
}

nn_status nn_optimizer_new(nn_optimizer **out, const nn_optimizer_config *config,
                           const nn_parameter *parameters, size_t parameter_count,
                           nn_error *err)
{
    if (out == NULL || config == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "optimizer: %s is NULL",
                            out == NULL ? "out" : "config");
    *out = NULL;
    nn_status status = validate_config(config, err);
    if (status != NN_OK)
        return status;
    if (parameters == NULL || parameter_count == 0)
        return nn_error_set(err, NN_ERR_ARGUMENT, "optimizer: no parameters to optimize");

    const size_t slots = state_slots(config);
    size_t total = 0;
    for (size_t p = 0; p < parameter_count; p++) {
        const nn_parameter *parameter = &parameters[p];
        if (parameter->count > 0 && (parameter->value == NULL || parameter->grad == NULL))
            return nn_error_set(err, NN_ERR_ARGUMENT,
                                "optimizer: parameter %zu (count %zu) has a NULL %s", p,
                                parameter->count, parameter->value == NULL ? "value" : "grad");
        if (parameter->count > SIZE_MAX / sizeof(nn_real) / 2 - total)
            return nn_error_set(err, NN_ERR_ARGUMENT,
                                "optimizer: parameter sizes overflow at parameter %zu", p);
        total += parameter->count;
    }

    nn_optimizer *optimizer = calloc(1, sizeof *optimizer);
    if (optimizer == NULL)
        goto out_nomem;
    optimizer->config = *config;
    optimizer->parameter_count = parameter_count;
    optimizer->parameters = malloc(parameter_count * sizeof *optimizer->parameters);
    optimizer->states = calloc(parameter_count, sizeof *optimizer->states);
    if (optimizer->parameters == NULL || optimizer->states == NULL)
        goto out_free_optimizer;
    memcpy(optimizer->parameters, parameters, parameter_count * sizeof *parameters);
    if (slots > 0 && total > 0) {
        optimizer->slab = calloc(slots * total, sizeof *optimizer->slab);
        if (optimizer->slab == NULL)
            goto out_free_optimizer;
    }
    nn_real *next = optimizer->slab;
    for (size_t p = 0; p < parameter_count && next != NULL; p++) {
        size_t count = parameters[p].count;
        optimizer->states[p].first = next;
        next += count;
        if (slots > 1) {
            optimizer->states[p].second = next;
            next += count;
        }
    }
    *out = optimizer;
    return NN_OK;

out_free_optimizer:
    nn_optimizer_free(optimizer);
out_nomem:
    return nn_error_set(err, NN_ERR_MEMORY,
                        "optimizer: cannot allocate state for %zu parameters (%zu values)",
                        parameter_count, total);
}

void nn_optimizer_free(nn_optimizer *optimizer)
{
    if (optimizer == NULL)
        return;
    free(optimizer->slab);
    free(optimizer->states);
    free(optimizer->parameters);
    free(optimizer);
}

nn_status nn_optimizer_step(nn_optimizer *optimizer)
{
    if (optimizer == NULL)
        return NN_ERR_ARGUMENT;
    optimizer->step++;
    const nn_optimizer_config *config = &optimizer->config;
    for (size_t p = 0; p < optimizer->parameter_count; p++) {
        const nn_parameter *parameter = &optimizer->parameters[p];
        const optimizer_state *state = &optimizer->states[p];
        if (parameter->count == 0)
            continue;
        nn_status status = NN_ERR_ARGUMENT;
        switch (config->kind) {
        case NN_OPTIMIZER_SGD: {
            nn_sgd_config c = config->sgd;
            if (!parameter->decay)
                c.weight_decay = 0.0;
            status = nn_sgd_step(parameter->value, state->first, parameter->grad,
                                 parameter->count, &c);
            break;
        }
        case NN_OPTIMIZER_RMSPROP: {
            nn_rmsprop_config c = config->rmsprop;
            if (!parameter->decay)
                c.weight_decay = 0.0;
            status = nn_rmsprop_step(parameter->value, state->first, parameter->grad,
                                     parameter->count, &c);
            break;
        }
        case NN_OPTIMIZER_ADAM: {
            nn_adam_config c = config->adam;
            if (!parameter->decay)
                c.weight_decay = 0.0;
            status = nn_adam_step(parameter->value, state->first, state->second,
                                  parameter->grad, parameter->count, optimizer->step, &c);
            break;
        }
        }
        /* A failing kernel (a student's unfinished stub) stops the step;
         * parameters before this one have already been updated. */
        if (status != NN_OK)
            return status;
    }
    return NN_OK;
}

void nn_optimizer_set_learning_rate(nn_optimizer *optimizer, double learning_rate)
{
    if (optimizer == NULL)
        return;
    optimizer->config.sgd.learning_rate = learning_rate;
    optimizer->config.rmsprop.learning_rate = learning_rate;
    optimizer->config.adam.learning_rate = learning_rate;
}

double nn_optimizer_learning_rate(const nn_optimizer *optimizer)
{
    if (optimizer == NULL)
        return 0.0;
    switch (optimizer->config.kind) {
    case NN_OPTIMIZER_SGD:
        return optimizer->config.sgd.learning_rate;
    case NN_OPTIMIZER_RMSPROP:
        return optimizer->config.rmsprop.learning_rate;
    case NN_OPTIMIZER_ADAM:
        return optimizer->config.adam.learning_rate;
    }
    return 0.0;
}

nn_status nn_optimizer_kind_parse(nn_optimizer_kind *kind, const char *name, nn_error *err)
{
    if (name == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "optimizer kind: no name given");
    for (size_t i = 0; i < OPTIMIZER_KIND_COUNT; i++) {
        if (strcmp(name, optimizer_names[i]) == 0) {
            *kind = (nn_optimizer_kind)i;
            return NN_OK;
        }
    }
    if (strcmp(name, "adamw") == 0)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "unknown optimizer kind 'adamw': use 'adam' with decoupled "
                            "weight decay");
    return nn_error_set(err, NN_ERR_ARGUMENT,
                        "unknown optimizer kind '%s' (expected sgd, rmsprop or adam)", name);
}

const char *nn_optimizer_kind_name(nn_optimizer_kind kind)
{
    if ((size_t)kind < OPTIMIZER_KIND_COUNT)
        return optimizer_names[kind];
    return "unknown";
}

nn_optimizer_config nn_optimizer_default_config(nn_optimizer_kind kind, double learning_rate)
{
    nn_optimizer_config config = {
        .kind = kind,
        .sgd = { .learning_rate = learning_rate, .momentum = 0.0, .nesterov = false,
                 .weight_decay = 0.0 },
        .rmsprop = { .learning_rate = learning_rate, .decay = 0.99, .epsilon = 1e-8,
                     .weight_decay = 0.0 },
        .adam = { .learning_rate = learning_rate, .beta1 = 0.9, .beta2 = 0.999,
                  .epsilon = 1e-8, .weight_decay = 0.0, .decoupled = false,
                  .bias_correction = true },
    };
    return config;
}
