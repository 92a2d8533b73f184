import subprocess
import sys


def test_cli_lists_its_subcommands():
    out = subprocess.run(
        [sys.executable, "-m", "taktgeber", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for name in ("generate", "sandbox", "load"):
        assert name in out
