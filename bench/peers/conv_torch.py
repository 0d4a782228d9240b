"""PyTorch peer of bench/workloads/conv.ts and encoder.ts (one thread unless OMP_NUM_THREADS says otherwise, float32, CPU).

Usage: conv_torch.py [--quick] [--only conv|encoder]
Prints one JSON array of measurements (bench/peers/harness.py) on its last line.
Workload names match the TypeScript side exactly so the runner can pair them.

PyTorch's own layout (NCHW) is used, which is what its CPU conv kernels are
tuned for; the tfjs side is NHWC. Backward of a single conv computes both dx
and dW, as the tfjs side does.
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from harness import emit, measure

# One thread unless the runner asks for more (runPythonPeer sets OMP_NUM_THREADS).
torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
torch.manual_seed(0)
QUICK = "--quick" in sys.argv
RUNS = dict(warmup=1, runs=3) if QUICK else dict(warmup=3, runs=10)

CONV_SHAPES = [((256, 32, 32, 3), 32), ((256, 16, 16, 32), 64)]
ENCODER_SHAPES = [(256, 32, 32, 3), (256, 28, 28, 1)]


def conv_name(shape, co, part):
    return f"conv3x3 [{','.join(map(str, shape))}]→{co} {part}"


def encoder_name(shape):
    return f"encoder train step [{','.join(map(str, shape))}]"


def conv_rows():
    rows = []
    for (n, h, w, c), co in CONV_SHAPES:
        x = torch.randn(n, c, h, w, requires_grad=True)
        weight = torch.randn(co, c, 3, 3, requires_grad=True)
        y = F.conv2d(x, weight, padding=1)
        g = torch.randn_like(y)

        def fwd():
            with torch.no_grad():
                F.conv2d(x, weight, padding=1)

        def bwd():
            # dx and dW from the upstream gradient (autograd's convolution_backward),
            # as tfjs's two backprop kernels compute them.
            torch.autograd.grad(y, (x, weight), g, retain_graph=True)

        def fwd_bwd():
            x.grad = None
            weight.grad = None
            F.conv2d(x, weight, padding=1).backward(g)

        def bwd_dx():
            torch.autograd.grad(y, (x,), g, retain_graph=True)

        def bwd_dw():
            torch.autograd.grad(y, (weight,), g, retain_graph=True)

        rows.append(measure(conv_name((n, h, w, c), co, "fwd"), "pytorch", fwd, **RUNS))
        rows.append(measure(conv_name((n, h, w, c), co, "bwd dx"), "pytorch", bwd_dx, **RUNS))
        rows.append(measure(conv_name((n, h, w, c), co, "bwd dW"), "pytorch", bwd_dw, **RUNS))
        rows.append(measure(conv_name((n, h, w, c), co, "bwd"), "pytorch", bwd, **RUNS))
        rows.append(measure(conv_name((n, h, w, c), co, "fwd+bwd"), "pytorch", fwd_bwd, **RUNS))
    return rows


def encoder(c):
    return nn.Sequential(
        nn.Conv2d(c, 32, 3, 1, 1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(),
        nn.Conv2d(64, 128, 3, 2, 1), nn.ReLU(),
        nn.Conv2d(128, 128, 3, 2, 1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(128, 128),
    )


def encoder_rows():
    rows = []
    for n, h, w, c in ENCODER_SHAPES:
        model = encoder(c)
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        x = torch.randn(n, c, h, w)
        target = torch.randn(n, 128)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.mse_loss(model(x), target)
            loss.backward()
            opt.step()

        rows.append(measure(encoder_name((n, h, w, c)), "pytorch", step, **RUNS))
    return rows


if __name__ == "__main__":
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    rows = []
    if only in (None, "conv"):
        rows += conv_rows()
    if only in (None, "encoder"):
        rows += encoder_rows()
    emit(rows)
