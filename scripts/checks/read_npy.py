#!/usr/bin/python3
"""Reads .npy files with NumPy and prints what it sees, as JSON (one object per file).

The check that selfsup's encodeNpy / saveEmbeddings write files NumPy reads:
tests/io/embeddings.test.ts runs it where /usr/bin/python3 has numpy, and
parses the header itself everywhere else (CI needs no Python).

    /usr/bin/python3 scripts/checks/read_npy.py FILE.npy [FILE.npy ...]
"""
import json
import sys

import numpy as np

out = []
for path in sys.argv[1:]:
    a = np.load(path, allow_pickle=False)
    out.append({"path": path, "shape": list(a.shape), "dtype": a.dtype.str, "values": a.ravel().tolist()})
print(json.dumps(out))
