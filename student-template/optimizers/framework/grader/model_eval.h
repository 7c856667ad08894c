/*
 * model_eval.h - a submitted model (a spec and its weights file), loaded
 * and evaluated by the grader itself with the reference layers: no student
 * code runs (the model kind, DESIGN.md's trust model point 5). The student
 * template's `make test` uses the same code, so it shows the grader's
 * verdict.
 *
 * Both files come from a submission and are treated as hostile: every
 * size is bounded before anything is allocated for it (the spec's bytes,
 * the weights file's bytes, the network's parameters, FLOPs and
 * activations, see nn_network_plan_spec), and every problem is one
 * message naming the file as the submission names it, with the line and
 * column (spec) or the byte offset (weights).
 */
#ifndef DG_MODEL_EVAL_H
#define DG_MODEL_EVAL_H

#include "nn/dataset.h"
#include "nn/network.h"

/* A spec longer than this is refused unread (the runner's bound on specs). */
#define DG_MODEL_MAX_SPEC_BYTES ((size_t)64 << 10)
/* Values of the input and all layer outputs of one sample: what a
 * forward pass writes besides its FLOPs (a chain of thousands of ReLUs
 * costs memory and time but no FLOPs). A CNN of the course has about
 * 10^5. */
#define DG_MODEL_MAX_ACTIVATIONS ((size_t)1 << 20)

typedef struct dg_model_limits {
    size_t max_parameters;     /* parameters plus saved buffers */
    double max_flops;          /* forward, per sample */
    size_t max_activations;    /* per sample */
    size_t max_spec_bytes;
    size_t max_weights_bytes;  /* the compressed file */
} dg_model_limits;

/* The limits of a check's max_parameters and max_flops; the weights file
 * may have 4 bytes per parameter, plus 1 MiB for names, headers and gzip's
 * worst case on incompressible data. */
dg_model_limits dg_model_limits_of(size_t max_parameters, double max_flops);

/* One file of the model: where it is, and its name in messages. */
typedef struct dg_model_file {
    const char *path;
    const char *name;
} dg_model_file;

/* Parses the spec, checks that it fits data (its input is data's sample
 * shape, its loss a classification loss, its output one score per class
 * or per class and pixel), plans it within limits, builds the network
 * sized for evaluation and loads the weights. On success *out is the
 * network (the caller frees it) and *plan (when not NULL) its plan.
 * Statuses: NN_ERR_FORMAT for anything wrong with the files, whatever
 * the library said (the message is the library's, with the names);
 * NN_ERR_MEMORY and NN_ERR_IO (a file that exists but cannot be read)
 * for the machine's failures. */
nn_status dg_model_load(nn_network **out, nn_network_plan *plan, const dg_model_file *spec,
                        const dg_model_file *weights, const nn_dataset *data,
                        const dg_model_limits *limits, nn_error *err);

/* Classification accuracy of network on data in eval mode (classes, or
 * pixels for label maps). */
nn_status dg_model_accuracy(double *accuracy, nn_network *network, const nn_dataset *data,
                            nn_error *err);

#endif
