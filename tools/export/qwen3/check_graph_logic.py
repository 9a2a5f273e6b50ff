#!/usr/bin/env python3
"""Checks the control flow of the talker and code-predictor wrappers without any checkpoint.

Tiny stand-in modules with the attribute names the wrappers use (q_proj, q_norm, mlp, rotary_emb,
codec_embedding, lm_head …) are built at random. The script checks that
  1. the talker graph over a host-owned blocked cache (prefill, then decode over blocks that cross
     a block edge, with a spare masked block) equals a plain full recomputation of the sequence,
  2. the fused code predictor, run greedy (noise 0.5), equals a loop that recomputes its context,
  3. both still agree after ONNX export, in onnxruntime, at shapes other than the traced ones
     (one empty block, blocks longer than past_length, top_k 0/1/over the vocabulary).
It needs torch, onnx and onnxruntime; `qwen_tts` is used when installed, else minimal equivalents
of its three rotary/GQA helpers stand in. It says nothing about the real checkpoints: run
parity.py for that.

    python tools/export/qwen3/check_graph_logic.py
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import types
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def install_helper_stand_ins() -> None:
    """When qwen_tts is missing, provide batch-1 equivalents of the helpers the wrappers import."""
    try:
        import qwen_tts.core.models.modeling_qwen3_tts  # noqa: F401

        return
    except ImportError:
        pass

    def rotate_half(x):
        half = x.shape[-1] // 2
        return torch.cat((-x[..., half:], x[..., :half]), dim=-1)

    def apply_rotary_pos_emb(q, k, cos, sin, position_ids=None, unsqueeze_dim=1):
        cos, sin = cos.unsqueeze(unsqueeze_dim), sin.unsqueeze(unsqueeze_dim)
        return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin

    def apply_multimodal_rotary_pos_emb(q, k, cos, sin, mrope_section, mrope_interleaved=False, unsqueeze_dim=1):
        # Batch 1 with three identical position streams: every section reads the same angles.
        return apply_rotary_pos_emb(q, k, cos[0], sin[0], unsqueeze_dim=unsqueeze_dim)

    def repeat_kv(x, groups):
        batch, heads, length, dim = x.shape
        return x if groups == 1 else x[:, :, None].expand(batch, heads, groups, length, dim).reshape(batch, heads * groups, length, dim)

    module = types.ModuleType("qwen_tts.core.models.modeling_qwen3_tts")
    module.apply_rotary_pos_emb = apply_rotary_pos_emb
    module.apply_multimodal_rotary_pos_emb = apply_multimodal_rotary_pos_emb
    module.repeat_kv = repeat_kv
    for name in ("qwen_tts", "qwen_tts.core", "qwen_tts.core.models"):
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules[module.__name__] = module


class Norm(nn.Module):
    def __init__(self, size: int):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(size) + 0.5)

    def forward(self, x):
        y = x.float()
        return self.weight * (y * torch.rsqrt(y.pow(2).mean(-1, keepdim=True) + 1e-6)).to(x.dtype)


class Attention(nn.Module):
    def __init__(self, hidden: int, heads: int, kv_heads: int, head_dim: int):
        super().__init__()
        self.head_dim = head_dim
        self.num_key_value_groups = heads // kv_heads
        self.scaling = head_dim**-0.5
        self.q_proj = nn.Linear(hidden, heads * head_dim, bias=False)
        self.k_proj = nn.Linear(hidden, kv_heads * head_dim, bias=False)
        self.v_proj = nn.Linear(hidden, kv_heads * head_dim, bias=False)
        self.o_proj = nn.Linear(heads * head_dim, hidden, bias=False)
        self.q_norm = Norm(head_dim)
        self.k_norm = Norm(head_dim)


class GatedMlp(nn.Module):
    def __init__(self, hidden: int, inner: int):
        super().__init__()
        self.gate_proj = nn.Linear(hidden, inner, bias=False)
        self.up_proj = nn.Linear(hidden, inner, bias=False)
        self.down_proj = nn.Linear(inner, hidden, bias=False)

    def forward(self, x):
        return self.down_proj(nn.functional.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, hidden: int, heads: int, kv_heads: int, head_dim: int):
        super().__init__()
        self.self_attn = Attention(hidden, heads, kv_heads, head_dim)
        self.mlp = GatedMlp(hidden, 2 * hidden)
        self.input_layernorm = Norm(hidden)
        self.post_attention_layernorm = Norm(hidden)


class Rotary(nn.Module):
    def __init__(self, head_dim: int):
        super().__init__()
        self.register_buffer("inv_freq", 1.0 / (10000 ** (torch.arange(0, head_dim, 2).float() / head_dim)), persistent=False)

    def forward(self, x, position_ids):
        angles = position_ids.float()[..., None] * self.inv_freq
        both = torch.cat((angles, angles), dim=-1)
        return both.cos().to(x.dtype), both.sin().to(x.dtype)


def stand_in_talker(hidden=32, layers=3, heads=4, kv_heads=2, head_dim=16, vocabulary=40, groups=4, codebook=24, small=24):
    torch.manual_seed(0)
    talker = nn.Module()
    talker.config = types.SimpleNamespace(
        sliding_window=None,
        rope_scaling={"mrope_section": [4, 2, 2], "interleaved": True},
        num_code_groups=groups,
    )
    talker.model = nn.Module()
    talker.model.layers = nn.ModuleList([Layer(hidden, heads, kv_heads, head_dim) for _ in range(layers)])
    talker.model.norm = Norm(hidden)
    talker.model.rotary_emb = Rotary(head_dim)
    talker.model.codec_embedding = nn.Embedding(vocabulary, hidden)
    talker.codec_head = nn.Linear(hidden, vocabulary, bias=False)
    predictor = nn.Module()
    predictor.config = types.SimpleNamespace(sliding_window=None)
    predictor.model = nn.Module()
    predictor.model.layers = nn.ModuleList([Layer(small, 4, 2, 8) for _ in range(2)])
    predictor.model.norm = Norm(small)
    predictor.model.rotary_emb = Rotary(8)
    predictor.model.codec_embedding = nn.ModuleList([nn.Embedding(codebook, hidden) for _ in range(groups - 1)])
    predictor.lm_head = nn.ModuleList([nn.Linear(small, codebook, bias=False) for _ in range(groups - 1)])
    predictor.small_to_mtp_projection = nn.Linear(hidden, small)
    talker.code_predictor = predictor
    for parameter in talker.parameters():
        if parameter.dim() > 1:
            parameter.data.normal_(0, 0.3)
    return talker.eval()


def legacy_exporter() -> dict:
    """torch ≥ 2.9 defaults to the dynamo exporter; this check traces with the TorchScript one."""
    import inspect

    return {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}


class CaseWriter:
    """With --dump DIR: keeps the exported graphs and each ONNX case (feeds and PyTorch's outputs) so that
    another runtime — onnxruntime-node, which serves them — can run the same checks:
    `npx tsx tools/export/run-onnx-cases.ts DIR`."""

    def __init__(self, directory: str | None):
        self.directory = Path(directory) if directory else None
        self.cases: list[dict] = []
        if self.directory:
            self.directory.mkdir(parents=True, exist_ok=True)

    def keep(self, graph_path: Path) -> None:
        if self.directory:
            (self.directory / graph_path.name).write_bytes(graph_path.read_bytes())

    def add(self, label: str, graph: str, feeds: dict, expected: list, tolerance: float, compare: str) -> None:
        if not self.directory:
            return

        def tensor(value) -> dict:
            array = np.ascontiguousarray(value.numpy() if isinstance(value, torch.Tensor) else value)
            kind = {np.dtype("float32"): "float32", np.dtype("int64"): "int64"}[array.dtype]
            return {"type": kind, "dims": list(array.shape), "data": base64.b64encode(array.tobytes()).decode()}

        self.cases.append(
            {
                "label": label,
                "graph": graph,
                "feeds": {name: tensor(value) for name, value in feeds.items()},
                "expected": [tensor(value) for value in expected],
                "tolerance": tolerance,
                "compare": compare,
            }
        )

    def close(self) -> None:
        if self.directory:
            (self.directory / "cases.json").write_text(json.dumps(self.cases))
            print(f"wrote {len(self.cases)} ONNX cases to {self.directory}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dump", help="keep the graphs and the ONNX cases in this folder, for run-onnx-cases.ts")
    arguments = parser.parse_args()
    cases = CaseWriter(arguments.dump)
    install_helper_stand_ins()
    try:
        import onnxruntime
    except ImportError:
        onnxruntime = None
        print("onnxruntime is not installed: the graphs are exported but not run here" + (" (see --dump)" if not arguments.dump else ""))
    from qwen3.blocked_cache import blocked_feeds
    from qwen3.blocked_cache import input_names as blocked_input_names
    from qwen3.wrappers import CodePredictorGraph, TalkerGraph, additive_mask, decoder_layer_step
    from qwen_tts.core.models.modeling_qwen3_tts import apply_multimodal_rotary_pos_emb, apply_rotary_pos_emb

    talker = stand_in_talker()
    layers, kv_heads, head_dim, hidden, groups, codebook = 3, 2, 16, 32, 4, 24
    failures: list[str] = []

    def check(label: str, difference: float, tolerance: float = 1e-4) -> None:
        print(f"{'OK  ' if difference <= tolerance else 'FAIL'} {label}: {difference:.3g}")
        if difference > tolerance:
            failures.append(label)

    def recompute(embeds):
        length = embeds.shape[1]
        cos, sin = talker.model.rotary_emb(embeds, torch.arange(length).view(1, 1, -1).expand(3, 1, -1))
        index = torch.arange(length)
        mask = additive_mask(index.view(1, -1) <= index.view(-1, 1), embeds.dtype)
        state, keys = embeds, []
        for layer in talker.model.layers:
            state, key, _ = decoder_layer_step(
                layer, state, lambda q, k: apply_multimodal_rotary_pos_emb(
                    q, k, cos, sin, talker.config.rope_scaling["mrope_section"], talker.config.rope_scaling["interleaved"]
                ),
                None,
                None,
                mask,
            )
            keys.append(key[0])
        state = talker.model.norm(state)
        return talker.codec_head(state[:, -1]), torch.stack(keys)

    graph = TalkerGraph(talker).eval()
    sequence = torch.randn(1, 9, hidden)

    def blocked(keys, values, block, extra_blocks=0):
        """[L,K,P,D] → the graph's per-layer cache inputs (blocked_cache.py), as torch tensors."""
        feeds = blocked_feeds(keys.numpy(), values.numpy(), block, extra_blocks)
        return [torch.from_numpy(feeds[name]) for name in blocked_input_names(layers)]

    with torch.inference_mode():
        want_logits, want_keys = recompute(sequence)
        empty = torch.zeros(layers, kv_heads, 0, head_dim)
        _, _, keys, values = graph(sequence[:, :6], *blocked(empty, empty, 4), torch.tensor(0))
        # Blocks of 4: the 6 cached positions cross a block edge, and a spare block of filler is masked.
        logits, _, new_keys, _ = graph(sequence[:, 6:], *blocked(keys, values, 4, extra_blocks=1), torch.tensor(6))
    check("talker: cached prefill+decode vs recomputation (logits)", float((logits - want_logits).abs().max()))
    check("talker: new keys vs recomputation", float((new_keys - want_keys[:, :, 6:]).abs().max()))

    predictor = CodePredictorGraph(talker).eval()
    hidden_state, first = torch.randn(1, hidden), torch.tensor([7])

    def recompute_codes():
        cp = talker.code_predictor
        context = [hidden_state.view(1, 1, -1), talker.model.codec_embedding(first.view(1, 1))]
        codes = []
        for step in range(groups - 1):
            state = cp.small_to_mtp_projection(torch.cat(context, dim=1))
            length = state.shape[1]
            cos, sin = cp.model.rotary_emb(state, torch.arange(length).view(1, -1))
            index = torch.arange(length)
            mask = additive_mask(index.view(1, -1) <= index.view(-1, 1), state.dtype)
            for layer in cp.model.layers:
                state, _, _ = decoder_layer_step(layer, state, lambda q, k: apply_rotary_pos_emb(q, k, cos, sin), None, None, mask)
            code = cp.lm_head[step](cp.model.norm(state)[:, -1]).argmax(-1)
            codes.append(int(code))
            context.append(cp.model.codec_embedding[step](code.view(1, 1)))
        return codes

    with torch.inference_mode():
        greedy = predictor(hidden_state, first, torch.tensor(0.9), torch.tensor(5), torch.tensor(1.0), torch.full((groups - 1, codebook), 0.5))
    check("code predictor: greedy vs recomputed loop (codes differing)", float(sum(int(a != b) for a, b in zip(greedy.tolist(), recompute_codes()))), 0)

    with tempfile.TemporaryDirectory() as scratch:
        talker_path, predictor_path = Path(scratch) / "talker.onnx", Path(scratch) / "predictor.onnx"
        cache_names = blocked_input_names(layers)

        def random_blocks(blocks, block):
            return [torch.randn(blocks, kv_heads, head_dim, block) if "keys" in name else torch.randn(blocks, kv_heads, block, head_dim) for name in cache_names]

        torch.onnx.export(
            graph,
            (torch.randn(1, 5, hidden), *random_blocks(3, 3), torch.tensor(4)),
            str(talker_path),
            input_names=["inputs_embeds", *cache_names, "past_length"],
            output_names=["logits", "hidden", "new_keys", "new_values"],
            dynamic_axes={
                "inputs_embeds": {1: "s"},
                **{name: {0: "blocks", 3 if "keys" in name else 2: "block"} for name in cache_names},
                "new_keys": {2: "s"},
                "new_values": {2: "s"},
            },
            opset_version=17,
            **legacy_exporter(),
        )
        cases.keep(talker_path)
        sessions = onnxruntime is not None
        session = onnxruntime.InferenceSession(str(talker_path), providers=["CPUExecutionProvider"]) if sessions else None
        for length, blocks, block, past in [(6, 1, 4, 0), (3, 2, 4, 6), (1, 3, 5, 9), (2, 1, 3, 3), (1, 2, 64, 70)]:
            feeds = (torch.randn(1, length, hidden), *random_blocks(blocks, block), torch.tensor(past))
            with torch.inference_mode():
                expected = graph(*feeds)
            named = dict(zip(["inputs_embeds", *cache_names, "past_length"], feeds))
            label = f"talker ONNX S={length} blocks={blocks}×{block} past={past}"
            cases.add(label, talker_path.name, named, list(expected), 1e-4, "max-abs")
            if session is None:
                continue
            actual = session.run(None, {name: value.numpy() for name, value in named.items()})
            worst = max(float(np.max(np.abs(a - e.numpy()))) for a, e in zip(actual, expected))
            check(label, worst)

        torch.onnx.export(
            predictor,
            (hidden_state, first, torch.tensor(0.9), torch.tensor(5), torch.tensor(0.8), torch.rand(groups - 1, codebook)),
            str(predictor_path),
            input_names=["hidden", "first_code", "temperature", "top_k", "top_p", "noise"],
            output_names=["codes"],
            opset_version=17,
            **legacy_exporter(),
        )
        cases.keep(predictor_path)
        session = onnxruntime.InferenceSession(str(predictor_path), providers=["CPUExecutionProvider"]) if sessions else None
        for top_k, temperature, top_p in [(5, 0.9, 1.0), (1, 1.0, 1.0), (0, 0.7, 0.6), (100, 1.3, 0.9)]:
            noise = torch.rand(groups - 1, codebook).clamp(1e-6, 1 - 1e-6)
            with torch.inference_mode():
                expected = predictor(
                    hidden_state, first, torch.tensor(temperature), torch.tensor(top_k), torch.tensor(top_p), noise
                ).numpy()
            feeds = {
                "hidden": hidden_state.numpy(),
                "first_code": first.numpy(),
                "temperature": np.array(temperature, dtype=np.float32),
                "top_k": np.array(top_k, dtype=np.int64),
                "top_p": np.array(top_p, dtype=np.float32),
                "noise": noise.numpy(),
            }
            label = f"code predictor ONNX top_k={top_k} T={temperature} top_p={top_p} (codes differing)"
            cases.add(label, predictor_path.name, feeds, [expected], 0, "count-differing")
            if session is None:
                continue
            (actual,) = session.run(None, feeds)
            check(label, float(np.sum(actual != expected)), 0)
    cases.close()
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
