"""Benchmark: from_torch on a plain-torch ResNet-50, symbolic in H and W, against what it replaces.

(a) torch.export alone, the same call from_torch makes (non-strict, H and W dynamic): the floor of
    what any export-based analysis costs. Goal: from_torch at most 2× this.
(b) FlopCounterMode run at ten input sizes, the way a cost curve is drawn today. Goal: from_torch
    faster than these ten runs, while giving every size at once.
Medians of in-process wall times, after one warm-up of each (imports and torch's caches excluded).

Run: python bench/torch_bridge.py [--runs 3] [--smoke]   (--smoke: a three-layer model, to check the script)
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Callable

from torch_resnet50 import resnet50  # bench/ is on the path when a script here runs

SIZES = [(160 + 16 * step, 224 + 8 * step) for step in range(10)]


def small() -> Any:
    from torch import nn

    return nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10)).eval()


def median_time(function: Callable[[], Any], runs: int) -> float:
    function()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="a three-layer model instead of ResNet-50")
    arguments = parser.parse_args()

    import torch
    from torch.export import Dim
    from torch.utils.flop_counter import FlopCounterMode

    from symconv.networks.torch_bridge import from_torch
    from symconv.networks.torch_trace import SAMPLES

    torch.set_num_threads(1)
    model = small() if arguments.smoke else resnet50()
    sample = torch.zeros(1, 3, *SAMPLES[0])

    def export_alone() -> Any:
        return torch.export.export(model, (sample,), dynamic_shapes=({2: Dim.AUTO, 3: Dim.AUTO},), strict=False)

    def bridge() -> Any:
        return from_torch(model, (3, "H", "W"))

    def ten_flop_counts() -> list[int]:
        totals = []
        for height, width in SIZES:
            with torch.no_grad(), FlopCounterMode(display=False) as counter:
                model(torch.zeros(1, 3, height, width))
            totals.append(counter.get_total_flops())
        return totals

    report = bridge()
    flops = ten_flop_counts()
    assert [2 * report.subs(H=height, W=width).macs for height, width in SIZES] == flops  # the same curve

    exported, bridged, counted = (median_time(function, arguments.runs) for function in (export_alone, bridge, ten_flop_counts))
    name = "three-layer model" if arguments.smoke else "ResNet-50"
    print(f"{name}, symbolic in H and W; medians of {arguments.runs} runs")
    print(f"  torch.export alone                 {exported:8.3f} s")
    print(f"  from_torch (export + analysis)     {bridged:8.3f} s   {bridged / exported:5.2f}× the export (goal ≤ 2)")
    print(
        f"  FlopCounterMode at {len(SIZES)} sizes         {counted:8.3f} s   from_torch is {counted / bridged:5.2f}× faster (goal > 1)"
    )


if __name__ == "__main__":
    main()
