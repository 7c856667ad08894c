/*
 * release_command.c - `dlgrade release ASSIGNMENT -o DIR`.
 */
#include "dlgrade.h"

#include "config.h"
#include "release.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void dg_source_root(char *out, size_t size)
{
    const char *override = getenv("DLGRADE_ROOT");
    if (override != NULL && override[0] != '\0') {
        snprintf(out, size, "%s", override);
        return;
    }
    /* build/<variant>/dlgrade lives two folders below the repository. */
    char self[PATH_MAX], probe[PATH_MAX + 32];
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    if (length > 0) {
        self[length] = '\0';
        char *root = dirname(dirname(dirname(self)));
        snprintf(probe, sizeof probe, "%s/reference/src", root);
        if (access(probe, R_OK) == 0) {
            snprintf(out, size, "%s", root);
            return;
        }
    }
    snprintf(out, size, ".");
}

int dg_command_release(int argc, char **argv)
{
    const char *assignment = NULL, *output = NULL;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) && i + 1 < argc)
            output = argv[++i];
        else if (strcmp(argv[i], "--help") == 0) {
            printf("usage: dlgrade release ASSIGNMENT -o DIR\n");
            return DG_EXIT_OK;
        } else if (argv[i][0] != '-' && assignment == NULL)
            assignment = argv[i];
        else {
            fprintf(stderr, "usage: dlgrade release ASSIGNMENT -o DIR\n");
            return DG_EXIT_USAGE;
        }
    }
    if (assignment == NULL || output == NULL) {
        fprintf(stderr, "usage: dlgrade release ASSIGNMENT -o DIR\n");
        return DG_EXIT_USAGE;
    }
    char config_path[1024], root[1024];
    int exit_status = dg_resolve_assignment(config_path, sizeof config_path, assignment);
    if (exit_status != DG_EXIT_OK)
        return exit_status;
    dg_source_root(root, sizeof root);
    dg_config *config = malloc(sizeof *config);
    if (config == NULL)
        return DG_EXIT_INTERNAL;
    nn_error err = { 0 };
    char *problems = NULL;
    nn_status status = dg_config_load(config, config_path, &problems, &err);
    if (status != NN_OK) {
        fprintf(stderr, "dlgrade release: the assignment is not valid:\n%s",
                problems ? problems : err.message);
        free(problems);
        free(config);
        return DG_EXIT_USAGE;
    }
    status = dg_release(config, root, output, &err);
    if (status == NN_OK)
        printf("released %s into %s\n", config->name, output);
    else
        fprintf(stderr, "dlgrade release: %s\n", err.message);
    free(config);
    return status == NN_OK ? DG_EXIT_OK : dg_exit_status(status);
}
