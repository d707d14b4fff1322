"""Where the shared public mail corpora are: ``$MAILFLOW_CORPORA``, else ``../shared/corpora``
beside the checkout, else the workplace's ``/work/shared/corpora``."""

from __future__ import annotations

import os
from pathlib import Path


def find_corpora() -> Path:
    candidates = [
        os.environ.get("MAILFLOW_CORPORA", ""),
        Path(__file__).resolve().parents[2] / "shared" / "corpora",
        "/work/shared/corpora",
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return Path(candidates[1])


CORPORA = find_corpora()
