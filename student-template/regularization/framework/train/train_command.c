/*
 * train_command.c - `dlgrade train MODEL.yaml`: trains a model spec with the
 * reference units on a named dataset and reports each epoch. On a terminal
 * a progress bar runs within the epoch; otherwise one plain line per epoch.
 */
#include "dlgrade.h"

#include "nn/gemm.h"
#include "nn/metrics.h"
#include "nn/network.h"
#include "nn/train.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct train_arguments {
    const char *model_path;
    const char *data;
    const char *save_path;
    const char *curve_path;
    int epochs;
    unsigned long long seed;
    size_t limit;
    int threads;
} train_arguments;

typedef struct progress {
    bool terminal;
    FILE *curve;
} progress;

static void train_usage(FILE *out)
{
    fputs("usage: dlgrade train MODEL.yaml [options]\n"
          "  --data NAME      fashion-mnist (default), blobs, spirals, city-streets\n"
          "  --epochs N       override the spec's number of epochs\n"
          "  --seed N         seed of every random choice (default 1)\n"
          "  --save FILE      write the trained weights (gzip, checksummed)\n"
          "  --curve FILE     write loss and accuracy per epoch as CSV\n"
          "  --limit N        train on the first N training samples only\n"
          "  --threads N      BLAS threads (default: all cores)\n",
          out);
}

static bool parse_number(const char *text, unsigned long long maximum, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (text[0] == '-')
        return false;
    unsigned long long value = strtoull(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE || value > maximum)
        return false;
    *out = value;
    return true;
}

static int parse_arguments(train_arguments *args, int argc, char **argv)
{
    static const struct option options[] = {
        { "data", required_argument, NULL, 'd' },  { "epochs", required_argument, NULL, 'e' },
        { "seed", required_argument, NULL, 's' },  { "save", required_argument, NULL, 'w' },
        { "curve", required_argument, NULL, 'c' }, { "limit", required_argument, NULL, 'l' },
        { "threads", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    *args = (train_arguments){ .data = "fashion-mnist", .seed = 1 };
    int option;
    optind = 1;
    while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
        unsigned long long value = 0;
        switch (option) {
        case 'd': args->data = optarg; break;
        case 'w': args->save_path = optarg; break;
        case 'c': args->curve_path = optarg; break;
        case 'h': train_usage(stdout); return -1;
        case 'e': case 's': case 'l': case 't':
            if (!parse_number(optarg, option == 's' ? ~0ull : 100000000ull, &value)
                || (option != 's' && option != 'l' && value == 0)) {
                fprintf(stderr, "dlgrade train: --%s needs a %s number, not '%s'\n",
                        option == 'e' ? "epochs" : option == 's' ? "seed"
                        : option == 'l' ? "limit" : "threads",
                        option == 's' || option == 'l' ? "non-negative" : "positive", optarg);
                return DG_EXIT_USAGE;
            }
            if (option == 'e') args->epochs = (int)value;
            if (option == 's') args->seed = value;
            if (option == 'l') args->limit = (size_t)value;
            if (option == 't') args->threads = (int)value;
            break;
        default:
            train_usage(stderr);
            return DG_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "dlgrade train: expected one MODEL.yaml, got %d arguments\n",
                argc - optind);
        train_usage(stderr);
        return DG_EXIT_USAGE;
    }
    args->model_path = argv[optind];
    return 0;
}

static void on_batch(void *context, int epoch, size_t done, size_t total, double loss)
{
    progress *p = context;
    if (!p->terminal || (done % 8 != 0 && done != total))
        return;
    const int width = 30;
    int filled = (int)((double)width * (double)done / (double)total);
    fprintf(stdout, "\repoch %3d [%.*s%*s] %5zu/%zu  loss %.4f", epoch, filled,
            "==============================", width - filled, "", done, total, loss);
    fflush(stdout);
}

static void on_epoch(void *context, const nn_epoch_report *r)
{
    progress *p = context;
    if (p->terminal)
        fputs("\r\033[K", stdout);
    printf("epoch %3d/%d  lr %.2e  loss %.4f  train acc %.4f  test loss %.4f  test acc %.4f  "
           "%.2f s\n",
           r->epoch, r->epochs, r->learning_rate, r->train_loss, r->train_accuracy, r->test_loss,
           r->test_accuracy, r->seconds);
    fflush(stdout);
    if (p->curve != NULL)
        fprintf(p->curve, "%d,%.6g,%.6f,%.6f,%.6f,%.6f,%.3f\n", r->epoch, r->learning_rate,
                r->train_loss, r->train_accuracy, r->test_loss, r->test_accuracy, r->seconds);
}

/* For label maps: the mean IoU of the trained network on the test set,
 * next to the baseline of predicting the most frequent class everywhere. */
static nn_status report_segmentation(nn_network *network, const nn_dataset *test, nn_error *err)
{
    size_t count = test->count * test->target_size;
    int *predictions = malloc(count * sizeof *predictions);
    int *majority = malloc(count * sizeof *majority);
    double class_iou[64], mean_iou = 0, baseline_iou = 0;
    size_t frequency[64] = { 0 };
    int classes = test->class_count < 64 ? test->class_count : 64;
    nn_status status = predictions && majority ? NN_OK
                                               : nn_error_set(err, NN_ERR_MEMORY, "out of memory");
    if (status == NN_OK)
        status = nn_evaluate(network, test, NULL, NULL, NULL, predictions, err);
    if (status == NN_OK)
        status = nn_mean_iou(&mean_iou, class_iou, predictions, test->labels, count, classes, err);
    if (status == NN_OK) {
        printf("test mean IoU %.4f (per class:", mean_iou);
        for (int c = 0; c < classes; c++)
            printf(" %.3f", class_iou[c]);
        printf(")\n");
        for (size_t i = 0; i < count; i++)
            if (test->labels[i] >= 0 && test->labels[i] < classes)
                frequency[test->labels[i]]++;
        int most = 0;
        for (int c = 1; c < classes; c++)
            if (frequency[c] > frequency[most])
                most = c;
        for (size_t i = 0; i < count; i++)
            majority[i] = most;
        status = nn_mean_iou(&baseline_iou, class_iou, majority, test->labels, count, classes,
                             err);
        if (status == NN_OK)
            printf("majority-class baseline: class %d everywhere, pixel accuracy %.4f, mean IoU "
                   "%.4f\n", most, (double)frequency[most] / (double)count, baseline_iou);
    }
    free(predictions);
    free(majority);
    return status;
}

int dg_command_train(int argc, char **argv)
{
    train_arguments args;
    int parsed = parse_arguments(&args, argc, argv);
    if (parsed != 0)
        return parsed < 0 ? DG_EXIT_OK : parsed;
    if (args.threads > 0)
        nn_gemm_set_threads(args.threads);

    nn_error err = { 0 };
    nn_model_spec *spec = NULL;
    nn_dataset *train = NULL, *test = NULL;
    nn_network *network = NULL;
    progress p = { .terminal = isatty(STDOUT_FILENO) };
    nn_rng rng;
    nn_rng_seed(&rng, args.seed);
    nn_rng init_rng = nn_rng_split(&rng, 0);

    nn_status status = nn_model_spec_load(&spec, args.model_path, &err);
    if (status == NN_OK)
        status = dg_dataset_open(&train, &test, args.data, args.seed, args.limit, &err);
    if (status == NN_OK)
        status = nn_network_new(&network, spec, spec->train.batch_size > 256
                                                    ? spec->train.batch_size : 256,
                                &init_rng, &err);
    if (status == NN_OK && args.curve_path != NULL) {
        p.curve = fopen(args.curve_path, "w");
        if (p.curve == NULL)
            status = nn_error_set(&err, NN_ERR_IO, "%s: cannot write: %s", args.curve_path,
                                  strerror(errno));
        else
            fputs("epoch,learning_rate,train_loss,train_accuracy,test_loss,test_accuracy,"
                  "seconds\n", p.curve);
    }
    if (status == NN_OK) {
        printf("model %s (%s): %d layers, %zu parameters; data %s: %zu train, %zu test; "
               "seed %llu; %s precision\n",
               spec->name, args.model_path, network->layer_count, network->parameter_total,
               args.data, train->count, test->count, args.seed, NN_REAL_NAME);
        fflush(stdout);
        nn_train_callbacks callbacks = { .context = &p, .on_batch = on_batch,
                                         .on_epoch = on_epoch };
        /* Inputs are used as the dataset gives them (Fashion-MNIST in [0, 1]),
         * so a saved model needs nothing but its spec and weights. */
        nn_train_options options = { .epochs = args.epochs, .normalization = NULL };
        nn_epoch_report last;
        status = nn_train(network, train, test, &options, &rng, &callbacks, &last, &err);
        if (status == NN_OK)
            printf("final test accuracy %.4f\n", last.test_accuracy);
        if (status == NN_OK && test->target_kind == NN_TARGET_MAP)
            status = report_segmentation(network, test, &err);
    }
    if (p.curve != NULL && fclose(p.curve) != 0 && status == NN_OK)
        status = nn_error_set(&err, NN_ERR_IO, "%s: writing failed", args.curve_path);
    if (status == NN_OK && args.save_path != NULL) {
        status = nn_weights_save(network, args.save_path, &err);
        if (status == NN_OK)
            printf("weights written to %s\n", args.save_path);
    }
    if (status != NN_OK)
        fprintf(stderr, "dlgrade train: %s\n", err.message);
    nn_network_free(network);
    nn_dataset_free(train);
    nn_dataset_free(test);
    nn_model_spec_free(spec);
    return status == NN_OK ? DG_EXIT_OK : dg_exit_status(status);
}
