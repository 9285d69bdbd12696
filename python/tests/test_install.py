"""`pip install` of the package into a virtual environment works offline
(--no-build-isolation: setuptools from the system) and the installed
package finds libtdl through $TDL_LIBRARY."""
import os
import shutil
import subprocess
import sys

import pytest

from tdl import _lib

HERE = os.path.dirname(os.path.abspath(__file__))


def test_pip_install_in_venv(tmp_path):
    try:
        import venv  # noqa: F401
        import setuptools  # noqa: F401
    except ImportError as e:
        pytest.skip(f"python3-venv or python3-setuptools is not installed ({e})")
    src = tmp_path / "src"
    shutil.copytree(os.path.join(HERE, ".."), src, ignore=shutil.ignore_patterns(
        "tests", "build", "*.egg-info", "__pycache__"))
    env_dir = tmp_path / "venv"
    p = subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(env_dir)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot create a virtual environment (python3-venv?): {p.stdout.strip()[-200:]}")
    py = str(env_dir / "bin" / "python")
    p = subprocess.run([py, "-m", "pip", "install", "--no-build-isolation", "--no-index", "--no-deps",
                        "--disable-pip-version-check", "-q", str(src)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    env = dict(os.environ, TDL_LIBRARY=_lib.library_path)
    env.pop("PYTHONPATH", None)
    code = ("import tdl, numpy as np; "
            "m = tdl.Model.create('2-3-2', seed=1); "
            "d = tdl.Data(np.eye(2), np.array([0, 1])); "
            "print(tdl.__file__); print(m.hessian(d)['params'])")
    p = subprocess.run([py, "-c", code], capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    where, params = p.stdout.split()
    assert where.startswith(str(env_dir)) and params == "17"
