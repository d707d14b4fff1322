"""What an attendee's reply to distributed minutes means: signed, objection or ambiguous.

Stage 3 sign-off (签字确认). Pure (no database, network or configuration). Only the attendee's
own text counts (:func:`mailflow.replies.visible_reply`): the quoted minutes below it say
"请回复「确认」" and "如有异议…" and are never read. The bar is zero false signatures, so when
in doubt the answer is ambiguous and the attendee is asked again. Text is compared after NFKC
folding (full-width ＯＫ, ，？), lower-casing and a few traditional characters (確認, 無異議).

The rules, in order:

1. No own text (an empty reply above the quote): ambiguous.
2. An objection word anywhere: 有异议 / 异议 / 不同意 / 反对 / 不确认 / 不认可 / 有意见 / 拒绝 /
   不同看法, a correction (有误, 错误, 遗漏, 不一致, 应为, 改为, 调整为, 修改, 需要补充),
   objection / object / disagree / don't agree / not confirmed / incorrect / wrong / should be /
   please change, 👎: objection. Negated forms are not objection words
   (无异议, 没有意见, 不反对, 无需修改, 撤回异议, no objection, nothing wrong, don't object,
   I withdraw my objection: signatures, so a later "确认，撤回异议" signs), nor is the
   conditional "如有异议" / "if any objection". Only a bare objection word beside a bare
   confirmation ("确认，有异议") says yes and no at once: ambiguous.
3. "Cannot confirm" (无法确认, 不能确认, 暂不确认, 还没确认, can't confirm, unable to confirm,
   not yet confirmed): objection when a reason comes with it, ambiguous when bare or when the
   rest only asks or defers ("can't confirm yet, will get back to you").
4. A question (?, …吗, 是否, 什么, 请问, what, can you …) or a deferral (稍后, 看一下, 明天,
   再确认, 请确认, 确认一下, later, will check, not sure): ambiguous.
5. A confirmation with 但 / 不过 / 除了 / 原则上 / 基本 / but / except / however and more text is
   a conditional confirmation, not a signature: objection.
6. Signed only when every clause is a confirmation or politeness. A confirmation clause is made
   of a confirmation word (确认, 已确认, 同意, 认可, 无异议, 没有异议, 无误, confirm(ed), agree(d),
   approve(d), accept(ed), OK, okay, no objection, 👍, ✅) and nothing but subject, object and
   particle words (我, 本人, 我这边, 物流部, 已, 均, 以上, 纪要内容, 会议纪要, the minutes, with,
   I, we, Logistics …), so "确认收到", "请确认", "确认第1、2条" and "I confirm receipt" are not
   confirmations. 可以 counts only alone ("可以", "都可以的"). Politeness: a greeting line
   (王经理：, Hi Wang Fang,), thanks (谢谢, 辛苦李娜整理, Thanks), acknowledgements (收到, 好的,
   noted), closings (Best regards, 此致敬礼, 有问题随时沟通), going along with the plan
   (按纪要执行, 全力配合) and trailing name / department / title / phone lines. Any other text:
   ambiguous.

Bare "收到" / "已收到" / "好的" / "received" / "noted" acknowledge the mail, not the minutes:
ambiguous. "OK" is in the product's list of signatures and counts; "好的" and "yes" do not.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from mailflow.replies import visible_reply

__all__ = ["AMBIGUOUS", "OBJECTION", "SIGNED", "SignoffReading", "read_signoff"]

SIGNED, OBJECTION, AMBIGUOUS = "signed", "objection", "ambiguous"

_MAX_CLAUSE = 80  # longer clauses are never read as a bare confirmation or politeness
_SIGNATURE_LINES = 4  # trailing name / department / title / phone lines dropped at most


@dataclass(frozen=True)
class SignoffReading:
    verdict: str  # "signed" | "objection" | "ambiguous"
    text: str  # the attendee's own text (what was judged), stripped
    reason: str  # short English explanation, for logs


def _words(spec: str) -> str:
    """A regex alternation of comma-separated words, longest first; a space matches any."""
    words = sorted(set(spec.split(",")), key=len, reverse=True)
    return "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in words)


def _latin(spec: str) -> str:
    """Latin words as whole words (not inside "book", "disagree" or "confirmation")."""
    return rf"(?<![a-z0-9'])(?:{spec})(?![a-z0-9'])"


# --- folding ---

_TRADITIONAL = str.maketrans(
    "確認無異議沒見題問謝對誤錯應為還條紀內與請嗎麼這們後會簽讀閱過遺補贊準屬說",
    "确认无异议没见题问谢对误错应为还条纪内与请吗么这们后会签读阅过遗补赞准属说",
)
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\ufe0e\ufe0f\U0001f3fb-\U0001f3ff]")
_APOSTROPHES = str.maketrans("‘’`´", "''''")


def _nfkc(text: str) -> str:
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).translate(_APOSTROPHES)


def _fold(text: str) -> str:
    return _nfkc(text).lower().translate(_TRADITIONAL)


# --- cues: searched anywhere in the attendee's text, earliest first ---

_NO_OBJECTION_ZH = (
    r"(?:没有|没|无|并无|毫无|并没有|不存在)(?:任何|什么|啥|其他|其它)?(?:反对|不同|补充)?"
    r"(?:异议|意见|疑义|问题|疑问|错误|错漏|遗漏|出入)"
    r"|(?:无需|无须|不需要|不用|不必)(?:任何)?(?:修改|调整|更正|补充)|(?:没有|没|无|并不|不)反对"
    r"|(?:撤回|撤销|收回)(?:之前|此前|我|我的|本人)?的?(?:异议|意见)"
    r"|(?:之前|此前|我|本人)?的?(?:异议|意见)(?:已经?|现)?(?:撤回|撤销|收回)"
)
_NO_OBJECTION_EN = _latin(
    r"no\s+(?:further\s+|other\s+)?(?:objections?|issues?|concerns?|problems?|errors?|mistakes?"
    r"|corrections?|changes?|comments?)"
    r"|nothing\s+(?:wrong|missing|to\s+add|to\s+change)|without\s+(?:any\s+)?objections?"
    r"|withdraw(?:s|n)?\s+(?:my\s+|the\s+|our\s+)?(?:earlier\s+)?objections?"
    r"|objections?\s+(?:is\s+|are\s+)?withdrawn"
    r"|(?:do|does|did|would|will)\s*(?:n't|not)\s+(?:have\s+any\s+(?:objections?|issues?|concerns?)"
    r"|object|disagree)|not\s+object"
)
_CONDITIONAL = (
    r"(?:如果|如|若是|若|假如|倘若)(?:有|存在|还有)?(?:任何)?(?:异议|意见|问题|疑问)"
    r"|有(?:问题|疑问|异议)(?:的话)?(?=再|随时|请|可)"
    + "|"
    + _latin(
        r"if\s+(?:there\s+(?:is|are)\s+|you\s+have\s+)?any\s+(?:objections?|questions?|issues?)"
    )
)
_UNABLE = (
    r"(?:无法|不能|没法|没办法|不便|暂时?(?:无法|不能|不)?|还不能|尚不能|尚未|还没有?|未)"
    r"(?:予以)?(?:确认|签字|签认)|确认不了"
    + "|"
    + _latin(
        r"(?:can't|cannot|can\s+not|couldn't|could\s+not|unable\s+to|not\s+able\s+to"
        r"|won't\s+be\s+able\s+to)\s+(?:yet\s+)?(?:confirm|sign)"
        r"|not\s+yet\s+(?:confirm(?:ed)?|sign(?:ed)?)|haven't\s+(?:yet\s+)?(?:confirmed|signed)"
    )
)
_OBJECTION = (
    r"(?:有|提出|存在|持)?异议|(?:有|持|提)(?:不同|反对|保留)?意见|保留意见"
    r"|不(?:太|大|是很|完全|能|予)?(?:同意|认可|认同|接受|赞同|赞成|签字)|不(?:予|完全)?确认"
    r"|(?:无法|难以)(?:同意|认可|认同|接受)|拒绝|反对|不行|不可以|不妥|不合适|不合理|不准确|不正确"
    r"|不同(?:的)?(?:看法|想法|观点)|看法不同"
    r"|不对|不符|不一致|不一样|不相符|不属实|不成立|(?:有|存在)问题|有误|错误|错了|写错|记错|笔误|遗漏|漏了|漏掉"
    r"|漏写|缺少|缺了|应为|应是|应该是|应改为|应当是|改为|改成|更正|修正|修改|删除|删去|删掉"
    r"|需调整|需要调整|调整为|调整到|(?:需要|需|应|应该|请)补充|👎|❌"
    + "|"
    + _latin(
        r"object(?:s|ed|ing|ions?)?|disagree(?:s|d|ment)?|reject(?:s|ed)?|decline[sd]?|incorrect"
        r"|inaccurate|wrong|errors?|mistakes?|typos?|missing|omit(?:s|ted)?|corrections?"
        r"|amend(?:ment)?|should\s+(?:be|read|say|have\s+been)(?!\s+(?:fine|ok|okay|good|correct))"
        r"|(?:please|pls|kindly)\s+(?:change|update|correct|amend|add|remove|revise|fix)"
        r"|not\s+what\s+(?:we|was|were|i)\s+(?:agreed|discussed|decided|said)"
        r"|(?:[a-z]*n't|not|never|cannot)\s+(?:fully\s+|entirely\s+|completely\s+|quite\s+)?"
        r"(?:agree|approve|accept|sign|endorse|confirm|ok|okay|correct|accurate|right|true)(?:d|ed)?"
    )
)
_CONTRAST = (
    r"但是?|不过|只是|然而|除了|除外|除去|除此|保留|前提是|条件是"
    r"|(?:原则上|基本上?|大体上?|大致|部分)(?=同意|确认|认可|无|没|可以)"
    + "|"
    + _latin(
        r"but|however|except|although|though|unless|provided|subject\s+to|apart\s+from"
        r"|other\s+than|as\s+long\s+as|in\s+principle|mostly|partially|partly|only\s+if"
    )
)
_QUESTION = (
    r"\?|(?:吗|么|嘛|呢)(?=\s*(?:$|[\n,.!。]))|是否|什么|为什么|为何|怎么|如何|哪|谁|请问|能否"
    r"|可否|有没有|是不是|对不对|行不行|可不可以"
    + "|"
    + _latin(
        r"what|why|how|which|who|whom|whether|could\s+you|can\s+you|would\s+you|do\s+you"
        r"|did\s+you|is\s+it|are\s+we|shall\s+we"
    )
)
_DEFER = (
    r"稍后|稍晚|晚点|晚些|回头|过后|之后再|再(?:回复|答复|确认|定|议|说|看|联系|沟通|讨论)"
    r"|待(?:定|确认|核实|商议|讨论)|(?:看|确认|核实|研究|核对)一下|看下|确认下|看看|研究|请示|汇报"
    r"|核实|核对|商量|(?:沟通|讨论|商议)后|明天|明日|下周|改天|马上|稍等|等等|等我|让我|先看"
    r"|不太?确定|不太?清楚|不了解|不(?:太|大|是很)确认|(?:请帮忙|请|帮忙|需要|需|要)确认|确认后"
    + "|"
    + _latin(
        r"later|get\s+back|will\s+(?:check|confirm|reply|review|revert|look)|check(?:ing)?\s+with"
        r"|look(?:ing)?\s+into|review(?:ing)?|tomorrow|next\s+week|hold\s+on|let\s+me|shortly"
        r"|not\s+sure|unsure|need\s+to\s+(?:check|confirm|verify)|to\s+be\s+confirmed|tbc|tbd|pending"
        r"|(?:please|pls|kindly)\s+confirm"
    )
)
_CUE_KINDS = {
    "negated": _NO_OBJECTION_ZH + "|" + _NO_OBJECTION_EN,
    "conditional": _CONDITIONAL,
    "unable": _UNABLE,
    "objection": _OBJECTION,
    "contrast": _CONTRAST,
    "question": _QUESTION,
    "defer": _DEFER,
}
# One scan, left to right; at one position the kinds are tried in this order, so a negated
# or conditional form ("没有异议", "如有异议", "不能确认") is taken before the word inside it.
_CUE = re.compile("|".join(f"(?P<{kind}>{pattern})" for kind, pattern in _CUE_KINDS.items()))

# --- clauses: what a confirmation or politeness is made of ---

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏"
    "吕丁沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
    "覃武戴莫孔汤温康施牛樊葛邢乔伍庞颜倪庄聂章鲁岳翟殷詹耿焦俞左柳甘祝舒阮柯梅童凌毕季裴霍涂苗"
)
_SURNAME = rf"(?:欧阳|司马|上官|诸葛|东方|慕容|令狐|皇甫|公孙|夏侯|[{_SURNAMES}])"
_TITLE = r"(?:经理|总|老师|主任|部长|总监|主管|工|姐|哥|兄)"
_NAME = (  # a three-character name only where the name ends ("谢谢李娜整理": 李娜, 整理)
    rf"{_SURNAME}[\u4e00-\u9fff]{{0,2}}?{_TITLE}"
    rf"|{_SURNAME}[\u4e00-\u9fff]{{2}}(?![\u4e00-\u9fff])|{_SURNAME}[\u4e00-\u9fff]"
)
_DEPARTMENT = (
    r"(?:物流|市场|财务|行政|人事|人力资源|技术|技术支持|产品|销售|采购|生产|质量|品质|研发|法务"
    r"|信息|运营|客服|仓储|供应链|综合|总经|工程|设计|安全|后勤|计划|品牌|公关|审计|宣传)"
    r"(?:管理)?(?:部|中心|处|科|室|组|办|办公室)"
)

_CORE = (
    _NO_OBJECTION_ZH
    + "|"
    + _words("确认,同意,认可,认同,赞同,赞成,无误,可以,👍,✅,✔,☑")
    + "|"
    + _NO_OBJECTION_EN
    + "|"
    + _latin(
        _words("confirm,confirmed,confirming,agree,agreed,approve,approved,accept,accepted,ok,okay")
        + "|"
        + _words("lgtm,all good,looks good,look good,fine with")
    )
)
_GLUE = (
    _words(
        "我,我们,本人,我方,我部,我部门,本部门,已,已经,均,都,全都,也,一致,完全,全部,特此,在此,予以,"
        "表示,对,就,对于,关于,以上,上述,如上,本次,此次,这次,该,此,这份,本,会议,纪要,会议纪要,内容,部门,"
        "全文,所有,各项,事项,的,了,并,和,及,与,且,正确,准确,属实,完整,签字,签认,是的,对的,这边,我这边,"
        "我们这边,我方这边"
    )
    + "|"
    + _DEPARTMENT
    + "|"
    + _latin(
        _words(
            "i,we,i'm,we're,hereby,fully,all,the,these,this,that,minutes,meeting,notes,of,with,to,"
            "as,written,circulated,sent,above,content,contents,is,are,am,it,it's,them,everything,"
            "correct,accurate,fine,from,my,our,side,me,us,here,and,on,have,has,been,by,also,too,so,"
            "well,yes,yeah,yep,sure,absolutely,totally,completely,logistics,marketing,finance,"
            "sales,product,procurement,legal,admin,operations,support,technical,department,team"
        )
    )
)
_POLITE = (
    _words(
        "谢谢,多谢,感谢,谢啦,谢了,辛苦了,辛苦啦,辛苦,麻烦了,劳烦,大家,各位,您,你,好,的,啦,了,哈,哈哈,"
        "呀,啊,哦,嗯,组织,整理,记录,付出,此致,敬礼,祝好,顺祝,商祺,顺颂,工作顺利,祝,以上"
    )
    + r"|(?:如|如果)?有(?:任何)?(?:问题|疑问)(?:的话)?请?(?:随时|再)?(?:沟通|联系我?|找我)"
    + r"|(?:我们|我|我方|本部门)?(?:会|将)?(?:按|按照)(?:纪要|计划|要求|时间节点|时间)?"
    r"(?:执行|推进|落实|完成)|全力配合|配合执行"
    + "|[\U0001f300-\U0001faff\u2600-\u27bf]"  # smileys, 🙏 (👍 ✅ are confirmations)
    + "|"
    + _latin(
        _words(
            "thanks,thank you,thank,you,thx,ty,many thanks,thanks a lot,cheers,regards,best,"
            "best regards,kind regards,warm regards,br,sincerely,yours,hi,hello,dear,all,"
            "team,everyone,have a nice day,have a good day,much appreciated,appreciated"
        )
    )
)
_ACK = (
    _words(
        "收到,已收到,收悉,已收悉,好的,好滴,好嘞,行,嗯嗯,了解,知道了,知悉,已知悉,已阅,已读,阅,"
        "已沟通,已经沟通,沟通过了,已对齐"
    )
    + "|"
    + _latin(_words("received,noted,got it,well received,acknowledged,ack,read"))
)


def _clause_pattern(*token_patterns: str) -> re.Pattern[str]:
    """A clause made only of these tokens (possessive: no backtracking between parses)."""
    tokens = "|".join(token_patterns)
    return re.compile(rf"(?:\s*+(?>{tokens}))++\s*+")


_AFFIRM_CLAUSE = _clause_pattern(_CORE, _GLUE, _POLITE)
_FILLER_CLAUSE = _clause_pattern(_ACK, _POLITE, _NAME, _GLUE)
_CORE_WORD = re.compile(_CORE)
_ACK_WORD = re.compile(_ACK)
_KEYI_ALONE = re.compile(r"(?:都|也|均|全都)?可以(?:的|了|啊|呀|哈)?")
_CLAUSE_BREAK = re.compile(r"[\n.!?;,:、。…~()\[\]{}<>\"“”「」『』【】|/\\—–]+")
_QUOTE_MARKS = " '\t"

# --- greeting and signature lines ---

_GREETING = re.compile(
    r"(?:(?:hi|hello|dear|hey|good\s+(?:morning|afternoon))(?:\s+[a-z.'-]+){0,3}"
    rf"|(?:各位|大家|诸位)(?:好|同事|领导|老师|同事们)?|(?:您|你)好|(?:{_NAME})(?:好|您好)?)"
    r"\s*[:,!]?"
)
_SIGNATURE_PART = re.compile(
    rf"{_SURNAME}[\u4e00-\u9fff]{{1,2}}"
    rf"|{_DEPARTMENT}(?:副|总|高级)?(?:经理|主管|总监|专员|主任|部长|助理)?"
    r"|(?:副|总|高级)?(?:经理|主管|总监|专员|主任|部长|助理|工程师|总裁|董事长|总经理)"
    r"|[A-Z][A-Za-z]+(?:[ -][A-Z][a-z]+){0,2}"
    r"|(?:(?i:电话|手机|座机|分机|tel|mobile|phone|mob|ext)\s*[:.]?\s*)?\+?\d[\d ()-]{5,}"
    r"|[\w.+-]+@[\w.-]+"
)
_SIGNATURE_SPLIT = re.compile(r"\s*[|/·•,()]\s*|(?<=[^\d\s:+])\s+(?=[^\d\s+(])")
_SIGNATURE_DASH = "-—~ \t"


@dataclass(frozen=True)
class _Cues:
    found: dict[str, list[str]]  # kind -> matched words, in order of appearance
    stripped: str  # the text with every cue replaced by a clause break

    def first(self, kind: str) -> str:
        return self.found[kind][0]


def read_signoff(mail_text: str) -> SignoffReading:
    """Judge an attendee's reply (the whole decoded text, quote included) to the minutes."""
    text = visible_reply(mail_text).strip()
    verdict, reason = _judge(text)
    return SignoffReading(verdict, text, reason)


def _judge(text: str) -> tuple[str, str]:
    """(verdict, reason) for the attendee's own text, by the rules of the module docstring."""
    if not text:
        return AMBIGUOUS, "empty reply"
    body = _body(text)
    cues = _find_cues(body)
    kinds = [_clause_kind(clause) for clause in _clauses(body)]
    rest = [_clause_kind(clause) for clause in _clauses(cues.stripped)]  # cue words removed
    affirmed = "affirm" in kinds
    has_content = "other" in rest
    if "objection" in cues.found:
        if "affirm" in kinds + rest and not has_content and "contrast" not in cues.found:
            return AMBIGUOUS, "both a confirmation and an objection, without details"
        return OBJECTION, f"objection: {cues.first('objection')}"
    if "unable" in cues.found:
        return _cannot_confirm(cues, has_content)
    if "question" in cues.found:
        return AMBIGUOUS, f"question ({cues.first('question')!r})"
    if "defer" in cues.found:
        return AMBIGUOUS, f"deferred answer ({cues.first('defer')!r})"
    if "contrast" in cues.found and _CORE_WORD.search(body) and has_content:
        return OBJECTION, f"conditional confirmation ({cues.first('contrast')!r})"
    if affirmed and set(kinds) <= {"affirm", "filler"}:
        return SIGNED, f"confirmation word {_confirmation_word(body)!r}"
    return AMBIGUOUS, _unclear_reason(body, affirmed, kinds)


def _cannot_confirm(cues: _Cues, has_content: bool) -> tuple[str, str]:
    word = cues.first("unable")
    if has_content and not {"question", "defer"} & cues.found.keys():
        return OBJECTION, f"cannot confirm ({word!r}), with a reason"
    return AMBIGUOUS, f"cannot confirm ({word!r}) without a reason"


def _unclear_reason(body: str, affirmed: bool, kinds: list[str]) -> str:
    if affirmed:
        return "confirmation with other text"
    ack = _ACK_WORD.search(body)
    if ack and set(kinds) == {"filler"}:
        return f"only acknowledges receipt ({ack.group()!r})"
    return "no clear answer"


def _confirmation_word(body: str) -> str:
    match = _CORE_WORD.search(body)
    return match.group() if match else ""


def _find_cues(body: str) -> _Cues:
    found: dict[str, list[str]] = {}
    for match in _CUE.finditer(body):
        kind = match.lastgroup or ""
        found.setdefault(kind, []).append(match.group())
    return _Cues(found, _CUE.sub("\n", body))


# --- the text judged: folded, without greeting and signature lines ---


def _body(text: str) -> str:
    """Folded text without a greeting first line and trailing name / title / phone lines."""
    lines = [line.strip() for line in _nfkc(text).splitlines() if line.strip()]
    if len(lines) > 1 and _is_greeting(lines[0]):
        lines = lines[1:]
    dropped = 0
    while len(lines) > 1 and dropped < _SIGNATURE_LINES and _is_signature(lines[-1]):
        lines.pop()
        dropped += 1
    return "\n".join(_fold(line) for line in lines)


def _is_greeting(line: str) -> bool:
    folded = _fold(line)
    return bool(_GREETING.fullmatch(folded)) and not _CUE.search(folded)


def _is_signature(line: str) -> bool:
    """A name, department, title, phone or address line: no cue, no confirmation word."""
    folded = _fold(line)
    if _CUE.search(folded) or any(_clause_kind(c) == "affirm" for c in _clauses(folded)):
        return False
    parts = [part for part in _SIGNATURE_SPLIT.split(line.strip(_SIGNATURE_DASH)) if part]
    return bool(parts) and all(_SIGNATURE_PART.fullmatch(part) for part in parts)


def _clauses(text: str) -> list[str]:
    pieces = (piece.strip(_QUOTE_MARKS) for piece in _CLAUSE_BREAK.split(text))
    return [piece for piece in pieces if piece]


def _clause_kind(clause: str) -> str:
    """A bare confirmation ("affirm"), politeness or acknowledgement ("filler", also a clause
    of only subject and object words such as "I" or "纪要"), or anything saying more ("other")."""
    if len(clause) > _MAX_CLAUSE:
        return "other"
    if _AFFIRM_CLAUSE.fullmatch(clause) and _confirms(clause):
        return "affirm"
    if _FILLER_CLAUSE.fullmatch(clause):
        return "filler"
    return "other"


def _confirms(clause: str) -> bool:
    """The clause holds a confirmation word; 可以 only as a clause of its own."""
    words = {match.group() for match in _CORE_WORD.finditer(clause)}
    return bool(words - {"可以"}) or bool(_KEYI_ALONE.fullmatch(clause.strip()))
