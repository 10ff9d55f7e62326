"""Issue 14: every image decode has a memory budget (default 1 GB, --max-memory).
JPEGs are decoded smaller to fit; other formats that cannot fit are unfixable,
with the size they need. Peak memory is measured in a child process, never time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from fixtures.generate import make_image
from igpreflight.cli import cli
from igpreflight.transcode.batch import fix_paths
from igpreflight.transcode.image_memory import parse_memory
from igpreflight.transcode.types import FixOptions, FixStatus

REPO = Path(__file__).resolve().parents[1]


def test_an_image_over_the_budget_is_unfixable_with_the_size_it_needs(tmp_path: Path):
    src = make_image(tmp_path / "wide.webp", size=(4000, 3000))  # 12 MP: ~190 MB to decode
    (small,) = fix_paths([src], tmp_path / "a", FixOptions(max_memory=parse_memory("64M")))
    assert small.status is FixStatus.UNFIXABLE
    assert "needs about 183M, over the memory budget of 64M" in small.reason
    assert "--max-memory 184M" in small.reason
    (fits,) = fix_paths([src], tmp_path / "b", FixOptions())  # the 1 GB default
    assert fits.status is FixStatus.CONVERTED


def test_a_jpeg_over_the_budget_is_decoded_smaller(tmp_path: Path):
    src = make_image(tmp_path / "big.jpg", size=(6000, 4000))
    (r,) = fix_paths([src], tmp_path / "out", FixOptions(max_memory=parse_memory("4M")))
    assert r.status is FixStatus.CONVERTED, r.reason
    with Image.open(r.output) as im:
        assert im.width == 1440


def test_max_memory_on_the_command_line(tmp_path: Path):
    src = make_image(tmp_path / "wide.webp", size=(4000, 3000))
    r = CliRunner().invoke(
        cli, ["fix", str(src), "--out", str(tmp_path / "o"), "--max-memory", "64M"]
    )
    assert r.exit_code == 1 and "over the memory budget of 64M" in r.output
    r = CliRunner().invoke(
        cli, ["fix", str(src), "--out", str(tmp_path / "o"), "--max-memory", "lots"]
    )
    assert r.exit_code == 2 and "is not a size" in r.output


def test_parse_memory():
    assert parse_memory("1G") == 1 << 30
    assert parse_memory("512M") == 512 << 20
    assert parse_memory("1.5GB") == 3 << 29
    assert parse_memory("1000") == 1000
    with pytest.raises(ValueError):
        parse_memory("-1G")


def test_black_large_webp_stays_within_the_budget(corpus_dir: Path, tmp_path: Path):
    """The 16000x9000 WebP peaked at 2.23 GB; now it is refused before decoding."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from igpreflight.transcode.batch import fix_paths\n"
        "from igpreflight.transcode.types import FixOptions\n"
        "[r] = fix_paths([sys.argv[1]], Path(sys.argv[2]), FixOptions())\n"
        "peak = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
        "print(r.status.value, peak, r.reason)\n"
    )
    src = corpus_dir / "androidx-media" / "black_large.webp"
    proc = subprocess.run(
        [sys.executable, "-c", script, str(src), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    status, peak_kb, reason = proc.stdout.split(maxsplit=2)
    assert status == "unfixable" and "--max-memory 2.2G" in reason
    assert int(peak_kb) < 1024 * 1024
