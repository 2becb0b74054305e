"""Audit anchoring: the chain's head, signed, appended to files outside the database.

The hash chain (:mod:`precinct.core.audit`) shows any edit *inside* the log, but someone able to
rewrite the whole log (recomputing every hash) would leave a chain that verifies. A checkpoint
closes that gap: periodically (the leader worker, every ``audit_anchor_every_s``) and on demand
(``precinct audit checkpoint``) the head ``(seq, hash)`` is signed with HMAC-SHA256 under a key
derived from ``PRECINCT_SECRET_KEY`` and appended, one JSON line, to
``<anchor_dir>/checkpoints-YYYYMM.jsonl`` (opened with ``O_APPEND``; on Linux the directory can be
made append-only with ``chattr +a``, or synced to write-once object storage). Each line also names
the previous line's signature, so lines cannot be dropped from the middle unnoticed.

A checkpoint is written only after the records since the previous checkpoint are checked
(:func:`precinct.core.audit.verify_from`), so a tampered head is never anchored. ``precinct audit
verify`` then checks the whole chain *and* that every checkpointed record still has its
checkpointed hash: a rewritten log fails even though its own chain is consistent.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, text

from precinct.config import Settings
from precinct.core import audit
from precinct.errors import Conflict

FORMAT = 1
GLOB = "checkpoints-*.jsonl"
_HASHES_OF = text("SELECT seq, hash FROM audit_log WHERE seq IN :seqs").bindparams(bindparam("seqs", expanding=True))


def _key(settings: Settings) -> bytes:
    return hmac.new(settings.secret_key.get_secret_value().encode(), b"precinct-audit-anchor-v1",
                    hashlib.sha256).digest()


def key_id(settings: Settings) -> str:
    """A short public name of the signing key (so a checkpoint signed under another key says so)."""
    return hashlib.sha256(_key(settings)).hexdigest()[:12]


def _payload(entry: dict[str, Any]) -> bytes:
    return json.dumps({k: v for k, v in entry.items() if k != "sig"}, sort_keys=True,
                      separators=(",", ":")).encode()


def sign(settings: Settings, entry: dict[str, Any]) -> str:
    return hmac.new(_key(settings), _payload(entry), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    ts: str
    sig: str
    file: str
    line: int


@dataclass(frozen=True)
class AnchorResult:
    """The outcome of checking the log against the checkpoints."""

    ok: bool
    checkpoints: int
    latest_seq: int | None = None
    latest_ts: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checkpoints": self.checkpoints, "latest_seq": self.latest_seq,
                "latest_ts": self.latest_ts, "reason": self.reason}


def _files(directory: Path) -> list[Path]:
    return sorted(directory.glob(GLOB)) if directory.is_dir() else []


def read_checkpoints(settings: Settings) -> tuple[list[Checkpoint], str | None]:
    """All checkpoints in order, and the first problem with the files (bad signature, broken link,
    unreadable line), or None."""
    out: list[Checkpoint] = []
    prev: str | None = None
    kid = key_id(settings)
    for path in _files(settings.anchor_dir):
        for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not raw.strip():
                continue
            where = f"{path.name} line {n}"
            try:
                entry = json.loads(raw)
                seq, head, ts, sig = int(entry["seq"]), str(entry["hash"]), str(entry["ts"]), str(entry["sig"])
            except (ValueError, KeyError, TypeError):
                return out, f"{where}: not a checkpoint"
            if entry.get("key") != kid:
                return out, f"{where}: signed with another key ({entry.get('key')}, now {kid})"
            if not hmac.compare_digest(sign(settings, entry), sig):
                return out, f"{where}: signature does not match (the line was edited)"
            if entry.get("prev") != prev:
                return out, f"{where}: does not follow the previous checkpoint (a line was removed)"
            if out and seq < out[-1].seq:
                return out, f"{where}: sequence {seq} is below the previous checkpoint's {out[-1].seq}"
            out.append(Checkpoint(seq, head, ts, sig, path.name, n))
            prev = sig
    return out, None


def _head(engine: Engine) -> tuple[int, str]:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).first()
    return (int(row[0]), str(row[1])) if row else (0, audit.GENESIS_HASH)


def write_checkpoint(engine: Engine, settings: Settings, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Check the records since the last checkpoint, then append a signed checkpoint of the head.

    Returns the checkpoint written.

    Raises
    ------
    Conflict
        If the checkpoint files are damaged or the log no longer extends the last checkpoint
        (nothing is written then: an anchored chain is never extended past a break).
    """
    directory = settings.anchor_dir
    directory.mkdir(parents=True, exist_ok=True)
    now = now or dt.datetime.now(dt.UTC)
    path = directory / f"checkpoints-{now:%Y%m}.jsonl"
    lock_path = directory / ".lock"
    with open(lock_path, "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # one writer at a time (CLI and the leader worker)
        existing, problem = read_checkpoints(settings)
        if problem:
            raise Conflict(f"audit checkpoints damaged: {problem}", detail={"dir": str(directory)})
        last = existing[-1] if existing else None
        seq, head_hash = _head(engine)
        after_seq, after_hash = (last.seq, last.hash) if last else (0, audit.GENESIS_HASH)
        result = audit.verify_from(engine, after_seq=after_seq, after_hash=after_hash)
        if not result.ok:
            raise Conflict(f"audit chain does not extend the last checkpoint: {result.reason}",
                           detail={"first_bad_seq": result.first_bad_seq})
        seq, head_hash = _head(engine)
        entry: dict[str, Any] = {
            "v": FORMAT, "seq": seq, "hash": head_hash, "ts": now.astimezone(dt.UTC).isoformat(),
            "host": socket.gethostname(), "key": key_id(settings), "prev": last.sig if last else None,
        }
        if seq < after_seq:
            raise Conflict(f"audit head {seq} is below the last checkpoint {after_seq}")
        entry["sig"] = sign(settings, entry)
        line = (json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n").encode()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
    return entry


def check(engine: Engine, settings: Settings) -> AnchorResult:
    """Check the log against every checkpoint: each checkpointed record still has its hash, and
    the head is not below the latest checkpoint (records were not removed).

    Run after :func:`precinct.core.audit.verify` (which checks the links between records): together
    they show the whole log up to the latest checkpoint is the one that was anchored.
    """
    cps, problem = read_checkpoints(settings)
    if problem:
        return AnchorResult(False, len(cps), reason=f"checkpoint files: {problem}")
    if not cps:
        return AnchorResult(True, 0, reason="no checkpoint written yet")
    latest = cps[-1]
    head_seq, _ = _head(engine)
    if head_seq < latest.seq:
        return AnchorResult(False, len(cps), latest.seq, latest.ts,
                            f"the log ends at record {head_seq} but checkpoint {latest.ts} anchored record "
                            f"{latest.seq}: records were removed or the log replaced")
    wanted = {cp.seq: cp for cp in cps if cp.seq > 0}
    found: dict[int, str] = {}
    seqs = sorted(wanted)
    with engine.connect() as conn:
        for i in range(0, len(seqs), 500):
            chunk = seqs[i:i + 500]
            for s, h in conn.execute(_HASHES_OF, {"seqs": chunk}):
                found[int(s)] = str(h)
    for s in seqs:
        cp = wanted[s]
        if found.get(s) != cp.hash:
            where = f"checkpoint {cp.file} line {cp.line} ({cp.ts})"
            reason = (f"record {s}, anchored by {where}, is gone" if s not in found
                      else f"record {s} differs from the one anchored by {where}")
            return AnchorResult(False, len(cps), latest.seq, latest.ts, f"{reason}: the log was rewritten")
    return AnchorResult(True, len(cps), latest.seq, latest.ts)
