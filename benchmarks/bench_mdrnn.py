"""Time one MDRNN layer: the raster loop, the anti-diagonal wavefront and the compute floor.

Run it as ``.venv/bin/python benchmarks/bench_mdrnn.py``; it prints a markdown table. This is a
measurement, not a test: timings depend on the machine and on whatever else it is running. On a
machine shared with other jobs, ``--threads 1`` avoids the thread oversubscription that otherwise
dominates these many small operations.

- raster loop: ``derived.mdrnn.raster``, one cell per step, :math:`G^2` steps;
- wavefront: ``derived.mdrnn_wavefront.wavefront``, one skewed anti-diagonal per step,
  :math:`2G - 1` steps;
- compute floor: the same arithmetic as one batched call over all :math:`G^2` cells
  (``preactivation`` of a given hidden grid, then tanh), which no sequential schedule can beat.
"""

import argparse
import platform
import time
from collections.abc import Callable

import torch

from derived.mdrnn import preactivation, raster
from derived.mdrnn_wavefront import wavefront


def best_time(f: Callable[[], object], *, repeats: int, budget: float = 2.0) -> float:
    """The fastest of ``repeats`` runs, in seconds (fewer runs if they exceed ``budget``)."""
    start = time.perf_counter()
    f()  # warm up; a run slower than the budget is its own measurement
    best = time.perf_counter() - start
    if best > budget:
        return best
    best = float("inf")
    start = time.perf_counter()
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
        if time.perf_counter() - start > budget:
            break
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--channels", type=int, default=32, help="D = k")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    k = args.channels
    g = torch.Generator().manual_seed(0)
    W_in, W_W, W_N = (torch.randn(k, k, generator=g) / k**0.5 for _ in range(3))
    print(
        f"One MDRNN layer, D = k = {k}, float32, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {platform.processor() or platform.machine()}; "
        f"best of up to {args.repeats} runs.\n"
    )
    print(
        "| G | batch | raster loop (ms) | wavefront (ms) | loop / wavefront "
        "| steps G^2/(2G-1) | compute floor (ms) | wavefront / floor |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    with torch.no_grad():
        for G in args.sizes:
            for n in args.batches:
                x = torch.randn(n, k, G, G, generator=g)
                h = torch.randn(n, k, G, G, generator=g)
                loop = best_time(lambda x=x: raster(x, W_in, W_W, W_N), repeats=args.repeats)
                wave = best_time(lambda x=x: wavefront(x, W_in, W_W, W_N), repeats=args.repeats)
                floor = best_time(
                    lambda x=x, h=h: torch.tanh(preactivation(x, h, W_in, W_W, W_N)),
                    repeats=args.repeats,
                )
                ratio = G**2 / (2 * G - 1)
                print(
                    f"| {G} | {n} | {loop * 1e3:.1f} | {wave * 1e3:.2f} | {loop / wave:.1f} "
                    f"| {ratio:.1f} | {floor * 1e3:.2f} | {wave / floor:.1f} |"
                )


if __name__ == "__main__":
    main()
