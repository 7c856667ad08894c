/*
 * yaml.h - reading YAML documents (model specs, assignment configs) through
 * libyaml's document API, with every error located as file:line:column.
 *
 * This is the one module that talks to libyaml, so libyaml's convention of
 * returning 1 for success stays inside yaml.c. Nodes are borrowed pointers
 * into the document and live as long as it does.
 */
#ifndef NN_YAML_H
#define NN_YAML_H

#include "nn/core.h"

#include <stdbool.h>

typedef struct nn_yaml_document nn_yaml_document;
typedef struct yaml_node_s nn_yaml_node;

/* Parses path; a syntax error is NN_ERR_FORMAT with "path:line:col: ...". */
nn_status nn_yaml_load(nn_yaml_document **out, const char *path, nn_error *err);
/* Parses a document held in memory; name stands for the path in messages. */
nn_status nn_yaml_load_string(nn_yaml_document **out, const char *name, const char *text,
                              nn_error *err);
void nn_yaml_free(nn_yaml_document *document);

nn_yaml_node *nn_yaml_root(nn_yaml_document *document);
const char *nn_yaml_path(const nn_yaml_document *document);

/* 1-based line and column of a node, for messages. */
int nn_yaml_line(const nn_yaml_node *node);
int nn_yaml_column(const nn_yaml_node *node);

/* Sets err to "path:line:col: message" at node and returns status. */
nn_status nn_yaml_error(nn_error *err, nn_status status, const nn_yaml_document *document,
                        const nn_yaml_node *node, const char *format, ...)
    __attribute__((format(printf, 5, 6)));

bool nn_yaml_is_mapping(const nn_yaml_node *node);
bool nn_yaml_is_sequence(const nn_yaml_node *node);
bool nn_yaml_is_scalar(const nn_yaml_node *node);

/* Mappings: number of pairs, and the i-th key (a scalar's text, or NULL if
 * the key is not a scalar) and value. */
int nn_yaml_mapping_size(const nn_yaml_node *mapping);
const char *nn_yaml_mapping_key(nn_yaml_document *document, const nn_yaml_node *mapping, int i,
                                nn_yaml_node **key_node);
nn_yaml_node *nn_yaml_mapping_value(nn_yaml_document *document, const nn_yaml_node *mapping,
                                    int i);
/* The value for key, or NULL. */
nn_yaml_node *nn_yaml_get(nn_yaml_document *document, const nn_yaml_node *mapping,
                          const char *key);

/* Sequences. */
int nn_yaml_sequence_size(const nn_yaml_node *sequence);
nn_yaml_node *nn_yaml_sequence_item(nn_yaml_document *document, const nn_yaml_node *sequence,
                                    int i);

/* Scalars, converted with checks: a wrong type or a value out of range is
 * NN_ERR_FORMAT located at the node, naming `what`. */
const char *nn_yaml_scalar(const nn_yaml_node *node);
nn_status nn_yaml_to_string(const char **out, const nn_yaml_document *document,
                            const nn_yaml_node *node, const char *what, nn_error *err);
nn_status nn_yaml_to_long(long *out, const nn_yaml_document *document, const nn_yaml_node *node,
                          const char *what, long minimum, long maximum, nn_error *err);
nn_status nn_yaml_to_double(double *out, const nn_yaml_document *document,
                            const nn_yaml_node *node, const char *what, double minimum,
                            double maximum, nn_error *err);
nn_status nn_yaml_to_bool(bool *out, const nn_yaml_document *document, const nn_yaml_node *node,
                          const char *what, nn_error *err);

#endif
