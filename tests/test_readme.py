"""The README's Python examples run as written (training shortened)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_examples_run(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 3
    code = "\n".join(blocks).replace("learn(20_000)", "learn(512)")
    code = code.replace('"iterations": 400,', '"iterations": 3,').replace('"steps": 300}', '"steps": 20}')
    code += "\nassert abs(exploitability(AlwaysBet(), 'kuhn_poker') - 1 / 3) < 1e-9\nprint('ok')\n"
    script = tmp_path / "readme_examples.py"
    script.write_text(code)
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("ok")


def test_readme_league_config_is_valid():
    import tomllib

    from redqueen.league.config import parse_config

    blocks = re.findall(r"```toml\n(.*?)```", README.read_text(), re.S)
    assert blocks
    config = parse_config(tomllib.loads(blocks[0]))
    assert config.game == "tictactoe" and [a.name for a in config.agents] == ["rand", "mm"]
    assert config.learners[0].target == {"vs": "mm", "games": 500, "max_losses": 0}
