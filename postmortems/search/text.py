"""Words as the search index sees them: split, folded and stemmed in Python, the same way for
documents and queries and for both databases (the databases only match the stems we give them).

A word is a run of letters and digits. It is lower-cased, `ё` becomes `е`, a Latin word loses
its accents, and then it is stemmed with the Snowball stemmer of its script: Cyrillic words
with the Russian one, Latin words with the English one; other words stay as they are.
"""

import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import snowballstemmer  # type: ignore[import-untyped]

WORD = re.compile(r"[^\W_]+")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
MAX_WORD_LENGTH = 60  # longer runs (hashes, base64) are cut, the same way everywhere

_RUSSIAN = snowballstemmer.stemmer("russian")
_ENGLISH = snowballstemmer.stemmer("english")


def fold(word: str) -> str:
    """Lower case, `ё` as `е`, and no accents on Latin letters (Cyrillic `й` stays `й`)."""
    word = word.casefold().replace("ё", "е")
    if word.isascii() or CYRILLIC.search(word):
        return word
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The index form of one word (already split out by WORD)."""
    folded = fold(word[:MAX_WORD_LENGTH])
    if CYRILLIC.search(folded):
        stemmed: str = _RUSSIAN.stemWord(folded)
    elif LATIN.search(folded):
        stemmed = _ENGLISH.stemWord(folded)
    else:
        stemmed = folded
    return stemmed or folded


def words(text: str) -> Iterator[re.Match[str]]:
    """Every word of `text`, with where it stands."""
    return WORD.finditer(text)


def stemmed_text(*texts: str) -> str:
    """The stems of every word of `texts`, space-separated: what a document stores."""
    return " ".join(stem(m.group()) for text in texts for m in words(text))


MAX_QUERY_LENGTH = 500
MAX_QUERY_WORDS = 12
# A shorter last word matches itself only: "a*" would read half the index.
MIN_PREFIX_LENGTH = 3


@dataclass(frozen=True)
class Query:
    """A query as the index takes it: its stems (all must match) and whether the last one also
    matches longer words that start with it (as-you-type)."""

    stems: tuple[str, ...]
    prefix_last: bool = False
    shortened: bool = False  # words were dropped from a very long query

    def __bool__(self) -> bool:
        return bool(self.stems)

    def matches(self, word_stem: str) -> bool:
        if word_stem in self.stems:
            return True
        return self.prefix_last and word_stem.startswith(self.stems[-1])


def parse_query(text: str, *, prefix_last: bool = True) -> Query:
    """Turn whatever was typed into a Query: only words count, so quotes, operators, `*`,
    brackets and control characters are simply not part of any word. The last word matches
    as a prefix when the text does not end with a space (the person may still be typing)."""
    shortened = len(text) > MAX_QUERY_LENGTH
    if shortened:  # cut between words, not inside one
        kept = text[:MAX_QUERY_LENGTH].rsplit(None, 1)
        text = (kept[0] if kept else "") + " "
    stems: list[str] = []
    for match in words(text):
        word_stem = stem(match.group())
        if word_stem not in stems:
            stems.append(word_stem)
    if len(stems) > MAX_QUERY_WORDS:
        stems, shortened = stems[:MAX_QUERY_WORDS], True
    still_typing = (
        prefix_last
        and bool(stems)
        and not text[-1].isspace()
        and len(stems[-1]) >= MIN_PREFIX_LENGTH
    )
    return Query(tuple(stems), prefix_last=still_typing, shortened=shortened)
