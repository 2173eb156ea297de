"""The top-level API: every promised name resolves lazily, dir() and help() list them, the documented calls work."""

import pydoc
import subprocess
import sys

import pytest

import symconv

PROMISED = ("analyze", "solve_for", "sweep", "models", "nn", "derive", "conv_output_size", "receptive_field", "solve")


@pytest.mark.parametrize("name", symconv.__all__)
def test_every_listed_name_resolves(name):
    assert getattr(symconv, name) is not None


def test_dir_and_help_list_the_api():
    assert set(PROMISED) <= set(dir(symconv))
    assert all(not name.startswith("_") for name in dir(symconv) if name != "__version__")
    page = pydoc.render_doc(symconv, renderer=pydoc.plaintext)
    assert all(name in page for name in ("analyze", "solve_for", "sweep", "models", "nn"))


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'analyse'"):
        symconv.analyse  # noqa: B018


def test_analyze_is_the_documented_call():
    assert symconv.analyze(symconv.models.resnet50(), (3, 224, 224)).macs == 4_089_184_256
    assert symconv.analyze(symconv.nn.Sequential(symconv.nn.Conv2d(3, 8, 3)), (3, 10, 10)).params == 224


def test_using_analyze_imports_no_sympy():
    probe = "import symconv, sys; symconv.analyze; print('sympy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout == "False\n"
