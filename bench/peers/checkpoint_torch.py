"""PyTorch peer of bench/checkpoint.ts: torch.save / torch.load of a state with
the same tensor shapes as a selfsup checkpoint (model, Adam moments), written
with the same guarantees (flushed with fsync, then renamed into place).

Usage: checkpoint_torch.py SHAPES.json DIR  (SHAPES: {"size name": [[d0, d1, ...], ...]})
"""
import json
import os
import sys

import torch

from harness import emit, measure

shapes_file, directory = sys.argv[1], sys.argv[2]
with open(shapes_file) as f:
    sizes = json.load(f)

torch.manual_seed(0)
rows = []
for name, shapes in sizes.items():
    state = {f"t{i}": torch.randn(*s) if len(s) else torch.randn(()) for i, s in enumerate(shapes)}
    path = os.path.join(directory, f"torch-{len(shapes)}.pt")

    def save():
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fd = os.open(directory, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)

    def load():
        loaded = torch.load(path)
        assert len(loaded) == len(state)

    rows.append(measure(f"save {name}", "pytorch (torch.save + fsync + rename)", save, warmup=1, runs=5))
    rows.append(measure(f"load {name}", "pytorch (torch.load)", load, warmup=1, runs=5))
emit(rows)
