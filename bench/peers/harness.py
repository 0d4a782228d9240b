"""Timing helper for the Python peer scripts (same statistics as bench/lib/harness.ts)."""
import json
import os
import statistics
import time


def measure(workload, impl, fn, warmup=3, runs=10, max_time_ms=20000):
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    start = time.perf_counter()
    for i in range(runs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        c1 = time.process_time()
        wall.append((t1 - t0) * 1000)
        cpu.append((c1 - c0) * 1000)
        if i >= 2 and (time.perf_counter() - start) * 1000 > max_time_ms:
            break
    return {
        "workload": workload,
        "impl": impl,
        "runs": len(wall),
        "medianMs": statistics.median(wall),
        "minMs": min(wall),
        "cpuMedianMs": statistics.median(cpu),
        "load1": os.getloadavg()[0],
    }


def emit(rows):
    print(json.dumps(rows))
