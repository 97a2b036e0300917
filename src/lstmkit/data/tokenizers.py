"""Tokenisers: text to ids and back, at the level of characters, words or subwords (BPE).

All three share one interface (``fit``, ``tokenize``, ``encode``, ``decode``, ``unknown``,
``to_dict``) and the fixed special ids of :mod:`lstmkit.data.vocab` (pad 0, unk 1, bos 2, eos 3),
so a task can swap one for another with a string option. Subwords are learnt by the ``tokenizers``
library (byte-pair encoding), not by code of ours.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from lstmkit._checks import described, int_at_least, positive_int
from lstmkit.data.vocab import BOS, EOS, PAD, SPECIALS, UNK, Vocabulary, checked_ids
from lstmkit.errors import ConfigError, DataError, ModelFileError

TOKENIZER_KINDS: tuple[str, ...] = ("char", "word", "bpe")
# A word is a run of letters/digits/underscore; every other non-space character is a token alone.
_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def _texts(texts: Iterable[str]) -> list[str]:
    if isinstance(texts, str):
        texts = [texts]
    out = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise DataError(f"text {i} is {described(text)}; expected a string")
        out.append(text)
    if not any(t.strip() for t in out):
        raise DataError("the corpus is empty: there is no text to fit a tokenizer on")
    return out


class Tokenizer:
    """What every tokeniser offers; see :class:`CharTokenizer`, :class:`WordTokenizer`,
    :class:`BPETokenizer`."""

    kind: str = ""
    pad_id, unk_id, bos_id, eos_id = (
        Vocabulary.pad_id,
        Vocabulary.unk_id,
        Vocabulary.bos_id,
        Vocabulary.eos_id,
    )

    @property
    def fitted(self) -> bool:
        raise NotImplementedError

    @property
    def vocab_size(self) -> int:
        raise NotImplementedError

    def fit(self, texts: Iterable[str]) -> Tokenizer:
        raise NotImplementedError

    def tokenize(self, text: str) -> list[str]:
        raise NotImplementedError

    def encode(self, text: str, *, bos: bool = False, eos: bool = False) -> list[int]:
        raise NotImplementedError

    def decode(self, ids: Iterable[int], *, skip_special: bool = True) -> str:
        raise NotImplementedError

    def unknown(self, text: str) -> list[str]:
        """The distinct pieces of ``text`` that would become ``<unk>``, in order of appearance."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def _check_fitted(self) -> None:
        if not self.fitted:
            raise ConfigError(
                f"this {type(self).__name__} is not fitted yet: call fit(texts) first"
            )

    @staticmethod
    def _wrap(ids: list[int], bos: bool, eos: bool) -> list[int]:
        return ([Vocabulary.bos_id] if bos else []) + ids + ([Vocabulary.eos_id] if eos else [])


class _VocabTokenizer(Tokenizer):
    """A tokeniser whose pieces come from a rule and whose ids come from a :class:`Vocabulary`."""

    joiner = ""

    def __init__(self, *, lowercase: bool, min_freq: int, max_size: int | None = None) -> None:
        self.lowercase = bool(lowercase)
        self.min_freq = min_freq
        self.max_size = max_size
        self.vocab: Vocabulary | None = None
        Vocabulary.build([], min_freq=min_freq, max_size=max_size)  # validates the options early

    def _pieces(self, text: str) -> list[str]:
        raise NotImplementedError

    def _normalise(self, text: str) -> str:
        text = unicodedata.normalize("NFC", text)
        return text.lower() if self.lowercase else text

    @property
    def fitted(self) -> bool:
        return self.vocab is not None

    @property
    def vocab_size(self) -> int:
        self._check_fitted()
        return len(self.vocab)  # type: ignore[arg-type]

    def fit(self, texts: Iterable[str]) -> _VocabTokenizer:
        texts = _texts(texts)
        self.vocab = Vocabulary.build(
            (self.tokenize(t) for t in texts), min_freq=self.min_freq, max_size=self.max_size
        )
        return self

    def tokenize(self, text: str) -> list[str]:
        return self._pieces(self._normalise(text))

    def encode(self, text: str, *, bos: bool = False, eos: bool = False) -> list[int]:
        self._check_fitted()
        return self._wrap(self.vocab.encode(self.tokenize(text)), bos, eos)  # type: ignore[union-attr]

    def decode(self, ids: Iterable[int], *, skip_special: bool = True) -> str:
        self._check_fitted()
        return self.joiner.join(self.vocab.decode(ids, skip_special=skip_special))  # type: ignore[union-attr]

    def unknown(self, text: str) -> list[str]:
        self._check_fitted()
        vocab = self.vocab
        return list(dict.fromkeys(p for p in self.tokenize(text) if p not in vocab))  # type: ignore[operator]

    def to_dict(self) -> dict[str, Any]:
        self._check_fitted()
        return {
            "kind": self.kind,
            "lowercase": self.lowercase,
            "min_freq": self.min_freq,
            "max_size": self.max_size,
            "vocab": self.vocab.to_dict(),  # type: ignore[union-attr]
        }

    def __repr__(self) -> str:
        size = len(self.vocab) if self.vocab is not None else "unfitted"
        return f"{type(self).__name__}(lowercase={self.lowercase}, vocab={size})"


class CharTokenizer(_VocabTokenizer):
    """One token per character (newlines and spaces included); decode joins with nothing."""

    kind = "char"

    def __init__(self, *, lowercase: bool = False, min_freq: int = 1) -> None:
        super().__init__(lowercase=lowercase, min_freq=min_freq)

    def _pieces(self, text: str) -> list[str]:
        return list(text)


class WordTokenizer(_VocabTokenizer):
    """Words (runs of ``\\w``) and single punctuation marks; decode joins with one space."""

    kind = "word"
    joiner = " "

    def __init__(
        self, *, lowercase: bool = True, min_freq: int = 1, max_size: int | None = None
    ) -> None:
        super().__init__(lowercase=lowercase, min_freq=min_freq, max_size=max_size)

    def _pieces(self, text: str) -> list[str]:
        return _WORD.findall(text)


class BPETokenizer(Tokenizer):
    """Byte-pair-encoding subwords learnt by the ``tokenizers`` library.

    Spaces are kept as a ``▁`` prefix on the following piece (the Metaspace scheme), so decoding
    gives the text back; characters never seen in training become ``<unk>``.
    """

    kind = "bpe"

    def __init__(
        self, *, vocab_size: int = 2000, min_freq: int = 2, lowercase: bool = False
    ) -> None:
        self.target_size = int_at_least("vocab_size", vocab_size, 8)
        self.min_freq = positive_int("min_freq", min_freq)
        self.lowercase = bool(lowercase)
        self._tok: Any = None

    @property
    def fitted(self) -> bool:
        return self._tok is not None

    @property
    def vocab_size(self) -> int:
        self._check_fitted()
        return int(self._tok.get_vocab_size(with_added_tokens=True))

    def fit(self, texts: Iterable[str]) -> BPETokenizer:
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers import decoders, models, normalizers, pre_tokenizers, trainers

        texts = _texts(texts)
        tok = HFTokenizer(models.BPE(unk_token=UNK))
        steps = [normalizers.NFC()] + ([normalizers.Lowercase()] if self.lowercase else [])
        tok.normalizer = normalizers.Sequence(steps)
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        trainer = trainers.BpeTrainer(
            vocab_size=self.target_size,
            min_frequency=self.min_freq,
            special_tokens=list(SPECIALS),  # first, so they take ids 0..3 in this order
            show_progress=False,
        )
        tok.train_from_iterator(texts, trainer=trainer)
        self._tok = tok
        self._check_specials()
        return self

    def _check_specials(self) -> None:
        for expected, token in enumerate(SPECIALS):
            if self._tok.token_to_id(token) != expected:
                raise ModelFileError(
                    f"the BPE tokenizer gives {token} the id {self._tok.token_to_id(token)}, "
                    f"expected {expected}"
                )

    def tokenize(self, text: str) -> list[str]:
        self._check_fitted()
        return list(self._tok.encode(text, add_special_tokens=False).tokens)

    def encode(self, text: str, *, bos: bool = False, eos: bool = False) -> list[int]:
        self._check_fitted()
        return self._wrap(list(self._tok.encode(text, add_special_tokens=False).ids), bos, eos)

    def decode(self, ids: Iterable[int], *, skip_special: bool = True) -> str:
        self._check_fitted()
        kept = checked_ids(ids, self.vocab_size, skip_special)
        return self._tok.decode(kept, skip_special_tokens=False)

    def unknown(self, text: str) -> list[str]:
        self._check_fitted()
        enc = self._tok.encode(text, add_special_tokens=False)
        normalised = self._tok.normalizer.normalize_str(text)
        pieces = [
            normalised[a:b]
            for i, (a, b) in zip(enc.ids, enc.offsets, strict=True)
            if i == self.unk_id
        ]
        return list(dict.fromkeys(p for p in pieces if p))

    def to_dict(self) -> dict[str, Any]:
        self._check_fitted()
        return {
            "kind": self.kind,
            "vocab_size": self.target_size,
            "min_freq": self.min_freq,
            "lowercase": self.lowercase,
            "tokenizer": json.loads(self._tok.to_str()),
        }

    def __repr__(self) -> str:
        size = self.vocab_size if self.fitted else "unfitted"
        return f"BPETokenizer(vocab={size})"


def make_tokenizer(kind: str, **options: Any) -> Tokenizer:
    """A new, unfitted tokeniser: ``kind`` is "char", "word" or "bpe"; options go to its class."""
    classes = {"char": CharTokenizer, "word": WordTokenizer, "bpe": BPETokenizer}
    if kind not in classes:
        raise ConfigError(f"tokenizer must be one of {', '.join(TOKENIZER_KINDS)}, got {kind!r}")
    try:
        return classes[kind](**options)
    except TypeError as err:
        raise ConfigError(f"bad option for the {kind} tokenizer: {err}") from None


def tokenizer_from_dict(data: Any) -> Tokenizer:
    """Rebuild a fitted tokeniser saved by ``to_dict``; ModelFileError if the data is malformed."""
    if not isinstance(data, dict) or data.get("kind") not in TOKENIZER_KINDS:
        kind = data.get("kind") if isinstance(data, dict) else type(data).__name__
        raise ModelFileError(
            f"a saved tokenizer must have kind one of {', '.join(TOKENIZER_KINDS)}, got {kind!r}"
        )
    kind = data["kind"]
    try:
        if kind == "bpe":
            from tokenizers import Tokenizer as HFTokenizer

            bpe = BPETokenizer(
                vocab_size=data["vocab_size"],
                min_freq=data["min_freq"],
                lowercase=data["lowercase"],
            )
            bpe._tok = HFTokenizer.from_str(json.dumps(data["tokenizer"]))
            bpe._check_specials()
            return bpe
        options = {"lowercase": data["lowercase"], "min_freq": data["min_freq"]}
        if kind == "word":
            options["max_size"] = data.get("max_size")
        tok = make_tokenizer(kind, **options)
        assert isinstance(tok, _VocabTokenizer)
        tok.vocab = Vocabulary.from_dict(data["vocab"])
        return tok
    except ModelFileError:
        raise
    except Exception as err:  # missing keys, bad types, and the tokenizers library's own errors
        raise ModelFileError(
            f"a saved {kind} tokenizer is corrupt: {type(err).__name__}: {err}"
        ) from None


def texts_to_ids(
    tokenizer: Tokenizer, texts: Sequence[str], *, bos: bool = False, eos: bool = False
) -> list[list[int]]:
    """Encode many texts (a convenience for building datasets)."""
    return [tokenizer.encode(t, bos=bos, eos=eos) for t in texts]


__all__ = [
    "BOS",
    "EOS",
    "PAD",
    "TOKENIZER_KINDS",
    "UNK",
    "BPETokenizer",
    "CharTokenizer",
    "Tokenizer",
    "WordTokenizer",
    "make_tokenizer",
    "texts_to_ids",
    "tokenizer_from_dict",
]
