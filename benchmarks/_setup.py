"""Shared set-up for the benchmarks: the test suite's real servers, outside pytest."""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from harness import Mailflow  # noqa: E402
from servers import DovecotServer, SmtpPeer, TestCA, postgres_database, scratch_dir  # noqa: E402


@contextlib.contextmanager
def servers() -> Iterator[tuple[DovecotServer, SmtpPeer]]:
    """A Dovecot and an aiosmtpd peer for the duration of a benchmark."""
    root = scratch_dir("mf-bench-")  # Dovecot's mail user must be able to enter it
    ca = TestCA.create(root / "ca")
    dovecot = DovecotServer(root, ca, shutil.which("dovecot") or "/usr/sbin/dovecot")
    peer = SmtpPeer()
    dovecot.start()
    peer.start()
    try:
        yield dovecot, peer
    finally:
        peer.stop()
        dovecot.stop()
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def mailflow(dovecot: DovecotServer, peer: SmtpPeer, backend: str = "sqlite") -> Iterator[Mailflow]:
    with tempfile.TemporaryDirectory(prefix="mf-bench-flow-") as tmp:
        if backend == "sqlite":
            flow = Mailflow(Path(tmp), dovecot.account(), peer, f"sqlite:///{tmp}/mailflow.db")
            try:
                yield flow
            finally:
                flow.close()
            return
        with postgres_database() as url:
            flow = Mailflow(Path(tmp), dovecot.account(), peer, url)
            try:
                yield flow
            finally:
                flow.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]
