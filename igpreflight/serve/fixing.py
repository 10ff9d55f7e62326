"""POST /v1/fix: a stored media through `igpreflight.api.fix`, then into the bucket.

The fixed file becomes a new media (so it can be checked, or fixed again, by
id) and, when the service has a bucket, is uploaded with `igpreflight.api.upload`
(content-addressed key, Content-Type from the content, URL checked). `fix_job`
is a job handler: JSON params in, the answer's JSON out, so the same function
runs inline for an image and as a job for a video.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from igpreflight.serve.checking import RuleLayers, check_file, file_summary, media_answer
from igpreflight.serve.keys import Principal
from igpreflight.serve.problems import Problem
from igpreflight.serve.settings import ServeSettings
from igpreflight.serve.store import MediaStore, safe_name

FIX_OPTIONS = ("as", "aspect", "pad_color", "trim", "extend")
STALE_WORK = 15 * 60.0  # seconds a fix folder no fix holds may go untouched


class Fixer:
    """Fixes stored media with the service's settings; callable as the "fix" job."""

    def __init__(self, store: MediaStore, settings: ServeSettings, layers: RuleLayers) -> None:
        self.store = store
        self.settings = settings
        self.layers = layers
        self.work = settings.data_path / "work"
        self.work.mkdir(parents=True, exist_ok=True)

    def __call__(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.fix(params)

    def fix(self, params: dict[str, Any]) -> dict[str, Any]:
        """params: media_id, scope, and the FIX_OPTIONS."""
        from igpreflight.api.fixing import fix

        scope = list(params["scope"])
        media = self.store.get(params["media_id"], Principal("job", frozenset(scope)))
        if media is None:
            raise Problem(404, f"no media {params['media_id']!r} (it may have expired)")
        rules = self.layers.base
        out = self.work / ("fix-" + secrets.token_hex(8))
        try:
            try:
                result = fix(
                    [os.fspath(media.path)],
                    out=out,
                    jobs=1,
                    as_=params.get("as", "auto"),
                    aspect=params.get("aspect", "crop"),
                    pad_color=params.get("pad_color", "white"),
                    trim=bool(params.get("trim")),
                    extend=bool(params.get("extend")),
                    rules=rules,
                )
            except ValueError as exc:  # UsageError, an unknown colour
                raise Problem(422, str(exc), "invalid-fix-options") from None
            done = result.files[0]
            answer: dict[str, Any] = {
                "source": media.id,
                "status": done.status.value,
                "ok": done.ok,
                "steps": [s.to_dict() for s in done.plan.steps] if done.plan else [],
                "reason": done.reason,
                "media": None,
                "upload": None,
                "url": None,
            }
            if not done.ok or done.output is None:
                return answer
            fixed = self._keep(Path(done.output), params.get("as", "auto"), scope, media.id)
            answer["media"] = media_answer(fixed)
            if self.settings.bucket:
                answer["upload"] = self._upload(fixed.path)
                answer["url"] = answer["upload"]["url"]
            return answer
        finally:
            shutil.rmtree(out, ignore_errors=True)

    def sweep_work(self, now: float | None = None) -> int:
        """Remove the fix folders a killed fix left (a `kill -9` mid-job: its partial
        output, its ledger); how many went. A folder goes once no fix holds its lock
        (flock: the kernel dropped a dead holder's) and it has not been touched for
        STALE_WORK seconds, so a fix that is only starting is never taken."""
        from igpreflight.transcode.folderlock import FolderBusy, out_lock

        now = time.time() if now is None else now
        removed = 0
        for folder in self.work.iterdir():
            if not folder.name.startswith("fix-") or _last_touched(folder) + STALE_WORK > now:
                continue
            try:
                with out_lock(folder):
                    shutil.rmtree(folder)
            except FolderBusy:  # a fix of another worker process is writing it
                continue
            except FileNotFoundError:  # another worker's sweep took it first
                continue
            removed += 1
        return removed

    def _keep(self, output: Path, as_: str, scope: list[str], source: str) -> Any:
        """The fixed file as a new media, with its check."""
        media_id, folder = self.store.incoming()
        try:
            name = safe_name(output.name)
            os.replace(output, folder / name)
            report, findings = check_file(folder / name, as_, self.layers.base)
            summary = {**file_summary(report), "findings": findings}
            return self.store.commit(media_id, name, scope, "fix", summary, source=source)
        except BaseException:
            self.store.discard(media_id)
            raise

    def _upload(self, path: Path) -> dict[str, Any]:
        """Upload a fixed file to the service's bucket; 503 when the storage fails."""
        from igpreflight.api.errors import UsageError
        from igpreflight.api.uploading import upload
        from igpreflight.storage.upload import UploadError

        s = self.settings
        try:
            result = upload(
                [os.fspath(path)],
                bucket=s.bucket or "",
                prefix=s.prefix,
                endpoint_url=s.endpoint_url,
                region=s.region,
                public_base_url=s.public_base_url,
                presign=s.presign,
                acl=s.acl or "none",
                allow_private=s.allow_private,
                rules=self.layers.base,
            )
        except (UploadError, UsageError) as exc:
            raise Problem(
                503, f"the bucket cannot take the file: {exc}", "storage-unavailable"
            ) from None
        one = result.files[0]
        if one.upload is None:
            raise Problem(
                503, f"the upload failed: {one.error or one.status}", "storage-unavailable"
            )
        up = one.upload
        return {
            "bucket": up.bucket,
            "key": up.key,
            "url": up.url,
            "content_type": up.content_type,
            "bytes": up.bytes,
        }


def _last_touched(folder: Path) -> float:
    """The latest mtime of `folder` and what is directly in it (0 when it is gone)."""
    latest = 0.0
    for path in (folder, *_children(folder)):
        with contextlib.suppress(OSError):
            latest = max(latest, path.stat().st_mtime)
    return latest


def _children(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:
        return []
