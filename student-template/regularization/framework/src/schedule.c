/*
 * schedule.c - learning-rate schedules, one value per epoch.
 *
 *   constant      lr = base
 *   step          lr = base gamma^floor(epoch / step_size)   (StepLR)
 *   exponential   lr = base gamma^epoch                      (ExponentialLR)
 *   plateau       lr *= gamma once the monitored loss has failed to improve
 *                 for more than `patience` epochs in a row (ReduceLROnPlateau)
 *
 * The plateau rule follows PyTorch's "rel" threshold mode for a loss: an
 * epoch improves when loss < best (1 - threshold), so that tiny, noisy gains
 * do not keep resetting the count. `patience` is the number of bad epochs
 * tolerated: with patience 2 the third bad epoch in a row cuts the rate,
 * and the count starts again. A NaN loss never counts as an improvement.
 *
 * Every kind stays at or above min_learning_rate (0 unless the caller sets
 * it), which keeps a plateau schedule from decaying a rate to nothing.
 */
#include "nn/optim.h"

#include <math.h>
#include <string.h>

static const char *const schedule_names[] = {
    [NN_SCHEDULE_CONSTANT] = "constant",
    [NN_SCHEDULE_STEP] = "step",
    [NN_SCHEDULE_EXPONENTIAL] = "exponential",
    [NN_SCHEDULE_PLATEAU] = "plateau",
};

#define SCHEDULE_KIND_COUNT (sizeof schedule_names / sizeof schedule_names[0])

void nn_schedule_init(nn_schedule *schedule, nn_schedule_kind kind, double base_learning_rate,
                      double gamma, int step_size, int patience)
{
    if (schedule == NULL)
        return;
    memset(schedule, 0, sizeof *schedule);
    schedule->kind = kind;
    schedule->base_learning_rate = base_learning_rate;
    schedule->gamma = gamma;
    schedule->step_size = step_size;
    schedule->patience = patience;
    schedule->threshold = 1e-4;        /* PyTorch's default */
    schedule->min_learning_rate = 0.0;
    schedule->best_loss = INFINITY;    /* the first finite loss improves on it */
    schedule->bad_epochs = 0;
    schedule->current = base_learning_rate;
}

nn_status nn_schedule_validate(const nn_schedule *schedule, nn_error *err)
{
    if (schedule == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "schedule: NULL");
    if ((size_t)schedule->kind >= SCHEDULE_KIND_COUNT)
        return nn_error_set(err, NN_ERR_ARGUMENT, "schedule: unknown kind %d",
                            (int)schedule->kind);
    const char *name = schedule_names[schedule->kind];
    if (!isfinite(schedule->base_learning_rate) || schedule->base_learning_rate < 0.0)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "schedule %s: base learning rate %g must be finite and >= 0", name,
                            schedule->base_learning_rate);
    if (!isfinite(schedule->min_learning_rate) || schedule->min_learning_rate < 0.0)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "schedule %s: min learning rate %g must be finite and >= 0", name,
                            schedule->min_learning_rate);
    if (schedule->kind == NN_SCHEDULE_CONSTANT)
        return NN_OK;
    if (!(schedule->gamma > 0.0 && schedule->gamma <= 1.0))
        return nn_error_set(err, NN_ERR_ARGUMENT, "schedule %s: gamma %g must be in (0, 1]",
                            name, schedule->gamma);
    if (schedule->kind == NN_SCHEDULE_STEP && schedule->step_size < 1)
        return nn_error_set(err, NN_ERR_ARGUMENT, "schedule step: step_size %d must be >= 1",
                            schedule->step_size);
    if (schedule->kind == NN_SCHEDULE_PLATEAU) {
        if (schedule->patience < 0)
            return nn_error_set(err, NN_ERR_ARGUMENT,
                                "schedule plateau: patience %d must be >= 0",
                                schedule->patience);
        if (!(schedule->threshold >= 0.0 && schedule->threshold < 1.0))
            return nn_error_set(err, NN_ERR_ARGUMENT,
                                "schedule plateau: threshold %g must be in [0, 1)",
                                schedule->threshold);
    }
    return NN_OK;
}

static double plateau_next(nn_schedule *schedule, double loss)
{
    if (loss < schedule->best_loss * (1.0 - schedule->threshold)) {
        schedule->best_loss = loss;
        schedule->bad_epochs = 0;
    } else if (++schedule->bad_epochs > schedule->patience) {
        schedule->current *= schedule->gamma;
        schedule->bad_epochs = 0;
    }
    return schedule->current;
}

double nn_schedule_next(nn_schedule *schedule, int epoch, double loss)
{
    if (schedule == NULL)
        return 0.0;
    double rate = schedule->base_learning_rate;
    if (epoch < 0)
        epoch = 0;
    switch (schedule->kind) {
    case NN_SCHEDULE_CONSTANT:
        break;
    case NN_SCHEDULE_STEP: {
        /* nn_schedule_validate refuses step_size < 1; treating it as 1 here
         * keeps an unvalidated schedule from dividing by zero. */
        int step_size = schedule->step_size >= 1 ? schedule->step_size : 1;
        rate *= pow(schedule->gamma, (double)(epoch / step_size));
        break;
    }
    case NN_SCHEDULE_EXPONENTIAL:
        rate *= pow(schedule->gamma, (double)epoch);
        break;
    case NN_SCHEDULE_PLATEAU:
        rate = plateau_next(schedule, loss);
        break;
    }
    if (rate < schedule->min_learning_rate)
        rate = schedule->min_learning_rate;
    schedule->current = rate;
    return rate;
}

nn_status nn_schedule_kind_parse(nn_schedule_kind *kind, const char *name, nn_error *err)
{
    if (name == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "schedule kind: no name given");
    for (size_t i = 0; i < SCHEDULE_KIND_COUNT; i++) {
        if (strcmp(name, schedule_names[i]) == 0) {
            *kind = (nn_schedule_kind)i;
            return NN_OK;
        }
    }
    if (strcmp(name, "reduce_on_plateau") == 0) {
        *kind = NN_SCHEDULE_PLATEAU;
        return NN_OK;
    }
    return nn_error_set(err, NN_ERR_ARGUMENT,
                        "unknown schedule kind '%s' (expected constant, step, exponential "
                        "or plateau)",
                        name);
}

const char *nn_schedule_kind_name(nn_schedule_kind kind)
{
    if ((size_t)kind < SCHEDULE_KIND_COUNT)
        return schedule_names[kind];
    return "unknown";
}
