/*
 * summary_command.c - `dlgrade summary MODEL.yaml`: one line per layer with
 * its output shape, its parameters (weights and biases apart), its
 * receptive field and its FLOPs, then the totals: the exam's questions on
 * shapes, parameter counts and receptive fields, answered by the tool.
 *
 * Receptive field, in input pixels, after each layer: with r the field's
 * size and j the distance in input pixels between neighbouring outputs
 * (the jump), a window of k positions moved by s gives
 *     r' = r + (k - 1) j,    j' = j s
 * starting from r = j = 1. A linear or global-pooling layer sees the whole
 * input.
 */
#include "dlgrade.h"

#include "nn/network.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fputs("usage: dlgrade summary MODEL.yaml\n", out);
}

/* Biases and batch norm's shift are the additive parameters. */
static bool is_bias(const char *name)
{
    return strcmp(name, "bias") == 0 || strcmp(name, "beta") == 0;
}

int dg_command_summary(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return DG_EXIT_OK;
    }
    if (argc != 2 || argv[1][0] == '-') {
        usage(stderr);
        return DG_EXIT_USAGE;
    }
    nn_error err = { 0 };
    nn_model_spec *spec = NULL;
    nn_network *network = NULL;
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    nn_status status = nn_model_spec_load(&spec, argv[1], &err);
    if (status == NN_OK)
        status = nn_network_new(&network, spec, 1, &rng, &err);
    if (status != NN_OK) {
        fprintf(stderr, "dlgrade summary: %s\n", err.message);
        nn_model_spec_free(spec);
        return dg_exit_status(status);
    }
    char shape[64];
    printf("model %s (%s), input %s\n\n", spec->name, argv[1],
           nn_shape_format(shape, sizeof shape, &spec->input_shape));
    printf("%-3s %-16s %-12s %-16s %10s %8s %14s %12s\n", "#", "layer", "type", "output",
           "weights", "biases", "receptive", "FLOPs");
    double field = 1, jump = 1, total_flops = 0;
    bool global = false;
    size_t total_weights = 0, total_biases = 0;
    for (int i = 0; i < network->layer_count; i++) {
        const nn_layer *layer = network->layers[i];
        size_t weights = 0, biases = 0;
        for (int p = 0; p < layer->parameter_count; p++) {
            if (is_bias(layer->parameter_names[p]))
                biases += layer->parameters[p].count;
            else
                weights += layer->parameters[p].count;
        }
        total_weights += weights;
        total_biases += biases;
        total_flops += layer->flops;
        char receptive[48];
        if (global || layer->field_global) {
            global = true;
            snprintf(receptive, sizeof receptive, "whole input");
        } else {
            field += (layer->field_kernel - 1) * jump;
            jump *= layer->field_stride;
            snprintf(receptive, sizeof receptive, "%gx%g /%g", field, field, jump);
        }
        printf("%-3d %-16s %-12s %-16s %10zu %8zu %14s %12.0f\n", i + 1, layer->name,
               layer->type, nn_shape_format(shape, sizeof shape, &layer->output_shape), weights,
               biases, receptive, layer->flops);
    }
    printf("\ntotal: %zu parameters (%zu weights, %zu biases), %.0f FLOPs per sample "
           "(forward)\n", total_weights + total_biases, total_weights, total_biases, total_flops);
    printf("receptive: field size x size in input pixels / jump between neighbouring "
           "outputs\n");
    nn_network_free(network);
    nn_model_spec_free(spec);
    return DG_EXIT_OK;
}
