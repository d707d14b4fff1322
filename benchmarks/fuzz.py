"""Coverage-guided fuzzing of mailflow's pure parsers (atheris / libFuzzer).

Needs ``pip install atheris`` (not a test dependency; ``replay``, ``stress`` and ``minimize`` run
without it). Usage::

    python benchmarks/fuzz.py --list
    python benchmarks/fuzz.py parse --seconds 900       # one target, for 15 minutes of fuzzing
    python benchmarks/fuzz.py stress parse              # ~1 MB pathological inputs, timed
    python benchmarks/fuzz.py replay parse FILE ...     # run inputs uninstrumented, timed
    python benchmarks/fuzz.py minimize parse FILE --seconds 120   # shrink a crashing input

Targets are defined in ``tests/fuzz_targets.py`` (shared with ``tests/test_fuzz_regressions.py``).
Each is seeded from the public corpora (``../shared/corpora``, or ``$MAILFLOW_CORPORA``) and the
test data: raw messages for ``parse``, ``form``, ``notice`` and ``minutes`` (which also read the
input as plain text and as HTML), the text bodies of the reply corpora and of the test mails for
the text parsers, and Word files (the blank request form, the tests' notice and minutes, zip
bombs) for ``docx``, whose mutator edits the document's XML inside the zip.

The fuzzer runs in a child process under a supervisor. The child catches every exception the
target may not raise, saves the input to ``tests/data/fuzz/<target>/<sha1>.bin`` (one per
distinct exception and place) and goes on; an input slower than ``--slow`` seconds (2) is timed
again without instrumentation and kept as a fixture only when it is still slow. A real hang
(libFuzzer's ``-timeout``) or an out-of-memory ends the child: the supervisor saves the input
the same way and starts a new child for the time left. The working corpus, logs and findings
live in ``--work`` (``~/.cache/mailflow-fuzz/<target>``). At the end it prints the CPU time the
fuzzing children used and the number of inputs executed, and appends them to ``runs.jsonl``.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import io
import json
import random
import re
import resource
import shutil
import subprocess
import sys
import time
import traceback
import zipfile
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"
FIXTURES = TESTS / "data" / "fuzz"
sys.path.insert(0, str(TESTS))
sys.path.append(str(REPO))  # after $PYTHONPATH, which may point at another mailflow to compare

# kept in step with tests/fuzz_targets.py (not imported here: the child must import mailflow
# only under instrumentation)
TARGET_KINDS = {
    "parse": "mail",
    "form": "mail",
    "docx": "docx",
    "notice": "mail",
    "minutes": "mail",
    "replies": "text",
    "signoff": "text",
    "updates": "text",
    "acceptance": "text",
    "review": "text",
}
MAX_LEN = {"mail": 128 * 1024, "text": 32 * 1024, "docx": 512 * 1024}
INSTRUMENTED = ["mailflow", "mailparser", "email", "docx", "fuzz_targets"]
SEED_TEST_MODULES = {  # test modules whose string literals seed the text targets
    "mail": ("test_forms", "test_meetings", "test_minutes", "test_parse"),
    "text": ("test_replies", "test_signoff", "test_updates", "test_forms", "test_minutes"),
}


def corpora_dir() -> Path:
    from corpora import CORPORA

    return CORPORA


# ---------------------------------------------------------------- seeds


def _files(root: Path, pattern: str) -> list[Path]:
    return sorted(p for p in root.glob(pattern) if p.is_file())


def message_files() -> list[Path]:
    """Every raw message of the MIME corpora and of the test data."""
    c = corpora_dir()
    return [
        *_files(c / "cpython-test_email", "**/msg_*.txt"),
        *_files(c / "mikel-mail", "**/*.eml"),
        *_files(c / "apache-james-mime4j", "**/*.msg"),
        *_files(c / "apache-james-mime4j", "mbox/**/mbox.rlug*"),
        *_files(c / "spamscope-mail-parser", "tests/mails/*"),
        *_files(c / "demisto-parse-emails", "**/*.eml"),
        *_files(TESTS / "data" / "mail", "*.eml"),
        *_files(TESTS / "data" / "signoff", "*.eml"),
    ]


def reply_text_files() -> list[Path]:
    c = corpora_dir()
    return [
        *_files(c / "discourse-email_reply_trimmer", "test/**/*.txt"),
        *_files(c / "github-email_reply_parser", "test/**/*.txt"),
        *_files(c / "crisp-oss-email-reply-parser", "test/**/*.txt"),
        *_files(c / "alfonsrv-mail-parser-reply", "test/**/*.txt"),
        *_files(c / "zapier-email-reply-parser", "test/**/*.txt"),
        *_files(TESTS / "data" / "replies", "*.txt"),
    ]


def html_files() -> list[Path]:
    return [
        *_files(TESTS / "data" / "forms", "*.html"),
        *_files(TESTS / "data" / "meetings", "*.html"),
    ]


def test_strings(modules: tuple[str, ...]) -> list[str]:
    """String literals of at least 6 characters in the given test modules."""
    found: list[str] = []
    for name in modules:
        tree = ast.parse((TESTS / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and len(value) >= 6:
                found.append(value)
    return found


def mail_bodies(paths: list[Path]) -> Iterator[str]:
    from mailflow.parse import ParseError, parse_message

    for path in paths:
        try:
            mail = parse_message(path.read_bytes())
        except ParseError:
            continue
        yield mail.text
        if mail.html:
            yield mail.html


def docx_seeds() -> list[bytes]:
    from mailflow.forms import blank_request_form_docx

    seeds = [blank_request_form_docx("zh"), blank_request_form_docx("en"), filled_form_docx()]
    for module, function in (("test_meetings", "_notice_docx"), ("test_minutes", "_minutes_docx")):
        try:
            seeds.append(getattr(__import__(module), function)())
        except Exception as exc:  # a renamed helper costs a seed, not the run
            print(f"seed {module}.{function} unavailable: {exc}", file=sys.stderr)
    return seeds + zip_bombs(seeds[0])


def filled_form_docx() -> bytes:
    """The blank Chinese form with every field filled in, urgency ticked."""
    import docx

    from mailflow.forms import blank_request_form_docx

    document = docx.Document(io.BytesIO(blank_request_form_docx("zh")))
    values = [
        "市场部",
        "2026-11-20",
        "",
        "为提升客户满意度，需协调产品部与技术支持部优化售后响应流程",
        "产品部、技术支持部",
        "市场部",
        "客户投诉处理时长缩短30%",
        "☑紧急 □重要 □常规",
        "无",
        "王芳",
        "2026年11月20日",
    ]
    cells = [row.cells for row in document.tables[0].rows]
    slots = [cells[0][1], cells[0][3], *(row[1] for row in cells[1:-1]), cells[-1][1], cells[-1][3]]
    for cell, value in zip(slots, values, strict=False):
        cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _replace_member(data: bytes, name: str, content: bytes, *, level: int = 9) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = content if info.filename == name else src.read(info.filename)
            dst.writestr(info.filename, body, zipfile.ZIP_DEFLATED, level)
    return out.getvalue()


def zip_bombs(template: bytes) -> list[bytes]:
    """Word files whose XML inflates far beyond what a form can be: honest and lying sizes."""
    head = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w='
    head += (
        b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>'
    )
    tail = b"</w:t></w:r></w:p></w:body></w:document>"
    big = head + b" " * (300 * 1024 * 1024) + tail
    honest = _replace_member(template, "word/document.xml", big)
    del big
    # the same, with the central directory claiming 1 KB for document.xml
    lying = bytearray(honest)
    name = b"word/document.xml"
    at = 0
    while (at := lying.find(b"PK\x01\x02", at)) >= 0:
        name_len = int.from_bytes(lying[at + 28 : at + 30], "little")
        if lying[at + 46 : at + 46 + name_len] == name:
            lying[at + 24 : at + 28] = (1024).to_bytes(4, "little")  # uncompressed size
        at += 4
    # many small paragraphs just under the size limit: cheap to send, costly to read
    paragraphs = head.removesuffix(b"<w:p><w:r><w:t>") + b"<w:p/>" * (4 * 1024 * 1024)
    paragraphs += b"</w:body></w:document>"
    many = _replace_member(template, "word/document.xml", paragraphs)
    return [honest, bytes(lying), many]


def seeds(target: str) -> Iterator[bytes]:
    kind = TARGET_KINDS[target]
    if kind == "docx":
        yield from docx_seeds()
        return
    if kind == "mail":
        for path in message_files():
            yield path.read_bytes()
        if target == "parse":
            return
        for path in html_files():
            yield path.read_bytes()
        from mailflow.forms import blank_request_form_text

        yield blank_request_form_text("zh").encode()
        yield blank_request_form_text("en").encode()
        for text in test_strings(SEED_TEST_MODULES["mail"]):
            yield text.encode("utf-8", "surrogatepass")
        return
    for path in reply_text_files():
        yield path.read_bytes()
    for text in mail_bodies(message_files()[-200:]):
        yield text.encode("utf-8", "surrogatepass")
    for path in html_files():
        from mailflow.parse import html_to_text

        yield html_to_text(path.read_text(encoding="utf-8")).encode()
    for text in test_strings(SEED_TEST_MODULES["text"]):
        yield text.encode("utf-8", "surrogatepass")


def write_seeds(target: str, directory: Path) -> int:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    count = 0
    for data in seeds(target):
        if data:
            (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)
            count += 1
    return count


# ---------------------------------------------------------------- the fuzzing child


class Recorder:
    """Saves what the fuzzer finds: a crash once per exception type and place, slow inputs."""

    def __init__(self, target: str, work: Path, slow: float) -> None:
        self.target = target
        self.work = work
        self.slow = slow
        self.fixtures = FIXTURES / target
        self.signatures_file = work / "signatures.json"
        self.signatures: set[str] = set()
        if self.signatures_file.exists():
            self.signatures = set(json.loads(self.signatures_file.read_text()))
        self.slow_saved = 0

    def crash(self, data: bytes, exc: BaseException) -> None:
        signature = crash_signature(exc)
        if signature in self.signatures:
            return
        self.signatures.add(signature)
        self.signatures_file.write_text(json.dumps(sorted(self.signatures), indent=1))
        path = save_fixture(self.target, data)
        text = "".join(traceback.format_exception(exc))
        self.log({"kind": "crash", "signature": signature, "file": str(path), "traceback": text})
        print(f"\n=== CRASH {signature}\n    saved {path}\n{text}", file=sys.stderr, flush=True)

    def slow_input(self, data: bytes, seconds: float) -> None:
        if self.slow_saved >= 20:
            return
        self.slow_saved += 1
        slow_dir = self.work / "slow"
        slow_dir.mkdir(exist_ok=True)
        path = slow_dir / f"{hashlib.sha1(data).hexdigest()}.bin"
        path.write_bytes(data)
        self.log({"kind": "slow-instrumented", "seconds": round(seconds, 2), "file": str(path)})
        print(f"\n=== SLOW {seconds:.1f} s (instrumented) {path}", file=sys.stderr, flush=True)

    def log(self, record: dict[str, object]) -> None:
        record = {"target": self.target, "time": time.strftime("%Y-%m-%dT%H:%M:%S"), **record}
        with (self.work / "findings.jsonl").open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def crash_signature(exc: BaseException) -> str:
    """The exception type and the innermost mailflow frame (else the innermost frame)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/mailflow/" in f.filename]
    frame = (ours or frames or [None])[-1]
    where = f"{Path(frame.filename).name}:{frame.lineno} {frame.name}" if frame else "?"
    return f"{type(exc).__name__} at {where}"


def save_fixture(target: str, data: bytes) -> Path:
    directory = FIXTURES / target
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{hashlib.sha1(data).hexdigest()}.bin"
    path.write_bytes(data)
    return path


def docx_mutator(data: bytes, max_size: int, seed: int) -> bytes:
    """Mutate the XML inside a Word file (keeping it a valid zip), or its raw bytes."""
    import atheris

    rng = random.Random(seed)
    if rng.random() < 0.8:
        try:
            mutated = _mutate_member(data, rng, max_size)
            if mutated is not None:
                return mutated
        except Exception:  # a zip the fuzzer broke (bad CRC, deflate stream, encryption...)
            pass
    return atheris.Mutate(data, max_size)


_XML_PIECES = (
    b'<w:gridSpan w:val="3"/>',
    b'<w:vMerge w:val="restart"/>',
    b"<w:vMerge/>",
    b'<w:sym w:font="Wingdings" w:char="F0FE"/>',
    b'<w:sym w:font="Wingdings 2" w:char="zz"/>',
    b"<w:tab/>",
    b"<w:br/>",
    b"<w:sdt><w:sdtContent><w:p><w:r><w:t>\xe7\x94\xb3\xe8\xaf\xb7\xe9\x83\xa8\xe9\x97\xa8</w:t>"
    b"</w:r></w:p></w:sdtContent></w:sdt>",
    b"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>x</w:t></w:r></w:p></w:tc></w:tr></w:tbl>",
    b'<w:gridSpan w:val="-1"/>',
    b'<w:gridSpan w:val="99999"/>',
)


def _mutate_member(data: bytes, rng: random.Random, max_size: int) -> bytes | None:
    import atheris

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        if not infos or sum(i.file_size for i in infos) > 8 * 1024 * 1024:
            return None
        names = [i.filename for i in infos]
        name = "word/document.xml" if "word/document.xml" in names and rng.random() < 0.85 else None
        name = name or rng.choice(names)
        members = {n: archive.read(n) for n in names}
    xml = members[name]
    choice = rng.random()
    if choice < 0.5:
        xml = atheris.Mutate(xml, max(len(xml) * 2, 64))
    elif choice < 0.7:  # duplicate an element (a row, a cell, a paragraph)
        tag = rng.choice((b"w:tr", b"w:tc", b"w:p", b"w:tbl", b"w:r"))
        spans = [m.span() for m in re.finditer(rb"<%s[ >].*?</%s>" % (tag, tag), xml, re.S)]
        if spans:
            start, end = rng.choice(spans)
            xml = xml[:end] + xml[start:end] * rng.randint(1, 3) + xml[end:]
    elif choice < 0.85:  # insert a structural piece after some tag
        ends = [m.end() for m in re.finditer(rb"<w:(?:tcPr|p|r|tc|body)>", xml)]
        if ends:
            at = rng.choice(ends)
            xml = xml[:at] + rng.choice(_XML_PIECES) + xml[at:]
    else:  # drop an element
        spans = [m.span() for m in re.finditer(rb"<w:(tr|tc|p|tcPr)[ >].*?</w:\1>", xml, re.S)]
        if spans:
            start, end = rng.choice(spans)
            xml = xml[:start] + xml[end:]
    members[name] = xml
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, body in members.items():
            archive.writestr(member, body)
    result = out.getvalue()
    return result if len(result) <= max_size else None


def child(target: str, work: Path, slow: float, libfuzzer_args: list[str]) -> None:
    import atheris

    atheris.enabled_hooks.add("str")  # (its "RegEx" hook cannot compile some of our patterns)
    already = [name for name in INSTRUMENTED if name in sys.modules]
    if already:
        print(f"warning: imported before instrumentation: {already}", file=sys.stderr)
    with atheris.instrument_imports(include=INSTRUMENTED):
        import fuzz_targets
    run = fuzz_targets.TARGETS[target].run
    recorder = Recorder(target, work, slow)

    def one_input(data: bytes) -> None:
        start = time.perf_counter()
        try:
            run(data)
        except Exception as exc:  # RecursionError and MemoryError too: every one is a finding
            recorder.crash(data, exc)
        elapsed = time.perf_counter() - start
        if elapsed > slow:
            recorder.slow_input(data, elapsed)

    kwargs = {"custom_mutator": docx_mutator} if TARGET_KINDS[target] == "docx" else {}
    atheris.Setup([sys.argv[0], *libfuzzer_args], one_input, **kwargs)
    atheris.Fuzz()


# ---------------------------------------------------------------- the supervisor


def time_inputs(target: str, paths: list[Path]) -> list[tuple[Path, float, str]]:
    """Run inputs uninstrumented in a fresh process: (path, seconds, error or "")."""
    if not paths:
        return []
    command = [sys.executable, __file__, "replay", target, "--json", *map(str, paths)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    results = []
    for line in done.stdout.splitlines():
        if not line.startswith("{"):
            continue  # a library's own output
        record = json.loads(line)
        results.append((Path(record["file"]), record["seconds"], record["error"]))
    return results


def supervise(args: argparse.Namespace) -> int:
    target = args.target
    work = Path(args.work).expanduser() / target
    corpus, seed_dir, artifacts = work / "corpus", work / "seeds", work / "artifacts"
    for directory in (corpus, artifacts):
        directory.mkdir(parents=True, exist_ok=True)
    count = write_seeds(target, seed_dir)
    print(f"{target}: {count} seeds in {seed_dir}; corpus {corpus}", flush=True)
    kind = TARGET_KINDS[target]
    deadline = time.monotonic() + args.seconds
    cpu = 0.0
    executions = 0
    children = 0
    findings: list[str] = []
    while (left := deadline - time.monotonic()) > 5:
        children += 1
        log_path = work / f"child-{time.strftime('%Y%m%d-%H%M%S')}.log"
        command = [
            sys.executable,
            __file__,
            "child",
            target,
            "--work",
            args.work,
            "--slow",
            str(args.slow),
            "--",
            f"-max_total_time={int(left)}",
            f"-timeout={args.timeout}",
            f"-rss_limit_mb={args.rss_limit_mb}",
            f"-max_len={args.max_len or MAX_LEN[kind]}",
            f"-artifact_prefix={artifacts}/",
            "-print_final_stats=1",
            str(corpus),
            str(seed_dir),
        ]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        with log_path.open("w") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            try:
                process.wait(timeout=left + args.timeout + 120)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        log_text = log_path.read_text(errors="replace")
        executions += executed_units(log_text)
        findings += collect_artifacts(target, artifacts, log_text)
        findings += check_slow(target, work, args.slow)
        if process.returncode not in (0, None) and not any(artifacts.iterdir()):
            tail = "\n".join(log_text.splitlines()[-15:])
            print(f"child exited {process.returncode}; log {log_path}\n{tail}", flush=True)
            if time.monotonic() - started < 30:
                print("the child fails at start; stopping", flush=True)
                break
        if children >= args.max_restarts:
            print("too many restarts; stopping", flush=True)
            break
    findings_file = work / "findings.jsonl"
    total = len(findings_file.read_text().splitlines()) if findings_file.exists() else 0
    record = {
        "target": target,
        "cpu_seconds": round(cpu, 1),
        "wall_seconds": args.seconds,
        "executions": executions,
        "children": children,
        "findings_this_run": findings,
        "findings_total": total,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    with (Path(args.work).expanduser() / "runs.jsonl").open("a") as out:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(json.dumps(record, ensure_ascii=False, indent=1), flush=True)
    return 0


def executed_units(log_text: str) -> int:
    stats = re.findall(r"stat::number_of_executed_units: (\d+)", log_text)
    if stats:
        return int(stats[-1])
    progress = re.findall(r"^#(\d+)\s", log_text, re.M)
    return int(progress[-1]) if progress else 0


def collect_artifacts(target: str, artifacts: Path, log_text: str) -> list[str]:
    """libFuzzer's own findings (a hang, an out-of-memory, a deadly signal) as fixtures."""
    found = []
    for path in sorted(artifacts.iterdir()):
        kind = path.name.split("-", 1)[0]  # timeout, oom, crash, leak, slow-unit
        data = path.read_bytes()
        fixture = save_fixture(target, data)
        message = f"{kind}: {fixture}"
        found.append(message)
        print(f"=== {message}", flush=True)
        with (artifacts.parent / "findings.jsonl").open("a") as out:
            tail = "\n".join(log_text.splitlines()[-40:])
            out.write(
                json.dumps({"target": target, "kind": kind, "file": str(fixture), "log": tail})
                + "\n"
            )
        path.unlink()
    return found


def check_slow(target: str, work: Path, threshold: float) -> list[str]:
    """Inputs slow under instrumentation, timed again without it; still slow ones are kept."""
    slow_dir = work / "slow"
    if not slow_dir.exists():
        return []
    found = []
    for path, seconds, error in time_inputs(target, sorted(slow_dir.glob("*.bin"))):
        if seconds > threshold:
            fixture = save_fixture(target, path.read_bytes())
            found.append(f"slow {seconds:.1f} s: {fixture}")
            print(f"=== slow {seconds:.1f} s uninstrumented: {fixture} {error}", flush=True)
        checked = work / "slow-checked"
        checked.mkdir(exist_ok=True)
        path.replace(checked / path.name)
    return found


# ---------------------------------------------------------------- replay and stress


def replay(target: str, paths: list[Path], as_json: bool) -> int:
    from fuzz_targets import TARGETS

    run = TARGETS[target].run
    failures = 0
    for path in paths:
        data = path.read_bytes()
        start = time.perf_counter()
        error = ""
        try:
            run(data)
        except Exception as exc:
            error = f"{crash_signature(exc)}: {exc}"[:500]
            failures += 1
        seconds = time.perf_counter() - start
        if as_json:
            print(json.dumps({"file": str(path), "seconds": seconds, "error": error}), flush=True)
        else:
            print(f"{seconds:7.3f} s  {path.name}  {error or 'ok'}", flush=True)
    return 1 if failures else 0


def minimize(target: str, path: Path, seconds: float) -> int:
    """Shrink a crashing input while it raises the same exception at the same place.

    Run it against the code that crashes (before the fix, e.g. with ``PYTHONPATH`` pointing at
    an export of the previous commit); the smaller input is saved beside the original.
    """
    from fuzz_targets import TARGETS

    run = TARGETS[target].run

    def signature(data: bytes) -> str:
        try:
            run(data)
        except Exception as exc:
            return crash_signature(exc)
        return ""

    data = path.read_bytes()
    wanted = signature(data)
    if not wanted:
        print(f"{path.name}: does not crash here")
        return 1
    deadline = time.monotonic() + seconds
    chunk = max(1, len(data) // 2)
    while chunk >= 1 and time.monotonic() < deadline:
        at, shrunk = 0, False
        while at < len(data) and time.monotonic() < deadline:
            candidate = data[:at] + data[at + chunk :]
            if candidate and signature(candidate) == wanted:
                data, shrunk = candidate, True
            else:
                at += chunk
        if not shrunk:
            chunk //= 2
    saved = save_fixture(target, data)
    print(f"{wanted}: {path.stat().st_size} -> {len(data)} bytes, saved {saved}")
    return 0


def stress_inputs(kind: str) -> Iterator[tuple[str, bytes]]:
    """About 1 MB each: many headers, long lines, many parts, deep nesting, odd encodings."""
    mb = 1024 * 1024
    head = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: x\r\n"
    if kind == "mail":
        yield "many headers", head + b"X-H: v\r\n" * (mb // 8) + b"\r\nbody\r\n"
        yield "one folded header", head + b"X-H: v" + b"\r\n v" * (mb // 4) + b"\r\n\r\nbody"
        yield (
            "many encoded words",
            head.replace(b"Subject: x", b"Subject:" + b" =?utf-8?b?5L2g?=" * (mb // 17))
            + b"\r\n\r\nx",
        )
        yield (
            "glued encoded words",
            b"Subject: " + b"=?gb2312?q?=C4=E3?=" * (mb // 19) + b"\r\n\r\nx",
        )
        yield "many addresses", b"To: " + b"a@b.c, " * (mb // 7) + b"\r\n\r\nx"
        yield "address junk", b"From: " + b'"<' * (mb // 2) + b"\r\n\r\nx"
        yield "unclosed comments", b"From: " + b"(" * (mb // 2) + b"a@b.c\r\n\r\nx"
        yield "many message ids", b"References: " + b"<a@b> " * (mb // 6) + b"\r\n\r\nx"
        yield "long line", head + b"\r\n" + b"x" * mb
        yield "many lines", head + b"\r\n" + b"x\r\n" * (mb // 3)
        parts = b"".join(
            b"--b\r\nContent-Type: text/plain\r\n\r\npart\r\n" for _ in range(mb // 40)
        )
        yield (
            "many parts",
            head + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + parts + b"--b--\r\n",
        )
        nested = b"".join(
            b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
            for i in range(2000)
        )
        yield "deep multipart", head + nested
        atts = b"".join(
            b'--b\r\nContent-Type: application/octet-stream; name="%d.bin"\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n" % i
            for i in range(mb // 100)
        )
        yield (
            "many attachments",
            head + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + atts + b"--b--\r\n",
        )
        html = b"<div>" * (mb // 5)
        yield "deep html", head + b"Content-Type: text/html\r\n\r\n" + html
        yield (
            "html table",
            head
            + b"Content-Type: text/html\r\n\r\n<table>"
            + b"<tr><td>a</td><td>b</td></tr>" * (mb // 30),
        )
        yield (
            "html blockquotes",
            head + b"Content-Type: text/html\r\n\r\n" + b"<blockquote>x" * (mb // 13),
        )
        yield (
            "qp soft breaks",
            head + b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + b"=\r\n" * (mb // 3),
        )
        yield (
            "base64 junk",
            head + b"Content-Transfer-Encoding: base64\r\n\r\n" + b"!@#$" * (mb // 4),
        )
        yield (
            "8bit gb18030",
            head + b"Content-Type: text/plain; charset=gbk\r\n\r\n" + b"\x81\x30" * (mb // 2),
        )
        yield "junk before headers", b"junk line\n" * (mb // 10) + head + b"\r\nbody"
        yield (
            "rfc2231 params",
            head
            + b"Content-Type: text/plain"
            + b"".join(b"; name*%d*=x" % i for i in range(mb // 14))
            + b"\r\n\r\nx",
        )
        yield "many semicolons", head + b"Content-Type: text/plain" + b";" * mb + b"\r\n\r\nx"
        yield "quote-led text", head + b"\r\n" + b"> x\r\n" * (mb // 5)
    text_cases = {
        "quote headers": "On Mon, 1 Jan 2026 at 10:00, X <x@y.z> wrote:\n" * 20000,
        "header blocks": "From: a@b.c\nSent: 2026-01-01\nTo: x\nSubject: y\n" * 20000,
        "rules": "---\n" * 250000,
        "many colons": "a：" * 300000,
        "long line": "x" * 1000000,
        "dash names": "-Jane Doe\n" * 100000,
        "fields": "申请部门：市场部\n" * 100000,
        "ids": "A1、" * 250000 + "已完成",
        "dates": "延期至 12月20日，原因：" * 50000,
        "brackets": "（" * 300000,
        "tab rows": "部门\t负责人\t任务\t完成时间\n" * 40000,
    }
    for name, text in text_cases.items():
        yield name, text.encode()


def stress(target: str, threshold: float, keep: bool) -> int:
    from fuzz_targets import TARGETS

    run = TARGETS[target].run
    kind = TARGET_KINDS[target]
    inputs = list(stress_inputs(kind))
    if kind == "mail":
        largest = sorted(message_files(), key=lambda p: p.stat().st_size)[-5:]
        inputs += [(f"corpus {p.name}", p.read_bytes()) for p in largest]
    worst = 0
    for name, data in inputs:
        if kind == "docx":
            continue
        start = time.perf_counter()
        error = ""
        try:
            run(data)
        except Exception as exc:
            error = crash_signature(exc)
        seconds = time.perf_counter() - start
        flag = "SLOW" if seconds > threshold else ("CRASH" if error else "")
        print(f"{seconds:7.3f} s {len(data):>9} B  {name}  {error} {flag}", flush=True)
        if (flag and keep) or error:
            print(f"    saved {save_fixture(target, data)}")
            worst = 1
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", nargs="?", help="a target, or child/replay/stress")
    parser.add_argument("rest", nargs="*")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--work", default=str(Path("~/.cache/mailflow-fuzz")))
    parser.add_argument("--slow", type=float, default=2.0, help="seconds that make an input slow")
    parser.add_argument("--timeout", type=int, default=30, help="libFuzzer's hang timeout (s)")
    parser.add_argument("--rss-limit-mb", type=int, default=6144)
    parser.add_argument("--max-len", type=int, default=0)
    parser.add_argument("--max-restarts", type=int, default=50)
    parser.add_argument("--json", action="store_true", help="replay: one JSON line per input")
    parser.add_argument("--keep", action="store_true", help="stress: save slow inputs too")
    argv = sys.argv[1:]
    extra: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, extra = argv[:at], argv[at + 1 :]
    args = parser.parse_intermixed_args(argv)
    if args.list or not args.target:
        for name, kind in TARGET_KINDS.items():
            print(f"{name:11} ({kind})")
        return 0
    if args.target == "child":
        child(args.rest[0], Path(args.work).expanduser() / args.rest[0], args.slow, extra)
        return 0
    if args.target == "replay":
        return replay(args.rest[0], [Path(p) for p in args.rest[1:]], args.json)
    if args.target == "stress":
        return stress(args.rest[0], args.slow, args.keep)
    if args.target == "minimize":
        return minimize(args.rest[0], Path(args.rest[1]), args.seconds)
    if args.target not in TARGET_KINDS:
        parser.error(f"unknown target {args.target!r}; see --list")
    return supervise(args)


if __name__ == "__main__":
    sys.exit(main())
