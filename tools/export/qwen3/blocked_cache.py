"""The talker's KV cache as the graph reads it (layout contract 3, docs/qwen3-onnx-layout.md).

Per layer, blocks of `block` positions: keys [blocks, K, D, block] (transposed within each block),
values [blocks, K, block, D]; the graph masks positions ≥ past_length, so the tail of the last block
may hold anything finite. The engine keeps these buffers for a worker's life and feeds the used
blocks as views; the Python tools here build them from plain [L, K, P, D] caches instead.
"""

from __future__ import annotations

import numpy as np

# The engine's block (src/engines/qwen3-onnx/kv-cache.ts); any size works, the graph reads it from the shape.
BLOCK = 64


def input_names(layers: int) -> list[str]:
    """The talker's cache inputs in graph order: keys and values of layer 0, then of layer 1, …"""
    return [f"past_{kind}_{layer}" for layer in range(layers) for kind in ("keys", "values")]


def blocked_feeds(keys: np.ndarray, values: np.ndarray, block: int = BLOCK, extra_blocks: int = 0) -> dict[str, np.ndarray]:
    """[L, K, P, D] keys and values → the talker's per-layer inputs (at least one block; the unused
    tail is filled with a finite non-zero value, so a graph that failed to mask it would show)."""
    layers, heads, length, head_dim = keys.shape
    blocks = max(1, -(-length // block)) + extra_blocks
    padded = blocks * block
    feeds: dict[str, np.ndarray] = {}
    for layer in range(layers):
        tail = np.full((heads, padded - length, head_dim), 0.5, dtype=keys.dtype)
        layer_keys = np.concatenate([keys[layer], tail], axis=1).reshape(heads, blocks, block, head_dim)
        layer_values = np.concatenate([values[layer], tail], axis=1).reshape(heads, blocks, block, head_dim)
        feeds[f"past_keys_{layer}"] = np.ascontiguousarray(layer_keys.transpose(1, 0, 3, 2))
        feeds[f"past_values_{layer}"] = np.ascontiguousarray(layer_values.transpose(1, 0, 2, 3))
    return feeds
