/*
 * kernels.h - a uniform description of every function students implement,
 * so that one engine can feed any of them seeded inputs, call it, and
 * compare what comes back.
 *
 * The same table (kernels.c) is compiled into two programs:
 *   - the grader, linked with the reference library: there `call` runs the
 *     reference implementation and gives the expected values;
 *   - the runner, linked with one student unit and the reference for the
 *     rest: there `call` runs the student's code, inside the sandbox.
 * Each entry says which buffers a function takes, in which role, how big
 * they are for given sizes, and how to fill its inputs, so neither side
 * needs code per function beyond the small `call` and `sizes` adaptors.
 */
#ifndef DG_KERNELS_H
#define DG_KERNELS_H

#include "nn/core.h"
#include "nn/rng.h"

#include <stddef.h>

#define DG_KERNEL_MAX_DIMS 8
#define DG_KERNEL_MAX_PARAMS 8   /* Adam has 7 */
#define DG_KERNEL_MAX_BUFFERS 10

typedef enum dg_buffer_role {
    DG_BUFFER_INPUT,       /* read only; compared never */
    DG_BUFFER_OUTPUT,      /* overwritten by the function; compared */
    DG_BUFFER_ACCUMULATE,  /* gradient: the function adds into it; pre-filled
                              with random values so that `=` instead of `+=`
                              is caught; compared */
    DG_BUFFER_STATE,       /* read and updated (running statistics, optimizer
                              moments, weights in a step); compared */
    DG_BUFFER_WORKSPACE    /* scratch the caller provides; never compared */
} dg_buffer_role;

typedef enum dg_buffer_type {
    DG_BUFFER_REAL,        /* nn_real */
    DG_BUFFER_INT,         /* int (labels, argmax indices) */
    DG_BUFFER_DOUBLE       /* double (a loss value) */
} dg_buffer_type;

/* How an input or state buffer is filled before the call. */
typedef enum dg_fill {
    DG_FILL_NORMAL,        /* N(0, 1) */
    DG_FILL_UNIFORM,       /* U(-1, 1) */
    DG_FILL_PROBABILITY,   /* U(0.05, 0.95): probabilities for BCE */
    DG_FILL_BINARY,        /* 0 or 1: BCE targets */
    DG_FILL_POSITIVE,      /* U(0.5, 1.5): scales, variances, second moments */
    DG_FILL_LABELS,        /* integers in [0, dims[fill_dim]) */
    DG_FILL_DROPOUT_MASK,  /* 0 or 1/(1-p), p = params[fill_dim] */
    DG_FILL_ZERO,
    DG_FILL_QUANTISED      /* image-like: ReLU of N(0.25, 1) rounded to halves, so about
                              half exactly 0 and the rest 0.5, 1, 1.5, ... repeated; only
                              as a case's input_fill (below) */
} dg_fill;

typedef struct dg_buffer_spec {
    const char *name;      /* as in the signature: "dweight" */
    dg_buffer_role role;
    dg_buffer_type type;
    dg_fill fill;
    int fill_dim;          /* for LABELS (a dim index) and DROPOUT_MASK (a param index) */
    const char *shape;     /* for messages, e.g. "(N, O)" */
} dg_buffer_spec;

#define DG_KERNEL_MAX_MISTAKES 6

/*
 * A plausible mistake in writing a function, told by the numbers it gives,
 * so that the judge can say "looks like <what>" when a failed answer
 * matches them and only then (judge.c). A mistake gives its numbers one of
 * two ways:
 *   - apply: leaves in the buffers what the function written with that
 *     mistake would leave, from the same inputs (a copy of the buffers as
 *     `call` gets them, and an rng seeded as `call`'s). It runs the
 *     reference kernels on changed inputs or parameters, so it runs only in
 *     the grader (request.c); the student template reads its results from
 *     the fixtures the release step wrote, and never calls it (there the
 *     kernels are the student's). Not NN_OK: not computed for that case;
 *   - factor: the mistake multiplies what the function writes into buffer
 *     (for a gradient: what it adds to it) by factor(buffer, ...), 1 for the
 *     buffers it leaves alone. The judge computes it from the expected
 *     values, in the grader and in the template alike.
 * A mistake that gives the reference's own numbers on a case (no bias
 * correction, on a case that turns it off) is never told on that case.
 */
typedef struct dg_mistake {
    const char *what;   /* the rest of "looks like ...": "the weight is read transposed" */
    nn_status (*apply)(void **buffers, const int *dims, const double *params, nn_rng *rng);
    double (*factor)(int buffer, const int *dims, const double *params);
} dg_mistake;

/* One set of sizes and scalar parameters to test a function with. */
typedef struct dg_kernel_case {
    int dims[DG_KERNEL_MAX_DIMS];
    double params[DG_KERNEL_MAX_PARAMS];
    /* How this case fills the INPUT buffers whose fill is DG_FILL_NORMAL;
     * DG_FILL_NORMAL (the default) keeps them N(0, 1). DG_FILL_QUANTISED
     * gives what real data gives a layer (Fashion-MNIST's background is
     * exactly 0, pooled ReLU outputs tie at 0): exact zeros and ties, which
     * N(0, 1) never does, so ReLU's 0 and max pooling's ties sit inside
     * gradient-check steps (the kinks below) and the tie rules are seen. */
    dg_fill input_fill;
} dg_kernel_case;

typedef struct dg_kernel {
    const char *unit;      /* source file stem: "linear" for linear.c */
    const char *function;  /* "nn_linear_forward" */
    int dim_count;
    const char *dim_names[DG_KERNEL_MAX_DIMS];     /* "N", "I", "O" */
    int param_count;
    const char *param_names[DG_KERNEL_MAX_PARAMS]; /* "slope", "learning_rate" */
    int buffer_count;
    dg_buffer_spec buffers[DG_KERNEL_MAX_BUFFERS];
    /* Element count of every buffer for the given sizes. */
    void (*sizes)(size_t *counts, const int *dims, const double *params);
    /* Calls the function with buffers in the table's order; rng is for
     * functions that draw (dropout), seeded the same on both sides. The
     * call draws from a copy, so repeated calls with one rng agree. */
    nn_status (*call)(void **buffers, const int *dims, const double *params, nn_rng *rng);
    int case_count;
    const dg_kernel_case *cases;  /* default cases, small and large */
    int mistake_count;
    const dg_mistake *mistakes;   /* plausible mistakes, the likeliest first */
} dg_kernel;

/* The whole table, and lookup by function name (NULL if unknown). */
extern const dg_kernel dg_kernels[];
extern const size_t dg_kernel_count;
const dg_kernel *dg_kernel_find(const char *function);

/*
 * A forward/backward pair for gradient checks. The checked scalar is
 * L = sum(out * r) over the forward's output buffer, for a fixed random r
 * that is passed to the backward as its upstream gradient (or L = the
 * forward's DOUBLE output itself, for losses, with no upstream). Each link
 * says that a gradient buffer of the backward is dL/d(an input buffer of
 * the forward); each share says that a backward input is a copy of a
 * forward buffer after the forward ran (x, weight, a saved output or
 * mask). Accumulating gradient buffers start at zero here.
 */
/*
 * Kinks: points where a forward switches branch along one of its inputs
 * and its slope jumps. A central difference whose step [x - h, x + h]
 * straddles one measures a blend of both slopes, so a correct backward
 * would fail there. The grader, which knows the inputs and h, finds such
 * coordinates with the branch test of the kind (request.c); the judge
 * skips and counts them (judge.c). Every kind is piecewise linear on each
 * side, so a step that stays on one side measures the slope exactly.
 */
typedef enum dg_kink {
    DG_KINK_NONE,
    DG_KINK_SIGN,        /* the branch is the value's sign: ReLU, leaky ReLU, PReLU */
    DG_KINK_DIFFERENCE,  /* the sign of value - the forward's `target`: |p - t| */
    DG_KINK_WINDOW_MAX,  /* which value of each pooling window holding it is the maximum */
    DG_KINK_KINDS
} dg_kink;

typedef struct dg_buffer_link {
    int backward;   /* index into the backward's buffers */
    int forward;    /* index into the forward's buffers */
} dg_buffer_link;

typedef struct dg_gradient_pair {
    const char *forward;
    const char *backward;
    int forward_output;      /* the forward buffer L is computed from */
    int backward_upstream;   /* the backward buffer that receives r; -1 for losses */
    int link_count;
    dg_buffer_link links[4];
    dg_kink kinks[4];        /* kinks[l]: the forward's kinks along links[l]'s input */
    int share_count;
    dg_buffer_link shares[8];
} dg_gradient_pair;

extern const dg_gradient_pair dg_gradient_pairs[];
extern const size_t dg_gradient_pair_count;
/* The pair whose backward (or forward) is function; NULL if none. */
const dg_gradient_pair *dg_gradient_pair_find(const char *function);

/* The backward's case for one of the forward's: sizes and parameters of
 * the same name, and a loss's `scale` set to 1 (kernels.c explains). */
dg_kernel_case dg_gradient_pair_backward_case(const dg_gradient_pair *pair,
                                              const dg_kernel_case *forward_case);

#endif
