"""Finding a label/value form's fields in a mail (pure: no database, no network).

Owns the generic extractor every template reader builds on: given a list of :class:`FieldSpec`
it finds the fields in an attached ``.docx`` (tables with merged cells, and paragraphs), in an
HTML table (what Outlook makes of a pasted Word table) or in ``label：value`` lines of the plain
text, and matches labels tolerantly (width, case, spacing, bracketed hints, synonyms, prefixes,
near misses). It interprets no value: ``forms.py`` does that for Template 1.
"""

from __future__ import annotations

import difflib
import functools
import io
import lzma
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import docx
from docx.opc.exceptions import OpcError
from docx.oxml.ns import qn
from lxml import etree
from lxml import html as lxml_html

from mailflow.parse import ParsedMail

FUZZY_RATIO = 0.85
MAX_LABEL_CHARS = 40
MAX_DOCX_UNCOMPRESSED = 30 * 1024 * 1024
MAX_DOCX_XML = 5 * 1024 * 1024  # of that, the XML parts (a form's are a few dozen KB)
MAX_DOCX_ITEMS = 50_000  # paragraphs, cells and runs read from one document at most
DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

Row = list[str]
Segment = str | Row | None  # a text line, a table row, or None: "the current field ends here"
Tables = list[list[Row]]

_OPEN, _CLOSE = "(（[［【〔", ")）]］】〕"
_BRACKET_RE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕")
_UNCLOSED_RE = re.compile(r"[(\[【〔].*$")
_BULLET_RE = re.compile(
    r"^(?:[-*•·●◆◇▪►–—]+|\d{1,2}\s*[.、)]|[一二三四五六七八九十]{1,3}\s*[、.])\s*"
)
_HINT_WORDS_RE = re.compile(
    r"示例|例如|比如|无则|可选|留空|勾选|e\.g\.|for example|if none|optional|left blank", re.I
)
_PLACEHOLDER_RE = re.compile(r"[\s_\-—–.…·]*")
_PAIR_GAP_RE = re.compile(r"\s{2,}|\u3000")
_REPLY_MARKER_RE = re.compile(r"^\s*-{3,}\s*(?:原始邮件|original message)\s*-{3,}\s*$", re.I)
_QUOTE_START_RE = re.compile(  # Gmail's attribution lines, Outlook's plain-text rule, "-- "
    r"^(?:>|on\s.*\swrote:\s*$|.*写道[:：]\s*$|_{20,}\s*$|-- ?$)", re.I
)
_CLOSING_RE = re.compile(
    r"^(?:谢谢|多谢|感谢|此致|敬礼|祝好|thanks|thank you|many thanks|best regards|kind regards"
    r"|regards|best|cheers|br)\W*$",
    re.I,
)
_CJK_RE = re.compile(r"[\u3400-\u9fff]+")
_LATIN_RE = re.compile(r"[a-z0-9.]+")


@dataclass(frozen=True)
class FieldSpec:
    """One field of a form: its key and the labels (synonyms) it may carry in each language."""

    key: str
    labels_zh: tuple[str, ...]
    labels_en: tuple[str, ...]
    multiline: bool = False


@dataclass
class ExtractedForm:
    """The fields found in one source of a mail, before any value is interpreted."""

    values: dict[str, str]  # key -> raw value, stripped; "" when the label was there, left blank
    source: str  # "docx" | "html" | "text"
    language: str  # "zh" when most matched labels were Chinese, else "en"
    tables: list[list[list[str]]] = field(default_factory=list)  # every table's rows

    @property
    def filled(self) -> int:
        return sum(1 for value in self.values.values() if value)


def extract_fields(mail: ParsedMail, specs: Sequence[FieldSpec]) -> ExtractedForm | None:
    """The form in ``mail``: the first source (docx, HTML table, text) filling two fields wins.

    When no source fills two fields, the one that found the most is returned; ``None`` when no
    source holds a single recognised label.
    """
    best: ExtractedForm | None = None
    for source, segments, tables in _sources(mail):
        form = _assemble(specs, segments, source, tables)
        if form is None:
            continue
        if form.filled >= 2:
            return form
        if best is None or (form.filled, len(form.values)) > (best.filled, len(best.values)):
            best = form
    return best


# ---------------------------------------------------------------- labels


def normalize_label(text: str) -> str:
    """NFKC, drop bullets, bracketed hints, spaces, ``*`` and a trailing colon; casefold."""
    text = _BULLET_RE.sub("", unicodedata.normalize("NFKC", text).strip())
    while (stripped := _BRACKET_RE.sub("", text)) != text:
        text = stripped
    text = re.sub(r"[\s*_#]+", "", _UNCLOSED_RE.sub("", text))
    return text.rstrip(":.").casefold()


@dataclass(frozen=True)
class _Match:
    indexes: tuple[int, ...]  # the specs tied for the best score, in spec order
    language: str
    score: float


class _Labels:
    """Every spec's labels, normalised once; ``match`` scores a candidate against them all.

    Built once per spec list (:func:`_labels_for`); answers are remembered, because the same
    labels come back in every form.
    """

    MEMORY = 4096

    def __init__(self, specs: Sequence[FieldSpec]) -> None:
        self.answers: dict[str, _Match | None] = {}
        self.entries = [
            (normalize_label(label), index, language)
            for index, spec in enumerate(specs)
            for language, labels in (("zh", spec.labels_zh), ("en", spec.labels_en))
            for label in labels
        ]

    def match(self, raw: str) -> _Match | None:
        if raw not in self.answers:
            if len(self.answers) >= self.MEMORY:
                self.answers.clear()
            self.answers[raw] = self._score_all(raw)
        return self.answers[raw]

    def _score_all(self, raw: str) -> _Match | None:
        best: dict[int, tuple[float, str]] = {}
        for candidate in _variants(normalize_label(raw)):
            for label, index, language in self.entries:
                score = _score(candidate, label)
                if score > best.get(index, (0.0, ""))[0]:
                    best[index] = (score, language)
        if not best:
            return None
        top = max(score for score, _ in best.values())
        tied = tuple(sorted(i for i, (score, _) in best.items() if score >= top - 1e-9))
        languages = {best[i][1] for i in tied}
        return _Match(tied, "zh" if "zh" in languages else "en", top)


@functools.lru_cache(maxsize=8)
def _labels_for(specs: tuple[FieldSpec, ...]) -> _Labels:
    return _Labels(specs)


def _variants(label: str) -> list[str]:
    """The label, plus its Chinese and its Latin part when it is bilingual (申请部门 Department)."""
    if not label or len(label) > MAX_LABEL_CHARS:
        return []
    cjk, latin = "".join(_CJK_RE.findall(label)), "".join(_LATIN_RE.findall(label))
    return [label, cjk, latin] if cjk and re.search(r"[a-z]", latin) else [label]


def _score(candidate: str, label: str) -> float:
    """3 for an exact synonym, 1.5-2 for a prefix or a near miss (difflib), 0 for no match."""
    if candidate == label:
        return 3.0
    short, long = sorted((candidate, label), key=len)
    score = 0.0
    if len(short) >= 4 and long.startswith(short) and 2 * len(short) >= len(long):
        score = 1 + len(short) / len(long)
    if 2 * len(short) >= FUZZY_RATIO * (len(short) + len(long)):
        ratio = difflib.SequenceMatcher(None, candidate, label).ratio()
        if ratio >= FUZZY_RATIO:
            score = max(score, 1 + ratio)
    return score


def split_label(line: str) -> tuple[str, str, bool]:
    """``label：value`` -> (label, value, True), splitting at the first colon outside brackets."""
    depth = 0
    for i, char in enumerate(line):
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth = max(0, depth - 1)
        elif char in ":：" and depth == 0:
            return line[:i], line[i + 1 :].strip(), True
    return line, "", False


# ---------------------------------------------------------------- values


def clean_value(value: str) -> str:
    """Strip the value and the template's hint text: a bracketed hint (``（…示例：…）``) opening
    or closing it is dropped, and a value of nothing but a hint or ``____`` is empty."""
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(line.strip() for line in value.split("\n")))
    text = text.strip()
    for start, end in reversed(_outer_brackets(text)):
        whole_line = start == 0 and text[end : end + 1] in ("", "\n")
        at_edge = start == 0 or end == len(text)
        if whole_line or (at_edge and _HINT_WORDS_RE.search(text[start:end])):
            text = (text[:start] + text[end:]).strip()
    return "" if _PLACEHOLDER_RE.fullmatch(text) else text


def _outer_brackets(text: str) -> list[tuple[int, int]]:
    """Spans of the outermost closed bracket groups in ``text``."""
    spans, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in _OPEN:
            start, depth = (i if depth == 0 else start), depth + 1
        elif char in _CLOSE and depth:
            depth -= 1
            if depth == 0:
                spans.append((start, i + 1))
    return spans


class _Assembler:
    """Consumes lines and table rows in document order and collects the fields' values."""

    def __init__(self, specs: Sequence[FieldSpec]) -> None:
        self.specs = list(specs)
        self.labels = _labels_for(tuple(specs))
        self.values: dict[str, str] = {}
        self.seen: dict[str, int] = {}  # key -> step at which its label was last met
        self.step = 0
        self.languages: list[str] = []
        self.current: FieldSpec | None = None

    def line(self, text: str) -> None:
        stripped = text.strip()
        if "\t" in stripped:
            self.row(re.split(r"\t+", stripped))
            return
        label, value, _ = split_label(stripped)
        match = self.labels.match(label) if stripped else None
        if match is None:
            self._continue(stripped)
            return
        value, rest = self._split_second_pair(value)
        self._start(match, value)
        if rest:
            self.line(rest)

    def row(self, cells: Sequence[str]) -> None:
        """Label cells start fields, other cells continue them; a cell whose first line is a
        label (``申请部门\n市场部``, ``申请部门：市场部``) is read line by line. A label broken over
        lines (``发起部门\n负责人签字``) is taken whole when that matches at least as well."""
        for cell in cells:
            text = cell.strip()
            whole = self.labels.match(text) if text else None
            first = self.labels.match(split_label(text.split("\n", 1)[0])[0]) if text else None
            if whole and (first is None or whole.score >= first.score):
                self._start(whole, "")
            elif first:
                for line in text.split("\n"):
                    self.line(line)
            else:
                self._continue(text)

    def end_table(self) -> None:
        self.current = None

    def form(self, source: str, tables: Tables) -> ExtractedForm | None:
        if not self.values:
            return None
        zh = self.languages.count("zh")
        return ExtractedForm(
            values={key: clean_value(value) for key, value in self.values.items()},
            source=source,
            language="zh" if 2 * zh >= len(self.languages) else "en",
            tables=tables,
        )

    def _split_second_pair(self, value: str) -> tuple[str, str]:
        """``市场部    申请日期：2026-11-20`` -> ("市场部", "申请日期：2026-11-20")."""
        for gap in _PAIR_GAP_RE.finditer(value):
            label, _, has_colon = split_label(value[gap.end() :])
            if has_colon and self.labels.match(label):
                return value[: gap.start()], value[gap.end() :]
        return value, ""

    def _start(self, match: _Match, value: str) -> None:
        spec = self.specs[self._resolve(match.indexes)]
        self.step += 1
        self.seen[spec.key] = self.step
        if clean_value(self.values.get(spec.key, "")):
            self.current = None  # a repeated label: the first value stands
            return
        self.values[spec.key] = value.strip()
        self.languages.append(match.language)
        self.current = spec

    def _resolve(self, indexes: tuple[int, ...]) -> int:
        """Order-aware choice among tied specs ("日期" after 申请部门 vs after the signature).

        Prefer specs whose label has not been met; among them the one whose predecessor in the
        spec list was met most recently; else the first.
        """
        if len(indexes) == 1:
            return indexes[0]
        fresh = [i for i in indexes if self.specs[i].key not in self.values] or list(indexes)
        anchored = [
            (self.seen[self.specs[i - 1].key], i)
            for i in fresh
            if i > 0 and self.specs[i - 1].key in self.seen
        ]
        return max(anchored)[1] if anchored else fresh[0]

    def _continue(self, text: str) -> None:
        """A line or cell that is no label continues the current field (multiline or empty)."""
        if self.current is None:
            return
        key, old = self.current.key, self.values[self.current.key]
        if self.current.multiline:
            self.values[key] = f"{old}\n{text}" if old else text
        elif text and not clean_value(old):
            self.values[key] = text


def _assemble(
    specs: Sequence[FieldSpec], segments: Sequence[Segment], source: str, tables: Tables
) -> ExtractedForm | None:
    assembler = _Assembler(specs)
    for segment in segments:
        if segment is None:
            assembler.end_table()
        elif isinstance(segment, str):
            assembler.line(segment)
        else:
            assembler.row(segment)
    return assembler.form(source, tables)


# ---------------------------------------------------------------- sources


def _sources(mail: ParsedMail) -> Iterator[tuple[str, list[Segment], Tables]]:
    """Each source in the order of preference, read lazily: .docx attachments, HTML, text."""
    for attachment in mail.attachments:
        is_docx = attachment.filename.lower().endswith(".docx")
        if is_docx or attachment.content_type.lower() == DOCX_CONTENT_TYPE:
            document = _docx_document(attachment.data)
            if document is not None:
                yield "docx", *document
    if mail.html.strip():
        yield "html", *_html_document(mail.html)
    yield "text", _text_lines(mail.text), []


def _text_lines(text: str) -> list[Segment]:
    """The body's lines down to the quoted original or the signature; a closing (谢谢, Regards)
    ends the field before it, so the sign-off is not read as part of a multiline value."""
    lines: list[Segment] = []
    for line in text.splitlines():
        if _QUOTE_START_RE.match(line) or _REPLY_MARKER_RE.match(line):
            break
        lines.append(None if _CLOSING_RE.match(line.strip()) else line)
    return lines


def _tables_to_segments(tables: Tables) -> list[Segment]:
    segments: list[Segment] = []
    for rows in tables:
        segments.extend(rows)
        segments.append(None)
    return segments


# -- HTML

_BLOCK_TAGS = frozenset(
    ("p", "div", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "pre")
)
_SKIPPED_TAGS = frozenset(("script", "style", "head", "title"))
_REPLY_IDS = frozenset(("divRplyFwdMsg", "appendonsend"))
_NOT_XML_CHAR_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _html_document(markup: str) -> tuple[list[Segment], Tables]:
    """The innermost tables above any quoted original (blockquote, Outlook's reply header)."""
    parser = lxml_html.HTMLParser(encoding="utf-8")
    markup = _NOT_XML_CHAR_RE.sub("", markup)  # lxml parses them, then refuses to set them as text
    try:
        root = lxml_html.fromstring(markup.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, ValueError):
        return [], []
    quoted = "//blockquote | //*[contains(concat(' ', @class, ' '), ' gmail_quote ')]"
    for element in root.xpath(quoted):
        if element.getparent() is not None:
            element.drop_tree()
    cut = _reply_cut(root)
    tables = [
        _html_rows(table)
        for position, table in enumerate(root.iter())
        if table.tag == "table" and position < cut and not table.xpath(".//table")
    ]
    return _tables_to_segments(tables), tables


def _reply_cut(root: lxml_html.HtmlElement) -> int:
    """Position (in document order) of the first reply header, or past the end."""
    for position, element in enumerate(root.iter()):
        if not isinstance(element.tag, str):
            continue
        if element.get("id") in _REPLY_IDS or _REPLY_MARKER_RE.match(element.text or ""):
            return position
    return 1 << 30


def _html_rows(table: lxml_html.HtmlElement) -> list[Row]:
    """Rows of cell texts; a cell covered by a rowspan from above reads as ""."""
    rows: list[Row] = []
    carry: dict[int, tuple[int, int]] = {}  # start column -> (rows still covered, colspan)
    for tr in table.xpath("./tr | ./*/tr"):
        covering, cells, column = dict(carry), [], 0
        for td in tr.xpath("./td | ./th"):
            while column in covering:
                cells.append("")
                column += covering.pop(column)[1]
            cells.append(html_text(td))
            span, down = _span(td, "colspan"), _span(td, "rowspan")
            if down > 1:
                carry[column] = (down, span)
            column += span
        cells.extend("" for start in sorted(covering) if start >= column)
        carry = {c: (n - 1, span) for c, (n, span) in carry.items() if n > 1}
        rows.append(cells)
    return rows


def _span(cell: lxml_html.HtmlElement, name: str) -> int:
    try:
        return min(max(int(cell.get(name, "1")), 1), 100)
    except ValueError:
        return 1


def html_text(element: lxml_html.HtmlElement) -> str:
    """Visible text of an element; ``<p>``, ``<br>`` and other blocks become line breaks."""
    parts: list[str] = []
    _walk(element, parts)
    lines = (line.strip() for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _walk(element: lxml_html.HtmlElement, parts: list[str]) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in _SKIPPED_TAGS:
        return
    breaks = tag in _BLOCK_TAGS or tag == "br"
    if breaks:
        parts.append("\n")
    if tag and element.text:
        parts.append(re.sub(r"\s+", " ", element.text))
    for child in element:
        _walk(child, parts)
        if child.tail:
            parts.append(re.sub(r"\s+", " ", child.tail))
    if breaks:
        parts.append("\n")


# -- docx

_W_P, _W_R, _W_T, _W_TBL = qn("w:p"), qn("w:r"), qn("w:t"), qn("w:tbl")
_W_TAB, _W_BR, _W_CR, _W_SYM = qn("w:tab"), qn("w:br"), qn("w:cr"), qn("w:sym")
_W_SDT, _W_SDT_CONTENT = qn("w:sdt"), qn("w:sdtContent")
_W_TR, _W_TC, _W_VAL = qn("w:tr"), qn("w:tc"), qn("w:val")
_W_VMERGE_PATH = f"{qn('w:tcPr')}/{qn('w:vMerge')}"
_SYMBOLS = {  # (font, code) of Word's "insert symbol" boxes and ticks
    ("wingdings", 0xFE): "☑",
    ("wingdings", 0xFD): "☒",
    ("wingdings", 0xFC): "✓",
    ("wingdings", 0xA8): "□",
    ("wingdings", 0x6F): "□",
    ("wingdings 2", 0x52): "☑",
    ("wingdings 2", 0x54): "☒",
    ("wingdings 2", 0x50): "✓",
    ("wingdings 2", 0xA3): "□",
}


class _TooLarge(Exception):
    """The document holds more paragraphs, cells and runs than any form."""


class _Budget:
    """How many more elements reading one document may visit (a form has a few hundred)."""

    def __init__(self, items: int) -> None:
        self.left = items

    def spend(self, items: int = 1) -> None:
        self.left -= items
        if self.left < 0:
            raise _TooLarge


# what zipfile raises on a broken archive: a bad header, CRC or offset, a corrupt deflate, bzip2
# or lzma stream, a cut-off member, an encrypted one or an unknown compression method
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    RuntimeError,
    NotImplementedError,
)
# what python-docx raises on a package that is a zip but not a well-formed Word document (parts
# missing, relationships without a target, a root element of another name)
_DOCX_ERRORS = (
    OpcError,
    KeyError,
    ValueError,
    IndexError,
    etree.LxmlError,
    AttributeError,
    TypeError,
)


def _docx_document(data: bytes) -> tuple[list[Segment], Tables] | None:
    """Paragraph lines and table rows in body order; None for a broken or oversized file."""
    if not _modest_zip(data):
        return None
    try:
        body = docx.Document(io.BytesIO(data)).element.body
    except _DOCX_ERRORS:
        return None
    if body is None:
        return None
    budget = _Budget(MAX_DOCX_ITEMS)
    segments: list[Segment] = []
    tables: Tables = []
    try:
        for block in _body_blocks(body, budget):
            if block.tag == _W_TBL:
                rows = _docx_rows(block, budget)
                tables.append(rows)
                segments.extend(_tables_to_segments([rows]))
            else:
                segments.extend(_paragraph_text(block, budget).split("\n"))
    except _TooLarge:
        return None
    return segments, tables


def _modest_zip(data: bytes) -> bool:
    """A zip whose members unpack to a sane size (no zip bomb), whatever sizes it declares.

    Every member is inflated once, a chunk at a time: zipfile stops at the declared size and
    then finds the CRC wrong, so a member that lies about its size costs no more than it claims.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            xml = [m for m in members if m.filename.lower().endswith((".xml", ".rels"))]
            if (
                len(members) > 1000
                or sum(m.file_size for m in members) > MAX_DOCX_UNCOMPRESSED
                or sum(m.file_size for m in xml) > MAX_DOCX_XML
            ):
                return False
            for member in members:
                with archive.open(member) as stream:
                    while stream.read(64 * 1024):
                        pass
    except _ZIP_ERRORS:
        return False
    return True


def _body_blocks(parent: etree._Element, budget: _Budget) -> Iterator[etree._Element]:
    """Top-level paragraphs and tables, looking inside block content controls."""
    for child in parent.iterchildren():
        budget.spend()
        if child.tag in (_W_P, _W_TBL):
            yield child
        elif child.tag == _W_SDT and (content := child.find(_W_SDT_CONTENT)) is not None:
            yield from _body_blocks(content, budget)


def _docx_rows(table: etree._Element, budget: _Budget) -> list[Row]:
    """Rows of cell texts: a horizontally merged cell once, a vertical continuation as "".

    Read from the XML, not from python-docx's grid (which repeats a cell for each column it
    spans, however many a broken file declares, and fails on a continuation without a start).
    """
    rows: list[Row] = []
    for tr in table.iterchildren(_W_TR):
        cells: Row = []
        for tc in tr.iterchildren(_W_TC):
            budget.spend()
            merge = tc.find(_W_VMERGE_PATH)
            if merge is not None and merge.get(_W_VAL, "continue") == "continue":
                cells.append("")
            else:
                cells.append("\n".join(_paragraph_text(p, budget) for p in tc.iter(_W_P)))
        rows.append(cells)
    return rows


def _paragraph_text(paragraph: etree._Element, budget: _Budget) -> str:
    """Text of a paragraph, content controls, insertions and Wingdings ticks included."""
    parts = []
    for element in paragraph.iter(_W_T, _W_TAB, _W_BR, _W_CR, _W_SYM):
        budget.spend()
        if element.tag == _W_T:
            parts.append(element.text or "")
        elif element.getparent().tag != _W_R:
            continue  # tab stops and the like in the paragraph properties
        elif element.tag == _W_SYM:
            parts.append(_symbol(element))
        else:
            parts.append("\t" if element.tag == _W_TAB else "\n")
    return "".join(parts)


def _symbol(element: etree._Element) -> str:
    font = (element.get(qn("w:font")) or "").casefold()
    try:
        code = int(element.get(qn("w:char")) or "", 16) & 0xFF
    except ValueError:
        return ""
    return _SYMBOLS.get((font, code), "")
