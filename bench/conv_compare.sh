#!/bin/sh
# conv_compare.sh - forward + backward of one convolution layer, dlgrade's
# reference kernels against PyTorch, run alternately so that both see the
# same load on a shared machine.
#
# Usage: bench/conv_compare.sh [ROUNDS [N C H W F K STRIDE PAD]]
# Needs build/float/conv_bench (build command in bench/conv_bench.c) and
# Debian's python3-torch for /usr/bin/python3. Each round times 30 runs of
# each; the script prints every round's median and minimum, in ms.
set -eu
rounds=${1:-5}
shift $(( $# > 0 ? 1 : 0 ))
if [ $# -eq 0 ]; then set -- 64 32 14 14 64 3 1 1; fi
if [ $# -ne 8 ]; then echo "usage: $0 [ROUNDS [N C H W F K STRIDE PAD]]" >&2; exit 2; fi
bench=build/float/conv_bench
[ -x "$bench" ] || { echo "$0: build $bench first (see bench/conv_bench.c)" >&2; exit 2; }
n=$1 c=$2 h=$3 w=$4 f=$5 k=$6 s=$7 p=$8
echo "conv2d N=$n C=$c ${h}x$w F=$f k=$k s=$s p=$p, forward + backward (dx, dW, db), ms"
i=0
while [ "$i" -lt "$rounds" ]; do
    i=$((i + 1))
    "$bench" "$n" "$c" "$h" "$w" "$f" "$k" "$s" "$p" 30 \
        | awk -v r="$i" '/^fwd\+bwd/ { printf "round %d  dlgrade  median %s  min %s\n", r, $3, $6 }'
    /usr/bin/python3 - "$n" "$c" "$h" "$w" "$f" "$k" "$s" "$p" "$i" <<'PY'
import statistics, sys, time
import torch
n, c, h, w, f, k, s, p, r = map(int, sys.argv[1:])
x = torch.randn(n, c, h, w, requires_grad=True)
conv = torch.nn.Conv2d(c, f, k, stride=s, padding=p)
g = torch.randn(conv(x).shape)
for _ in range(3):
    conv(x).backward(g)
times = []
for _ in range(30):
    start = time.perf_counter()
    conv(x).backward(g)
    times.append(time.perf_counter() - start)
print("round %d  pytorch  median %.3f  min %.3f" % (r, statistics.median(times) * 1e3,
                                                    min(times) * 1e3))
PY
done
