"""Peer for bench/loader.ts: torchvision's ImageFolder pipeline per image on
one thread — PIL open + convert('RGB') (torchvision's pil_loader), Resize(size)
(shorter side, bilinear, antialiased) + CenterCrop(size) + ToTensor — over the
same JPEG files.

Usage: loader_pil.py FOLDER COUNT SIZES (e.g. 64,96). Prints one JSON array of
measurements per image on its last line (see harness.py)."""
import glob
import os
import sys

import torch
from PIL import Image
from torchvision import transforms as T

from harness import emit, measure

torch.set_num_threads(1)
folder, count, sizes = sys.argv[1], int(sys.argv[2]), [int(s) for s in sys.argv[3].split(",")]
files = sorted(glob.glob(os.path.join(folder, "*", "*.jpg")))[:count]
rows = []
for size in sizes:
    pipeline = T.Compose([T.Resize(size), T.CenterCrop(size), T.ToTensor()])

    def run():
        for f in files:
            with open(f, "rb") as fh:
                img = Image.open(fh).convert("RGB")
            pipeline(img)

    m = measure(f"decode+resize 256² JPEG → {size}² (per image, one core)", "torchvision ImageFolder (PIL, 1 thread)", run, warmup=1, runs=3)
    for key in ("medianMs", "minMs", "cpuMedianMs"):
        m[key] /= len(files)
    rows.append(m)
emit(rows)
