"""Score :func:`mailflow.replies.visible_reply` on the public reply-trimming corpora.

Usage: ``python benchmarks/reply_trimming.py [--verbose] [--corpora DIR]``

Each corpus's MANIFEST.md says how its input maps to the expected reply; this follows it:

* discourse-email_reply_trimmer: ``test/emails/N`` -> ``test/trimmed/N``, exact after strip (the
  input is stripped first, as upstream does).
* github-email_reply_parser: ``visible_text`` / ``derived_visible_text`` (and the inline case),
  exact after removing trailing spaces per line and at the end.
* crisp-oss-email-reply-parser: ``fragment0_trimmed_equals`` / ``visible_text_trimmed_equals``
  (exact after strip), ``visible_text_equals`` / ``parse_reply_equals`` (exact; leading and
  trailing blank lines are not compared, since ``reply`` never has any).
* alfonsrv-mail-parser-reply: the checks on reply 0's ``body`` (equals / contains /
  not_contains / startswith).
* zapier-email-reply-parser: ``reply_equals`` / ``reply_equals_after_strip`` / ``reply_contains``
  / ``reply_not_contains``.

Inputs are deduplicated by sha256 before pooling: a unique input passes when every check on it,
from every corpus, passes. The two performance cases (``max_seconds``) are timed separately.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailflow.replies import visible_reply

DEFAULT_CORPORA = next(
    (
        p
        for p in (
            Path(__file__).resolve().parents[2] / "shared" / "corpora",
            Path("/work/shared/corpora"),
        )
        if p.is_dir()
    ),
    Path(__file__).resolve().parents[2] / "shared" / "corpora",
)
Check = Callable[[str], bool]


@dataclass
class Case:
    corpus: str
    name: str
    text: str
    digest: str
    checks: list[Check]


@dataclass
class Report:
    per_corpus: dict[str, tuple[int, int]] = field(default_factory=dict)
    failures: dict[str, list[str]] = field(default_factory=dict)
    pooled: tuple[int, int] = (0, 0)
    timings: dict[str, tuple[float, float]] = field(default_factory=dict)  # name -> (took, limit)

    @property
    def pooled_ratio(self) -> float:
        passed, total = self.pooled
        return passed / total if total else 0.0


def _trim_blank_lines(text: str) -> str:
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def _rstrip_lines(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.split("\n")).rstrip()


def equals_stripped(expected: str) -> Check:
    return lambda reply: reply.strip() == expected.strip()


def equals_exact(expected: str) -> Check:
    return lambda reply: _trim_blank_lines(reply) == _trim_blank_lines(expected)


def equals_rstripped(expected: str) -> Check:
    return lambda reply: _rstrip_lines(reply) == _rstrip_lines(expected)


def contains(expected: str) -> Check:
    return lambda reply: expected in reply


def not_contains(expected: str) -> Check:
    return lambda reply: expected not in reply


def startswith(expected: str) -> Check:
    return lambda reply: reply.startswith(expected)


def _case(corpus: str, name: str, raw: bytes, checks: list[Check], text: str | None = None) -> Case:
    """A case keyed by the sha256 of its raw input; ``text`` defaults to that input decoded."""
    decoded = raw.decode("utf-8") if text is None else text
    return Case(corpus, name, decoded, hashlib.sha256(raw).hexdigest(), checks)


def _expectations(folder: Path) -> dict:
    return json.loads((folder / "expectations.json").read_text(encoding="utf-8"))


def discourse_cases(root: Path) -> Iterator[Case]:
    base = root / "discourse-email_reply_trimmer" / "test"
    for path in sorted((base / "emails").glob("*.txt")):
        raw = path.read_bytes()
        expected = (base / "trimmed" / path.name).read_text(encoding="utf-8")
        text = raw.decode("utf-8").strip()
        yield _case("discourse", path.stem, raw, [equals_stripped(expected)], text)


def github_cases(root: Path) -> Iterator[Case]:
    folder = root / "github-email_reply_parser"
    data = _expectations(folder)
    for stem, spec in data["cases"].items():
        expected = spec.get("visible_text", spec.get("derived_visible_text"))
        if expected is not None:
            raw = (folder / "test" / "emails" / f"{stem}.txt").read_bytes()
            yield _case("github", stem, raw, [equals_rstripped(expected)])
    for inline in data.get("inline_cases", []):
        raw = inline["input"].encode("utf-8")
        yield _case("github", inline["name"], raw, [equals_rstripped(inline["visible_text"])])


def crisp_cases(root: Path) -> Iterator[Case]:
    folder = root / "crisp-oss-email-reply-parser"
    data = _expectations(folder)
    common = data["COMMON_FIRST_FRAGMENT"]
    checkers = {
        "fragment0_trimmed_equals": equals_stripped,
        "visible_text_trimmed_equals": equals_stripped,
        "visible_text_equals": equals_exact,
        "parse_reply_equals": equals_exact,
    }
    for stem, spec in data["cases"].items():
        checks = [
            make(common if spec[key] == "$COMMON_FIRST_FRAGMENT" else spec[key])
            for key, make in checkers.items()
            if key in spec
        ]
        if checks:
            raw = (folder / "test" / "fixtures" / f"{stem}.txt").read_bytes()
            yield _case("crisp", stem, raw, checks)


def alfonsrv_cases(root: Path) -> Iterator[Case]:
    folder = root / "alfonsrv-mail-parser-reply"
    ops = {
        "equals": equals_exact,
        "contains": contains,
        "not_contains": not_contains,
        "startswith": startswith,
    }
    for stem, spec in _expectations(folder)["cases"].items():
        checks = [
            ops[check["op"]](check["value"])
            for check in spec.get("checks", [])
            if check["reply"] == 0 and check["field"] == "body"
        ]
        if checks:
            raw = (folder / "test" / "emails" / f"{stem}.txt").read_bytes()
            yield _case("alfonsrv", stem, raw, checks)


def zapier_cases(root: Path) -> Iterator[Case]:
    folder = root / "zapier-email-reply-parser"
    for stem, spec in _expectations(folder)["cases"].items():
        checks: list[Check] = []
        if "reply_equals" in spec:
            checks.append(equals_exact(spec["reply_equals"]))
        if "reply_equals_after_strip" in spec:
            checks.append(equals_stripped(spec["reply_equals_after_strip"]))
        checks += [contains(value) for value in spec.get("reply_contains", [])]
        checks += [not_contains(value) for value in spec.get("reply_not_contains", [])]
        if checks:
            raw = (folder / "test" / "emails" / f"{stem}.txt").read_bytes()
            yield _case("zapier", stem, raw, checks)


CORPORA: dict[str, Callable[[Path], Iterator[Case]]] = {
    "discourse": discourse_cases,
    "github": github_cases,
    "crisp": crisp_cases,
    "alfonsrv": alfonsrv_cases,
    "zapier": zapier_cases,
}


def _timings(root: Path) -> dict[str, tuple[float, float]]:
    folder = root / "github-email_reply_parser"
    timings = {}
    for stem, spec in _expectations(folder)["cases"].items():
        if "max_seconds" in spec:
            text = (folder / "test" / "emails" / f"{stem}.txt").read_text(encoding="utf-8")
            started = time.perf_counter()
            visible_reply(text)
            timings[stem] = (time.perf_counter() - started, spec["max_seconds"])
    return timings


def score(root: Path = DEFAULT_CORPORA) -> Report:
    report = Report()
    pooled: dict[str, bool] = {}
    for corpus, load in CORPORA.items():
        passed = 0
        cases = list(load(root))
        for case in cases:
            reply = visible_reply(case.text)
            ok = all(check(reply) for check in case.checks)
            passed += ok
            pooled[case.digest] = pooled.get(case.digest, True) and ok
            if not ok:
                report.failures.setdefault(corpus, []).append(case.name)
        report.per_corpus[corpus] = (passed, len(cases))
    report.pooled = (sum(pooled.values()), len(pooled))
    report.timings = _timings(root)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", "-v", action="store_true", help="list failing cases")
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    args = parser.parse_args(argv)
    report = score(args.corpora)
    for corpus, (passed, total) in report.per_corpus.items():
        print(f"{corpus:<10} {passed:>3}/{total:<3} {passed / total:6.1%}")
        if args.verbose:
            for name in report.failures.get(corpus, []):
                print(f"    FAIL {name}")
    passed, total = report.pooled
    print(f"{'pooled':<10} {passed:>3}/{total:<3} {report.pooled_ratio:6.1%}  (unique inputs)")
    for name, (took, limit) in report.timings.items():
        print(f"time       {name}: {took:.3f}s (limit {limit:.1f}s)")
    return 0 if all(took < limit for took, limit in report.timings.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
