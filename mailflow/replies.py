"""A reply mail's own text: what the sender wrote, apart from quotes and signatures.

Pure (no database, network or configuration). Input is decoded plain text, or the text of an
HTML-only mail in which ``<blockquote>`` lines carry "> ". Lines are read top to bottom:

* ``>`` / ``＞`` lines are quoted; own text between quoted blocks (inline replies) is kept.
* A quote header ("On … wrote:", "在 … 写道：", "Am … schrieb …:", "<date> X <address>:", also
  wrapped over lines) is elided with the quote below it; with no ``>`` lines below, everything
  from it on is the quoted mail, as below an "-----原始邮件-----" / "-----Original Message-----"
  marker or an Outlook header block ("发件人: / 发送时间: / 收件人: / 主题:", "From: / Sent:" …).
* Signatures: "-- " and "__" lines, "Sent from my iPhone" / "发自我的iPhone" lines, a final
  "-Name", and other rule lines ("---") only above a few short non-prose lines (name, phone).

Quoted text never counts as the sender's, even at the top: a mail that only quotes or forwards
has an empty ``reply``. Linear in the input: header patterns look at few lines of bounded length.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_REPLY, _QUOTED, _SIGNATURE = _KINDS = ("r", "q", "s")  # labels of lines, in ReplyParts order
_MAX_HEADER = 400  # longest line (or wrapped header) considered as a quote header
_MAX_SHORT = 150  # longest line considered as a mobile signature or a marker
_BLOCK_LINES = 10  # lines searched for the fields of an Outlook header block
_WRAP_WIDTH = 60  # a quoted line this long may have been wrapped without a new ">"
_SIGNATURE_LINES = 6  # a rule line starts a signature only above this many lines or fewer
_HEADER_CORE = 3  # adjacent lines of a wrapped quote header ("X <x@y>" / "wrote:")
_HEADER_ABOVE = 5  # lines above them where its "On <date>, …" start may be

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BLANK = re.compile(r"[\s\u200b-\u200d\u2060\ufeff]*")
_QUOTE = re.compile(r"[ \t\u3000]*[>＞]")
_FENCE = re.compile(r"[ \t]*(?:```|~~~)")
_SIG_DELIMITER = re.compile(r"[ \t]*(?:--|_{2,})[ \t]*")
_RULE = re.compile(r"[ \t]*(?:[-=_*~#+—－＝＿]{2,}|ᐧ)[ \t]*")
_DASH_NAME = re.compile(r"[ \t]*-[A-Z][a-z.'-]+(?: [A-Z][a-z.'-]*){1,2}[ \t]*")  # "-Jane Doe"
_PROSE_END = re.compile(r"(?:[^\W\d_]\.|[!?。！？…])\s*$")
_CJK_PROSE = re.compile(r"[。！？；，]")
_LETTER = re.compile(r"[^\W\d_]")
_LINK = re.compile(r"<(?:https?|mailto):[^<>\s]*>|\[([^\]]*)\]\([^)]*\)|https?://\S+")

_DATE = re.compile(
    r"(?:19|20)\d\d|(?<!\d)\d{1,2}[:.]\d\d(?!\d)"
    r"|\b(?:mon|tue|wed|thu|fri|sat|sun|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+\d",
    re.I,
)
_TIME = re.compile(r"(?<!\d)\d{1,2}[:.]\d\d(?!\d)")
_LATIN_VERBS = (
    r"wrote|writes|schrieb|geschreven|schreef|a\s+[ée]crit|ha\s+scritto|escribi[óo]|escreveu"
    r"|napisa[łl](?:\(a\)|a)?|пише|написал(?:\(а\)|а)?|kirjoitti|skrev|skriver|írta|yazdı"
)
_VERB_END = re.compile(
    rf"(?:(?<![^\W\d_])(?:{_LATIN_VERBS})|写道|寫道|写入|寫入|書きました|작성)"
    r"(?:\s+am\s[^:：]{1,60})?\s*[:：]?[\s-]*$",
    re.I,
)
_ADDRESS_COLON_END = re.compile(r"@[^\s<>()]*\s*[>)]*\s*[:：]\s*$")
_ISO_GMT = re.compile(r"\s*\d{4}-\d\d-\d\d \d{1,2}:\d\d GMT[+-]\d")
_ON_WORD = re.compile(
    r"[\s-]*(?:(?:on|at|le|am|op|el|il|in data|em|den|dnia|w dniu|dne)(?![^\W\d_])|在|于|於)",
    re.I,
)
_CONTINUATION = re.compile(r"\s*(?:[>＞]|mailto:|[^<(\s]*@[^<>()\s]*[>)])", re.I)

_MARKER_TEXT = (
    "original message,original email,original e-mail,forwarded message,begin forwarded message,"
    "reply message,message d'origine,message original,message transféré,"
    "début du message réexpédié,ursprüngliche nachricht,weitergeleitete nachricht,"
    "anfang der weitergeleiteten nachricht,mensaje original,mensaje reenviado,"
    "messaggio originale,messaggio inoltrato,mensagem original,mensagem encaminhada,"
    "oorspronkelijk bericht,origineel bericht,doorgestuurd bericht,oprindelig meddelelse,"
    "oprindelig besked,videresendt meddelelse,opprinnelig melding,videresendt melding,"
    "ursprungligt meddelande,vidarebefordrat meddelande,alkuperäinen viesti,wiadomość oryginalna,"
    "oryginalna wiadomość,przekazana wiadomość,исходное сообщение,пересылаемое сообщение,"
    "переслане повідомлення,元のメッセージ,転送されたメッセージ,原始邮件,原始郵件,邮件原件,"
    "原邮件,回复的原邮件,转发邮件信息,转发的邮件,开始转发的邮件,轉寄的郵件,開始轉寄郵件"
)
_MARKERS = frozenset(_MARKER_TEXT.split(","))
_BARE_MARKERS = frozenset(("original", "原始", "reply"))  # only between rules: "--- Original ---"
_DECORATION = "-=_*~ \t\u00a0\u3000:："

_FIELD_LABELS = {
    "from": "from,发件人,發件人,寄件者,寄件人,de,von,van,da,od,fra,från,frá,от,від,差出人,"
    "lähettäjä,kimden,feladó,mittente,remitente,afsender,avsender",
    "date": "sent,date,发送时间,發送時間,时间,時間,日期,发送日期,發送日期,寄件日期,envoyé,envoyé le,"
    "gesendet,datum,verzonden,inviato,data,enviado,enviada,fecha,wysłano,sendt,skickat,dato,"
    "отправлено,дата,надіслано,送信日時,日付,lähetetty,päivämäärä,tarih,dátum,message du",
    "to": "to,至,收件人,收件者,à,a,an,aan,para,do,til,till,кому,宛先,vastaanottaja,kime,címzett",
    "cc": "cc,抄送,抄送人,副本,copie à,kopie,kopie an,kopia,копия,dw",
    "subject": "subject,主题,主題,主旨,标题,標題,objet,sujet,betreff,onderwerp,oggetto,asunto,"
    "assunto,temat,emne,ämne,тема,件名,aihe,konu,tárgy",
    "reply-to": "reply-to,risposta,antwort an",
}
_FIELD_GROUP = {
    label: group for group, labels in _FIELD_LABELS.items() for label in labels.split(",")
}
_FIELD = re.compile(
    r"[ \t]*(?:\|[ \t]*)?\*{0,2}[ \t]*("
    + "|".join(sorted(map(re.escape, _FIELD_GROUP), key=len, reverse=True))
    + r")[ \t]*\*{0,2}[ \t]*(?:[:：]|\|)",
    re.I,
)

_DEVICES = (
    r"iphone|ipad|ipod|android|安卓|手机|手機|邮箱|郵箱|outlook|mail|平板|大师|客户端|华为|華為|小米"
    r"|荣耀|oppo|vivo|三星|windows|mobile|phone|blackberry|typeapp"
)
_MOBILE = re.compile(
    r"[(<\s]*(?:"
    rf"sent (?:from|with|via|using) (?:my [^,.]{{1,40}}|[^,.]{{0,30}}(?:{_DEVICES})[^,.]{{0,20}})"
    r"(?:, please excuse.*)?"
    r"|get outlook for (?:ios|android).*|(?:获取|下载|下載)\s*outlook\s*for\s*(?:ios|android).*"
    r"|envoy[ée] (?:de|depuis|à partir de|avec) .{1,60}"
    r"|von meinem .{1,40} gesendet\.?|gesendet (?:von|mit|vom) .{1,60}"
    r"|diese nachricht wurde von meinem .{1,80} gesendet\.?"
    r"|(?:verzonden|verstuurd) (?:met|vanaf|van) .{1,60}"
    r"|enviado (?:desde|do|de|a partir do) .{1,60}|inviato da(?:l mio)? .{1,60}"
    r"|sendt fra .{1,60}|skickat från .{1,60}|wysłane z .{1,60}|отправлено (?:с|из) .{1,60}"
    r"|.{1,30}から送信"
    rf"|(?:发自|發自|来自|來自|寄自|发送自)\s*[^，。！？]{{0,20}}(?:{_DEVICES})[^，。！？]{{0,15}}"
    rf"|(?:从|從)\s*[^，。！？]{{0,20}}(?:{_DEVICES})[^，。！？]{{0,15}}(?:发送|傳送|發送)"
    r")[)>\s]*",
    re.I,
)


@dataclass(frozen=True)
class ReplyParts:
    reply: str  # what the sender wrote in this mail
    quoted: str  # quote headers, quoted and forwarded text
    signature: str  # the removed signature


def visible_reply(text: str) -> str:
    """The text the sender wrote in this mail (see :func:`split_reply`)."""
    return split_reply(text).reply


def split_reply(text: str) -> ReplyParts:
    """Split a mail body into the sender's own text, the quoted part and the signature."""
    mail = _Mail(text)
    labels = _label(mail)
    return ReplyParts(*(_collect(mail.lines, labels, kind) for kind in _KINDS))


class _Mail:
    """The lines of a mail body, with look-ups computed once (quote headers lazily, in order)."""

    def __init__(self, text: str) -> None:
        self.lines = _LINE_BREAK.split(text.lstrip("\ufeff"))
        self.after = self._next_table(_is_blank)  # next non-blank line
        self.content = self._next_table(lambda line: _is_blank(line) or _RULE.fullmatch(line))
        self.fenced = _fenced_lines(self.lines)  # inside ``` code blocks: never trimmed
        self._headers: dict[int, int] = {}  # first line -> last line of a quote header
        self._examined = self._last_end = -1

    def _next_table(self, skip: Callable[[str], object]) -> list[int]:
        """``table[k]``: the first line at or after ``k`` not skipped (``len(lines)``: none)."""
        table = [len(self.lines)] * (len(self.lines) + 1)
        for k in range(len(self.lines) - 1, -1, -1):
            table[k] = table[k + 1] if skip(self.lines[k]) else k
        return table

    def header_end(self, start: int) -> int | None:
        """Last line of the quote header ("On … wrote:") that starts on line ``start``."""
        while self._examined < min(start + _HEADER_CORE + _HEADER_ABOVE, len(self.lines) - 1):
            self._examined += 1
            first = _header_start(self.lines, self._examined)
            if first is not None and first > self._last_end:
                self._headers[first] = self._last_end = self._examined
        return self._headers.get(start)

    def quote_start(self, k: int) -> bool:
        """Line ``k`` starts quoted text; the end of the mail counts as one."""
        if k >= len(self.lines):
            return True
        return (
            _is_quote(self.lines, k) or self.header_end(k) is not None or _block_at(self.lines, k)
        )


def _label(mail: _Mail) -> list[str]:
    """Each line's kind, top to bottom: a marker, header block or signature ends the reply."""
    lines = mail.lines
    labels = [_REPLY] * len(lines)
    i = 0
    while i < len(lines):
        line, end = lines[i], mail.header_end(i)
        if i in mail.fenced or _is_blank(line):
            pass
        elif end is not None and _is_quote(lines, mail.after[end + 1]):
            labels[i : end + 1] = [_QUOTED] * (end + 1 - i)
            i = end
        elif _is_quote(lines, i) or _is_wrapped_quote(lines, i):
            labels[i] = _QUOTED
        elif end is not None or _block_at(lines, i):
            return labels[:i] + [_QUOTED] * (len(lines) - i)
        elif _RULE.fullmatch(line) and mail.quote_start(mail.after[i + 1]):
            labels[i] = _QUOTED
        elif _starts_signature(mail, i):
            stop = next(k for k in range(i, len(lines) + 1) if mail.quote_start(k))
            return labels[:i] + [_SIGNATURE] * (stop - i) + [_QUOTED] * (len(lines) - stop)
        i += 1
    return labels


def _collect(lines: list[str], labels: list[str], kind: str) -> str:
    """Lines labelled ``kind``; runs separated by other text are joined by one blank line."""
    runs: list[list[str]] = [[]]
    for line, label in zip(lines, labels, strict=True):
        if label == kind or _is_blank(line):
            runs[-1].append(line)
        elif runs[-1]:
            runs.append([])
    texts = ("\n".join(_strip_blank_lines(run)) for run in runs)
    return "\n\n".join(text for text in texts if text)


def _strip_blank_lines(run: list[str]) -> list[str]:
    kept = [k for k, line in enumerate(run) if not _is_blank(line)]
    return run[kept[0] : kept[-1] + 1] if kept else []


def _fenced_lines(lines: list[str]) -> set[int]:
    """Lines of closed ``` blocks (an unclosed fence protects nothing)."""
    fences = [k for k, line in enumerate(lines) if _FENCE.match(line)]
    pairs = zip(fences[::2], fences[1::2], strict=False)
    return {k for start, end in pairs for k in range(start, end + 1)}


def _is_blank(line: str) -> bool:
    return _BLANK.fullmatch(line) is not None


def _is_quote(lines: list[str], k: int) -> bool:
    return 0 <= k < len(lines) and _QUOTE.match(lines[k]) is not None


def _is_wrapped_quote(lines: list[str], i: int) -> bool:
    """A quoted line the sender's client wrapped without repeating ">" (between two quotes)."""
    return (
        _is_quote(lines, i - 1)
        and _is_quote(lines, i + 1)
        and len(lines[i - 1].rstrip()) >= _WRAP_WIDTH
    )


def _block_at(lines: list[str], i: int) -> bool:
    """An "original message" marker or an Outlook-style header block starts at line ``i``."""
    line = lines[i]
    return _is_marker(line) or (
        _field_group(line) in ("from", "date") and _is_header_block(lines[i : i + _BLOCK_LINES])
    )


def _is_marker(line: str) -> bool:
    if len(line) > _MAX_SHORT:
        return False
    core = line.replace("&nbsp;", " ").strip(_DECORATION)
    phrase = " ".join(core.split()).lower()
    return phrase in _MARKERS or (phrase in _BARE_MARKERS and line.lstrip()[:2] in ("--", "=="))


def _is_header_block(block: list[str]) -> bool:
    """From/Sent/To/Subject-like fields, with an address or a date: not just "X: y" text."""
    groups: set[str | None] = set()
    evidence: set[str] = set()
    for line in block:
        if _is_blank(line):
            break
        group = _field_group(line)
        groups.add(group)
        if "@" in line[:_MAX_HEADER]:
            evidence.add("address")
        if group == "date" and any(char.isdigit() for char in line[:_MAX_HEADER]):
            evidence.add("date")
    groups.discard(None)
    return "from" in groups and len(groups) + len(evidence) >= 4


def _field_group(line: str) -> str | None:
    match = _FIELD.match(line[:100])
    return _FIELD_GROUP[match.group(1).lower()] if match else None


def _starts_signature(mail: _Mail, i: int) -> bool:
    line, after = mail.lines[i], mail.after[i + 1]
    if _SIG_DELIMITER.fullmatch(line) or _is_mobile_signature(line):
        return True
    if _DASH_NAME.fullmatch(line):
        return mail.quote_start(after) or bool(_SIG_DELIMITER.fullmatch(mail.lines[after]))
    return bool(_RULE.fullmatch(line)) and _short_block_follows(mail, i + 1)


def _is_mobile_signature(line: str) -> bool:
    return len(line) <= _MAX_SHORT and bool(_MOBILE.fullmatch(_LINK.sub(r"\1", line)))


def _short_block_follows(mail: _Mail, start: int) -> bool:
    """A few short non-prose lines (name, title, phone) follow up to the quote or the end."""
    k = mail.content[start]
    for _ in range(_SIGNATURE_LINES + 1):
        if mail.quote_start(k):
            return True
        if _is_prose(mail.lines[k]):
            return False
        k = mail.content[k + 1]
    return False


def _is_prose(line: str) -> bool:
    text = line.strip()
    return bool(_CJK_PROSE.search(text)) or (len(text.split()) >= 6 and text[-1] in ".!?")


def _header_start(lines: list[str], end: int) -> int | None:
    """First line of the quote header ending on line ``end``, if that line can end one."""
    line = lines[end]
    if len(line) > _MAX_HEADER or not (
        line.rstrip().endswith((":", "：")) or _VERB_END.search(line) or _ISO_GMT.match(line)
    ):
        return None
    start = _shortest_header(lines, end)
    if start is None:
        return None
    if _CONTINUATION.match(lines[start]) or not _DATE.search(_joined(lines, start, end)):
        start = _extend_header(lines, start, end)
    return None if _is_quote(lines, start) else start


def _shortest_header(lines: list[str], end: int) -> int | None:
    """The nearest start of a header ending on ``end`` made of a few adjacent lines."""
    for start in range(end, max(end - _HEADER_CORE, -1), -1):
        line = lines[start]
        if _is_blank(line) or len(line) > _MAX_HEADER:
            return None
        if start < end and (_is_quote(lines, start) or _PROSE_END.search(line)):
            return None
        if _is_header(_joined(lines, start, end)):
            return start
    return None


def _extend_header(lines: list[str], start: int, end: int) -> int:
    """Move an incomplete header's start up to the line holding its date ("On <date>, …")."""
    best, contiguous = start, True
    for above in range(start - 1, max(start - 1 - _HEADER_ABOVE, -1), -1):
        line = lines[above]
        if _is_blank(line):
            contiguous = False
            continue
        if len(line) > _MAX_HEADER or _is_quote(lines, above) or _PROSE_END.search(line):
            break
        complete = _DATE.search(_joined(lines, above, start - 1)) and _is_header(
            _joined(lines, above, end)
        )
        if complete and (contiguous or _ON_WORD.match(line)):
            best = above
    return best


def _joined(lines: list[str], start: int, end: int) -> str:
    return " ".join(line.strip() for line in lines[start : end + 1] if not _is_blank(line))


def _is_header(text: str) -> bool:
    """ "<date or address> … wrote:", "<date with time> … <address>:" or "<ISO date> GMT+1 X"."""
    if len(text) > _MAX_HEADER:
        return False
    if _ISO_GMT.match(text):
        return True
    verb = _VERB_END.search(text)
    if verb:
        before = text[: verb.start()]
        return bool((_DATE.search(before) or "@" in before) and _LETTER.search(before))
    return bool(_ADDRESS_COLON_END.search(text) and _TIME.search(text))
