"""The shared output fit (tokenworks.lm.output_fit) on a vocabulary small enough to know the answer."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from tokenworks.lm.output_fit import MAX_PIECES, MIX, fit_output, piece_features, split_logits


def test_piece_features_mix_the_pieces_vectors():
    E = np.arange(12, dtype=np.float32).reshape(4, 3)  # (V_base 4, D 3)
    rows = np.full((2, 3), 7.0, dtype=np.float32)  # two new tokens
    pieces = [[0], [1], [1, 2, 3], [2]]  # ids 0, 1 shared; the new ones: 2 (three pieces), 3 (one)
    f = piece_features(rows, np.array([2, 3]), pieces, [b"a", b"b", b" abc", b"z" * 9], E)
    assert f.vectors.shape == (len(MIX), 2, 3)
    first, row, mean, last, second = f.vectors[:, 0]
    assert first.tolist() == E[1].tolist() and last.tolist() == E[3].tolist() and second.tolist() == E[2].tolist()
    assert mean.tolist() == E[1:4].mean(0).tolist() and row.tolist() == [7.0] * 3
    assert f.pieces.tolist() == [2, 0] and f.space.tolist() == [1.0, 0.0]
    assert f.log_bytes.tolist() == pytest.approx([np.log(4), np.log(9)])


def test_the_fit_recovers_the_numbers_that_made_the_targets():
    """Next tokens drawn from a softmax whose new rows are 0.8 first + 0.2 row with a bias of -1 per
    extra piece: the fit finds those numbers from a start at 0.5 / 0.5 and one shared bias."""
    g = torch.Generator().manual_seed(0)
    V_base, N, D, P = 40, 60, 8, 6000
    E = torch.randn(V_base, D, generator=g)
    pieces = [[i] for i in range(V_base)] + [[int(a), int(b)] if k == 2 else [int(a), int(b), int(c)]
                                             for a, b, c, k in torch.randint(0, V_base, (N, 4), generator=g).tolist()
                                             for k in [2 + k % 2]]
    rows = torch.randn(N, D, generator=g).numpy()
    index = np.arange(V_base, V_base + N)
    lengths = torch.randint(1, 12, (len(pieces),), generator=g).tolist()  # not the piece count: no confound
    f = piece_features(rows, index, pieces, [b"x" * n for n in lengths], E.numpy())
    true_out = 0.8 * f.vectors[0] + 0.2 * f.vectors[1]  # (N, D)
    true_bias = -1.0 * f.pieces.float()  # (N,)
    W_fixed = torch.cat([E, torch.zeros(N, D)])  # (V, D): the new rows are replaced inside the fit
    W_true = torch.cat([E, true_out])
    b_true = torch.cat([torch.zeros(V_base), true_bias])
    H = 1.5 * torch.randn(P, D, generator=g)  # (P, D) states
    y = torch.multinomial(torch.softmax(H @ W_true.T + b_true, -1), 1, generator=g)[:, 0]  # (P,)
    out, bias, fit = fit_output(H, y, W_fixed, torch.from_numpy(index), f, out_first=0.5, start_bias=-0.5,
                                steps=400, lr=0.05, batch=512)
    assert fit.loss_after < fit.loss_before
    assert fit.weights["first"] == pytest.approx(0.8, abs=0.15) and fit.weights["row"] == pytest.approx(0.2, abs=0.15)
    assert fit.piece_bias[2] - fit.piece_bias[1] == pytest.approx(-1.0, abs=0.35)
    assert out.shape == (N, D) and bias.shape == (N,) and len(fit.piece_bias) == MAX_PIECES


def test_continuation_is_the_base_models_logprob_of_the_later_pieces(smollm2):
    """log P(p2 ... pk | document start, p1) equals the sum of lm.score's log-probabilities of the
    text's tokens after the first; one piece costs nothing."""
    from tokenworks.lm.continuation import continuation_logprob

    words = [" xqzv", " ===", " walked", "(self"]
    pieces = [smollm2.tokenizer.encode(w).ids.tolist() for w in words]
    assert len(pieces[2]) == 1 and all(len(p) > 1 for p in pieces[:2])
    got = continuation_logprob(smollm2.net.module, smollm2.bos_id, pieces, batch=2)
    for w, p, c in zip(words, pieces, got):
        s = smollm2.score(w)
        assert s.tokens.ids.tolist() == p
        assert c == pytest.approx(float(s.logprobs[1:].sum()), abs=1e-3)
    assert got[2] == 0.0 and got[0] < got[1] < 0


def test_split_logits_gives_the_cross_entropy_of_any_shared_bias():
    """One pass over the vocabulary, then the loss with any bias b on the new tokens' logits
    equals the cross-entropy computed over the whole vocabulary with that bias."""
    g = torch.Generator().manual_seed(0)
    P, V, D = 300, 50, 8
    H, W = torch.randn(P, D, generator=g), torch.randn(V, D, generator=g)  # (P, D), (V, D)
    y = torch.randint(0, V, (P,), generator=g)
    index = torch.tensor([3, 7, 11, 20, 21, 40])
    parts = split_logits(H, y, W, index, chunk=64)
    assert set(parts.y_new[y == 7].tolist()) == {1} and (parts.y_new[y == 0] == -1).all()
    is_new = torch.zeros(V)
    is_new[index] = 1.0
    for b in (-3.0, 0.0, 1.5):
        want = float(torch.nn.functional.cross_entropy(H @ W.T + b * is_new, y))
        assert parts.loss_with_bias(b) == pytest.approx(want, rel=1e-5)
