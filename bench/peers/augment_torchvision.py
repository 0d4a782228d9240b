"""Peer for bench/augment.ts: torchvision's classic per-image PIL pipeline of
SimCLR (RandomResizedCrop, flip, colour jitter, grayscale, optional blur,
ToTensor) and MAE's random_masking in PyTorch, single thread.

Prints one JSON array of measurements on its last line (see harness.py)."""
import sys

import numpy as np
import torch
from PIL import Image
from torchvision import transforms as T

from harness import emit, measure

torch.set_num_threads(1)


def simclr_pipeline(size, blur):
    s = 1.0
    ops = [
        T.RandomResizedCrop(size, scale=(0.08, 1.0)),
        T.RandomHorizontalFlip(),
        T.RandomApply([T.ColorJitter(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s)], p=0.8),
        T.RandomGrayscale(p=0.2),
    ]
    if blur:
        k = max(3, int(round(0.1 * size)) | 1)
        ops.append(T.RandomApply([T.GaussianBlur(kernel_size=k, sigma=(0.1, 2.0))], p=0.5))
    ops.append(T.ToTensor())
    return T.Compose(ops)


def simclr_workload(batch, size, blur, rows, runs):
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)) for _ in range(batch)]
    pipeline = simclr_pipeline(size, blur)

    def run():
        v1 = torch.stack([pipeline(im) for im in images])
        v2 = torch.stack([pipeline(im) for im in images])
        return v1, v2

    m = measure(f"simclrAugment two views {batch}x{size}x{size}x3", "torchvision PIL (1 thread)", run, warmup=2, runs=runs)
    m["extra"] = {"imagesPerSecond": batch / (m["medianMs"] / 1000)}
    rows.append(m)


def random_masking(x, mask_ratio):
    # MAE's random_masking (models_mae.py), verbatim in behaviour.
    n, l, d = x.shape
    len_keep = int(l * (1 - mask_ratio))
    noise = torch.rand(n, l, device=x.device)
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    ids_keep = ids_shuffle[:, :len_keep]
    x_masked = torch.gather(x, dim=1, index=ids_keep.unsqueeze(-1).repeat(1, 1, d))
    mask = torch.ones([n, l], device=x.device)
    mask[:, :len_keep] = 0
    mask = torch.gather(mask, dim=1, index=ids_restore)
    return x_masked, mask, ids_restore


def mae_workload(rows, runs):
    torch.manual_seed(0)
    x = torch.rand(256, 196, 768)
    m = measure("MAE masking [256,196,768] ratio 0.75", "pytorch (1 thread)", lambda: random_masking(x, 0.75), warmup=3, runs=runs)
    rows.append(m)


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    rows = []
    simclr_workload(256, 32, False, rows, runs)
    simclr_workload(64, 96, True, rows, runs)
    mae_workload(rows, runs)
    emit(rows)


if __name__ == "__main__":
    main()
