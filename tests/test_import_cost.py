"""A command imports only what it uses: a numeric report is plain Python (no sympy, numpy or working)."""

import json
import subprocess
import sys

HEAVY = ("sympy", "numpy", "latexify", "torch", "matplotlib")
WORKING = ("symconv.core.derive", "symconv.core.solution", "symconv.teaching.exercises", "symconv.render.latex")


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)), file=sys.stderr)"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(run.stderr.strip().splitlines()[-1]))


def test_import_symconv_loads_nothing_heavy():
    loaded = _modules_after("import symconv; symconv.analyze; symconv.conv_output_size(224, 3)")
    assert not loaded & {*HEAVY, *WORKING}


def test_numeric_analyze_command_loads_neither_sympy_nor_the_working():
    loaded = _modules_after("from symconv.cli.main import main; main(['analyze', 'resnet50', '--format', 'json'])")
    assert "symconv.networks.analyze" in loaded  # the probe did run the command
    assert not loaded & {*HEAVY, *WORKING}
