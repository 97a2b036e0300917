"""Padding token ids, the token dataset's collate function, reading word vectors."""

from __future__ import annotations

import pytest
import torch

from lstmkit.data.text_batches import TokenDataset, collate_tokens, pad_ids
from lstmkit.data.vectors import read_vectors
from lstmkit.data.vocab import Vocabulary
from lstmkit.errors import DataError


def test_pad_ids_pads_and_reports_lengths():
    ids, lengths = pad_ids([[5, 6, 7], [8]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert lengths.tolist() == [3, 1] and ids.dtype == torch.int64


def test_pad_ids_errors():
    with pytest.raises(DataError, match="at least one sequence"):
        pad_ids([])
    with pytest.raises(DataError, match="sequence 1 is empty"):
        pad_ids([[1], []])
    ids, lengths = pad_ids([[1], []], allow_empty=True)
    assert lengths.tolist() == [1, 0]


def test_collate_labels_and_tag_sequences():
    labels = TokenDataset([[4, 5], [6]], [1, 0])
    ids, lengths, y = collate_tokens()([labels[0], labels[1]])
    assert y.tolist() == [1, 0] and lengths.tolist() == [2, 1]
    tags = TokenDataset([[4, 5], [6]], [[2, 3], [1]])
    _, _, y = collate_tokens(target_pad=-100)([tags[0], tags[1]])
    assert y.tolist() == [[2, 3], [1, -100]]
    assert labels.lengths == [2, 1]
    with pytest.raises(DataError, match="2 sequences but 1 targets"):
        TokenDataset([[1], [2]], [0])


def test_read_vectors_word2vec_and_glove(tmp_path):
    vocab = Vocabulary(["cat", "dog", "emu"])
    w2v = tmp_path / "w2v.txt"
    w2v.write_text("3 2\ncat 1.0 2.0\ndog -1 0.5\nyak 9 9\n", encoding="utf-8")
    weights, found = read_vectors(w2v, vocab)
    assert found == 2 and weights.shape == (len(vocab), 2)
    assert weights[vocab.index("cat")].tolist() == [1.0, 2.0]
    assert weights[vocab.pad_id].tolist() == [0.0, 0.0]
    again, _ = read_vectors(w2v, vocab)
    assert torch.equal(weights, again)  # missing rows are seeded
    glove = tmp_path / "glove.txt"
    glove.write_text("Cat 1 2 3\n", encoding="utf-8")
    weights, found = read_vectors(glove, vocab, lowercase=True)
    assert found == 1 and weights[vocab.index("cat")].tolist() == [1.0, 2.0, 3.0]


def test_read_vectors_names_the_bad_line(tmp_path):
    vocab = Vocabulary(["cat"])
    bad = tmp_path / "bad.txt"
    bad.write_text("cat 1 2\ndog 1\n", encoding="utf-8")
    with pytest.raises(DataError, match="bad.txt line 2: 1 numbers after 'dog', expected 2"):
        read_vectors(bad, vocab)
    bad.write_text("cat 1 x\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 1: 'x' is not a number"):
        read_vectors(bad, vocab)
    with pytest.raises(DataError, match="does not exist"):
        read_vectors(tmp_path / "none.txt", vocab)
    bad.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="is empty"):
        read_vectors(bad, vocab)
