"""PyTorch peer of the matrix product in bench/workloads/threads.ts: a float32
[1024 x 1024] @ [1024 x 1024] product, at the thread count the runner sets
(OMP_NUM_THREADS, default 1).

Usage: matmul_torch.py [--quick]
"""
import os
import sys

import torch

from harness import emit, measure

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
torch.manual_seed(0)
RUNS = dict(warmup=1, runs=3) if "--quick" in sys.argv else dict(warmup=3, runs=10)

N = 1024
a = torch.randn(N, N)
b = torch.randn(N, N)
emit([measure(f"matMul {N}x{N}x{N}", "pytorch", lambda: torch.mm(a, b))])
