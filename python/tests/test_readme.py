"""The READMEs' examples run as written (their ```python blocks, in order):
python/README.md and the Python example of the repository's README.md."""
import os
import re

import pytest

import tdl

HERE = os.path.dirname(__file__)


@pytest.mark.parametrize("readme, min_blocks", [(os.path.join(HERE, "..", "README.md"), 2),
                                                (os.path.join(HERE, "..", "..", "README.md"), 1)])
def test_readme_example(readme, min_blocks, tmp_path, monkeypatch, capsys):
    with open(readme, encoding="utf-8") as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), flags=re.S)
    assert len(blocks) >= min_blocks
    monkeypatch.chdir(tmp_path)
    ns = {}
    for code in blocks:
        exec(compile(code, "README.md", "exec"), ns)
    out = capsys.readouterr().out
    assert "lambda_max" in out and "NTK" in out and "train error" in out
    assert isinstance(ns["model"], tdl.Model)


def test_check(cli):
    r = tdl.check("linear-regression-hessian", quick=True)
    assert r["name"] == "linear-regression-hessian" and r["passed"] is True
    assert {"claim", "source", "rows", "measured", "predicted", "mode"} <= set(r)
    import pytest
    with pytest.raises(tdl.Error):
        tdl.check("no-such-check")
