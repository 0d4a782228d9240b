"""scikit-learn peer of bench/workloads/kmeans.ts: Lloyd k-means, 10,000 x 128
float32 points, k = 100, exactly 10 iterations from given centres, at the thread
count the runner sets (OMP_NUM_THREADS, which scikit-learn's OpenMP loops follow; default 1).

Usage: kmeans_sklearn.py [--quick]
"""
import sys
import warnings

import numpy as np
from sklearn.cluster import KMeans

from harness import emit, measure

RUNS = dict(warmup=1, runs=3) if "--quick" in sys.argv else dict(warmup=2, runs=7)
rng = np.random.default_rng(0)
X = rng.standard_normal((10000, 128), dtype=np.float32)
init = X[:100].copy()


def fit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # tol=0 so it runs all 10 iterations rather than stopping on a small centre shift.
        KMeans(n_clusters=100, init=init, n_init=1, max_iter=10, tol=0.0, algorithm="lloyd").fit(X)


emit([measure("kmeans 10000x128 k=100 10 iters", "scikit-learn", fit, **RUNS)])
