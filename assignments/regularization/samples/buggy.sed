# A plausible mistake, applied to copies of the reference sources:
# dropout.c: the kept values are not scaled by 1 / (1 - p), so training
# sees activations (1 - p) times smaller on average than evaluation does.
s|    nn_real scale = (nn_real)(1.0 / keep);|    nn_real scale = 1;|
