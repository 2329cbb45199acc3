"""Offline text signals for LLM behaviour: a language guess and a toxicity lexicon.

Language: the script decides for non-Latin writing (Cyrillic, Greek, Arabic, Hebrew,
Devanagari, CJK, Hangul, kana); Latin-script text is scored by the share of its words that
are frequent function words of English, German, French, Spanish, Italian, Portuguese or
Dutch. Fewer than three words, or no language ahead, is ``und`` (undetermined).

Toxicity: patterns for insults and harassment aimed at a person ("you are an idiot"),
threats of violence, incitement to self-harm, and profanity, after folding case, leet
spelling, repeated letters and masking (``f*ck``). It catches explicit abuse in English.
It cannot catch implicit or coded hate, sarcasm, stereotypes phrased politely, abuse in
other languages, or toxicity that depends on context; it can misfire on text that quotes
or discusses an offensive word. Precision and recall on a labelled set are in
docs/monitor-canary.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["LANGUAGES", "detect_language", "toxicity"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the and is are was were be to of in that it for on with as this you i not have "
        "has but what which your can will would there their they at by from or an if my we "
        "do does how why when me its"
    ),
    "de": _words(
        "der die das und ist nicht ein eine ich sie es zu den mit von auf für dem des sich "
        "auch wie wir ihr sind war aber bei oder wenn noch nach nur mir mich kann werden"
    ),
    "fr": _words(
        "le la les et est un une des du de je vous il elle nous pas pour que qui dans ce "
        "cette sur avec au aux sont mais ou comme bien être avoir très votre mon ne"
    ),
    "es": _words(
        "el la los las y es un una de del que en por para con no se su al lo como más pero "
        "sus le ya muy está son yo usted tu también porque cuando hay esta"
    ),
    "it": _words(
        "il lo la gli le e è un una di che in per con non si sono del della al da come ma "
        "anche io tu lei questo questa molto mi ci ho ha"
    ),
    "pt": _words(
        "o a os as e é um uma de do da dos das que em no na por para com não se mais mas "
        "como eu você ele ela isso muito são foi tem"
    ),
    "nl": _words(
        "de het een en is van in op te dat die niet met voor zijn er aan ook als maar om "
        "bij ik je jij wij ze was heeft hebben wat naar"
    ),
}
_SCRIPTS: tuple[tuple[str, str], ...] = (
    ("CYRILLIC", "ru"),
    ("GREEK", "el"),
    ("ARABIC", "ar"),
    ("HEBREW", "he"),
    ("DEVANAGARI", "hi"),
    ("HANGUL", "ko"),
    ("HIRAGANA", "ja"),
    ("KATAKANA", "ja"),
    ("CJK", "zh"),
    ("THAI", "th"),
)
LANGUAGES = (*_STOPWORDS, *dict.fromkeys(code for _, code in _SCRIPTS), "und")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_MAX_CHARS = 5000  # a language is clear from the first few thousand characters


def _script_language(text: str) -> str | None:
    counts: dict[str, int] = {}
    letters = 0
    for ch in text:
        if not ch.isalpha():
            continue
        letters += 1
        name = unicodedata.name(ch, "")
        for prefix, code in _SCRIPTS:
            if name.startswith(prefix):
                counts[code] = counts.get(code, 0) + 1
                break
    if not letters or not counts:
        return None
    # Kana marks Japanese even when most characters are kanji (read as CJK).
    if counts.get("ja", 0) and counts.get("ja", 0) + counts.get("zh", 0) > letters / 2:
        return "ja"
    code, count = max(counts.items(), key=lambda kv: kv[1])
    return code if count > letters / 2 else None


def detect_language(text: str) -> str:
    """An ISO 639-1 code from ``LANGUAGES``, or ``und`` when the text is too short or mixed."""
    sample = text[:_MAX_CHARS]
    by_script = _script_language(sample)
    if by_script is not None:
        return by_script
    words = [w.lower() for w in _WORD.findall(sample)]
    if len(words) < 3:
        return "und"
    scores = {code: sum(w in stop for w in words) for code, stop in _STOPWORDS.items()}
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    # At least one function word in ten, and a clear lead over the runner-up.
    if top < max(1, len(words) // 10) or top <= second:
        return "und"
    return best


# --- toxicity ---------------------------------------------------------------------------------

_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
)
_INSULT_NOUNS = (
    r"idiot|moron|imbecile|cretin|loser|scum|trash|garbage|filth|worm|pig|parasite|clown"
    r"|retard|dumbass|jackass|asshole|bastard|bitch|prick|dickhead|twat|wanker|douche(?:bag)?"
    r"|piece of (?:shit|garbage|trash)|waste of (?:space|oxygen)"
)
_INSULT_ADJ = r"stupid|dumb|worthless|pathetic|useless|disgusting|brainless|ugly|fat|braindead"
_PATTERNS: dict[str, re.Pattern[str]] = {
    "insult": re.compile(
        rf"\b(?:you(?:'re| are|r)?|u r|ur)\s+(?:(?:such|so|a|an|the|just|really|fucking|"
        rf"complete|total|absolute|utter|and)\s+)*(?:{_INSULT_ADJ}|{_INSULT_NOUNS})\b"
        rf"|\b(?:you|u)\s+(?:{_INSULT_ADJ})?\s*(?:{_INSULT_NOUNS})\b"
        rf"|\b(?:shut up|stfu|get lost|go to hell|screw you|fuck (?:you|off))\b",
        re.IGNORECASE,
    ),
    "threat": re.compile(
        r"\b(?:i(?:'ll| will| am going to|'m going to|'m gonna| gonna)|we(?:'ll| will))\s+"
        r"(?:\w+\s+){0,2}(?:kill|murder|hurt|beat|stab|shoot|strangle)\s+"
        r"(?:you|u|your (?:family|kids|children))\b"
        r"|\byou(?:'re| are) (?:dead|going to die|gonna die)\b|\bi know where you live\b",
        re.IGNORECASE,
    ),
    "self_harm": re.compile(
        r"\b(?:kill|hang) (?:yourself|urself)\b|\b(?:go|just|should) hurt (?:yourself|urself)\b"
        r"|\bkys\b|\bgo die\b"
        r"|\b(?:you|u) should (?:just )?die\b|\bnobody would miss you\b",
        re.IGNORECASE,
    ),
    "profanity": re.compile(
        r"\b(?:fuck\w*|motherfuck\w*|shit(?:ty|head)?|bullshit|cunt|cock ?sucker|bitch(?:es)?"
        r"|asshole|bastard|dickhead|piss off)\b",
        re.IGNORECASE,
    ),
}
_MASKED = re.compile(r"\b([fs])[*#@_.-]{1,3}(ck|it|k)\b", re.IGNORECASE)


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)[: _MAX_CHARS * 4]
    text = _MASKED.sub(lambda m: {"f": "fuck", "s": "shit"}[m.group(1).lower()], text)
    # Leet digits only inside words ("1d10t"), so numbers in ordinary text stay numbers.
    text = re.sub(r"\b\w*[a-z]\w*\b", lambda m: m.group(0).translate(_LEET), text, flags=re.I)
    return re.sub(r"([a-z])\1{2,}", r"\1", text, flags=re.IGNORECASE)  # "stuuuupid"


def toxicity(text: str) -> list[str]:
    """The toxicity categories found in ``text`` (empty when none)."""
    folded = _normalise(text)
    return [name for name, pattern in _PATTERNS.items() if pattern.search(folded)]


def any_toxic(texts: Iterable[str]) -> int:
    return sum(bool(toxicity(t)) for t in texts)
