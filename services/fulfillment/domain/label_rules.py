"""What a shipping label may say (DOMAIN.md section 2), in the languages sellers write, pure.

A label must not carry links, QR codes, contact details of other platforms, other marketplaces
or anything unrelated to the order. Each text on the label is read through the views of
`label_text.py` (full-width forms, case, zero-width characters and spacing tricks undone) and
checked by these rules; a refusal names the field, the rule and the text as the seller wrote it.

Where a rule applies. Names and addresses are real: a street may be called "Amazon", a
recipient "Shein", an address line "Line 2 Apt 5", a village "淘宝村". So:
- every text (recipient and sender name and address, note, customs description):
  - `link`: http(s)://, www, a bare domain (x.com, x。com, x点com, x(dot)com, Chinese TLDs
    such as .中国 / .公司, shorteners such as t.cn, bit.ly; a TLD that is also a word or a
    name, such as .me, .co or .wang, only with a path: x.co/abc), 链接 / 网址 / 网站
    ("点击链接");
  - `qr-code`: "QR" as a word, "scan me", "scan to ...", 扫码, 扫一扫, 二维码, 扫描;
  - `contact`: e-mail addresses; 加微信, 微信号, 微信, 薇信 / 威信 / V信 / 加VX, QQ with a
    number, 扣扣, 企鹅号, 关注店铺, 关注公众号, 公众号, 加好友, 私聊, 私信, 联系我, 邮箱; t.me/...,
    wa.me/..., line.me/...; a messenger name followed by an id ("Line ID: x", "WhatsApp: +1..");
  - `phone`: a phone number (see `label_text.phone_number`: Chinese mobiles with or without
    +86/0086, +/00 international numbers, 0-prefixed national numbers) that is neither the
    recipient's nor the sender's (compared by their last 9 digits, whatever the spacing);
- the seller's own free text (note, customs description, sender name), also:
  - `contact`: messenger names on their own (WhatsApp, Telegram, Zalo, WeChat, Facebook, ...),
    "wx" / "vx" (with or without an id), an "@handle";
  - `marketplace`: other marketplaces in English and Chinese (Shopee, Lazada, Amazon, Temu,
    淘宝, 天猫, 京东, 拼多多, 抖音, 快手, 闪购, ...);
- the note, also:
  - `unrelated`: a note may carry only handling instructions (the `HANDLING_WORDS`
    vocabulary: 易碎 / fragile, 轻放 / handle with care, 防潮 / keep dry, 勿压 / do not stack,
    此面向上 / this side up, 礼物 / gift, 请勿折叠 / do not fold, ...), the order's own item
    titles (or words of them), SKUs, quantities (numbers, "2 pcs", "x2", "2件") and order
    number. Latin-script words are checked whole; Chinese text is segmented greedily by the
    longest known phrase. Whatever is left is refused and named ("not about the order: 好评返现").
    Text already refused by another rule is not named twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from services.fulfillment.domain.label_text import (
    PHONE_CANDIDATE,
    View,
    compact,
    folded,
    phone_number,
    same_phone,
    spelled,
)

PROBLEMS = {
    "link": "contains a link",
    "qr-code": "refers to a QR code",
    "contact": "contains contact details unrelated to the order",
    "phone": "contains a phone number other than the recipient's or the sender's",
    "marketplace": "names another platform or marketplace",
    "unrelated": "is not about the order",
}
SELLER_TEXT = frozenset({"note", "customs.description", "sender_name"})


def _listed(*lines: str) -> tuple[str, ...]:
    return tuple(word for line in lines for word in line.split())


HANDLING_WORDS = frozenset(
    _listed(
        # English
        "fragile handle handling with care careful carefully keep dry do don t not no never",
        "stack stacking stacked bend fold crush squeeze press drop throw tip turn over this that",
        "side way up upright top bottom gift present wrap wrapped glass liquid perishable heavy",
        "light please and or the a an of for to on in is are it its contains contents inside",
        "item items pc pcs piece pieces qty quantity sku order number x g kg thank thanks you",
        "box package parcel open cold refrigerate refrigerated frozen moisture water wet damp",
        "away from sun sunlight heat caution attention warning avoid protect electronics",
        "battery batteries call before delivery deliver",
        # Vietnamese
        "hàng dễ vỡ nhẹ tay quà tặng cẩn thận xin vui lòng không đè lên giữ khô cảm ơn",
        # Chinese (segmented greedily, longest phrase first)
        "易碎 易碎品 小心 轻放 輕放 小心轻放 轻拿轻放 轻拿 防潮 防水 防压 防摔 勿压 重压",
        "挤压 堆压 堆放 此面向上 向上 朝上 礼物 禮物 礼品 禮品 请勿折叠 折叠 勿折 倒置",
        "勿倒置 请 請 勿 不要 切勿 严禁 禁止 注意 保持 干燥 乾燥 冷藏 冷冻 玻璃 液体 内含",
        "含 件 个 個 套 盒 包 箱 瓶 订单 訂單 订单号 单号 编号 商品 物品 货物 谢谢 謝謝",
        "感谢 包装 包裝 易坏 怕摔 怕压 怕湿 搬运 数量 共 和 与 及 的 号 上 内",
    )
)
MARKETPLACES_LATIN = _listed(
    "shopee lazada tokopedia bukalapak amazon ebay aliexpress alibaba taobao tmall jingdong",
    "pinduoduo temu shein rakuten walmart etsy mercari douyin kuaishou xiaohongshu meituan",
    "xianyu",
)
MARKETPLACES_CJK = _listed(
    "淘宝 淘寶 天猫 天貓 拼多多 抖音 快手 闪购 閃購 小红书 小紅書 闲鱼 閒魚 唯品会",
    "唯品會 美团 美團 饿了么 餓了麼 得物 阿里巴巴 速卖通 速賣通",
)
MESSENGERS = "whatsapp telegram zalo wechat weixin viber kakaotalk facebook instagram messenger"


@dataclass(frozen=True)
class LabelRules:
    """The vocabularies a deployment may replace."""

    handling_words: frozenset[str] = HANDLING_WORDS
    marketplaces: tuple[str, ...] = MARKETPLACES_LATIN + MARKETPLACES_CJK


@dataclass(frozen=True)
class LabelProblem:
    field: str
    problem: str
    rule: str = ""
    matched: str = ""  # the offending text as written

    def describe(self) -> str:
        return (
            f'{self.field} {self.problem}: "{self.matched}"'
            if self.matched
            else (f"{self.field} {self.problem}")
        )


@dataclass(frozen=True)
class OrderTerms:
    """What a note may name about its order."""

    order_numbers: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()


# --- patterns -------------------------------------------------------------------------------

_LAT = r"a-z\u00c0-\u024f\u1e00-\u1eff"  # Latin letters, Vietnamese included
_B = rf"(?<![{_LAT}0-9])"  # not inside a Latin word or number
_E = rf"(?![{_LAT}0-9])"
_BL = rf"(?<![{_LAT}])"  # not inside a Latin word (digits may follow: "qq123456")
_EL = rf"(?![{_LAT}])"
# top-level domains a bare domain is recognised by: common and regional ones, not those that are
# also words or names in addresses ("Mr.Wang", "Av.De Mayo", "P.Me Linh"); with a path
# ("x.co/abc") any two to six letters will do
_TLDS = (
    "com|net|org|info|biz|io|cn|hk|tw|sg|vn|xyz|shop|store|online|site|top|app|ly|gl|cc|tv|vip|asia"
)
_CN_TLDS = "中国|中國|公司|网络|網絡|在线|商城|网址|网店|移动"
_ID = r"(?:id\b\s*[:#]?|[:@#]|号)\s*\S*"  # "ID: x", ": x", "@x", "号 x"
_DOT = r"(?:\.|。|点|點|\s?[(\[]dot[)\]]\s?)"


@dataclass(frozen=True)
class _Pattern:
    rule: str
    regex: re.Pattern[str]
    cjk: bool  # matched in the compact view, else in the folded and spelled views
    seller_only: bool = False


def _p(rule: str, pattern: str, *, cjk: bool = False, seller_only: bool = False) -> _Pattern:
    return _Pattern(rule, re.compile(pattern), cjk, seller_only)


# Order matters: a text matched by an earlier pattern is not reported again by a later one.
_PATTERNS = (
    _p("contact", r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    _p("contact", rf"{_BL}(?:t|wa|line)\.me/\S*"),
    _p("contact", rf"{_BL}line{_EL}\s*{_ID}"),
    _p("contact", rf"{_BL}(?:{MESSENGERS.replace(' ', '|')}){_EL}\s*{_ID}"),
    _p("contact", rf"{_BL}qq{_EL}\s*(?:号码|号)?\s*[:#]?\s*\d[\d \-]{{3,12}}\d"),
    _p(
        "contact",
        r"加微信|微信号|微信|薇信|威信|徽信|v信|加(?:vx|wx|v(?=\d))|加qq|扣扣|企鹅号",
        cjk=True,
    ),
    _p(
        "contact",
        r"关注店铺|關注店鋪|关注公众号|公众号|公眾號|加好友|私聊|私信|联系我|聯繫我|邮箱|郵箱",
        cjk=True,
    ),
    _p("qr-code", rf"{_B}(?:qr|qrcode){_E}|{_B}scan{_E}\s*(?:me|to|this|here|the|code){_E}"),
    _p("qr-code", r"扫码|掃碼|扫一扫|掃一掃|二维码|二維碼|扫描|掃描", cjk=True),
    _p("link", rf"https?://\S*|{_B}www{_E}\S*"),
    _p("link", rf"(?<![\w.@-])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*{_DOT}(?:{_TLDS}){_E}(?:/\S*)?"),
    _p("link", r"(?<![\w.@-])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.[a-z]{2,6}/[\w/?=&%.-]+"),
    _p("link", rf"(?<![\w.@-])[\w-]+\.(?:{_CN_TLDS})"),
    _p("link", r"点击链接|點擊鏈接|链接|鏈接|网址|網址|网站|網站", cjk=True),
    _p("contact", rf"{_BL}(?:{MESSENGERS.replace(' ', '|')}){_EL}", seller_only=True),
    _p("contact", rf"{_BL}(?:wx|vx){_EL}[\s:#_-]*[a-z0-9_-]*", seller_only=True),
    _p("contact", r"(?<![\w.@])@[a-z0-9_.]{3,}", seller_only=True),
)


@lru_cache(maxsize=8)
def _marketplace_patterns(names: tuple[str, ...]) -> tuple[_Pattern, ...]:
    latin = [re.escape(n.casefold()) for n in names if n.isascii()]
    cjk = [re.escape(n) for n in names if not n.isascii()]
    patterns = [
        _p("marketplace", rf"{_BL}(?:{'|'.join(latin)}){_EL}|{_BL}jd\.com", seller_only=True)
    ]
    if cjk:
        # 京东 the marketplace, not 南京东路 / 北京东路 (Nanjing / Beijing East Road)
        alternatives = "|".join(cjk) + r"|(?<![北南东東])京[东東](?!路|街|大街|里|站|门)"
        patterns.append(_p("marketplace", alternatives, cjk=True, seller_only=True))
    return tuple(patterns)


# --- checking -------------------------------------------------------------------------------


def content_problems(
    texts: Mapping[str, str],
    *,
    own_phones: Iterable[str] = (),
    terms: OrderTerms = OrderTerms(),
    rules: LabelRules = LabelRules(),
) -> list[LabelProblem]:
    """Every rule each named text breaks, with the text that breaks it."""
    own = [p for p in own_phones if p.strip()]
    problems: list[LabelProblem] = []
    for name, text in texts.items():
        if not text.strip():
            continue
        found, spans = _matches(name, text, own, terms, rules)
        problems += found
        if name == "note":
            words = unrelated_words(text, spans, terms, rules)
            problems += [LabelProblem(name, PROBLEMS["unrelated"], "unrelated", w) for w in words]
    return problems


def _matches(
    name: str, text: str, own: list[str], terms: OrderTerms, rules: LabelRules
) -> tuple[list[LabelProblem], list[tuple[int, int]]]:
    base = folded(text)
    views = {False: (base, spelled(base), spelled(base, keep=".")), True: (compact(base),)}
    problems: list[LabelProblem] = []
    spans: list[tuple[int, int]] = []

    def report(rule: str, view: View, start: int, end: int) -> None:
        lo, hi = view.origin[start], view.origin[end - 1] + 1
        if any(lo < b and a < hi for a, b in spans):
            return
        spans.append((lo, hi))
        problems.append(LabelProblem(name, PROBLEMS[rule], rule, text[lo:hi].strip()))

    for pattern in _PATTERNS + _marketplace_patterns(rules.marketplaces):
        if pattern.seller_only and name not in SELLER_TEXT:
            continue
        for view in views[pattern.cjk]:
            for m in pattern.regex.finditer(view.text):
                if m.end() > m.start():
                    report(pattern.rule, view, m.start(), m.end())
    codes = {re.sub(r"\D", "", s) for s in terms.skus}
    for m in PHONE_CANDIDATE.finditer(base.text):
        number = phone_number(m.group())
        if number is None or re.sub(r"\D", "", m.group()) in codes:
            continue
        if not any(same_phone(number, p) for p in own):
            report("phone", base, m.start(), m.end())
    return problems, spans


# --- the note's vocabulary ------------------------------------------------------------------

_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
_QUANTITY = re.compile(r"\d+(?:x|g|kg|ml|l|cm|mm|pcs?|件|个|個|套|盒|包|箱|瓶)?|x\d+")


def _words(text: str) -> set[str]:
    """A title's Latin words and every run of 2+ of its Chinese characters."""
    words: set[str] = set()
    for token in _TOKEN.findall(folded(text).text):
        if re.match(rf"[{_CJK}]", token):
            run = token[:40]
            words.update(run[i:j] for i in range(len(run)) for j in range(i + 2, len(run) + 1))
        else:
            words.add(token)
    return words


def unrelated_words(
    note: str, covered: list[tuple[int, int]], terms: OrderTerms, rules: LabelRules
) -> list[str]:
    """The words of `note` that are neither handling instructions nor about the order, as
    written; text in `covered` (refused by another rule already) is skipped."""
    view = folded(note)
    blank = [any(a <= o < b for a, b in covered) for o in view.origin]
    for term in terms.order_numbers + terms.skus + terms.titles:
        key = folded(term).text.strip()
        if not key:
            continue
        for m in re.finditer(rf"{_B}{re.escape(key)}{_E}", view.text):
            blank[m.start() : m.end()] = [True] * (m.end() - m.start())
    text = "".join(" " if b else ch for ch, b in zip(view.text, blank, strict=True))
    vocabulary = {w.casefold() for w in rules.handling_words}
    for title in terms.titles:
        vocabulary |= _words(title)
    vocabulary |= {folded(s).text for s in terms.skus}
    order_hex = [re.sub(r"[^0-9a-f]", "", folded(o).text) for o in terms.order_numbers]
    longest = max((len(w) for w in vocabulary), default=1)
    offending: list[str] = []
    for m in _TOKEN.finditer(text):
        token = m.group()
        if re.match(rf"[{_CJK}]", token):
            for a, b in _unknown(token, vocabulary, longest):
                offending.append(view.original(note, m.start() + a, m.start() + b))
        elif not (
            token in vocabulary
            or _QUANTITY.fullmatch(token)
            or (len(token) >= 6 and any(token in h for h in order_hex))
        ):
            offending.append(view.original(note, m.start(), m.end()))
    return list(dict.fromkeys(offending))


def _unknown(run: str, vocabulary: set[str], longest: int) -> list[tuple[int, int]]:
    """The stretches of a run of Chinese characters that no known phrase covers, segmenting
    greedily by the longest phrase; a known single character next to an unknown one is part of
    the unknown word ("领红包": 包 alone is a handling word, 领红包 is not)."""
    pieces: list[tuple[int, int]] = []  # start, length of the known phrase there (0: unknown)
    i = 0
    while i < len(run):
        k = next(
            (k for k in range(min(longest, len(run) - i), 0, -1) if run[i : i + k] in vocabulary),
            0,
        )
        pieces.append((i, k))
        i += k or 1
    unknown = [k == 0 for _, k in pieces]
    for n, (_, k) in enumerate(pieces):
        if k == 1 and any(0 <= m < len(pieces) and pieces[m][1] == 0 for m in (n - 1, n + 1)):
            unknown[n] = True
    stretches: list[tuple[int, int]] = []
    for (start, k), bad in zip(pieces, unknown, strict=True):
        if not bad:
            continue
        end = start + (k or 1)
        if stretches and stretches[-1][1] == start:
            stretches[-1] = (stretches[-1][0], end)
        else:
            stretches.append((start, end))
    return stretches
