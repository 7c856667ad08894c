/*
 * synthetic.c - what the generated sets share: counting labels, the
 * figure behind every "majority-class baseline" quoted for a dataset.
 */
#include "nn/synthetic.h"

nn_status nn_synthetic_class_fractions(double *fractions, const nn_dataset *dataset,
                                       nn_error *err)
{
    if (dataset == NULL || dataset->labels == NULL || dataset->class_count < 1)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "class fractions: need a dataset with class labels");
    for (int c = 0; c < dataset->class_count; c++)
        fractions[c] = 0.0;
    size_t total = dataset->count * dataset->target_size;
    for (size_t i = 0; i < total; i++) {
        int label = dataset->labels[i];
        if (label < 0 || label >= dataset->class_count)
            return nn_error_set(err, NN_ERR_FORMAT,
                                "class fractions: dataset %s, label %d at %zu is outside "
                                "[0, %d)",
                                dataset->name, label, i, dataset->class_count);
        fractions[label] += 1.0;
    }
    for (int c = 0; c < dataset->class_count; c++)
        fractions[c] /= (double)total;
    return NN_OK;
}
