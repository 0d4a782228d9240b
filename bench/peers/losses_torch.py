"""PyTorch peer of bench/workloads/losses.ts: the contrastive losses written the
usual way (normalise, similarity matmul, cross-entropy, autograd), forward +
backward, one thread unless OMP_NUM_THREADS says otherwise, float32.

Usage: losses_torch.py [--quick]
"""
import os
import sys

import torch
import torch.nn.functional as F

from harness import emit, measure

# One thread unless the runner asks for more (runPythonPeer sets OMP_NUM_THREADS).
torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
torch.manual_seed(0)
RUNS = dict(warmup=1, runs=3) if "--quick" in sys.argv else dict(warmup=3, runs=10)


def nt_xent(z1, z2, tau=0.5):
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.t() / tau
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    labels = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, labels)


def info_nce(q, k, queue, tau=0.07):
    q = F.normalize(q, dim=1)
    k = F.normalize(k, dim=1)
    pos = (q * k).sum(1, keepdim=True)
    neg = q @ queue.t()
    logits = torch.cat([pos, neg], 1) / tau
    return F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long))


def clip(img, txt, scale=1 / 0.07):
    img = F.normalize(img, dim=1)
    txt = F.normalize(txt, dim=1)
    logits = img @ txt.t() * scale
    labels = torch.arange(img.shape[0])
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2


def fwd_bwd(loss_fn, *tensors):
    def run():
        for t in tensors:
            t.grad = None
        loss_fn().backward()
    return run


rows = []
for n in (256, 1024):
    z1 = torch.randn(n, 128, requires_grad=True)
    z2 = torch.randn(n, 128, requires_grad=True)
    rows.append(measure(f"ntXent N={n} D=128 fwd+bwd", "pytorch", fwd_bwd(lambda: nt_xent(z1, z2), z1, z2), **RUNS))
q = torch.randn(256, 128, requires_grad=True)
k = torch.randn(256, 128, requires_grad=True)
queue = F.normalize(torch.randn(4096, 128), dim=1)
rows.append(measure("infoNCE N=256 queue=4096 D=128 fwd+bwd", "pytorch", fwd_bwd(lambda: info_nce(q, k, queue), q, k), **RUNS))
img = torch.randn(256, 512, requires_grad=True)
txt = torch.randn(256, 512, requires_grad=True)
rows.append(measure("clip N=256 D=512 fwd+bwd", "pytorch", fwd_bwd(lambda: clip(img, txt), img, txt), **RUNS))
emit(rows)
