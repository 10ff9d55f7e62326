"""Every image file of the shared third-party corpus ends either fixed and passing,
or unfixable as FILE001 (or over the memory budget) with a reason; the corpus
itself is never modified."""

from __future__ import annotations

import hashlib
from pathlib import Path

from igpreflight.model import Kind, Role, Severity
from igpreflight.preflight.checks import check_facts
from igpreflight.preflight.probe import probe
from igpreflight.transcode.batch import fix_paths
from igpreflight.transcode.types import FixOptions, FixStatus
from tests.corpus import CORPUS, needs_corpus

IMAGE_EXTENSIONS = {
    "jpg", "jpeg", "png", "webp", "gif", "heic", "heif", "avif", "avifs", "tif", "tiff", "bmp", "mpo",
}  # fmt: skip

pytestmark = needs_corpus


def corpus_images() -> list[Path]:
    return sorted(
        p
        for p in CORPUS.rglob("*")
        if p.is_file() and p.suffix.lower().lstrip(".") in IMAGE_EXTENSIONS
    )


def test_every_corpus_image_is_fixed_or_file001(tmp_path):
    images = corpus_images()
    assert len(images) > 50
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in images}
    results = fix_paths(images, tmp_path / "out", FixOptions(), jobs=2)
    assert len(results) == len(images)
    fixed = 0
    for r in results:
        if r.status is FixStatus.UNFIXABLE and "over the memory budget" in (r.reason or ""):
            # A 16000x9000 WebP (~2.1 GB to decode) and a 200 MP HEIC (~1.5 GB).
            assert Path(r.source).name in ("black_large.webp", "200MP.heic"), r.source
            continue
        if r.status is FixStatus.UNFIXABLE:
            assert r.reason and r.reason.startswith("FILE001 "), (r.source, r.reason)
            assert [f.rule for f in r.before] == ["FILE001"]
            continue
        assert r.status in (FixStatus.CONVERTED, FixStatus.COPIED), (r.source, r.reason)
        out = Path(r.output)
        facts = probe(out)
        assert facts.kind is Kind.IMAGE
        errors = [f for f in check_facts(facts, Role.FEED_IMAGE) if f.severity is Severity.ERROR]
        assert errors == [], (r.source, errors)
        assert facts.format == "JPEG" and facts.orientation == 1 and not facts.has_alpha
        fixed += 1
    # The corpus has both kinds: most images are fixable, the bombs and broken files are not.
    assert fixed > 60 and fixed < len(images)
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in images} == before
