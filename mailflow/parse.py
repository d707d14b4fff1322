"""Raw message bytes -> :class:`ParsedMail` (pure: no database, no network).

Owns MIME decoding (via mail-parser), charsets (gb2312/gbk labels read as gb18030; never a
silent replacement), RFC 2047/2231 headers, body text (text/plain, else derived from HTML),
attachments with sanitised names, threading headers and the automatic-mail verdict (RFC 3834).
"""

from __future__ import annotations

import binascii
import contextlib
import datetime as dt
import email
import email.utils
import hashlib
import re
import unicodedata
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import Message

import lxml.html
from lxml import etree
from mailparser import MailParser
from mailparser.const import ADDRESSES_HEADERS
from mailparser.utils import decode_base64_payload, get_addresses

__all__ = [
    "Address",
    "Attachment",
    "ParseError",
    "ParsedMail",
    "html_to_text",
    "parse_message",
    "sanitize_filename",
]


class ParseError(Exception):
    """The message cannot be parsed at all; the caller files it to the failed folder."""


@dataclass(frozen=True)
class Address:
    name: str
    address: str  # lower-cased


@dataclass(frozen=True)
class Attachment:
    filename: str  # sanitised, never empty
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class ParsedMail:
    message_id: str  # "<id@host>" as written, or "" when the header is missing
    dedupe_key: str  # "mid:<id@host>" or "sha256:<hex of the raw bytes>"
    subject: str
    sender: Address | None  # From (first address)
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    reply_to: list[Address] = field(default_factory=list)
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    date: dt.datetime | None = None  # timezone-aware
    text: str = ""
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    headers: dict[str, list[str]] = field(default_factory=dict)  # lower-case name -> decoded values
    automatic: str = ""  # why this is automatic mail (RFC 3834 etc.), "" for a human's mail
    defects: list[str] = field(default_factory=list)
    size: int = 0

    def header(self, name: str) -> str:
        values = self.headers.get(name.lower())
        return values[0] if values else ""


# --- charsets ---

# Every label a Chinese client writes for GB text. What arrives under them is GBK (or GB18030),
# and gb18030 decodes all of it, so they are rewritten before mail-parser sees the message.
_GB18030_LABELS = frozenset(
    {
        "gb2312",
        "gbk",
        "x-gbk",
        "cp936",
        "ms936",
        "windows-936",
        "gb_2312",
        "gb_2312-80",
        "euc-cn",
        "x-euc-cn",
        "csgb2312",
        "csiso58gb231280",
        "chinese",
        "iso-ir-58",
        "gb18030",
    }
)
# Decode other legacy labels with the superset the sending clients really use (as the WHATWG
# Encoding Standard does), so their extension characters do not fail over to a wrong codec.
_SUPERSET_CODECS = {
    **dict.fromkeys(_GB18030_LABELS, "gb18030"),
    **dict.fromkeys(("big5", "cn-big5", "csbig5", "x-x-big5"), "cp950"),
    **dict.fromkeys(("euc-kr", "ks_c_5601-1987", "ks_c_5601-1989", "ksc5601", "korean"), "cp949"),
    **dict.fromkeys(
        ("shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis"), "cp932"
    ),
}
_FALLBACK_CODECS = ("utf-8", "gb18030")
# Labels that declare nothing (Python's email package writes the first for raw 8-bit bytes).
_UNDECLARED_LABELS = frozenset({"unknown-8bit", "x-unknown", "unknown"})
_CHARSET_PARAM = re.compile(r"""(;\s*charset\s*=\s*)(["']?)([^"';\s]+)(["']?)""", re.IGNORECASE)


def _charset_name(label: str | None) -> str:
    """A charset label as compared: lower-case, unquoted; "" when it declares nothing."""
    name = (label or "").strip().strip("\"'").lower()
    return "" if name in _UNDECLARED_LABELS else name


def _codec(name: str) -> str | None:
    """The Python codec for a charset name, or None when it names no text encoding."""
    name = _SUPERSET_CODECS.get(name, name)
    name = re.sub(r"^(?:x-)?windows-(\d+)$", r"cp\1", name)  # windows-874 and the like
    try:
        b"x".decode(name)
    except UnicodeDecodeError:
        pass  # a real text codec that merely rejects the probe byte (utf-16, ...)
    except (LookupError, UnicodeError, ValueError, TypeError):
        return None
    return name


def _try_decode(data: bytes, codec: str) -> str | None:
    try:
        text = data.decode(codec)
        text.encode("utf-8")  # some codecs yield lone surrogates, which are not text
    except (UnicodeError, LookupError, ValueError):
        return None
    return text


def _decode_text(data: bytes, label: str | None, where: str, defects: list[str]) -> str:
    """Decode strictly: declared charset, then utf-8, then gb18030; replace only as a last resort.

    An unknown label, a fallback away from the declared charset and any replacement are
    recorded in ``defects``; undeclared bytes that are valid utf-8 or gb18030 are not.
    """
    name = _charset_name(label)
    codec = _codec(name) if name else None
    if name and codec is None:
        defects.append(f"{where}: unknown charset {name!r}")
    if codec is None and data.isascii():
        return data.decode("ascii")
    for candidate in dict.fromkeys([codec, *_FALLBACK_CODECS]):
        text = _try_decode(data, candidate) if candidate else None
        if text is not None:
            if codec and candidate != codec:
                defects.append(f"{where}: text not valid {codec}; decoded as {candidate}")
            return text
    fallback = codec or _FALLBACK_CODECS[0]
    defects.append(f"{where}: text not valid {fallback}; replaced undecodable bytes")
    try:
        text = data.decode(fallback, "replace")
    except (UnicodeError, LookupError, ValueError):
        text = data.decode("utf-8", "replace")
    return text.encode("utf-8", "replace").decode("utf-8")


def _declared_charset(part: Message) -> str | None:
    return part.get_content_charset() or None


# --- headers ---

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_LINE_BREAK = re.compile(r"[\r\n]+[ \t]*")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _raw_bytes(value: object) -> bytes:
    """A header value as the bytes on the wire (8-bit bytes ride in the str as surrogates)."""
    return str(value).encode("utf-8", "surrogateescape")


def _raw_header_text(value: object, where: str, defects: list[str]) -> str:
    """Unfolded header text with raw 8-bit bytes decoded; RFC 2047 words left as they are."""
    text = _decode_text(_raw_bytes(value), None, where, defects)
    return _LINE_BREAK.sub(" ", text).strip()


def _word_bytes(encoding: str, payload: str) -> bytes:
    if encoding in "bB":
        return decode_base64_payload(payload)
    return binascii.a2b_qp(payload.encode("utf-8", "surrogateescape"), header=True)


def _decode_words(text: str, where: str, defects: list[str]) -> str:
    """Decode RFC 2047 encoded words, leniently (also glued to text or holding spaces).

    Adjacent words in one charset are joined as bytes before decoding, since clients split a
    multi-byte character across two words; whitespace between encoded words is dropped.
    """
    pieces: list[str] = []
    run: list[tuple[str, bytes]] = []
    position = 0
    for match in _ENCODED_WORD.finditer(text):
        gap = text[position : match.start()]
        if gap and not (run and gap.isspace()):
            pieces.append(_decode_run(run, where, defects))
            pieces.append(gap)
            run = []
        charset = match.group(1).split("*", 1)[0]  # RFC 2231 language suffix
        run.append((charset, _word_bytes(match.group(2), match.group(3))))
        position = match.end()
    pieces.append(_decode_run(run, where, defects))
    pieces.append(text[position:])
    return "".join(pieces)


def _decode_run(run: list[tuple[str, bytes]], where: str, defects: list[str]) -> str:
    texts: list[str] = []
    index = 0
    while index < len(run):
        charset, data = run[index]
        index += 1
        while index < len(run) and run[index][0].lower() == charset.lower():
            data += run[index][1]
            index += 1
        texts.append(_decode_text(data, charset, where, defects))
    return "".join(texts)


def _header_text(value: object, where: str, defects: list[str]) -> str:
    text = _decode_words(_raw_header_text(value, where, defects), where, defects)
    return _CONTROL.sub(" ", text).strip()


def _decoded_headers(message: Message, defects: list[str]) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        key = name.lower()
        headers.setdefault(key, []).append(_header_text(value, f"header {key}", defects))
    return headers


def _raw_values(message: Message, name: str) -> list[str]:
    return [str(value) for key, value in message.raw_items() if key.lower() == name]


def _addresses(message: Message, name: str, defects: list[str]) -> list[Address]:
    """Addresses of every ``name`` header, without duplicates, in order."""
    where = f"header {name}"
    found: dict[str, Address] = {}
    for raw in _raw_values(message, name):
        for display, address in _address_pairs(
            _raw_header_text(raw, where, defects), where, defects
        ):
            address = address.strip().lower()
            if address not in found:
                found[address] = Address(name=_CONTROL.sub(" ", display).strip(), address=address)
    return list(found.values())


def _address_pairs(text: str, where: str, defects: list[str]) -> list[tuple[str, str]]:
    """(decoded display name, address) pairs; structure is parsed before names are decoded.

    Only when that finds no address at all is the decoded text parsed, for senders that encode
    the whole mailbox (``=?unknown-8bit?q?=22x=22_=3Cx=40example.com=3E?=``).
    """
    pairs = [
        (_decode_words(display, where, defects), address)
        for display, address in get_addresses(text, decode_names=False)
        if address.strip()
    ]
    if pairs or "=?" not in text:
        return pairs
    decoded = _decode_words(text, where, defects)
    pairs = [pair for pair in get_addresses(decoded, decode_names=False) if pair[1].strip()]
    if pairs:
        defects.append(f"{where}: address found only inside an encoded word")
    return pairs


# --- message ids and dates ---

_ANGLE_ID = re.compile(r"<([^<>]*)>")
_DEDUPE_ID = re.compile(r"<[^\s<>@]+@[^\s<>@]+>")


def _message_ids(value: str) -> list[str]:
    """``<id>`` tokens in order, without duplicates; bare ``id@host`` tokens are bracketed."""
    tokens = [re.sub(r"\s+", "", token) for token in _ANGLE_ID.findall(value)]
    if not tokens:
        tokens = [token for token in re.split(r"[\s,]+", value) if "@" in token]
    return list(dict.fromkeys(f"<{token}>" for token in tokens if token))


def _parse_date(value: str, fallback: dt.datetime | None, defects: list[str]) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed: dt.datetime | None = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed = fallback  # mail-parser's own recovery (UTC)
    if parsed is None:
        defects.append(f"unparsable Date header {_shorten(value)!r}")
        return None
    if not dt.MINYEAR < parsed.year < dt.MAXYEAR:  # in no time zone may it overflow
        defects.append(f"Date header out of range {_shorten(value)!r}")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# --- automatic mail (RFC 3834) ---

_LIST_AND_AUTOREPLY_HEADERS = (
    "List-Id",
    "List-Unsubscribe",
    "X-Autoreply",
    "X-Autorespond",
    "X-Auto-Response-Suppress",
    "X-Autogenerated",
    "X-AutoReply-From",
)
_DAEMON_LOCAL_PARTS = frozenset({"mailer-daemon", "postmaster"})
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list"})
# Only the fixed prefixes auto-responders and bounce generators write, each with its own
# separator, so that "Out of office party" or "Auto (fleet) request" from a human stay human.
_AUTOMATIC_SUBJECT = re.compile(
    r"\s*(?:(自动回复|自动答复|退信|automatic reply|autoreply|auto|out of office(?: autoreply)?"
    r"|undeliverable)\s*[:：]|(系统退信)\s*[:：/]|(delivery status notification)\s*(?:\(|$))",
    re.IGNORECASE,
)


def _first_token(value: str) -> str:
    return re.split(r"[\s;(]", value.strip().lower(), maxsplit=1)[0]


def _automatic_reason(
    headers: dict[str, list[str]], sender: Address | None, content_type: str
) -> str:
    """Why the message is automatic mail, or "" (header evidence first, subject last)."""

    def first(name: str) -> str:
        return headers.get(name, [""])[0]

    if "auto-submitted" in headers and _first_token(first("auto-submitted")) != "no":
        return f"Auto-Submitted: {first('auto-submitted') or '(empty)'}"
    if "return-path" in headers and re.fullmatch(r"<\s*>", first("return-path").strip()):
        return "Return-Path: <> (null sender)"
    local_part = sender.address.rsplit("@", 1)[0] if sender else ""
    if local_part in _DAEMON_LOCAL_PARTS:
        return f"From: {local_part}"
    if _first_token(first("precedence")) in _BULK_PRECEDENCE:
        return f"Precedence: {_first_token(first('precedence'))}"
    for name in _LIST_AND_AUTOREPLY_HEADERS:
        if name.lower() in headers:
            return f"{name} header present"
    if content_type == "multipart/report":
        return "multipart/report (delivery status report)"
    match = _AUTOMATIC_SUBJECT.match(first("subject"))
    return f"Subject starts with {match.group(match.lastindex or 0)!r}" if match else ""


# --- attachments ---

_FILENAME_PARAMS = (("content-disposition", "filename"), ("content-type", "name"))
# What mail-parser names an unnamed attachment (random letters; see mailparser.utils).
_RANDOM_NAME = re.compile(r"[a-z]{10}\.(?:rtf|txt)")
_DEFAULT_EXTENSIONS = {
    "text/calendar": ".ics",
    "text/plain": ".txt",
    "text/html": ".html",
    "message/rfc822": ".eml",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "application/pdf": ".pdf",
}
_WINDOWS_RESERVED = frozenset(
    {
        "con",
        "prn",
        "aux",
        "nul",
        *(f"com{i}" for i in range(1, 10)),
        *(f"lpt{i}" for i in range(1, 10)),
    }
)
_FORBIDDEN_FILENAME_CHARS = frozenset('/\\:*?"<>|')
# control, format (bidi overrides, zero-width), surrogate, line and paragraph separators
_FORBIDDEN_FILENAME_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_EDGE_DOTS_AND_SPACES = re.compile(r"^[\s.]+|[\s.]+$")
_MAX_FILENAME = 150
_MAX_EXTENSION = 16


def sanitize_filename(name: str) -> str:
    """A file name safe on any disk: no directories, control or reserved characters or names.

    Keeps Chinese (any letters); at most 150 characters with the extension kept; never empty.
    """
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(
        ch
        for ch in name
        if ch not in _FORBIDDEN_FILENAME_CHARS
        and unicodedata.category(ch) not in _FORBIDDEN_FILENAME_CATEGORIES
    )
    name = _EDGE_DOTS_AND_SPACES.sub("", name)
    if name.split(".", 1)[0].strip().lower() in _WINDOWS_RESERVED:
        name = "_" + name
    if len(name) > _MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= _MAX_EXTENSION:
            name = stem[: _MAX_FILENAME - len(extension) - 1] + "." + extension
        else:
            name = name[:_MAX_FILENAME]
        name = _EDGE_DOTS_AND_SPACES.sub("", name)
    return name or "attachment"


def _default_filename(content_type: str) -> str:
    extension = _DEFAULT_EXTENSIONS.get(content_type)
    if extension is None:
        extension = ".txt" if content_type.startswith("text/") else ".bin"
    return "attachment" + extension


def _decode_param(value: str | tuple[str, str, str], where: str, defects: list[str]) -> str:
    if isinstance(value, tuple):  # RFC 2231: (charset, language, %-decoded octets as latin-1)
        charset, _language, text = value
        try:
            data = text.encode("latin-1")
        except UnicodeEncodeError:  # raw 8-bit text next to %-escapes: already decoded
            return text.strip()
        return _decode_text(data, charset or None, where, defects).strip()
    return _decode_words(value, where, defects).strip()


class _Message(Message):
    """A message as the email package builds it, made safe for what it does next.

    Header values are cut at :data:`_MAX_HEADER` (:data:`_MAX_PARAM_HEADER` for those with
    parameters) as they are parsed, since the email package and mail-parser take quadratic time
    on some long ones (parameters, encoded words); and a broken boundary parameter reads as
    none instead of raising (``_prepare_part`` repairs the header afterwards).
    """

    cut_headers: tuple[str, ...] = ()

    def set_raw(self, name: str, value: str) -> None:
        limit = _MAX_PARAM_HEADER if name.lower() in _PARAM_HEADERS else _MAX_HEADER
        if isinstance(value, str) and len(value) > limit:
            value = value[:limit]
            self.cut_headers = (*self.cut_headers, name.lower())
        super().set_raw(name, value)

    def get_boundary(self, failobj=None):  # type: ignore[no-untyped-def]
        try:
            return super().get_boundary(failobj)
        except (TypeError, ValueError):  # see _broken_params
            return failobj


_PARAM_HEADERS = frozenset({"content-type", "content-disposition"})
_MAX_HEADER = 64 * 1024
_MAX_PARAM_HEADER = 8 * 1024
_MAX_PARTS = 1000


def _broken_params(value: str) -> bool:
    """Parameters that make the email package raise wherever one is read (boundary, charset,
    file name): one written both continued and not (``name*0*=…; name*=…``), or an RFC 2231
    charset Python cannot even look up (a NUL in it)."""
    view = Message()
    view["x"] = value
    try:
        params = view.get_params(header="x") or []
        for _name, param in params:
            if isinstance(param, tuple) and param[0]:
                with contextlib.suppress(LookupError):  # the email package handles that one
                    str(b"", param[0])
    except (TypeError, ValueError):
        return True
    return False


def _without_extended_params(value: str) -> str:
    """``value`` without its RFC 2231 parameters (``name*=``, ``name*0*=``, ...)."""
    main, *params = _split_params(value)
    return ";".join([main, *(p for p in params if "*" not in p.split("=", 1)[0])])


def _declared_filename(part: Message, defects: list[str]) -> tuple[str, str, str] | None:
    """(header, parameter, decoded name) of the part's file name, read from the raw bytes."""
    for header, param in _FILENAME_PARAMS:
        raw = _raw_values(part, header)
        if not raw:
            continue
        view = Message()  # parameters parsed from decoded text, not from "?"-replaced bytes
        view[header] = _raw_header_text(raw[0], f"{header} {param}", defects)
        value = view.get_param(param, None, header)
        if value is not None:
            return header, param, _decode_param(value, f"{header} {param}", defects)
    return None


def _prepare_part(part: Message, defects: list[str]) -> None:
    """Rewrite what mail-parser would decode lossily, before it sees the part.

    gb2312/gbk/... labels become gb18030, and a non-ASCII file name is re-declared as RFC 2231
    UTF-8 (read from the raw bytes, whatever its charset label). Headers are edited as raw
    text: ``Message.set_param`` fails on values holding 8-bit bytes.
    """
    _rewrite_header(part, "content-type", lambda value: _CHARSET_PARAM.sub(_gb18030_label, value))
    for header in ("content-type", "content-disposition"):
        if any(_broken_params(value) for value in _raw_values(part, header)):
            defects.append(f"{header}: unreadable RFC 2231 parameters ignored")
            _rewrite_header(part, header, _without_extended_params)
    declared = _declared_filename(part, defects)
    if declared and not declared[2].isascii():
        header, param, filename = declared
        encoded = f"{param}*=utf-8''{urllib.parse.quote(filename, safe='')}"
        _rewrite_header(part, header, lambda value: _replace_param(value, param, encoded))


def _rewrite_header(part: Message, header: str, rewrite: Callable[[str], str]) -> None:
    """Replace the raw value of every ``header`` of ``part`` by ``rewrite(value)``."""
    items = [(name, str(value)) for name, value in part.raw_items() if name.lower() == header]
    rewritten = [(name, rewrite(value)) for name, value in items]
    if rewritten == items:
        return
    if len(items) == 1:
        part.replace_header(*rewritten[0])  # keeps the header in its place
        return
    del part[header]
    for name, value in rewritten:
        part[name] = value


def _replace_param(value: str, param: str, replacement: str) -> str:
    """``value`` with every form of ``param`` (plain, RFC 2231, continued) replaced."""
    main, *params = _split_params(value)
    same = re.compile(rf"\s*{param}(?:\*\d+)?\*?\s*=", re.IGNORECASE)
    return ";".join([main, f" {replacement}", *(p for p in params if not same.match(p))])


def _split_params(value: str) -> list[str]:
    """A header value split at the semicolons outside quoted strings."""
    pieces: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            pieces.append("".join(current))
            current = []
            continue
        current.append(ch)
    pieces.append("".join(current))
    return pieces


def _gb18030_label(match: re.Match[str]) -> str:
    prefix, open_quote, label, close_quote = match.groups()
    if label.lower() in _GB18030_LABELS:
        label = "gb18030"
    return f"{prefix}{open_quote}{label}{close_quote}"


def _parts_inside_attachments(message: Message) -> set[Message]:
    """Parts of attached containers (a forwarded .eml): not this message's body text."""
    inside: set[Message] = set()
    for part in message.walk():
        if not part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        attached = disposition not in (None, "inline") or (
            disposition != "inline" and bool(part.get_filename())
        )
        if part is not message and (attached or part in inside):
            inside.update(part.get_payload())
    return inside


def _attachments(parser: _StrictMailParser, raw: bytes) -> list[Attachment]:
    attachments = []
    for item in parser.attachments:
        payload = item["payload"]
        data = (
            decode_base64_payload(payload)
            if item["binary"]
            else payload.encode("utf-8", "surrogateescape")
        )
        filename = item["filename"]
        if _RANDOM_NAME.fullmatch(filename) and filename.encode() not in raw:
            filename = _default_filename(item["mail_content_type"])  # not mail-parser's random one
        attachments.append(Attachment(sanitize_filename(filename), item["mail_content_type"], data))
    for part in parser.other_parts:
        content_type = part.get_content_type()
        data = part.get_payload(decode=True)
        attachments.append(
            Attachment(
                _default_filename(content_type),
                content_type,
                data if isinstance(data, bytes) else b"",
            )
        )
    return attachments


# --- mail-parser ---


class _StrictMailParser(MailParser):
    """mail-parser whose body text is never decoded with a silent replacement."""

    def __init__(self, message: Message, inside_attachments: set[Message]) -> None:
        self._inside_attachments = inside_attachments
        self._other_parts: list[Message] = []
        self._charset_defects: list[str] = []
        super().__init__(message)

    @property
    def other_parts(self) -> list[Message]:
        """Unnamed body parts that are neither text/plain nor text/html (text/calendar, ...)."""
        return self._other_parts

    @property
    def charset_defects(self) -> list[str]:
        return self._charset_defects

    def _decode_body_payload(self, part: Message, charset: str, part_index: int) -> str:
        # ``charset`` is mail-parser's guess ("utf-8" when none is declared); the part's own
        # declaration decides here, so that undeclared 8-bit text may still be gb18030.
        if part in self._inside_attachments:
            return ""
        if part.get_content_type() not in ("text/plain", "text/html"):
            self._other_parts.append(part)
            return ""
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        where = f"part {part_index}"
        text = _decode_text(data, _declared_charset(part), where, self._charset_defects)
        return text.removeprefix("\ufeff")


_B_WORD = re.compile(r"=\?([^?\s]+)\?[bB]\?([^?\s]*)\?=")


def _avoid_mail_parser_crashes(message: Message) -> None:
    """Work around mail-parser 4.8 crashing on two kinds of broken mail.

    It searches the top-level epilogue whenever any part lost its start boundary (None when
    the close boundary is missing too: a cut-off message), and it lets the base64 error of an
    encoded word in an address header escape. Neither edit changes what this module reads.
    """
    if message.is_multipart() and message.epilogue is None:
        message.epilogue = ""
    for header in ADDRESSES_HEADERS:
        _rewrite_header(message, header, lambda value: _B_WORD.sub(_complete_b_word, value))


def _complete_b_word(match: re.Match[str]) -> str:
    payload = re.sub(r"[^A-Za-z0-9+/]", "", match.group(2))
    if len(payload) % 4 == 1:
        payload = payload[:-1]  # a lone sextet carries no byte (as decode_base64_payload)
    return f"=?{match.group(1)}?B?{payload}?="


def _run_mail_parser(message: Message) -> _StrictMailParser:
    _avoid_mail_parser_crashes(message)
    try:
        return _StrictMailParser(message, _parts_inside_attachments(message))
    except RecursionError as exc:
        raise ParseError("message is nested too deeply to parse") from exc
    except Exception as exc:  # mail-parser's failure is the message's, not the daemon's
        raise ParseError(f"mail-parser failed: {type(exc).__name__}: {exc}") from exc


def _flatten_defects(groups: Iterable[dict[str, list[str]]]) -> list[str]:
    return [
        _shorten(f"{key}: {item}")
        for group in groups
        for key, items in group.items()
        for item in items
    ]


def _shorten(text: str, limit: int = 200) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- raw input ---

_HEADER_LINE = re.compile(rb"(?:From |[\x21-\x39\x3b-\x7e]+:|[ \t])")
_JUNK_SCAN_LIMIT = 64 * 1024
_UTF8_BOM = b"\xef\xbb\xbf"


def _skip_leading_junk(raw: bytes, defects: list[str]) -> bytes:
    """Drop a UTF-8 BOM and any non-header lines before the first header line."""
    data = raw
    if data.startswith(_UTF8_BOM):
        data = data.removeprefix(_UTF8_BOM)
        defects.append("UTF-8 byte order mark before the headers removed")
    if not data or data[:1] in b"\r\n" or _HEADER_LINE.match(data):
        return data
    start = 0
    for line in data[:_JUNK_SCAN_LIMIT].splitlines(keepends=True):
        if re.match(rb"[A-Za-z0-9-]+:", line):
            defects.append(f"skipped {start} bytes of text before the first header line")
            return data[start:]
        start += len(line)
    return data


# --- body text ---

_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "body",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "html",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "ul",
    }
)
_SKIPPED_TAGS = frozenset({"head", "script", "style", "title", "noscript", "template"})
_MAX_HTML_DEPTH = 150  # element levels rendered with structure; deeper ones as plain text
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")  # not U+00A0: &nbsp; is content


class _TextRenderer:
    """Walks an lxml tree into plain-text lines (see :func:`html_to_text`)."""

    def __init__(self, depth: int = 0) -> None:
        self.lines: list[str] = []
        self._inline: list[str] = []
        self._depth = depth

    def render_children(self, element: etree._Element) -> list[str]:
        self._children(element)
        self._flush()
        return _collapse_blank_lines(self.lines)

    def _children(self, element: etree._Element) -> None:
        if element.text:
            self._inline.append(element.text)
        self._depth += 1
        for child in element:
            self._element(child)
            if child.tail:
                self._inline.append(child.tail)
        self._depth -= 1

    def _element(self, element: etree._Element) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if not tag or tag in _SKIPPED_TAGS:
            return  # comments, processing instructions, scripts, styles
        if self._depth > _MAX_HTML_DEPTH:
            self._inline.append(element.text_content())  # flat, but no stack overflow
        elif tag == "br":
            self._line_break()
        elif tag == "blockquote":
            self._blockquote(element)
        elif tag == "tr":
            self._table_row(element)
        elif tag == "pre":
            self._flush()
            self.lines.extend(
                line.rstrip().replace("\xa0", " ") for line in element.text_content().splitlines()
            )
        elif tag in _BLOCK_TAGS:
            self._flush()
            self._children(element)
            self._flush()
        else:
            self._children(element)

    def _inline_text(self) -> str:
        text = _HTML_SPACE.sub(" ", "".join(self._inline))
        self._inline = []
        return text

    def _flush(self) -> None:
        """End a block: emit pending inline text; "" for a block holding only &nbsp;."""
        text = self._inline_text()
        if text.strip(" "):
            self.lines.append(text.replace("\xa0", " ").strip())

    def _line_break(self) -> None:
        self.lines.append(self._inline_text().replace("\xa0", " ").strip())

    def _blockquote(self, element: etree._Element) -> None:
        self._flush()
        quoted = _TextRenderer(self._depth).render_children(element)
        self.lines.extend(("> " + line).rstrip() for line in quoted)

    def _table_row(self, row: etree._Element) -> None:
        self._flush()
        cells = [
            _TextRenderer(self._depth).render_children(cell)
            for cell in row
            if cell.tag in ("td", "th")
        ]
        if all(len(cell) <= 1 for cell in cells):
            line = "\t".join(cell[0] if cell else "" for cell in cells).rstrip("\t")
            if line.strip():
                self.lines.append(line)
        else:  # a layout table: keep each cell's own lines
            for cell in cells:
                self.lines.extend(cell)


def _collapse_blank_lines(lines: list[str]) -> list[str]:
    collapsed: list[str] = []
    for line in lines:
        if line or (collapsed and collapsed[-1]):
            collapsed.append(line)
    while collapsed and not collapsed[-1]:
        collapsed.pop()
    return collapsed


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML body.

    Block elements end lines, ``<br>`` breaks one, a table row becomes one line with its cells
    joined by a tab, ``<blockquote>`` lines are prefixed with ``"> "`` (``">"`` when blank),
    scripts and styles are dropped, entities decoded (``&nbsp;`` as a space) and runs of blank
    lines collapsed. Text-only quote markers such as QQ Mail's and Foxmail's
    ``------------------ 原始邮件 ------------------`` stay as their own line.
    """
    parser = lxml.html.HTMLParser(encoding="utf-8", huge_tree=True)
    try:
        root = lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, ValueError):
        return ""  # nothing but whitespace or comments
    return "\n".join(_TextRenderer().render_children(root))


def _normalise_newlines(text: str) -> str:
    return re.sub(r"\r\n?", "\n", text)


def _body_text(plain: list[str], html: list[str]) -> str:
    text = _normalise_newlines("\n".join(plain))
    if text.strip() or not html:
        return text
    return "\n".join(filter(None, (html_to_text(part) for part in html)))


# --- entry point ---


def parse_message(raw: bytes) -> ParsedMail:
    """Parse one message; raises :class:`ParseError` only when nothing can be made of it."""
    try:
        return _parse(raw)
    except RecursionError as exc:
        raise ParseError("message is nested too deeply to parse") from exc


def _parse(raw: bytes) -> ParsedMail:
    if not raw.strip():
        raise ParseError("empty message")
    defects: list[str] = []
    message = email.message_from_bytes(_skip_leading_junk(raw, defects), _class=_Message)
    headers = _decoded_headers(message, defects)  # as written, before _prepare_part
    parts = list(message.walk())
    if len(parts) > _MAX_PARTS:  # each costs the email package and mail-parser ~0.1 ms
        raise ParseError(f"message has {len(parts)} MIME parts, more than {_MAX_PARTS}")
    for part in parts:
        defects.extend(f"header {name}: too long, cut" for name in getattr(part, "cut_headers", ()))
        _prepare_part(part, defects)
    parser = _run_mail_parser(message)
    defects.extend(_flatten_defects(parser.defects))
    defects.extend(parser.charset_defects)

    sender = _sender(message, headers, defects)
    message_id, dedupe_key = _identity(raw, headers, defects)
    mail = ParsedMail(
        message_id=message_id,
        dedupe_key=dedupe_key,
        subject=headers.get("subject", [""])[0],
        sender=sender,
        to=_addresses(message, "to", defects),
        cc=_addresses(message, "cc", defects),
        reply_to=_addresses(message, "reply-to", defects),
        in_reply_to=_message_ids(" ".join(headers.get("in-reply-to", []))),
        references=_message_ids(" ".join(headers.get("references", []))),
        date=_parse_date(headers.get("date", [""])[0], parser.date, defects),
        text=_body_text(parser.text_plain, parser.text_html),
        html="\n".join(parser.text_html),
        attachments=_attachments(parser, raw),
        headers=headers,
        automatic=_automatic_reason(headers, sender, message.get_content_type()),
        size=len(raw),
    )
    mail.defects = list(dict.fromkeys(defects))
    return mail


def _sender(message: Message, headers: dict[str, list[str]], defects: list[str]) -> Address | None:
    senders = _addresses(message, "from", defects)
    if senders:
        return senders[0]
    if "from" in headers:
        defects.append(f"no valid address in From {_shorten(headers['from'][0])!r}")
    else:
        defects.append("no From header")
    return None


def _identity(raw: bytes, headers: dict[str, list[str]], defects: list[str]) -> tuple[str, str]:
    """(message_id, dedupe_key): the Message-ID when usable, else a hash of the raw bytes."""
    written = headers.get("message-id", [""])[0]
    ids = _message_ids(written)
    message_id = ids[0] if ids else ""
    if _DEDUPE_ID.fullmatch(message_id):
        return message_id, "mid:" + message_id
    if "message-id" in headers:
        defects.append(f"unusable Message-ID {_shorten(written)!r}; deduplicating by content hash")
    return message_id, "sha256:" + hashlib.sha256(raw).hexdigest()
