"""``Vocabulary``: the bidirectional map between tokens and integer ids.

Four special tokens always come first, with fixed ids, so every vocabulary (character, word or
subword) agrees on them and a padded batch can be built without knowing which one made it:
``<pad>`` = 0, ``<unk>`` = 1, ``<bos>`` = 2, ``<eos>`` = 3.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from lstmkit._checks import positive_int, positive_int_or_none
from lstmkit.errors import ConfigError, ModelFileError

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS: tuple[str, ...] = (PAD, UNK, BOS, EOS)


def checked_ids(ids: Iterable[int], size: int, skip_special: bool) -> list[int]:
    """``ids`` as ints, each checked to lie in a vocabulary of ``size``; with ``skip_special``
    the pad/bos/eos ids are dropped (``<unk>`` stays: it stands for real text)."""
    dropped = (Vocabulary.pad_id, Vocabulary.bos_id, Vocabulary.eos_id) if skip_special else ()
    out = []
    for i in ids:
        i = int(i)
        if not 0 <= i < size:
            raise ConfigError(f"token id {i} is outside the vocabulary (0..{size - 1})")
        if i not in dropped:
            out.append(i)
    return out


class Vocabulary:
    """Tokens and their ids; the four specials take ids 0–3, ``tokens`` follow in order.

    Args:
        tokens: the ordinary tokens, without the specials (a special given here is ignored, a
            duplicate is an error).
    """

    pad_id, unk_id, bos_id, eos_id = 0, 1, 2, 3

    def __init__(self, tokens: Sequence[str] = ()) -> None:
        ordinary = [t for t in tokens if t not in SPECIALS]
        for t in ordinary:
            if not isinstance(t, str) or not t:
                raise ConfigError(f"vocabulary tokens must be non-empty strings, got {t!r}")
        seen: set[str] = set()
        dupes = [t for t in ordinary if t in seen or seen.add(t)]  # type: ignore[func-returns-value]
        if dupes:
            raise ConfigError(f"vocabulary tokens must be unique; repeated: {dupes[:5]}")
        self._tokens: list[str] = [*SPECIALS, *ordinary]
        self._ids: dict[str, int] = {t: i for i, t in enumerate(self._tokens)}

    @classmethod
    def build(
        cls,
        token_lists: Iterable[Sequence[str]],
        *,
        min_freq: int = 1,
        max_size: int | None = None,
    ) -> Vocabulary:
        """Count tokens; keep those seen ``min_freq`` times or more, most frequent first (ties in
        alphabetical order, so the ids do not depend on the order of the data), at most
        ``max_size`` of them (specials not counted)."""
        positive_int("min_freq", min_freq)
        positive_int_or_none("max_size", max_size)
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            counts.update(tokens)
        for special in SPECIALS:
            counts.pop(special, None)
        kept = sorted(
            (t for t, n in counts.items() if n >= min_freq), key=lambda t: (-counts[t], t)
        )
        if max_size is not None:
            kept = kept[:max_size]
        return cls(kept)

    # --- lookups ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._ids

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self._tokens == other._tokens

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens)"

    @property
    def tokens(self) -> list[str]:
        """Every token by id, the specials first."""
        return list(self._tokens)

    def index(self, token: str) -> int:
        """The id of ``token``; the ``<unk>`` id if it is not in the vocabulary."""
        return self._ids.get(token, self.unk_id)

    def encode(self, tokens: Iterable[str]) -> list[int]:
        ids = self._ids
        unk = self.unk_id
        return [ids.get(t, unk) for t in tokens]

    def decode(self, ids: Iterable[int], *, skip_special: bool = True) -> list[str]:
        """Tokens for ``ids``; with ``skip_special`` the pad/bos/eos ids are dropped (``<unk>``
        stays: it stands for real text)."""
        return [self._tokens[i] for i in checked_ids(ids, len(self._tokens), skip_special)]

    # --- persistence -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {"specials": list(SPECIALS), "tokens": self._tokens[len(SPECIALS) :]}

    @classmethod
    def from_dict(cls, data: Any) -> Vocabulary:
        """Rebuild a vocabulary saved by :meth:`to_dict`; ModelFileError if it is malformed."""
        if not isinstance(data, dict) or not isinstance(data.get("tokens"), list):
            raise ModelFileError("a saved vocabulary must be a JSON object with a 'tokens' list")
        if data.get("specials", list(SPECIALS)) != list(SPECIALS):
            raise ModelFileError(
                f"a saved vocabulary has specials {data.get('specials')!r}, expected "
                f"{list(SPECIALS)!r}"
            )
        try:
            return cls(data["tokens"])
        except ConfigError as err:
            raise ModelFileError(f"a saved vocabulary is corrupt: {err}") from None
