# Two plausible mistakes, applied to copies of the reference sources.
# linear.c: the weight gradient is assigned (beta = 0), not accumulated.
s|nn_matmul(true, false, out_features, in_features, batch, 1, dout, x, 1, dweight);|nn_matmul(true, false, out_features, in_features, batch, 1, dout, x, 0, dweight);|
# relu.c: the mask is forgotten, so negative inputs pass their gradient.
s|        if (x\[i\] > 0)|        if (x[i] > 0 \|\| x[i] <= 0)|
