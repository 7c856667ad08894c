/*
 * fashion_mnist.h - the Fashion-MNIST dataset (Zalando, 2017): 28x28 grey
 * images of clothing in 10 classes, 60000 for training and 10000 for
 * testing, read from the four gzipped IDX files of the original release:
 *
 *     train-images-idx3-ubyte.gz   train-labels-idx1-ubyte.gz
 *     t10k-images-idx3-ubyte.gz    t10k-labels-idx1-ubyte.gz
 *
 * On Debian they come with the package dataset-fashion-mnist. The loader
 * checks that the files fit together (as many labels as images, 28x28
 * images, labels 0..9) and names the offending file when they do not;
 * datasets/README.md says where the data comes from and how to verify it.
 */
#ifndef NN_FASHION_MNIST_H
#define NN_FASHION_MNIST_H

#include "nn/core.h"
#include "nn/dataset.h"

#define NN_FASHION_MNIST_CLASSES 10
#define NN_FASHION_MNIST_SIDE 28
#define NN_FASHION_MNIST_DIRECTORY "/usr/share/datasets/fashion-mnist"
/* The environment variable that points the loader at another directory
 * holding the four files. */
#define NN_FASHION_MNIST_ENV "DLGRADE_DATA"

/* $DLGRADE_DATA when it is set and not empty, else
 * NN_FASHION_MNIST_DIRECTORY. The string is borrowed, not to be freed. */
const char *nn_fashion_mnist_default_directory(void);

/* Loads the training and test sets from directory (NULL for the default
 * directory) as NN_TARGET_CLASS datasets of sample_shape (1, 28, 28), with
 * pixels scaled from 0..255 to [0, 1] and 10 classes. Either of train and
 * test may be NULL to skip that set. On success the caller owns the
 * datasets (nn_dataset_free); on failure both are NULL and err says which
 * file is wrong, or, when a file is missing, how to install the data. */
nn_status nn_fashion_mnist_load(nn_dataset **train, nn_dataset **test,
                                const char *directory, nn_error *err);

/* The name of class 0..9 ("T-shirt/top", "Trouser", ...); NULL for any
 * other label. */
const char *nn_fashion_mnist_class_name(int label);

/* Checks the four files in directory (NULL for the default) against a
 * checksum list in the format nn_idx_verify_checksums reads, e.g.
 * datasets/fashion-mnist.crc32; a mismatch says that the data is not the
 * release dlgrade expects. */
nn_status nn_fashion_mnist_verify(const char *directory, const char *list_path,
                                  nn_error *err);

#endif
