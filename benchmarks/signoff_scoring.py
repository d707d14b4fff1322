"""Score :func:`mailflow.signoff.read_signoff` on the sign-off reply fixtures.

Usage: ``python benchmarks/signoff_scoring.py [--verbose] [--fixtures DIR]``

Each ``*.eml`` in ``tests/data/signoff`` is parsed with :func:`mailflow.parse.parse_message` and
its text judged; ``expected.json`` holds the right verdict. Prints precision and recall per
verdict, the false signatures (a reply that is not a signature read as one: the number that
must stay 0), accuracy, and accuracy per client layout (the file name up to ``-NN``). Exits 1
on any false signature or an accuracy below 95%.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailflow.parse import parse_message
from mailflow.signoff import AMBIGUOUS, OBJECTION, SIGNED, read_signoff

DEFAULT_FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "data" / "signoff"
VERDICTS = (SIGNED, OBJECTION, AMBIGUOUS)
ACCURACY_FLOOR = 0.95


@dataclass(frozen=True)
class Result:
    name: str
    expected: str
    got: str
    reason: str

    @property
    def client(self) -> str:
        return self.name.rsplit("-", 1)[0]


@dataclass
class Score:
    results: list[Result] = field(default_factory=list)

    def count(self, expected: str | None = None, got: str | None = None) -> int:
        """Fixtures expected as ``expected`` and read as ``got`` (None: any)."""
        return sum(
            (expected is None or r.expected == expected) and (got is None or r.got == got)
            for r in self.results
        )

    def precision(self, verdict: str) -> float:
        read_as = self.count(got=verdict)
        return self.count(verdict, verdict) / read_as if read_as else 1.0

    def recall(self, verdict: str) -> float:
        total = self.count(expected=verdict)
        return self.count(verdict, verdict) / total if total else 1.0

    @property
    def false_signatures(self) -> list[Result]:
        return [r for r in self.results if r.got == SIGNED and r.expected != SIGNED]

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.results if r.got != r.expected]

    @property
    def accuracy(self) -> float:
        return 1 - len(self.failures) / len(self.results) if self.results else 0.0

    def by_client(self) -> dict[str, tuple[int, int]]:
        """client -> (right, total)."""
        table: dict[str, tuple[int, int]] = {}
        for r in self.results:
            right, total = table.get(r.client, (0, 0))
            table[r.client] = (right + (r.got == r.expected), total + 1)
        return dict(sorted(table.items()))


def expectations(folder: Path = DEFAULT_FIXTURES) -> dict[str, str]:
    return json.loads((folder / "expected.json").read_text(encoding="utf-8"))


def score(folder: Path = DEFAULT_FIXTURES) -> Score:
    result = Score()
    for name, expected in sorted(expectations(folder).items()):
        reading = read_signoff(parse_message((folder / name).read_bytes()).text)
        result.results.append(Result(name, expected, reading.verdict, reading.reason))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", "-v", action="store_true", help="list every misreading")
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    args = parser.parse_args(argv)
    result = score(args.fixtures)
    print(f"{'verdict':<10} {'fixtures':>8} {'precision':>9} {'recall':>7}")
    for verdict in VERDICTS:
        count = result.count(expected=verdict)
        print(
            f"{verdict:<10} {count:>8} {result.precision(verdict):>9.1%} "
            f"{result.recall(verdict):>7.1%}"
        )
    print()
    for client, (right, total) in result.by_client().items():
        print(f"{client:<16} {right:>3}/{total:<3}")
    print()
    right, total = len(result.results) - len(result.failures), len(result.results)
    print(f"false signatures: {len(result.false_signatures)}")
    print(f"accuracy:         {right}/{total} = {result.accuracy:.1%}")
    shown = result.failures if args.verbose else result.false_signatures
    for r in shown:
        print(f"  {r.name}: expected {r.expected}, read {r.got} ({r.reason})")
    return 0 if not result.false_signatures and result.accuracy >= ACCURACY_FLOOR else 1


if __name__ == "__main__":
    sys.exit(main())
