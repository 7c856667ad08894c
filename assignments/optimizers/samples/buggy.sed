# A plausible mistake, applied to copies of the reference sources:
# adam.c: the second moment's bias correction is left out.
s|    const nn_real inverse_sqrt_c2 = (nn_real)(1.0 / sqrt(correction2));|    const nn_real inverse_sqrt_c2 = 1;|
