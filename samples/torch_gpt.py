"""A GPT-2-like transformer from torch.nn (nanoGPT's layout, tiny): token and position
embeddings, blocks of causal self-attention and an MLP, each behind a LayerNorm and added back,
a final LayerNorm and the language-model head, trained on next-token cross entropy.

    gad torch samples/torch_gpt.py:loss -o gpt.html

`gpt(blocks, width, heads, vocabulary, context)` builds other sizes; `loss` runs two blocks of
width 16 on one sequence of 8 tokens.
"""

import math

import torch
from torch import nn


class SelfAttention(nn.Module):
    """Causal multi-head self-attention: one Linear makes queries, keys and values, another
    mixes the heads' outputs."""

    def __init__(self, width, heads, context):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.register_buffer("mask", torch.tril(torch.ones(context, context, dtype=torch.bool)))

    def forward(self, x):
        batch, tokens, width = x.shape
        q, k, v = self.qkv(x).split(width, dim=2)
        q, k, v = (part.view(batch, tokens, self.heads, width // self.heads).transpose(1, 2)
                   for part in (q, k, v))
        scores = q @ k.transpose(-2, -1) / math.sqrt(width // self.heads)
        scores = scores.masked_fill(~self.mask[:tokens, :tokens], float("-inf"))
        mixed = torch.softmax(scores, dim=-1) @ v
        return self.proj(mixed.transpose(1, 2).reshape(batch, tokens, width))


class Block(nn.Module):
    def __init__(self, width, heads, context):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = SelfAttention(width, heads, context)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(),
                                 nn.Linear(4 * width, width))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, blocks, width, heads, vocabulary, context):
        super().__init__()
        self.wte = nn.Embedding(vocabulary, width)
        self.wpe = nn.Embedding(context, width)
        self.h = nn.Sequential(*(Block(width, heads, context) for _ in range(blocks)))
        self.ln_f = nn.LayerNorm(width)
        self.lm_head = nn.Linear(width, vocabulary, bias=False)

    def forward(self, tokens):
        positions = torch.arange(tokens.shape[1])
        x = self.h(self.wte(tokens) + self.wpe(positions))
        return self.lm_head(self.ln_f(x))


def gpt(blocks=2, width=16, heads=2, vocabulary=32, context=8):
    return GPT(blocks, width, heads, vocabulary, context)


torch.manual_seed(0)
model = gpt()
tokens = torch.randint(0, 32, (1, 9))


def loss():
    logits = model(tokens[:, :-1])
    return nn.functional.cross_entropy(logits.flatten(0, 1), tokens[:, 1:].flatten())
