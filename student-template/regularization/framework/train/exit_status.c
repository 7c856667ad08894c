/*
 * exit_status.c - mapping library statuses to the documented exit codes.
 */
#include "dlgrade.h"

int dg_exit_status(nn_status status)
{
    switch (status) {
    case NN_OK:
        return DG_EXIT_OK;
    case NN_ERR_ARGUMENT:
    case NN_ERR_SHAPE:
    case NN_ERR_IO:
    case NN_ERR_FORMAT:
        return DG_EXIT_USAGE;
    case NN_ERR_MEMORY:
    case NN_ERR_NOT_IMPLEMENTED:
    case NN_ERR_NUMERIC:
        return DG_EXIT_INTERNAL;
    }
    return DG_EXIT_INTERNAL;
}
