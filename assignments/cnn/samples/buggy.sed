# A plausible mistake, applied to copies of the reference sources:
# max_pool2d.c: the backward assigns the gradient instead of adding it.
s/            plane\[index\[k\]\] += grad\[k\];/            plane[index[k]] = grad[k];/
