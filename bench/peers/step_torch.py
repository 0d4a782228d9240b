"""PyTorch peer of bench/workloads/step.ts: one whole training step of the
learning benchmark's SimCLR, BYOL, MAE and rotation recipes (bench/learn/),
written independently from selfsup's code, on 256 Fashion-MNIST-sized images.

Usage: step_torch.py [--quick] [--threads N] [--only simclr,byol,mae,rotation]
Prints one JSON array of measurements (bench/peers/harness.py) on its last line;
workload names match the TypeScript side.

Each step is what the recipe runs: augmentation of two views (random resized
crop with scale [0.3, 1] and ratio [3/4, 4/3], horizontal flip, brightness and
contrast 0.4 with probability 0.8), the reference conv encoder (3×3 convs
32/64/128 with stride 2, batch norm, ReLU, average-pooled to 2×2 → 512
features), the method's heads and loss, backward, and Adam. The augmentation
is batched (one affine grid_sample for crop + resize + flip, per-sample
factors for the jitter): PyTorch's fastest way, not torchvision's per-image
PIL path. MAE trains the recipe's tiny ViT (28×28 in 7×7 patches, dim 64,
depth 4, 4 heads; decoder dim 32, depth 2) with 75 % masking and
normalised-pixel loss; rotation predicts 0/90/180/270° of all four rotations
of every image with a linear head.
"""
import copy
import math
import random
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from harness import emit, measure

THREADS = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 1
torch.set_num_threads(THREADS)
torch.manual_seed(0)
random.seed(0)
QUICK = "--quick" in sys.argv
RUNS = dict(warmup=1, runs=3) if QUICK else dict(warmup=3, runs=10)
BATCH = 256


def step_name(method):
    return f"{method} step B={BATCH}"


def encoder():
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, 2, 1, bias=False), nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1), nn.ReLU()]

    return nn.Sequential(*block(1, 32), *block(32, 64), *block(64, 128), nn.AvgPool2d(2), nn.Flatten())


def mlp(din, hidden, dout):
    return nn.Sequential(nn.Linear(din, hidden, bias=False), nn.BatchNorm1d(hidden, eps=1e-5, momentum=0.1), nn.ReLU(), nn.Linear(hidden, dout))


def crop_params(n, scale=(0.3, 1.0), ratio=(3 / 4, 4 / 3), size=28):
    """torchvision's RandomResizedCrop.get_params per sample, as normalised affine parameters with a random flip."""
    theta = torch.zeros(n, 2, 3)
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    area = size * size
    for i in range(n):
        for _ in range(10):
            target = area * random.uniform(*scale)
            r = math.exp(random.uniform(*log_ratio))
            w = int(round(math.sqrt(target * r)))
            h = int(round(math.sqrt(target / r)))
            if 0 < w <= size and 0 < h <= size:
                top = random.randint(0, size - h)
                left = random.randint(0, size - w)
                break
        else:
            h = w = size
            top = left = 0
        flip = -1.0 if random.random() < 0.5 else 1.0
        theta[i, 0, 0] = flip * w / size
        theta[i, 0, 2] = (2 * left + w) / size - 1
        theta[i, 1, 1] = h / size
        theta[i, 1, 2] = (2 * top + h) / size - 1
    return theta


def augment(x):
    """Crop + resize + flip as one bilinear grid_sample, then brightness and contrast (p = 0.8)."""
    n = x.shape[0]
    grid = F.affine_grid(crop_params(n), list(x.shape), align_corners=False)
    y = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    on = (torch.rand(n, 1, 1, 1) < 0.8).float()
    b = 1 + on * (torch.rand(n, 1, 1, 1) * 0.8 - 0.4)
    c = 1 + on * (torch.rand(n, 1, 1, 1) * 0.8 - 0.4)
    y = (y * b).clamp_(0, 1)
    mean = y.mean(dim=(1, 2, 3), keepdim=True)
    return (y * c + mean * (1 - c)).clamp_(0, 1)


def nt_xent(z1, z2, tau):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    sim = z @ z.t() / tau
    sim.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target)


def simclr_step(images):
    enc, proj = encoder(), mlp(512, 512, 128)
    params = list(enc.parameters()) + list(proj.parameters())
    opt = torch.optim.Adam(params, lr=3e-3)

    def step():
        v = torch.cat([augment(images), augment(images)])
        z = proj(enc(v))
        loss = nt_xent(z[:BATCH], z[BATCH:], 0.2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def byol_step(images):
    enc, proj, pred = encoder(), mlp(512, 512, 128), mlp(128, 512, 128)
    target = nn.Sequential(copy.deepcopy(enc), copy.deepcopy(proj))
    for p in target.parameters():
        p.requires_grad_(False)
    online = list(enc.parameters()) + list(proj.parameters())
    opt = torch.optim.Adam(online + list(pred.parameters()), lr=3e-3)

    def cos_loss(p, t):
        return 2 - 2 * F.cosine_similarity(p, t.detach(), dim=1).mean()

    def step():
        v = torch.cat([augment(images), augment(images)])
        with torch.no_grad():
            t = target(v)  # training mode: batch statistics, as the recipe
        p = pred(proj(enc(v)))
        loss = cos_loss(p[:BATCH], t[BATCH:]) + cos_loss(p[BATCH:], t[:BATCH])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            tp = list(target.parameters())
            torch._foreach_mul_(tp, 0.99)
            torch._foreach_add_(tp, online, alpha=0.01)
        return loss.item()

    return step


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.fc2 = nn.Linear(4 * dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = ((q @ k.transpose(-2, -1)) / math.sqrt(d // self.heads)).softmax(dim=-1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class Mae(nn.Module):
    """The recipe's MAE: ViT 28/7 (16 patches), dim 64, depth 4, class token; decoder dim 32, depth 2."""

    def __init__(self, patch=7, dim=64, depth=4, ddim=32, ddepth=2, heads=4):
        super().__init__()
        self.patch, self.n = patch, (28 // patch) ** 2
        self.embed = nn.Linear(patch * patch, dim)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, self.n, dim) * 0.02)
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.dembed = nn.Linear(dim, ddim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, ddim))
        self.dpos = nn.Parameter(torch.randn(1, self.n + 1, ddim) * 0.02, requires_grad=False)
        self.dblocks = nn.ModuleList([Block(ddim, heads) for _ in range(ddepth)])
        self.dnorm = nn.LayerNorm(ddim, eps=1e-6)
        self.dpred = nn.Linear(ddim, patch * patch)

    def patchify(self, x):
        b, p = x.shape[0], self.patch
        return x.reshape(b, 28 // p, p, 28 // p, p).permute(0, 1, 3, 2, 4).reshape(b, self.n, p * p)

    def forward(self, x, mask_ratio=0.75):
        patches = self.patchify(x)
        b = x.shape[0]
        keep = int(self.n * (1 - mask_ratio))
        ids_shuffle = torch.argsort(torch.rand(b, self.n), dim=1)
        ids_restore = torch.argsort(ids_shuffle, dim=1)
        ids_keep = ids_shuffle[:, :keep]
        tokens = self.embed(patches) + self.pos
        tokens = torch.gather(tokens, 1, ids_keep.unsqueeze(-1).expand(-1, -1, tokens.shape[2]))
        h = torch.cat([self.cls.expand(b, -1, -1), tokens], dim=1)
        for blk in self.blocks:
            h = blk(h)
        h = self.dembed(self.norm(h))
        masked = self.mask_token.expand(b, self.n - keep, -1)
        d = torch.cat([h[:, 1:], masked], dim=1)
        d = torch.gather(d, 1, ids_restore.unsqueeze(-1).expand(-1, -1, d.shape[2]))
        d = torch.cat([h[:, :1], d], dim=1) + self.dpos
        for blk in self.dblocks:
            d = blk(d)
        pred = self.dpred(self.dnorm(d))[:, 1:]
        mask = torch.ones(b, self.n)
        mask[:, :keep] = 0
        mask = torch.gather(mask, 1, ids_restore)
        mean = patches.mean(dim=-1, keepdim=True)
        var = patches.var(dim=-1, keepdim=True, unbiased=False)
        target = (patches - mean) / (var + 1e-6).sqrt()
        per_patch = ((pred - target) ** 2).mean(dim=-1)
        return (per_patch * mask).sum() / mask.sum()


def mae_step(images):
    model = Mae()
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)

    def step():
        loss = model(images)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def rotation_step(images):
    enc, head = encoder(), nn.Linear(512, 4)
    opt = torch.optim.Adam(list(enc.parameters()) + list(head.parameters()), lr=2e-3)
    labels = torch.arange(4).repeat_interleave(BATCH)

    def step():
        x = torch.cat([torch.rot90(images, k, dims=(2, 3)) for k in range(4)])
        loss = F.cross_entropy(head(enc(x)), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    return step


STEPS = {"simclr": simclr_step, "byol": byol_step, "mae": mae_step, "rotation": rotation_step}

if __name__ == "__main__":
    only = sys.argv[sys.argv.index("--only") + 1].split(",") if "--only" in sys.argv else list(STEPS)
    images = torch.rand(BATCH, 1, 28, 28)
    impl = "pytorch" if THREADS == 1 else f"pytorch {THREADS} threads"
    rows = []
    for name in only:
        rows.append(measure(step_name(name), impl, STEPS[name](images), **RUNS))
    emit(rows)
