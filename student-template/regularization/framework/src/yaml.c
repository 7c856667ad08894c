/*
 * yaml.c - libyaml's document API behind located, typed accessors.
 */
#include "nn/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

struct nn_yaml_document {
    char path[512];
    yaml_document_t document;
};

static nn_status parse_with(nn_yaml_document **out, const char *name, yaml_parser_t *parser,
                            nn_error *err)
{
    nn_yaml_document *document = calloc(1, sizeof *document);
    if (document == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "%s: out of memory", name);
    snprintf(document->path, sizeof document->path, "%s", name);
    if (!yaml_parser_load(parser, &document->document)) {
        /* libyaml's context ("while parsing a flow sequence") has its own
         * mark, often lines above the problem: where the unclosed bracket
         * or the mapping began. Saying where helps more than the phrase. */
        char context[160] = "";
        if (parser->context != NULL)
            snprintf(context, sizeof context, " %s that starts at %zu:%zu", parser->context,
                     parser->context_mark.line + 1, parser->context_mark.column + 1);
        nn_status status = nn_error_set(err, NN_ERR_FORMAT, "%s:%zu:%zu: %s%s", name,
                                        parser->problem_mark.line + 1,
                                        parser->problem_mark.column + 1,
                                        parser->problem ? parser->problem : "syntax error",
                                        context);
        free(document);
        return status;
    }
    if (yaml_document_get_root_node(&document->document) == NULL) {
        yaml_document_delete(&document->document);
        free(document);
        return nn_error_set(err, NN_ERR_FORMAT, "%s:1:1: the document is empty", name);
    }
    *out = document;
    return NN_OK;
}

nn_status nn_yaml_load(nn_yaml_document **out, const char *path, nn_error *err)
{
    *out = NULL;
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return nn_error_set(err, NN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        fclose(file);
        return nn_error_set(err, NN_ERR_MEMORY, "%s: cannot start the YAML parser", path);
    }
    yaml_parser_set_input_file(&parser, file);
    nn_status status = parse_with(out, path, &parser, err);
    yaml_parser_delete(&parser);
    fclose(file);
    return status;
}

nn_status nn_yaml_load_string(nn_yaml_document **out, const char *name, const char *text,
                              nn_error *err)
{
    *out = NULL;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return nn_error_set(err, NN_ERR_MEMORY, "%s: cannot start the YAML parser", name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    nn_status status = parse_with(out, name, &parser, err);
    yaml_parser_delete(&parser);
    return status;
}

void nn_yaml_free(nn_yaml_document *document)
{
    if (document == NULL)
        return;
    yaml_document_delete(&document->document);
    free(document);
}

nn_yaml_node *nn_yaml_root(nn_yaml_document *document)
{
    return yaml_document_get_root_node(&document->document);
}

const char *nn_yaml_path(const nn_yaml_document *document)
{
    return document->path;
}

int nn_yaml_line(const nn_yaml_node *node)
{
    return (int)node->start_mark.line + 1;
}

int nn_yaml_column(const nn_yaml_node *node)
{
    return (int)node->start_mark.column + 1;
}

nn_status nn_yaml_error(nn_error *err, nn_status status, const nn_yaml_document *document,
                        const nn_yaml_node *node, const char *format, ...)
{
    char message[NN_ERROR_MESSAGE_SIZE];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    if (node == NULL)
        return nn_error_set(err, status, "%s: %s", document->path, message);
    return nn_error_set(err, status, "%s:%d:%d: %s", document->path, nn_yaml_line(node),
                        nn_yaml_column(node), message);
}

bool nn_yaml_is_mapping(const nn_yaml_node *node)
{
    return node != NULL && node->type == YAML_MAPPING_NODE;
}

bool nn_yaml_is_sequence(const nn_yaml_node *node)
{
    return node != NULL && node->type == YAML_SEQUENCE_NODE;
}

bool nn_yaml_is_scalar(const nn_yaml_node *node)
{
    return node != NULL && node->type == YAML_SCALAR_NODE;
}

int nn_yaml_mapping_size(const nn_yaml_node *mapping)
{
    return (int)(mapping->data.mapping.pairs.top - mapping->data.mapping.pairs.start);
}

const char *nn_yaml_mapping_key(nn_yaml_document *document, const nn_yaml_node *mapping, int i,
                                nn_yaml_node **key_node)
{
    yaml_node_pair_t *pair = mapping->data.mapping.pairs.start + i;
    nn_yaml_node *key = yaml_document_get_node(&document->document, pair->key);
    if (key_node != NULL)
        *key_node = key;
    return nn_yaml_is_scalar(key) ? (const char *)key->data.scalar.value : NULL;
}

nn_yaml_node *nn_yaml_mapping_value(nn_yaml_document *document, const nn_yaml_node *mapping,
                                    int i)
{
    yaml_node_pair_t *pair = mapping->data.mapping.pairs.start + i;
    return yaml_document_get_node(&document->document, pair->value);
}

nn_yaml_node *nn_yaml_get(nn_yaml_document *document, const nn_yaml_node *mapping,
                          const char *key)
{
    if (!nn_yaml_is_mapping(mapping))
        return NULL;
    for (int i = 0; i < nn_yaml_mapping_size(mapping); i++) {
        const char *name = nn_yaml_mapping_key(document, mapping, i, NULL);
        if (name != NULL && strcmp(name, key) == 0)
            return nn_yaml_mapping_value(document, mapping, i);
    }
    return NULL;
}

int nn_yaml_sequence_size(const nn_yaml_node *sequence)
{
    return (int)(sequence->data.sequence.items.top - sequence->data.sequence.items.start);
}

nn_yaml_node *nn_yaml_sequence_item(nn_yaml_document *document, const nn_yaml_node *sequence,
                                    int i)
{
    return yaml_document_get_node(&document->document, sequence->data.sequence.items.start[i]);
}

const char *nn_yaml_scalar(const nn_yaml_node *node)
{
    return nn_yaml_is_scalar(node) ? (const char *)node->data.scalar.value : NULL;
}

static const char *type_name(const nn_yaml_node *node)
{
    if (nn_yaml_is_mapping(node))
        return "a mapping";
    if (nn_yaml_is_sequence(node))
        return "a list";
    return "a scalar";
}

nn_status nn_yaml_to_string(const char **out, const nn_yaml_document *document,
                            const nn_yaml_node *node, const char *what, nn_error *err)
{
    if (!nn_yaml_is_scalar(node))
        return nn_yaml_error(err, NN_ERR_FORMAT, document, node, "%s must be a single value, not %s",
                             what, type_name(node));
    *out = (const char *)node->data.scalar.value;
    return NN_OK;
}

nn_status nn_yaml_to_long(long *out, const nn_yaml_document *document, const nn_yaml_node *node,
                          const char *what, long minimum, long maximum, nn_error *err)
{
    const char *text = NULL;
    nn_status status = nn_yaml_to_string(&text, document, node, what, err);
    if (status != NN_OK)
        return status;
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE)
        return nn_yaml_error(err, NN_ERR_FORMAT, document, node,
                             "%s must be an integer, not '%s'", what, text);
    if (value < minimum || value > maximum)
        return nn_yaml_error(err, NN_ERR_FORMAT, document, node,
                             "%s is %ld, outside %ld..%ld", what, value, minimum, maximum);
    *out = value;
    return NN_OK;
}

nn_status nn_yaml_to_double(double *out, const nn_yaml_document *document,
                            const nn_yaml_node *node, const char *what, double minimum,
                            double maximum, nn_error *err)
{
    const char *text = NULL;
    nn_status status = nn_yaml_to_string(&text, document, node, what, err);
    if (status != NN_OK)
        return status;
    char *end;
    errno = 0;
    double value = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE || !isfinite(value))
        return nn_yaml_error(err, NN_ERR_FORMAT, document, node,
                             "%s must be a finite number, not '%s'", what, text);
    if (value < minimum || value > maximum)
        return nn_yaml_error(err, NN_ERR_FORMAT, document, node,
                             "%s is %g, outside %g..%g", what, value, minimum, maximum);
    *out = value;
    return NN_OK;
}

nn_status nn_yaml_to_bool(bool *out, const nn_yaml_document *document, const nn_yaml_node *node,
                          const char *what, nn_error *err)
{
    const char *text = NULL;
    nn_status status = nn_yaml_to_string(&text, document, node, what, err);
    if (status != NN_OK)
        return status;
    if (strcasecmp(text, "true") == 0 || strcasecmp(text, "yes") == 0) {
        *out = true;
        return NN_OK;
    }
    if (strcasecmp(text, "false") == 0 || strcasecmp(text, "no") == 0) {
        *out = false;
        return NN_OK;
    }
    return nn_yaml_error(err, NN_ERR_FORMAT, document, node,
                         "%s must be true or false, not '%s'", what, text);
}
