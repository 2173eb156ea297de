"""Benchmark: `symconv analyze resnet50 --format json` as a whole process, against the interpreter's floor and torch.

Goals (issue 15), each a ratio of medians of whole-process wall times measured in the same run:
at most 4x `python -c pass`, and at least 35x faster than torchinfo's summary of the same ResNet-50
built in plain torch (`pip install torchinfo`, version 1.8.0; skipped with a note when it is not
installed). A hook-based torch summary (what torchinfo does, without its table) is printed too.
Then: symbolic ResNet-152 in H and W, and a 1,000-layer chain against a 500-layer one (the walk
should cost linear time).

Run: python bench/analyze.py [--runs 7]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The anchors build the same plain-torch ResNet-50 as bench/torch_bridge.py, in a fresh process.
TORCH_RESNET50 = f"""
import sys
import torch
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
from torch_resnet50 import resnet50
model = resnet50()
"""

TORCH_SUMMARY = (
    TORCH_RESNET50
    + r"""
shapes = []
for name, module in model.named_modules():
    module.register_forward_hook(lambda module, inputs, output, name=name: shapes.append((name, tuple(output.shape))))
params = sum(p.numel() for p in model.parameters())
with torch.no_grad():
    model(torch.zeros(1, 3, 224, 224))
print(params, len(shapes))
"""
)

TORCHINFO_SUMMARY = (
    TORCH_RESNET50
    + r"""
import torchinfo
print(torchinfo.summary(model, input_size=(1, 3, 224, 224), verbose=0).total_params)
"""
)

SYMBOLIC = r"""
import time
start = time.perf_counter()
from symconv.networks.analyze import analyze
from symconv.networks.models import resnet152
report = analyze(resnet152(), (3, "H", "W"))
analysed = time.perf_counter()
report.subs(H=224, W=224)
print(analysed - start, time.perf_counter() - analysed)
"""


def whole_process(command: list[str], runs: int, env: dict[str, str]) -> float:
    """Median wall time of ``command`` run ``runs`` times (after one warm-up run)."""
    subprocess.run(command, check=True, capture_output=True, env=env)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def chain_time(layers: int, repeats: int = 5) -> float:
    from symconv.networks import nn
    from symconv.networks.analyze import analyze

    network = nn.Sequential(*(nn.Conv2d(8, 8, 3, padding=1) if index % 2 == 0 else nn.ReLU() for index in range(layers)))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        analyze(network, (8, 32, 32))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs

    # Bytecode cached as in any installed package, but outside the repository.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "symconv-bench-pycache")
    script = Path(sys.executable).with_name("symconv")
    symconv = [str(script)] if script.exists() else [sys.executable, "-m", "symconv.cli.main"]

    python = whole_process([sys.executable, "-c", "pass"], runs, env)
    analyze = whole_process([*symconv, "analyze", "resnet50", "--format", "json"], runs, env)
    summary = whole_process([sys.executable, "-c", TORCH_SUMMARY], max(3, runs // 2), env)
    print(f"python -c pass                                  {python * 1000:8.1f} ms")
    print(f"symconv analyze resnet50 --format json          {analyze * 1000:8.1f} ms")
    print(f"torch ResNet-50 with shape hooks                {summary * 1000:8.1f} ms")
    print(f"ratio analyze / python -c pass                  {analyze / python:8.2f}x (goal <= 4x)")
    print(f"ratio hooks summary / analyze                   {summary / analyze:8.1f}x faster")
    if importlib.util.find_spec("torchinfo") is None:
        print("torchinfo not installed: pip install torchinfo (1.8.0) to measure the issue's baseline")
    else:
        torchinfo = whole_process([sys.executable, "-c", TORCHINFO_SUMMARY], max(3, runs // 2), env)
        print(f"torchinfo.summary, plain-torch ResNet-50        {torchinfo * 1000:8.1f} ms")
        print(f"ratio torchinfo / analyze                       {torchinfo / analyze:8.1f}x faster (goal >= 35x)")

    timings = []
    for _ in range(3):
        result = subprocess.run([sys.executable, "-c", SYMBOLIC], check=True, capture_output=True, text=True, env=env)
        timings.append(tuple(map(float, result.stdout.split())))
    walk, evaluate = statistics.median(t[0] for t in timings), statistics.median(t[1] for t in timings)
    print(f"symbolic ResNet-152 in H, W (fresh process, sympy import included) {walk:.2f} s; first subs {evaluate * 1000:.0f} ms")

    short, long = chain_time(500), chain_time(1000)
    print(
        f"chain of 500 layers {short * 1000:.1f} ms, of 1,000 layers {long * 1000:.1f} ms: ratio {long / short:.2f} (2 is linear)"
    )


if __name__ == "__main__":
    main()
