import pytest
import torch
from torch.utils.data import DataLoader

from lstmkit.data import BucketBatchSampler, collate_padded, pad_sequences
from lstmkit.errors import ConfigError, ShapeError


def test_pad_sequences_shapes_values_and_lengths():
    seqs = [torch.ones(3, 2), 2 * torch.ones(1, 2), 3 * torch.ones(4, 2)]
    padded, lengths = pad_sequences(seqs, padding_value=-1.0)
    assert padded.shape == (3, 4, 2)
    assert lengths.dtype == torch.int64 and lengths.tolist() == [3, 1, 4]
    assert (padded[0, :3] == 1).all() and (padded[0, 3:] == -1).all()
    assert (padded[1, :1] == 2).all() and (padded[1, 1:] == -1).all()
    assert (padded[2] == 3).all()
    time_major, _ = pad_sequences(seqs, batch_first=False)
    assert time_major.shape == (4, 3, 2)
    assert torch.equal(time_major.transpose(0, 1)[0, :3], padded[0, :3])


def test_pad_sequences_token_ids():
    padded, lengths = pad_sequences([torch.tensor([5, 6, 7]), torch.tensor([8])])
    assert padded.tolist() == [[5, 6, 7], [8, 0, 0]] and lengths.tolist() == [3, 1]


def test_pad_sequences_errors():
    with pytest.raises(ShapeError, match="at least one sequence"):
        pad_sequences([])
    with pytest.raises(
        ShapeError, match=r"sequence 1 has feature shape \(3,\) but sequence 0 has \(2,\)"
    ):
        pad_sequences([torch.zeros(2, 2), torch.zeros(2, 3)])
    with pytest.raises(ShapeError, match="sequence 0 must be a tensor"):
        pad_sequences([[1, 2]])


def test_collate_padded_in_a_dataloader():
    items = [(torch.full((n, 2), float(n)), n % 2) for n in (2, 5, 3, 1)]
    loader = DataLoader(items, batch_size=4, collate_fn=collate_padded)
    padded, lengths, targets = next(iter(loader))
    assert padded.shape == (4, 5, 2) and lengths.tolist() == [2, 5, 3, 1]
    assert targets.tolist() == [0, 1, 1, 1]
    # tensor targets are stacked, anything else stays a list
    _, _, stacked = collate_padded(
        [
            (torch.zeros(2, 1), torch.tensor([1.0, 2.0])),
            (torch.zeros(1, 1), torch.tensor([3.0, 4.0])),
        ]
    )
    assert stacked.shape == (2, 2)
    _, _, labels = collate_padded([(torch.zeros(1, 1), "a"), (torch.zeros(2, 1), "b")])
    assert labels == ["a", "b"]
    with pytest.raises(ShapeError, match="empty batch"):
        collate_padded([])
    with pytest.raises(ShapeError, match=r"\(sequence, target\) pairs"):
        collate_padded([torch.zeros(2, 1)])


def lengths_for(n=503, seed=1):
    return torch.randint(1, 200, (n,), generator=torch.Generator().manual_seed(seed)).tolist()


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("shuffle", [False, True])
def test_bucket_sampler_covers_every_index_once(shuffle, drop_last):
    lengths = lengths_for()
    sampler = BucketBatchSampler(lengths, 16, shuffle=shuffle, drop_last=drop_last)
    batches = list(sampler)
    assert len(batches) == len(sampler) == (503 // 16 if drop_last else 32)
    flat = [i for b in batches for i in b]
    assert len(flat) == len(set(flat))
    assert len(flat) == (503 - 503 % 16 if drop_last else 503)
    assert sum(len(b) < 16 for b in batches) == (0 if drop_last else 1)


def test_bucket_sampler_groups_similar_lengths():
    lengths = lengths_for()
    sampler = BucketBatchSampler(lengths, 16, seed=3)

    def padding_waste(batches):
        return sum(
            max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in batches
        )

    random_batches = torch.randperm(503, generator=torch.Generator().manual_seed(0)).split(16)
    assert padding_waste(list(sampler)) < 0.2 * padding_waste([b.tolist() for b in random_batches])
    unshuffled = list(BucketBatchSampler(lengths, 16, shuffle=False))
    order = [i for b in unshuffled for i in b]
    assert [lengths[i] for i in order] == sorted(lengths)


def test_bucket_sampler_is_reproducible_and_reshuffles_each_epoch():
    lengths = lengths_for()
    a, b = BucketBatchSampler(lengths, 8, seed=7), BucketBatchSampler(lengths, 8, seed=7)
    first_a, first_b = list(a), list(b)
    assert first_a == first_b
    assert list(a) != first_a  # the next epoch draws a new order
    a.set_epoch(0)
    assert list(a) == first_a
    assert list(BucketBatchSampler(lengths, 8, seed=8)) != first_a


def test_bucket_sampler_with_dataloader_and_errors():
    items = [(torch.zeros(n, 1), 0) for n in (1, 9, 2, 8, 3, 7)]
    sampler = BucketBatchSampler([len(x) for x, _ in items], 2, shuffle=False)
    loader = DataLoader(items, batch_sampler=sampler, collate_fn=collate_padded)
    assert [p.shape[1] for p, _, _ in loader] == [2, 7, 9]
    with pytest.raises(ConfigError, match="batch_size must be a positive int"):
        BucketBatchSampler([1, 2], 0)
    with pytest.raises(ShapeError, match="lengths must be >= 0"):
        BucketBatchSampler([1, -2], 1)
