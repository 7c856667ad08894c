/*
 * optim.h - optimizers, weight decay, initialisation and learning-rate
 * schedules.
 *
 * Step kernels update one parameter array in place from its gradient; the
 * nn_optimizer object applies a kernel to every parameter of a network and
 * owns the per-parameter state (velocities, moments). One unit a file:
 * sgd.c, rmsprop.c, adam.c, l2_penalty.c, init.c, schedule.c, optimizer.c.
 */
#ifndef NN_OPTIM_H
#define NN_OPTIM_H

#include "nn/core.h"
#include "nn/rng.h"

#include <stdbool.h>

/* ---- step kernels ------------------------------------------------------- */

typedef struct nn_sgd_config {
    double learning_rate;
    double momentum;      /* 0 for plain SGD */
    bool nesterov;
    double weight_decay;  /* L2: adds weight_decay * w to the gradient */
} nn_sgd_config;

/* v = momentum v + g;  w -= lr * (nesterov ? g + momentum v : v)
 * (PyTorch's form). With weight decay, g = grad + wd w, so plain SGD gives
 * w = (1 - lr wd) w - lr grad. velocity: (count), zero at the start; not
 * touched, and may be NULL, when momentum is 0. */
nn_status nn_sgd_step(nn_real *weights, nn_real *velocity, const nn_real *grad, size_t count,
                      const nn_sgd_config *config);

typedef struct nn_rmsprop_config {
    double learning_rate;
    double decay;         /* rho, e.g. 0.99: average of squared gradients */
    double epsilon;       /* 1e-8 */
    double weight_decay;
} nn_rmsprop_config;

/* s = rho s + (1 - rho) g^2;  w -= lr g / (sqrt(s) + eps) */
nn_status nn_rmsprop_step(nn_real *weights, nn_real *square_average, const nn_real *grad,
                          size_t count, const nn_rmsprop_config *config);

typedef struct nn_adam_config {
    double learning_rate;
    double beta1, beta2;  /* 0.9, 0.999 */
    double epsilon;       /* 1e-8 */
    double weight_decay;
    bool decoupled;       /* AdamW: w -= lr wd w, apart from the gradient */
    bool bias_correction; /* true; false only to show why it matters */
} nn_adam_config;

/* m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * m^ = m / (1 - b1^t); v^ = v / (1 - b2^t); w -= lr m^ / (sqrt(v^) + eps).
 * step is t, counted from 1 (NN_ERR_ARGUMENT below 1). */
nn_status nn_adam_step(nn_real *weights, nn_real *first_moment, nn_real *second_moment,
                       const nn_real *grad, size_t count, long step,
                       const nn_adam_config *config);

/* ---- L2 regularisation as part of the loss ------------------------------ */

/* loss += lambda / 2 * sum w^2;  dweights += lambda w */
nn_status nn_l2_penalty_forward(double *loss, const nn_real *weights, size_t count,
                                double lambda);
nn_status nn_l2_penalty_backward(nn_real *dweights, const nn_real *weights, size_t count,
                                 double lambda);

/* ---- initialisation ------------------------------------------------------ */

typedef enum nn_init_kind {
    NN_INIT_XAVIER_UNIFORM, /* U(-a, a), a = sqrt(6 / (fan_in + fan_out)) */
    NN_INIT_XAVIER_NORMAL,  /* N(0, 2 / (fan_in + fan_out)) */
    NN_INIT_HE_UNIFORM,     /* U(-a, a), a = sqrt(6 / fan_in) */
    NN_INIT_HE_NORMAL,      /* N(0, 2 / fan_in) */
    NN_INIT_CONSTANT        /* every weight the same: the symmetry problem */
} nn_init_kind;

nn_status nn_init_weights(nn_real *weights, size_t count, int fan_in, int fan_out,
                          nn_init_kind kind, nn_real constant, nn_rng *rng, nn_error *err);

/* "xavier_uniform", "he_normal", "constant"...; NN_ERR_ARGUMENT otherwise */
nn_status nn_init_kind_parse(nn_init_kind *kind, const char *name, nn_error *err);
const char *nn_init_kind_name(nn_init_kind kind);

/* ---- the optimizer object ------------------------------------------------ */

typedef enum nn_optimizer_kind {
    NN_OPTIMIZER_SGD,
    NN_OPTIMIZER_RMSPROP,
    NN_OPTIMIZER_ADAM
} nn_optimizer_kind;

typedef struct nn_optimizer_config {
    nn_optimizer_kind kind;
    nn_sgd_config sgd;
    nn_rmsprop_config rmsprop;
    nn_adam_config adam;
} nn_optimizer_config;

/* One parameter array and its gradient, borrowed from a network. */
typedef struct nn_parameter {
    nn_real *value;
    nn_real *grad;
    size_t count;
    bool decay;  /* weight decay applies (weights yes, biases and BN no) */
} nn_parameter;

typedef struct nn_optimizer nn_optimizer;

/* The optimizer keeps a copy of the parameter list and allocates its state. */
nn_status nn_optimizer_new(nn_optimizer **out, const nn_optimizer_config *config,
                           const nn_parameter *parameters, size_t parameter_count,
                           nn_error *err);
void nn_optimizer_free(nn_optimizer *optimizer);
/* PyTorch's defaults for every kind (no momentum or weight decay; RMSProp
 * decay 0.99; Adam betas 0.9, 0.999 with bias correction; eps 1e-8), with
 * learning_rate in all three. */
nn_optimizer_config nn_optimizer_default_config(nn_optimizer_kind kind, double learning_rate);
/* One update of every parameter from its current gradient. Returns the
 * first failing kernel's status (then some parameters may be updated). */
nn_status nn_optimizer_step(nn_optimizer *optimizer);
/* Sets the learning rate (a schedule calls this once an epoch). */
void nn_optimizer_set_learning_rate(nn_optimizer *optimizer, double learning_rate);
double nn_optimizer_learning_rate(const nn_optimizer *optimizer);
/* "sgd", "rmsprop", "adam" (AdamW is adam with decoupled decay) */
nn_status nn_optimizer_kind_parse(nn_optimizer_kind *kind, const char *name, nn_error *err);
const char *nn_optimizer_kind_name(nn_optimizer_kind kind);

/* ---- learning-rate schedules -------------------------------------------- */

typedef enum nn_schedule_kind {
    NN_SCHEDULE_CONSTANT,
    NN_SCHEDULE_STEP,         /* lr = base gamma^floor(epoch / step_size) */
    NN_SCHEDULE_EXPONENTIAL,  /* lr = base gamma^epoch */
    NN_SCHEDULE_PLATEAU       /* lr *= gamma once more than `patience` epochs
                                 in a row bring no improvement of the
                                 monitored loss (PyTorch's rule) */
} nn_schedule_kind;

typedef struct nn_schedule {
    nn_schedule_kind kind;
    double base_learning_rate;
    double gamma;
    int step_size;
    int patience;
    double threshold;         /* relative improvement that counts */
    double min_learning_rate;
    /* plateau state */
    double best_loss;
    int bad_epochs;
    double current;
} nn_schedule;

/* Sets threshold to 1e-4 and min_learning_rate to 0 (PyTorch's defaults);
 * the caller may change both before the first nn_schedule_next. */
void nn_schedule_init(nn_schedule *schedule, nn_schedule_kind kind, double base_learning_rate,
                      double gamma, int step_size, int patience);
/* Refuses settings that cannot work (gamma outside (0, 1], step_size < 1,
 * negative rates or patience), naming the field. */
nn_status nn_schedule_validate(const nn_schedule *schedule, nn_error *err);
/* The learning rate for the epoch that starts after `epoch` epochs ended
 * with validation loss `loss` (ignored except by the plateau schedule). */
double nn_schedule_next(nn_schedule *schedule, int epoch, double loss);
/* "constant", "step", "exponential", "plateau" */
nn_status nn_schedule_kind_parse(nn_schedule_kind *kind, const char *name, nn_error *err);
const char *nn_schedule_kind_name(nn_schedule_kind kind);

#endif
