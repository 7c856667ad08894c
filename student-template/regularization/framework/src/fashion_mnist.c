/*
 * fashion_mnist.c - Fashion-MNIST from its four gzipped IDX files into two
 * nn_datasets.
 *
 * Speed: nn_idx_load inflates each file with one gzread into one buffer;
 * the conversion to nn_real is a 256-entry table lookup per pixel. The
 * whole training set loads in about 0.3 s of CPU on the development
 * machine (datasets/README.md has the measurement), most of it inflating.
 * The table holds (nn_real)(v / 255.0), the correctly rounded quotient, so a
 * float build and a double build see the same pixel values up to their
 * own rounding, and 255 maps to exactly 1.
 */
#include "nn/fashion_mnist.h"

#include "nn/idx.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The label descriptions of the Fashion-MNIST release, in label order. */
static const char *const class_names[NN_FASHION_MNIST_CLASSES] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot",
};

/* Bytes before the first label in an idx1 file: magic and one dimension. */
#define LABELS_HEADER_SIZE 8

const char *nn_fashion_mnist_class_name(int label)
{
    if (label < 0 || label >= NN_FASHION_MNIST_CLASSES)
        return NULL;
    return class_names[label];
}

const char *nn_fashion_mnist_default_directory(void)
{
    const char *directory = getenv(NN_FASHION_MNIST_ENV);
    return directory != NULL && directory[0] != '\0' ? directory : NN_FASHION_MNIST_DIRECTORY;
}

static char *format_idx_shape(char *buffer, size_t size, const nn_idx *idx)
{
    nn_shape shape = { .rank = idx->rank };
    for (int i = 0; i < idx->rank; i++)
        shape.dims[i] = idx->dims[i];
    return nn_shape_format(buffer, size, &shape);
}

/* The images must be (N, 28, 28), the labels (N) with values 0..9. */
static nn_status check_split(const nn_idx *images, const char *images_path,
                             const nn_idx *labels, const char *labels_path, nn_error *err)
{
    char shape[128];
    if (images->rank != 3 || images->dims[1] != NN_FASHION_MNIST_SIDE ||
        images->dims[2] != NN_FASHION_MNIST_SIDE)
        return nn_error_set(err, NN_ERR_FORMAT,
                            "%s: expected images of shape (N, %d, %d), found %s", images_path,
                            NN_FASHION_MNIST_SIDE, NN_FASHION_MNIST_SIDE,
                            format_idx_shape(shape, sizeof shape, images));
    if (labels->rank != 1)
        return nn_error_set(err, NN_ERR_FORMAT, "%s: expected labels of shape (N), found %s",
                            labels_path, format_idx_shape(shape, sizeof shape, labels));
    if (images->dims[0] != labels->dims[0])
        return nn_error_set(err, NN_ERR_FORMAT, "%s holds %zu images but %s holds %zu labels",
                            images_path, images->dims[0], labels_path, labels->dims[0]);
    for (size_t i = 0; i < labels->size; i++)
        if (labels->data[i] >= NN_FASHION_MNIST_CLASSES)
            return nn_error_set(err, NN_ERR_FORMAT,
                                "%s: label %u of sample %zu (byte %zu) is not a class 0..%d",
                                labels_path, labels->data[i], i, LABELS_HEADER_SIZE + i,
                                NN_FASHION_MNIST_CLASSES - 1);
    return NN_OK;
}

/* Adds what to do about a file that cannot be opened. */
static nn_status explain_missing(nn_status status, const char *directory, nn_error *err)
{
    if (status != NN_ERR_IO)
        return status;
    return nn_error_prefix(err,
                           "Fashion-MNIST is not readable in %s (install the Debian package "
                           "dataset-fashion-mnist, or set " NN_FASHION_MNIST_ENV
                           " to a directory holding its four .gz files)",
                           directory);
}

/* The inputs of the training set are 188 MB (float) or 376 MB (double);
 * faulting them in 4 KiB pages cost about a third of the load time in our
 * measurements. Transparent huge pages are on "madvise" in Debian's default
 * kernel configuration, so ask for them. Only a hint; nothing depends on it
 * being honoured. */
static void advise_huge_pages(void *start, size_t length)
{
#ifdef MADV_HUGEPAGE
    long page_size = sysconf(_SC_PAGESIZE);
    if (page_size <= 0)
        return;
    uintptr_t page = (uintptr_t)page_size;
    uintptr_t first = ((uintptr_t)start + page - 1) & ~(page - 1);
    uintptr_t last = ((uintptr_t)start + length) & ~(page - 1);
    if (last > first)
        (void)madvise((void *)first, last - first, MADV_HUGEPAGE);
#else
    (void)start;
    (void)length;
#endif
}

/* Loads one split: prefix "train" or "t10k". */
static nn_status load_split(nn_dataset **out, const char *directory, const char *prefix,
                            const char *name, nn_error *err)
{
    char images_path[4096], labels_path[4096];
    int images_length = snprintf(images_path, sizeof images_path, "%s/%s-images-idx3-ubyte.gz",
                                 directory, prefix);
    int labels_length = snprintf(labels_path, sizeof labels_path, "%s/%s-labels-idx1-ubyte.gz",
                                 directory, prefix);
    if (images_length < 0 || (size_t)images_length >= sizeof images_path ||
        labels_length < 0 || (size_t)labels_length >= sizeof labels_path)
        return nn_error_set(err, NN_ERR_ARGUMENT, "Fashion-MNIST directory name too long: %s",
                            directory);
    nn_idx *images = NULL, *labels = NULL;
    nn_status status = nn_idx_load(&images, images_path, err);
    if (status == NN_OK)
        status = nn_idx_load(&labels, labels_path, err);
    if (status != NN_OK) {
        status = explain_missing(status, directory, err);
        goto out_free_idx;
    }
    status = check_split(images, images_path, labels, labels_path, err);
    if (status != NN_OK)
        goto out_free_idx;
    nn_shape sample_shape = nn_shape_3d(1, NN_FASHION_MNIST_SIDE, NN_FASHION_MNIST_SIDE);
    status = nn_dataset_new(out, name, labels->size, &sample_shape, NN_TARGET_CLASS, 1,
                            NN_FASHION_MNIST_CLASSES, err);
    if (status != NN_OK)
        goto out_free_idx;
    nn_real scale[256];
    for (int v = 0; v < 256; v++)
        scale[v] = (nn_real)(v / 255.0);
    nn_real *inputs = (*out)->inputs;
    advise_huge_pages(inputs, images->size * sizeof *inputs);
    const unsigned char *pixels = images->data;
    for (size_t i = 0; i < images->size; i++)
        inputs[i] = scale[pixels[i]];
    for (size_t i = 0; i < labels->size; i++)
        (*out)->labels[i] = labels->data[i];
out_free_idx:
    nn_idx_free(images);
    nn_idx_free(labels);
    return status;
}

nn_status nn_fashion_mnist_load(nn_dataset **train, nn_dataset **test,
                                const char *directory, nn_error *err)
{
    if (train != NULL)
        *train = NULL;
    if (test != NULL)
        *test = NULL;
    if (train == NULL && test == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "Fashion-MNIST: asked for neither the training nor the test set");
    if (directory == NULL)
        directory = nn_fashion_mnist_default_directory();
    nn_status status = NN_OK;
    if (train != NULL)
        status = load_split(train, directory, "train", "fashion-mnist-train", err);
    if (status == NN_OK && test != NULL)
        status = load_split(test, directory, "t10k", "fashion-mnist-test", err);
    if (status != NN_OK && train != NULL) {
        nn_dataset_free(*train);
        *train = NULL;
    }
    return status;
}

nn_status nn_fashion_mnist_verify(const char *directory, const char *list_path,
                                  nn_error *err)
{
    if (directory == NULL)
        directory = nn_fashion_mnist_default_directory();
    /* A missing list is the project's problem, not the data's: say so
     * before any advice about installing the data. */
    FILE *list = fopen(list_path, "r");
    if (list == NULL)
        return nn_error_set(err, NN_ERR_IO, "%s: cannot open the checksum list: %s",
                            list_path, strerror(errno));
    fclose(list);
    nn_status status = nn_idx_verify_checksums(directory, list_path, err);
    if (status == NN_ERR_FORMAT)
        return nn_error_prefix(err,
                               "Fashion-MNIST in %s fails its check against %s (reinstall "
                               "dataset-fashion-mnist if the files were modified)",
                               directory, list_path);
    return explain_missing(status, directory, err);
}
