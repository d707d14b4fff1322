"""Action-item status updates that owners write in replies (stage 4, Template 3).

Pure: mail text in, :class:`StatusUpdate` and :class:`UpdateProblem` values out. Only the
sender's own text counts (:func:`mailflow.replies.visible_reply`); quoted mail never does.

An update is a line (continued on the next lines of its paragraph when it ends in a comma or
colon, or when they start with "原因" / "because" / a lower-case word) that starts with:

* item ids and a status: ``A12: 已完成``, ``A3、A4：进行中``, ``A12 delayed to 2026-12-20 because …``;
* a status label: ``状态：进行中`` / ``Status: in progress`` (no id: the item the mail is about);
* a bare status standing alone as a clause: ``已完成。``, ``延期至 2026-12-20，原因：…``.

Further items on the same line after a comma or semicolon are split off (``A12 已完成；A13 进行中``).
A delay needs a new date and a reason; when either is missing, or the date is impossible, the
line gives :class:`UpdateProblem` values and no update. Relative dates ("下周五", "next Friday",
"明天") count from the mail's date. Id-led lines with no status word ("A12 的截止日期来不及")
are not updates; with a colon after the id ("A12：差不多了") they are ``unknown_status``.
Full-width and half-width forms are read alike; the text handed back is the sender's own.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from mailflow.replies import visible_reply

__all__ = ["PROBLEM_CODES", "STATUSES", "StatusUpdate", "UpdateProblem", "read_updates"]

STATUSES = ("not_started", "in_progress", "done", "delayed")
PROBLEM_CODES = ("delay_without_reason", "delay_without_date", "bad_date", "unknown_status")


@dataclass(frozen=True)
class StatusUpdate:
    action: str | None  # "A12"; None: the item the mail is about
    status: str  # one of STATUSES
    new_due: dt.date | None  # for delays
    reason: str  # for delays; "" when none given
    note: str  # the rest of the line or paragraph (progress notes)
    line: str  # the source text, for quoting back


@dataclass(frozen=True)
class UpdateProblem:
    action: str | None
    code: str  # one of PROBLEM_CODES
    line: str


# -- matching is done on a half-width copy of the text (same length, so offsets carry over)

_HALF_WIDTH = {0xFF01 + k: 0x21 + k for k in range(94)} | {0x3000: 0x20}

_ID = r"A\d{1,6}(?![0-9A-Za-z])"
_ID_RE = re.compile(_ID, re.I)
_IDS = re.compile(
    rf"(?:(?:行动项|行动|事项|action(?:\s+item)?|item)\s*)?"
    rf"({_ID}(?:\s*(?:[、,/&+]|和|及|与|and(?![A-Za-z]))\s*{_ID})*)",
    re.I,
)
# _BULLET and _ID_SEPARATOR match everywhere (the empty string at worst)
_BULLET = re.compile(r"\s*(?:[-*+](?=\s)|[•·●▪◦]|\d{1,2}[.、)](?!\d)|\(\d{1,2}\)|[①-⑳])?\s*")
_ID_SEPARATOR = re.compile(r"\s*(?P<colon>[:\-–—])?\s*")
_LABEL = re.compile(
    r"(?:(?:当前|目前)?状态|(?:current\s+)?status)\s*(?P<separator>:|为|是|is(?![A-Za-z]))?\s*",
    re.I,
)
_STATUS = re.compile(
    r"(?:(?P<not_started>尚未开始|还未开始|还没开始|未开始|未启动|not\s+(?:yet\s+)?started)"
    r"|(?P<in_progress>正在进行|进行中|处理中|执行中|推进中|in[\s-]+progress|ongoing|underway)"
    r"|(?P<done>已经完成|已完成|完成|已办结|done|completed?|finished)"
    r"|(?P<delayed>已延期|延期|延迟|推迟|顺延|延后|delayed|postponed|deferred|delay)"
    r")(?:了|啦)?",
    re.I,
)
# after a status word: after an id or label, anything but a letter (CJK or Latin) except 于至到为;
# a bare status must stand alone as a clause ("已完成。", "延期至…", "delayed to …")
_LENIENT_END = re.compile(r"(?![^\W\d_])|(?=[于至到为])")
_STRICT_END = re.compile(
    r"\s*(?:$|[:,.;!?。；！？、(])|[至到于]|\s+(?:to|until|till)(?![A-Za-z])", re.I
)
_SPLIT_AT = re.compile(rf"[,;。]\s*(?={_ID})", re.I)
_OPEN_END = re.compile(r"[,、:;(]\s*$")
_CONTINUATION = re.compile(
    r"\s*(?:[a-z]|原因|理由|因为|由于|备注|说明|新的?日期|(?i:reason|because|due\s+to|note|new\s+date))"
)

_REASON = re.compile(
    r"(?:原因|理由)\s*(?:是|为)?\s*:?|因为|由于|因(?![此素而])"
    r"|(?<![A-Za-z])(?:reasons?\s*(?:is|was)?\s*:|(?:reason\s+(?:is|was)|because(?:\s+of)?"
    r"|due\s+to|owing\s+to)(?![A-Za-z]))",
    re.I,
)
_NEW_DATE_CUES = (  # words that announce the new date
    r"新的?(?:截止)?(?:日期|时间|完成时间)\s*(?::|为)?|(?:延期|推迟|延后|顺延|改|调整)?(?:至|到)"
    r"|改为|调整为|(?<![A-Za-z])(?:new\s+(?:due\s+)?date\s*(?::|is)?|(?:to|until|till)(?![A-Za-z]))"
)
_NEW_DATE_CUE = re.compile(rf"(?:{_NEW_DATE_CUES})\s*", re.I)
_TRAILING_CUE = re.compile(rf"(?:{_NEW_DATE_CUES}|为|(?<![A-Za-z])(?:on|by)(?![A-Za-z]))\s*$", re.I)
_EDGE = " \t\u3000:;,.!?-–—：；，。！？、"

# -- dates

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NAME = (
    r"(?P<m>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?(?![A-Za-z])"
)
_YEAR_AFTER = r"(?:,?\s*(?P<y>\d{4})(?!\d))?"
_CALENDAR_DATES = (
    r"(?<!\d)(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})(?!\d)(?:\s*[日号])?",
    r"(?<![\d.])(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})(?!\d)(?:\s*[日号])?",
    r"(?<![\d/.\-])(?P<m>\d{1,2})/(?P<d>\d{1,2})(?![\d/])",
    rf"(?<![0-9A-Za-z])(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s*{_MONTH_NAME}{_YEAR_AFTER}",
    rf"(?<![A-Za-z]){_MONTH_NAME}\s*(?P<d>\d{{1,2}})(?!\d)(?:st|nd|rd|th)?{_YEAR_AFTER}",
)
_WEEKDAY_DATES = (
    r"(?:(?P<rel>下下|下|本|这|這|此)\s*(?:个|個)?\s*)?(?:周|週|星期|礼拜|禮拜)(?P<wd>[一二三四五六日天])",
    r"(?<![A-Za-z])(?:(?P<rel>next|this|coming)\s+)?"
    r"(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)(?![A-Za-z])",
)
_DAYS_AHEAD_DATE = (
    r"大后天|後天|后天|明天|明日"
    r"|(?<![A-Za-z])(?:(?:the\s+)?day\s+after\s+tomorrow|tomorrow)(?![A-Za-z])"
)
_WEEKDAYS = dict(zip("一二三四五六日天", (0, 1, 2, 3, 4, 5, 6, 6), strict=True)) | {
    name: k
    for k, name in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
}
_WEEK_SHIFT = {"下下": 14, "下": 7, "next": 7, "本": 0, "这": 0, "這": 0, "此": 0, "this": 0}
_DAYS_AHEAD = {
    "明天": 1,
    "明日": 1,
    "后天": 2,
    "後天": 2,
    "大后天": 3,
    "tomorrow": 1,
    "day after tomorrow": 2,
}
_PAST_LIMIT = dt.timedelta(days=62)  # a year-less date further back than this means next year

_Converter = Callable[[re.Match[str], dt.date], dt.date]  # a date match and the mail's date


@dataclass(frozen=True)
class _Head:
    """How an update line starts: item ids, whether it is meant as an update, its status."""

    ids: tuple[str, ...]
    explicit: bool  # an id followed by a colon, or a status label
    status: str | None
    end: int  # where the text after the status word starts


@dataclass(frozen=True)
class _DateHit:
    start: int
    end: int
    value: dt.date | None  # None: looks like a date but is impossible ("2 月 30 日")


@dataclass(frozen=True)
class _Delay:
    new_due: dt.date | None
    reason: str
    note: str
    problems: tuple[str, ...]


def read_updates(
    mail_text: str, *, mail_date: dt.date, known_ids: Collection[str] = ()
) -> tuple[list[StatusUpdate], list[UpdateProblem]]:
    """The status updates in a reply's own text, and the problems of those that are refused.

    Ids are returned in upper case, or spelled as the matching one of ``known_ids`` (``A07``
    names a known ``A7``); ids that are not known are returned all the same.
    """
    spelling = {int(known[1:]): known for known in known_ids if _ID_RE.fullmatch(known)}
    updates: list[StatusUpdate] = []
    problems: list[UpdateProblem] = []
    for entry in _entries(visible_reply(mail_text)):
        found, refused = _read_entry(entry, mail_date, spelling)
        updates += found
        problems += refused
    return updates, problems


def _fold(text: str) -> str:
    """Full-width ASCII forms and the ideographic space as half-width (length kept)."""
    return text.translate(_HALF_WIDTH)


# -- lines and paragraphs


def _entries(text: str) -> Iterator[list[str]]:
    """Groups of lines: an update line with the lines of its paragraph that continue it."""
    entry: list[str] = []
    for line in _segments(text):
        if entry and _continues(entry[-1], line):
            entry.append(line)
            continue
        if entry:
            yield entry
        entry = [line] if _head(_fold(line)) else []
    if entry:
        yield entry


def _segments(text: str) -> Iterator[str]:
    """The stripped lines, each split before any further item it updates."""
    for line in text.splitlines():
        folded = _fold(line)
        cuts = [
            match
            for match in _SPLIT_AT.finditer(folded)
            if (head := _head(folded, match.end())) and head.status
        ]
        starts = [0, *(cut.end() for cut in cuts)]
        ends = [*(cut.start() for cut in cuts), len(line)]
        for start, end in zip(starts, ends, strict=True):
            yield line[start:end].strip()


def _continues(previous: str, line: str) -> bool:
    folded = _fold(line)
    return (
        bool(folded)
        and _head(folded) is None
        and bool(_OPEN_END.search(_fold(previous)) or _CONTINUATION.match(folded))
    )


def _head(folded: str, start: int = 0) -> _Head | None:
    """How the text at ``start`` begins, or None when it does not begin like an update."""
    position = _BULLET.match(folded, start).end()
    ids: tuple[str, ...] = ()
    explicit = False
    if named := _IDS.match(folded, position):
        ids = tuple(_ID_RE.findall(named[1]))
        separator = _ID_SEPARATOR.match(folded, named.end())
        explicit = separator["colon"] is not None
        position = separator.end()
    label = _LABEL.match(folded, position)
    if label and (ids or label["separator"]):
        explicit, position = True, label.end()
    status = _STATUS.match(folded, position)
    end = _LENIENT_END if ids or explicit else _STRICT_END
    if status and end.match(folded, status.end()):
        return _Head(ids, explicit, status.lastgroup, status.end())
    return _Head(ids, explicit, None, position) if ids or explicit else None


# -- one update


def _read_entry(
    lines: list[str], mail_date: dt.date, spelling: dict[int, str]
) -> tuple[list[StatusUpdate], list[UpdateProblem]]:
    source = "\n".join(lines)
    text = " ".join(lines)
    folded = _fold(text)
    head = _head(folded)
    if head is None:  # a continuation turned a bare status into running text
        return [], []
    actions = tuple(spelling.get(int(raw[1:]), raw.upper()) for raw in head.ids) or (None,)
    if head.status is None:
        codes = ("unknown_status",) if head.explicit else ()
        return [], [UpdateProblem(action, code, source) for action in actions for code in codes]
    if head.status != "delayed":
        note = _clean(text[head.end :])
        return [StatusUpdate(a, head.status, None, "", note, source) for a in actions], []
    delay = _read_delay(text, folded, head.end, mail_date)
    if delay.problems:
        return [], [UpdateProblem(a, code, source) for a in actions for code in delay.problems]
    return [
        StatusUpdate(a, "delayed", delay.new_due, delay.reason, delay.note, source) for a in actions
    ], []


def _read_delay(text: str, folded: str, start: int, mail_date: dt.date) -> _Delay:
    """New date, reason and note of the text after a delay word."""
    marker = _REASON.search(folded, start)
    stop = marker.start() if marker else len(text)
    reason_start = marker.end() if marker else len(text)
    notes = [text[start:stop]]  # the date, when found, is cut out of these
    reason_end = len(text)
    hit = _find_date(folded, start, stop, mail_date)
    if hit:
        cue = _TRAILING_CUE.search(folded, start, hit.start)
        notes = [text[start : cue.start() if cue else hit.start], text[hit.end : stop]]
    elif marker and (cued := _cued_date(folded, reason_start, mail_date)):
        reason_end, hit = cued
        notes.append(text[hit.end :])
    reason = _clean(text[reason_start:reason_end])
    note = " ".join(filter(None, map(_clean, notes)))
    return _Delay(hit.value if hit else None, reason, note, _delay_problems(hit, reason))


def _delay_problems(hit: _DateHit | None, reason: str) -> tuple[str, ...]:
    missing_reason = () if reason else ("delay_without_reason",)
    if hit is None:
        return (*missing_reason, "delay_without_date")
    return missing_reason if hit.value else (*missing_reason, "bad_date")


def _cued_date(folded: str, start: int, mail_date: dt.date) -> tuple[int, _DateHit] | None:
    """A date announced as the new one ("新日期 12月20日", "until Dec 20") after ``start``."""
    for cue in _NEW_DATE_CUE.finditer(folded, start):
        if hit := _date_at(folded, cue.end(), mail_date):
            return cue.start(), hit
    return None


def _clean(text: str) -> str:
    return " ".join(text.split()).strip(_EDGE)


# -- dates


def _find_date(folded: str, start: int, stop: int, mail_date: dt.date) -> _DateHit | None:
    """The first date written in ``folded[start:stop]``."""
    found = [
        (match, convert)
        for regex, convert in _DATE_FORMS
        if (match := regex.search(folded, start, stop))
    ]
    return _first_hit(found, mail_date)


def _date_at(folded: str, start: int, mail_date: dt.date) -> _DateHit | None:
    """The date written right at ``start``."""
    found = [
        (match, convert) for regex, convert in _DATE_FORMS if (match := regex.match(folded, start))
    ]
    return _first_hit(found, mail_date)


def _first_hit(
    found: list[tuple[re.Match[str], _Converter]], mail_date: dt.date
) -> _DateHit | None:
    """The earliest (then longest) of the dates found, with its value."""
    if not found:
        return None
    match, convert = min(found, key=lambda pair: (pair[0].start(), -pair[0].end()))
    try:
        value: dt.date | None = convert(match, mail_date)
    except ValueError:
        value = None
    return _DateHit(match.start(), match.end(), value)


def _calendar_date(match: re.Match[str], mail_date: dt.date) -> dt.date:
    month_text = match["m"]
    month = int(month_text) if month_text.isdigit() else _MONTHS.index(month_text[:3].lower()) + 1
    day = int(match["d"])
    year = match.groupdict().get("y")
    return dt.date(int(year), month, day) if year else _yearless(month, day, mail_date)


def _yearless(month: int, day: int, mail_date: dt.date) -> dt.date:
    """This year's date, or next year's when this year's is more than ~2 months past."""
    try:
        candidate = dt.date(mail_date.year, month, day)
    except ValueError:  # 29 February of a year that is not a leap year
        return dt.date(mail_date.year + 1, month, day)
    if candidate < mail_date - _PAST_LIMIT:
        return dt.date(mail_date.year + 1, month, day)
    return candidate


def _weekday_date(match: re.Match[str], mail_date: dt.date) -> dt.date:
    """下周五 / next Friday: next ISO week's; 本周五 / this Friday: this week's; 周五: the next."""
    weekday = _WEEKDAYS[match["wd"].lower()]
    shift = _WEEK_SHIFT.get((match["rel"] or "").lower())
    if shift is None:
        return mail_date + dt.timedelta(days=(weekday - mail_date.weekday()) % 7)
    monday = mail_date - dt.timedelta(days=mail_date.weekday())
    return monday + dt.timedelta(days=shift + weekday)


def _days_ahead_date(match: re.Match[str], mail_date: dt.date) -> dt.date:
    phrase = " ".join(match[0].lower().split()).removeprefix("the ")
    return mail_date + dt.timedelta(days=_DAYS_AHEAD[phrase])


_DATE_FORMS: tuple[tuple[re.Pattern[str], _Converter], ...] = (
    *((re.compile(pattern, re.I), _calendar_date) for pattern in _CALENDAR_DATES),
    *((re.compile(pattern, re.I), _weekday_date) for pattern in _WEEKDAY_DATES),
    (re.compile(_DAYS_AHEAD_DATE, re.I), _days_ahead_date),
)
