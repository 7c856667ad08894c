/*
 * network.h - a sequential network built from a YAML model spec, its layers'
 * common interface, and the weights file.
 *
 * A model spec (model.yaml) names the input shape, the layers in order with
 * their options, the loss and the training settings:
 *
 *     name: mlp
 *     input: [1, 28, 28]
 *     layers:
 *       - type: flatten
 *       - type: linear
 *         out: 256
 *         init: he_normal
 *       - type: relu
 *       - type: linear
 *         out: 10
 *     loss: softmax_cross_entropy
 *     train: {optimizer: adam, learning_rate: 0.001, batch_size: 64, epochs: 5}
 *
 * Every spec error is reported as file:line:column before anything runs.
 *
 * Ownership: nn_model_spec_load()/nn_model_spec_free() and nn_network_new()/
 * nn_network_free() pair up; a network copies the spec it was built from.
 * Layers own their parameters and gradients; the network owns activation
 * and gradient buffers for up to max_batch samples.
 */
#ifndef NN_NETWORK_H
#define NN_NETWORK_H

#include "nn/core.h"
#include "nn/optim.h"
#include "nn/rng.h"
#include "nn/tensor.h"

#include <stdbool.h>

#define NN_SPEC_MAX_OPTIONS 12
#define NN_LAYER_MAX_PARAMETERS 4
#define NN_LAYER_MAX_BUFFERS 2

/* ---- the model spec ---------------------------------------------------- */

typedef struct nn_spec_option {
    char key[32];
    char value[64];
    int line, column;      /* of the value, 1-based */
} nn_spec_option;

typedef struct nn_layer_spec {
    char type[32];         /* "linear", "relu", ... */
    char name[48];         /* "linear2": type + position unless given */
    int line, column;      /* of the layer's entry in the spec */
    int option_count;
    nn_spec_option options[NN_SPEC_MAX_OPTIONS];
    /* Set only by nn_network_plan_spec() on its private copy of the
     * spec: the layer is built with its shapes, parameter shapes and
     * FLOPs but without any array (see nn_layer.planned). */
    bool plan_only;
} nn_layer_spec;

typedef enum nn_loss_kind {
    NN_LOSS_SOFTMAX_CROSS_ENTROPY, /* logits and class labels (or label maps) */
    NN_LOSS_BCE_WITH_LOGITS,       /* one logit per sample, labels 0/1 */
    NN_LOSS_MSE,                   /* real targets */
    NN_LOSS_L1
} nn_loss_kind;

typedef struct nn_train_spec {
    nn_optimizer_config optimizer;
    nn_schedule_kind schedule;
    double schedule_gamma;
    int schedule_step_size;
    int schedule_patience;
    int batch_size;
    int epochs;
    bool augment_flip;     /* random horizontal flips */
    int augment_crop;      /* random crops after this much zero padding */
} nn_train_spec;

typedef struct nn_model_spec {
    char path[512];
    char name[64];
    nn_shape input_shape;  /* one sample, e.g. (1, 28, 28) */
    int layer_count;
    nn_layer_spec *layers;
    nn_loss_kind loss;
    nn_train_spec train;
} nn_model_spec;

nn_status nn_model_spec_load(nn_model_spec **out, const char *path, nn_error *err);
nn_status nn_model_spec_parse(nn_model_spec **out, const char *name, const char *text,
                              nn_error *err);
void nn_model_spec_free(nn_model_spec *spec);
const char *nn_loss_kind_name(nn_loss_kind kind);

/* Option lookup for layer constructors: the option's value converted and
 * range-checked, or the default when absent. Errors are located at the
 * option's value. */
nn_status nn_layer_spec_int(int *out, const nn_model_spec *model, const nn_layer_spec *layer,
                            const char *key, int fallback, int minimum, int maximum,
                            nn_error *err);
nn_status nn_layer_spec_double(double *out, const nn_model_spec *model,
                               const nn_layer_spec *layer, const char *key, double fallback,
                               double minimum, double maximum, nn_error *err);
/* true/false (also yes/no, 1/0). */
nn_status nn_layer_spec_bool(bool *out, const nn_model_spec *model, const nn_layer_spec *layer,
                             const char *key, bool fallback, nn_error *err);
nn_status nn_layer_spec_string(const char **out, const nn_layer_spec *layer, const char *key,
                               const char *fallback);
/* The option called key, or NULL. */
const nn_spec_option *nn_layer_spec_option(const nn_layer_spec *layer, const char *key);
/* An init kind option ("init: he_normal"), located on error. */
nn_status nn_layer_spec_init(nn_init_kind *out, const nn_model_spec *model,
                             const nn_layer_spec *layer, const char *key, nn_init_kind fallback,
                             nn_error *err);
/* An error located at a layer ("model.yaml:7:5: layer linear2: ..."). */
nn_status nn_layer_spec_error(nn_error *err, nn_status status, const nn_model_spec *model,
                              const nn_layer_spec *layer, const char *format, ...)
    __attribute__((format(printf, 5, 6)));

/* ---- layers ------------------------------------------------------------- */

typedef struct nn_layer nn_layer;

/* What a forward pass needs beyond its input. */
typedef struct nn_run_context {
    bool training;
    nn_rng *rng;           /* dropout masks; may be NULL in eval mode */
} nn_run_context;

typedef struct nn_layer_ops {
    /* out: (N, output_size); x: (N, input_size) */
    nn_status (*forward)(nn_layer *layer, nn_real *out, const nn_real *x, int batch,
                         const nn_run_context *context);
    /* dx may be NULL (the first layer); accumulates like the kernels */
    nn_status (*backward)(nn_layer *layer, nn_real *dx, const nn_real *dout, const nn_real *x,
                          const nn_real *out, int batch);
    void (*destroy)(nn_layer *layer);
} nn_layer_ops;

/* The part every layer shares; layer types embed it as their first member. */
struct nn_layer {
    const nn_layer_ops *ops;
    const char *type;
    char name[48];
    int line;                  /* in the spec */
    nn_shape input_shape;      /* one sample */
    nn_shape output_shape;
    size_t input_size, output_size;
    int parameter_count;
    nn_parameter parameters[NN_LAYER_MAX_PARAMETERS];
    char parameter_names[NN_LAYER_MAX_PARAMETERS][16]; /* "weight", "bias" */
    nn_shape parameter_shapes[NN_LAYER_MAX_PARAMETERS];
    /* State that is saved with the weights but not trained (batch norm's
     * running statistics). */
    int buffer_count;
    nn_real *buffers[NN_LAYER_MAX_BUFFERS];
    size_t buffer_sizes[NN_LAYER_MAX_BUFFERS];
    char buffer_names[NN_LAYER_MAX_BUFFERS][16];
    /* For the summary: FLOPs per sample of the forward pass, and how the
     * layer widens the receptive field: a window of field_kernel positions
     * (dilation included) moved by field_stride (a fraction for
     * upsampling). field_global: every output sees the whole input (linear,
     * global pooling). nn_layer_alloc() sets kernel 1, stride 1. */
    double flops;
    int field_kernel;
    double field_stride;
    bool field_global;
    /* Built from a plan_only spec: parameters[p].count and the shapes are
     * set, but no value, gradient, buffer or workspace array exists (all
     * NULL), and nothing was initialised. Such a layer is only measured
     * and destroyed, never run. Constructors skip their allocations and
     * initialisation when this is set; nn_layer_alloc() sets it. */
    bool planned;
};

/* A layer type: its spec name, allowed option keys and constructor. */
typedef struct nn_layer_type {
    const char *name;
    const char *const *keys;   /* NULL-terminated; "name" is always allowed */
    nn_status (*create)(nn_layer **out, const nn_model_spec *model, const nn_layer_spec *spec,
                        const nn_shape *input_shape, int max_batch, nn_rng *rng,
                        nn_error *err);
} nn_layer_type;

/* The registry of layer types, by spec name; NULL if unknown. */
const nn_layer_type *nn_layer_type_find(const char *name);
/* Comma-separated list of known types, for messages. */
const char *nn_layer_type_names(void);

/* Helpers for layer constructors (network/common.c). */
nn_status nn_layer_alloc(nn_layer **out, size_t struct_size, const nn_layer_ops *ops,
                         const char *type, const nn_layer_spec *spec,
                         const nn_shape *input_shape, const nn_shape *output_shape,
                         nn_error *err);
nn_status nn_layer_add_parameter(nn_layer *layer, const char *name, const nn_shape *shape,
                                 bool decay, nn_error *err);
/* A zero-filled buffer of count values (see nn_layer.buffers). */
nn_status nn_layer_add_buffer(nn_layer *layer, const char *name, size_t count, nn_error *err);
void nn_layer_free_common(nn_layer *layer);

/* ---- the network ---------------------------------------------------------- */

typedef struct nn_network {
    nn_model_spec *spec;       /* owned copy */
    int layer_count;
    nn_layer **layers;
    int max_batch;
    /* activations[i] is layer i's input, activations[i + 1] its output;
     * activations[0] borrows the caller's input during a pass. */
    nn_real **activations;
    nn_real **gradients;       /* same shapes; gradients[0] unused */
    nn_real *loss_buffer;      /* softmax probabilities for the loss */
    size_t parameter_count;    /* arrays, over all layers */
    nn_parameter *parameters;  /* borrowed views of the layers' arrays */
    size_t parameter_total;    /* scalars */
} nn_network;

nn_status nn_network_new(nn_network **out, const nn_model_spec *spec, int max_batch,
                         nn_rng *rng, nn_error *err);
void nn_network_free(nn_network *network);

/* Runs the layers on x (N, input size); the result is nn_network_output(). */
nn_status nn_network_forward(nn_network *network, const nn_real *x, int batch,
                             const nn_run_context *context, nn_error *err);
nn_real *nn_network_output(const nn_network *network);
size_t nn_network_output_size(const nn_network *network);

/* Loss of the last forward pass against labels (class or map) or targets;
 * writes dL/doutput into the output gradient buffer when want_gradient. */
nn_status nn_network_loss(nn_network *network, double *loss, const int *labels,
                          const nn_real *targets, int batch, bool want_gradient, nn_error *err);

/* Backpropagates the output gradient left by nn_network_loss() through
 * every layer, adding into the parameters' gradients. */
nn_status nn_network_backward(nn_network *network, int batch, nn_error *err);
void nn_network_zero_grad(nn_network *network);

/* ---- sizing a network before building it --------------------------------
 * A spec from an untrusted source (a student's submitted model) may ask for
 * a linear layer of 10^12 weights. nn_network_plan_spec() builds every
 * layer of the spec in plan mode (nn_layer.planned: shapes, parameter shapes and
 * FLOPs, no arrays), adds up what the network would hold, and checks the
 * limits after each layer, before the next is even planned: the first
 * limit crossed is refused (NN_ERR_ARGUMENT) at that layer's line and
 * column in the spec. A spec whose layers do not fit together fails as
 * nn_network_new() would. Nothing larger than a layer's small struct is
 * ever allocated. */
typedef struct nn_network_limits {
    size_t max_parameters;   /* trainable scalars plus saved buffers; 0: no limit */
    double max_flops;        /* forward FLOPs per sample (as nn_layer.flops); 0: no limit */
    size_t max_activations;  /* values of the input and every layer output, per
                                sample; 0: no limit */
} nn_network_limits;

typedef struct nn_network_plan {
    int layer_count;
    size_t parameters;       /* trainable scalars */
    size_t buffers;          /* saved but not trained (batch norm's statistics) */
    double flops;            /* forward, per sample */
    size_t activations;      /* values of the input and every layer output, per sample */
    nn_shape output_shape;   /* of the last layer, one sample */
} nn_network_plan;

/* limits may be NULL (no limits). On failure *out holds the sums up to
 * the layer that failed. */
nn_status nn_network_plan_spec(nn_network_plan *out, const nn_model_spec *spec,
                               const nn_network_limits *limits, nn_error *err);

/* Class predictions of the last forward pass: argmax over the class axis,
 * per sample (S = 1) or per pixel. predictions: (N, S). */
void nn_network_predict(const nn_network *network, int *predictions, int batch);

/* ---- weights file --------------------------------------------------------
 * gzip-compressed; inside: "DLGRADEW", version (u32), tensor count (u32),
 * then per tensor its name, rank, dimensions and float32 values, and a CRC-32
 * of everything before it. Little-endian. Written to a temporary file and
 * renamed, so a crash never leaves half a file. A network with a value
 * that is not finite is refused (NN_ERR_NUMERIC): it could not be loaded. */
nn_status nn_weights_save(const nn_network *network, const char *path, nn_error *err);
/* Refuses a file whose tensors do not match the network by name and shape,
 * naming the tensor and the byte offset (in the uncompressed stream); a
 * file that is damaged (gzip's CRC or the inner one), cut short, not gzip,
 * or followed by extra bytes is refused as such. On any refusal the network
 * is left unchanged. */
nn_status nn_weights_load(nn_network *network, const char *path, nn_error *err);

#endif
