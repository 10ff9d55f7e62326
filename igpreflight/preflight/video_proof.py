"""The proof that a video decodes, in pieces decoded side by side.

A copied or remuxed video is proved by a full decode on one thread (one thread
keeps the verdict on damaged data deterministic: `ffmpeg_decode`), and on a
1080p clip that decode is the whole critical path of the remux. Where
`video_pieces` finds an H.264 stream cut at IDR pictures (which empty the
decoder), each piece decodes from its own small MP4 (`piece_mp4`), still on one
thread, as many at a time as there are CPUs (at most MAX_PIECES), each a capped
child. Beside them one more run reads the original file as the whole decode
does, copying the video packets instead of decoding them: it decodes the audio
and meets every demuxer complaint, at a few hundredths of a second.

The verdict is the whole decode's: the pieces see the very bytes in the very
order the whole decode gives its decoder, so a piece fails exactly when the
whole stream fails there. The complaint is the first failing piece's (the
pieces before it passed, so its first error is the stream's first); when both
the video and the rest fail, which the whole decode would meet first depends on
their interleaving, and the whole decode is run to say it, as it is when a
piece could not even start (an ffmpeg built without `concat:`). Anything the
pieces cannot be trusted with (`video_pieces.Whole`) is decoded whole. A warm
piece (one that starts inside a long GOP, `video_pieces`) logs at info level
and counts only when it passes: when it is the first to fail, or says anything
past the first failing piece, the whole decode is run for the verdict.

The pieces' decodes are started by the thread that makes the Proof, before it
returns; only the waiting is left to threads. Started from threads, they began
0.04-0.07 s late: the fixer's imports held the interpreter lock meanwhile, and the
proof is the remux's critical path. (The thread that makes a Proof outlives its
decodes: they die with it, `childproc`.)

Without `frames` (the default of `fix`, which keeps the least-work promise) only
that last run is made: the structure (every packet read and every NAL unit's size
parsed, the audio decoded, every demuxer complaint fatal) is proved, the pictures
are not decoded; `check --deep` and `fix --deep` decode them.

`start` begins a proof early (the `fix` command starts it while Python is
still importing its modules) and `prove` adopts it when it is for the same,
unchanged file.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
import threading
from pathlib import Path

from igpreflight.childproc import time_limit
from igpreflight.preflight import (
    ffmpeg_decode,
    isobmff,
    piece_mp4,
    video_framing,
    video_pieces,
)
from igpreflight.preflight.ffmpeg_decode import Outcome
from igpreflight.records import record
from igpreflight.storage import staging

# The NAL walk of the structure proof (video_framing) fails with this, and no more.
_BSF_FAILED = "Error applying bitstream filters"
_BSF_SAYS = "a NAL unit's length prefix runs past its picture (damaged H.264/HEVC data)"
MAX_PIECES = 8  # decodes run at once for one video, at most
PIECES_ENV = "IGPREFLIGHT_PROOF_PIECES"  # pieces for one video (1: the whole decode)


def pieces_wanted() -> int:
    text = os.environ.get(PIECES_ENV, "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    return min(os.cpu_count() or 1, MAX_PIECES)


@record(frozen=False)
class _Launched:
    """A proof's pieces with their decodes started: each a process, or why it could
    not start; the last one reads the original file for the rest (`_rest`)."""

    track: video_pieces.Track | None  # None: the structure alone (no pieces)
    pieces: list[video_pieces.Piece]
    folder: str  # the pieces' headers, removed when the decodes are over
    runs: list[subprocess.Popen[bytes] | str]
    limit: float


class Proof:
    """One video's decode, started before the constructor returns and waited for in
    its own threads until `verdict()`."""

    def __init__(
        self, path: Path, duration: float | None, pieces: int | None = None, frames: bool = True
    ) -> None:
        self.path = path
        self.key = _identity(path)
        self.frames = frames  # False: the structure alone, no picture decoded (as asked)
        # MPEG-TS cannot prove its end by its structure: its pictures are decoded
        self._pictures = frames or not video_framing.structure_proves_end(path)
        self._duration = duration
        self._pieces = pieces_wanted() if pieces is None else pieces
        self._procs: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()
        self._cancelled = False
        self._result: str | None = "the proof did not finish"  # until a decode says
        self.piecewise = False
        self.whole_run = False  # the whole decode was run (for the verdict, or instead)
        try:
            self._launched = self._launch()
        except Exception:  # noqa: BLE001 - never a silent pass: the whole decode decides
            self._launched = None
        self._thread = threading.Thread(target=self._run, name="igpreflight-proof", daemon=True)
        self._thread.start()

    def verdict(self) -> str | None:
        """Why the video does not decode (None: it does), once the decode is over."""
        self._thread.join()
        return self._result

    def cancel(self) -> None:
        """Stop the decode: its verdict is not wanted."""
        with self._lock:
            self._cancelled = True
            for proc in self._procs:
                proc.kill()

    def _started(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.append(proc)
            if self._cancelled:
                proc.kill()

    def _run(self) -> None:
        launched = self._launched
        if launched is None:
            self._result = self._whole()
            return
        try:
            self._result = self._in_pieces(launched)
        except Exception:  # noqa: BLE001 - never a silent pass: the whole decode decides
            self.piecewise = False
            self._result = self._whole()
        finally:
            if launched.folder:
                shutil.rmtree(launched.folder, ignore_errors=True)

    def _launch(self) -> _Launched | None:
        """Cut the video in pieces and start their decodes (None: decode it whole)."""
        if self._duration is None:
            self._duration = _duration(self.path)
        track: video_pieces.Track | None = None
        pieces: list[video_pieces.Piece] = []
        if self._pictures:
            try:
                track, pieces = video_pieces.split(self.path, self._pieces)
            except (OSError, ValueError, IndexError, KeyError, struct.error):
                pieces = []  # Whole, or tables this reader cannot walk: decoded whole
            if len(pieces) < 2:
                return None
        limit = time_limit(self._duration)
        folder, commands = self._piece_commands(track, pieces) if track else ("", [])
        runs: list[subprocess.Popen[bytes] | str] = []
        try:
            for cmd in [*commands, self._rest()]:
                try:
                    proc = ffmpeg_decode.spawn(cmd)
                except OSError as exc:
                    runs.append(f"cannot run ffmpeg ({exc.strerror or exc})")
                    continue
                self._started(proc)
                runs.append(proc)
        except BaseException:
            for run in runs:
                if not isinstance(run, str):
                    run.kill()
                    run.communicate()
            if folder:
                shutil.rmtree(folder, ignore_errors=True)
            raise
        self.piecewise = bool(pieces)
        return _Launched(track, pieces, folder, runs, limit)

    def _piece_commands(
        self, track: video_pieces.Track, pieces: list[video_pieces.Piece]
    ) -> tuple[str, list[list[str]]]:
        """The pieces' headers written to a new folder, and their decode commands."""
        # In this process's staging folder, which a later run removes if we are killed.
        folder = tempfile.mkdtemp(prefix="igpreflight-proof-", dir=staging.root())
        try:
            if "|" in folder:  # concat: splits its list on it
                raise ValueError("a temporary folder concat: cannot name")
            source = os.path.join(folder, "source")
            os.symlink(self.path.resolve(), source)
            size = os.stat(source).st_size
            commands = []
            for n, piece in enumerate(pieces):
                head = os.path.join(folder, f"piece-{n}.mp4")
                with open(head, "wb") as f:
                    f.write(piece_mp4.header(track, piece, size))
                commands.append(self._piece(f"concat:{head}|{source}", piece.warm))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return folder, commands

    def _whole(self) -> str | None:
        if not self._pictures:
            return self._structure()
        self.whole_run = True
        return ffmpeg_decode.ffmpeg_error(
            self.path, self._duration, video=True, started=self._started
        )

    def _in_pieces(self, launched: _Launched) -> str | None:
        """Wait for every decode of `launched` (each in a thread), then judge."""
        outcomes: list[Outcome | str | None] = [None] * len(launched.runs)

        warm = [p.warm for p in launched.pieces] + [False]  # the rest is not a piece

        def wait(index: int, proc: subprocess.Popen[bytes]) -> None:
            try:
                outcomes[index] = ffmpeg_decode.collect(proc, launched.limit, True, warm[index])
            except subprocess.TimeoutExpired:
                outcomes[index] = ffmpeg_decode.TIMED_OUT
            except OSError as exc:
                outcomes[index] = f"cannot run ffmpeg ({exc.strerror or exc})"

        threads = []
        for index, run in enumerate(launched.runs):
            if isinstance(run, str):  # it could not start
                outcomes[index] = run
                continue
            thread = threading.Thread(
                target=wait, args=(index, run), name="igpreflight-proof-piece", daemon=True
            )
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        return self._combine(launched.track, launched.pieces, outcomes)

    def _structure(self) -> str | None:
        """The rest's run alone, waited for here (its launch failed: say why)."""
        try:
            done = ffmpeg_decode.run(
                self._rest(), time_limit(self._duration), True, started=self._started
            )
        except subprocess.TimeoutExpired:
            return ffmpeg_decode.TIMED_OUT
        except OSError as exc:
            return f"cannot run ffmpeg ({exc.strerror or exc})"
        return _structure_said(done) if done.failed else None

    @staticmethod
    def _piece(url: str, warm: bool) -> list[str]:
        """One piece's decode: its header joined to the source (`url`), video only."""
        cmd = [*ffmpeg_decode.video_head(warm=warm), "-f", "mov", "-i", url, "-map", "0:v"]
        return [*cmd, *ffmpeg_decode.PROGRESS]

    def _rest(self) -> list[str]:
        """The original file as the whole decode reads it, its video copied, not decoded."""
        cmd = [*ffmpeg_decode.video_head(), "-i", "file:" + str(self.path.resolve())]
        cmd += ["-map", "0:v?", "-map", "0:a?", "-c:v", "copy"]
        walk = None if self._pictures else video_framing.nal_filter(self.path)
        if walk is not None:  # every NAL length prefix walked (video_framing); V: no cover art
            cmd += ["-bsf:V", walk]
        return [*cmd, *ffmpeg_decode.PROGRESS]

    def _combine(
        self,
        track: video_pieces.Track | None,
        pieces: list[video_pieces.Piece],
        outcomes: list[Outcome | str | None],
    ) -> str | None:
        if self._cancelled:
            return "the decode was stopped"
        for outcome in outcomes:
            if outcome is None or isinstance(outcome, str):
                return outcome or "the decoder failed"  # could not run, or too slow
        runs: list[Outcome] = outcomes  # type: ignore[assignment]
        if not self._pictures:  # the structure alone: the rest's verdict
            return _structure_said(runs[-1]) if runs[-1].failed else None
        if not all(o.opened for o in runs):  # an ffmpeg without concat:, a header it refused
            return self._whole()
        rest, video = runs[-1], runs[:-1]
        assert track is not None  # pieces were decoded
        broken = next((i for i, o in enumerate(video) if o.failed), None)
        if broken is None:
            return None if not rest.failed else _said(rest.lines, rest.seconds)
        if rest.failed or pieces[broken].warm:
            # which one the whole decode meets first, or whether a warm piece's
            # failure is the stream's or only its warm start's: the whole decode says
            return self._whole()
        lines: list[str] = []
        seconds = 0.0
        for piece, outcome in zip(pieces[broken:], video[broken:], strict=True):
            if outcome.lines and piece.warm:
                return self._whole()  # its complaints may be its warm start's
            if outcome.lines:
                lines += outcome.lines
                seconds = piece.start_seconds(track) + outcome.seconds
            if outcome.returncode != 0:
                break  # the whole decode stops at its first fatal error
        return _said(lines, seconds)


def _structure_said(run: Outcome) -> str:
    """The structure run's complaint. One that did not stop it was said while ffmpeg
    probed the stream (it decodes its first pictures) or by the parser: where is
    unknown, and the time the run reached (the end) would point at the wrong place."""
    if run.returncode == 0:
        return ffmpeg_decode.said(_named(run.lines), True)
    return _said(run.lines, run.seconds)


def _named(lines: list[str]) -> list[str]:
    """ffmpeg's lines, its bare bitstream-filter failure said as what it means."""
    return [_BSF_SAYS if line.startswith(_BSF_FAILED) else line for line in lines]


def _said(lines: list[str], seconds: float) -> str:
    return ffmpeg_decode.at(ffmpeg_decode.said(_named(lines), True), seconds)


def _duration(path: Path) -> float | None:
    """The longest track's duration (for the time limit of a proof started early)."""
    try:
        with open(path, "rb") as f:
            layout = isobmff.movie_layout(f)
    except (OSError, ValueError, struct.error):
        return None
    found = [t.sample_duration or t.media_duration or 0.0 for t in layout.tracks]
    return max(found, default=0.0) or None


def _identity(path: Path) -> tuple[str, int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)


_EARLY: dict[str, Proof] = {}
_EARLY_LOCK = threading.Lock()


def start(
    path: str | os.PathLike[str], duration: float | None = None, frames: bool = True
) -> Proof:
    """Begin proving `path` now; `prove` of the same unchanged file adopts it."""
    proof = Proof(Path(path), duration, frames=frames)
    if proof.key is not None:
        with _EARLY_LOCK:
            old = _EARLY.pop(proof.key[0], None)
            _EARLY[proof.key[0]] = proof
        if old is not None:
            old.cancel()
    return proof


def forget(path: str | os.PathLike[str]) -> None:
    """Stop an early proof of `path` nobody will ask for (the file is re-encoded)."""
    key = _identity(Path(path))
    if key is None:
        return
    with _EARLY_LOCK:
        proof = _EARLY.pop(key[0], None)
    if proof is not None:
        proof.cancel()


def prove(path: str | os.PathLike[str], duration: float | None, frames: bool = True) -> str | None:
    """Why the video at `path` does not decode fully (None: it does); without
    `frames`, why its structure does not hold (its pictures are not decoded)."""
    path = Path(path)
    key = _identity(path)
    with _EARLY_LOCK:
        early = _EARLY.pop(key[0], None) if key is not None else None
    if early is not None:
        if early.key == key and early.frames == frames:
            return early.verdict()
        early.cancel()
    return Proof(path, duration, frames=frames).verdict()
