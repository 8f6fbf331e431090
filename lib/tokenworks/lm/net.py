"""The network side of a language model: next-token log-probabilities, with a prefix cache.

``TokenNet`` wraps a causal LM module (transformers ``LlamaForCausalLM`` or anything with the
same call) and answers the two questions the rest of ``tokenworks.lm`` asks:

    net.window_logprobs(ids)            # (T, V) log p(next token | ids[:t+1]) for one window
    net.branches(prefix, tails)         # after a shared prefix, several short continuations at once

``branches`` keeps the key/value cache of the prefix (one forward pass) and evaluates every tail
in one more pass with a tree-shaped attention mask: each tail sees the prefix and its own earlier
tokens, never another tail. Calling it again with a prefix that extends the cached one only runs
the new tokens: byte-level generation re-uses the cache as the prefix grows.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np


@dataclass
class Branches:
    """What ``TokenNet.branches`` returns for M tails after one prefix."""

    tail_logprob: np.ndarray  # (M,) float64: log p(tail tokens | prefix), natural log; 0 for an empty tail
    next_logprobs: np.ndarray  # (M, V) float32: log p(next token | prefix + tail)
    prefix_tokens_run: int  # prefix tokens the network actually ran this call (0: all cached)


class TokenNet:
    """A causal LM module on a device, with a lock (one forward at a time) and a prefix cache."""

    def __init__(self, module, device: str = "cpu"):
        self.module = module
        self.device = device
        self.lock = threading.RLock()
        self._cache_ids: list[int] = []  # the ids whose keys/values are in _cache
        self._cache = None
        self._cache_last = None  # (V,) log-probs after the last cached id

    @property
    def vocab_size(self) -> int:
        return int(self.module.config.vocab_size)

    def window_logprobs(self, ids: list[int]):
        """(T, V) float32 torch tensor of log-probabilities after each of ``ids`` (one window)."""
        import torch

        with self.lock, torch.inference_mode():
            x = torch.tensor([ids], device=self.device)  # (1, T)
            logits = self.module(x, use_cache=False).logits[0].float()  # (T, V)
            return torch.log_softmax(logits, dim=-1).cpu()

    def _extend_cache(self, prefix: list[int]) -> int:
        """Make the cache hold exactly ``prefix``; returns how many tokens were run."""
        import torch
        from transformers import DynamicCache

        n = len(self._cache_ids)
        if self._cache is None or n > len(prefix) or self._cache_ids != prefix[:n]:
            self._cache, self._cache_ids, self._cache_last, n = DynamicCache(), [], None, 0
        new = prefix[n:]
        if new:
            x = torch.tensor([new], device=self.device)  # (1, N)
            pos = torch.arange(n, n + len(new), device=self.device)[None]  # (1, N)
            # only the last position's logits are needed: skip the (N, V) projection of the others
            out = self.module(x, past_key_values=self._cache, position_ids=pos, use_cache=True, logits_to_keep=1)
            self._cache = out.past_key_values
            self._cache_ids = list(prefix)
            self._cache_last = torch.log_softmax(out.logits[0, -1].float(), dim=-1)  # (V,)
        return len(new)

    def branches(self, prefix: list[int], tails: list[list[int]]) -> Branches:
        """Log p of each tail after ``prefix`` and the next-token log-probs after prefix + tail.

        ``prefix`` must not be empty (start it with the document-start token).
        """
        import torch

        if not prefix:
            raise ValueError("branches needs a non-empty prefix (the document-start token at least)")
        with self.lock, torch.inference_mode():
            ran = self._extend_cache(list(prefix))
            P = len(prefix)
            flat = [t for tail in tails for t in tail]
            M, Q = len(tails), len(flat)
            tail_lp = np.zeros(M, dtype=np.float64)
            nxt = torch.empty(M, self.vocab_size)  # (M, V)
            if Q == 0:
                nxt[:] = self._cache_last
                return Branches(tail_lp, nxt.numpy(), ran)
            own = torch.tensor([j for j, tail in enumerate(tails) for _ in tail])  # (Q,) which tail
            pos = torch.tensor([P + k for tail in tails for k in range(len(tail))])  # (Q,)
            q = torch.arange(Q)
            allowed = torch.ones(Q, P + Q, dtype=torch.bool)  # (Q, P+Q): every tail sees the prefix
            allowed[:, P:] = (own[:, None] == own[None, :]) & (q[None, :] <= q[:, None])
            mask = torch.zeros(1, 1, Q, P + Q)
            mask[0, 0].masked_fill_(~allowed, torch.finfo(torch.float32).min)
            x = torch.tensor([flat], device=self.device)  # (1, Q)
            try:
                out = self.module(x, past_key_values=self._cache, attention_mask=mask.to(self.device),
                                  position_ids=pos[None].to(self.device), use_cache=True)
                logp = torch.log_softmax(out.logits[0].float(), dim=-1).cpu()  # (Q, V)
            finally:
                self._cache.crop(-Q)  # the cache holds the prefix again, whatever happened
            start = 0
            for j, tail in enumerate(tails):
                if not tail:
                    nxt[j] = self._cache_last
                    continue
                # token k of the tail is predicted by the position before it (the prefix's last for k=0)
                prev = torch.cat([self._cache_last[None].cpu(), logp[start:start + len(tail) - 1]])  # (len, V)
                tail_lp[j] = float(prev[torch.arange(len(tail)), torch.tensor(tail)].double().sum())
                nxt[j] = logp[start + len(tail) - 1]
                start += len(tail)
            return Branches(tail_lp, nxt.numpy(), ran)
