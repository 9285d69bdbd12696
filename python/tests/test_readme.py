"""The README's example runs as written (its ```python blocks, in order)."""
import os
import re

import tdl


def test_readme_example(tmp_path, monkeypatch, capsys):
    readme = os.path.join(os.path.dirname(__file__), "..", "README.md")
    with open(readme, encoding="utf-8") as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), flags=re.S)
    assert len(blocks) >= 2
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
