"""codec_decoder_step: the official codec decoder (Qwen3TTSTokenizerV2Decoder) made stateful, so that
a sequence decoded piece by piece gives exactly the audio of one decode of the whole sequence.

Every part of the decoder is causal with a bounded reach into the past, so what a piece needs of the
frames before it fits in a fixed-size state:
- a causal convolution (stride 1; the official pads (k - 1)·dilation zeros on the left) keeps its
  last (k - 1)·dilation input samples, zeros at the start standing for that padding;
- a causal transposed convolution (kernel k, stride s; the official cuts k - s samples on the right,
  so every output sample it keeps is complete) keeps its last ceil(k / s) - 1 input samples, whose
  contributions reach into the new piece's first output samples;
- the sliding-window transformer (a key is seen by queries less than `window` positions later) keeps
  each layer's keys and values of the last window - 1 positions; the host passes the absolute
  position of the piece's first frame, which places its rotary angles and masks the state slots that
  lie before the sequence's start;
- everything else (codebook lookup, pointwise convolutions, activations, norms, the clamp) sees one
  time step at a time.

Graph: codes i64[1,T,G], position i64[] (frames decoded so far) and one `past.<name>` input per state
(f32) → audio f32[1,T·rate] and one `present.<name>` output per state (f32), to be fed back as the next
piece's `past.<name>`. The state starts at zeros. The official modules' weights are used as they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from qwen_tts.core.tokenizer_12hz.modeling_qwen3_tts_tokenizer_v2 import apply_rotary_pos_emb, repeat_kv


@dataclass(frozen=True)
class DecoderState:
    """One state tensor: graph input `past.<name>`, output `present.<name>`, zeros at the start."""

    name: str
    shape: tuple[int, ...]

    @property
    def input_name(self) -> str:
        return f"past.{self.name}"

    @property
    def output_name(self) -> str:
        return f"present.{self.name}"


def _kind(module: nn.Module) -> str:
    return type(module).__name__


def _convolution_memory(module: nn.Module) -> int:
    """Input samples a streamed convolution keeps between pieces."""
    convolution = module.conv
    if _kind(module) == "Qwen3TTSTokenizerV2CausalTransConvNet":
        kernel, stride = convolution.kernel_size[0], convolution.stride[0]
        if module.right_pad != kernel - stride or kernel < stride:
            raise SystemExit(f"unexpected transposed convolution (kernel {kernel}, stride {stride}): not streamable")
        return math.ceil(kernel / stride) - 1
    if module.stride != 1:
        raise SystemExit("the codec decoder has a strided causal convolution; the streamed decoder does not handle it")
    return int(module.padding)


class CodecDecoderStepGraph(nn.Module):
    def __init__(self, tokenizer_model: nn.Module, dtype: torch.dtype, window: int):
        super().__init__()
        decoder = tokenizer_model.decoder
        self.decoder = decoder
        self.dtype = dtype
        self.window = window
        transformer = decoder.pre_transformer
        attention = transformer.layers[0].self_attn
        config = decoder.config
        self.head_dim = attention.head_dim
        kv_heads = config.num_key_value_heads
        # Convolutions with memory, in a fixed order (their graph inputs follow it).
        convolutions: list[tuple[str, nn.Module]] = [("pre_conv", decoder.pre_conv)]
        for index, (_upsample, convnext) in enumerate(decoder.upsample):
            convolutions.append((f"upsample.{index}.dwconv", convnext.dwconv))
        for index, block in enumerate(decoder.decoder):
            if _kind(block) == "Qwen3TTSTokenizerV2CausalConvNet":
                convolutions.append((f"decoder.{index}", block))
            elif _kind(block) == "Qwen3TTSTokenizerV2DecoderDecoderBlock":
                for part_index, part in enumerate(block.block):
                    if _kind(part) == "Qwen3TTSTokenizerV2CausalTransConvNet":
                        convolutions.append((f"decoder.{index}.upsample", part))
                    elif _kind(part) == "Qwen3TTSTokenizerV2DecoderDecoderResidualUnit":
                        convolutions.append((f"decoder.{index}.residual.{part_index}.conv1", part.conv1))
                        convolutions.append((f"decoder.{index}.residual.{part_index}.conv2", part.conv2))
        for block in decoder.upsample:
            if _convolution_memory(block[0]) != 0:
                raise SystemExit("an upsampling transposed convolution overlaps its neighbours: not handled")
        self.states: list[DecoderState] = [
            DecoderState("attention.keys", (config.num_hidden_layers, kv_heads, window - 1, self.head_dim)),
            DecoderState("attention.values", (config.num_hidden_layers, kv_heads, window - 1, self.head_dim)),
        ]
        self._slot: dict[int, int] = {}
        for name, module in convolutions:
            memory = _convolution_memory(module)
            if memory > 0:
                self._slot[id(module)] = len(self.states)
                self.states.append(DecoderState(name, (1, module.conv.in_channels, memory)))

    def zero_states(self, device=None) -> list[torch.Tensor]:
        return [torch.zeros(state.shape, dtype=torch.float32, device=device) for state in self.states]

    # --- the pieces, each returning its output and writing its new state into `present` ---

    def _convolution(self, module: nn.Module, hidden: torch.Tensor, past: list, present: list) -> torch.Tensor:
        slot = self._slot.get(id(module))
        convolution = module.conv
        if _kind(module) == "Qwen3TTSTokenizerV2CausalTransConvNet":
            stride = convolution.stride[0]
            trim = convolution.kernel_size[0] - stride
            if slot is None:
                output = convolution(hidden)
                return output[..., :-trim] if trim > 0 else output
            memory = self.states[slot].shape[2]
            joined = torch.cat([past[slot], hidden], dim=2)
            present[slot] = joined[..., -memory:]
            # The kept inputs' outputs before the piece were emitted with the previous piece.
            output = convolution(joined)
            return output[..., memory * stride : -trim] if trim > 0 else output[..., memory * stride :]
        if slot is None:
            return convolution(hidden)
        joined = torch.cat([past[slot], hidden], dim=2)
        present[slot] = joined[..., -self.states[slot].shape[2] :]
        return convolution(joined)

    def _convnext(self, block: nn.Module, hidden: torch.Tensor, past: list, present: list) -> torch.Tensor:
        residual = hidden
        hidden = self._convolution(block.dwconv, hidden, past, present).permute(0, 2, 1)
        hidden = block.pwconv2(block.act(block.pwconv1(block.norm(hidden))))
        return residual + (block.gamma * hidden).permute(0, 2, 1)

    def _residual_unit(self, unit: nn.Module, hidden: torch.Tensor, past: list, present: list) -> torch.Tensor:
        residual = hidden
        hidden = self._convolution(unit.conv1, unit.act1(hidden), past, present)
        hidden = self._convolution(unit.conv2, unit.act2(hidden), past, present)
        return hidden + residual

    def _transformer(self, hidden: torch.Tensor, position: torch.Tensor, past: list, present: list) -> torch.Tensor:
        transformer = self.decoder.pre_transformer
        batch, length, _ = hidden.shape
        hidden = transformer.input_proj(hidden)
        memory = self.window - 1
        steps = torch.arange(length, device=hidden.device)
        queries_at = position + steps
        position_ids = queries_at.view(1, -1)
        cos, sin = transformer.rotary_emb(hidden, position_ids)
        # Key slot j holds position `position - memory + j`: the state first, then the piece.
        keys_at = position - memory + torch.arange(memory, device=hidden.device)
        keys_at = torch.cat([keys_at, queries_at])
        key_row, query_column = keys_at.view(1, -1), queries_at.view(-1, 1)
        allowed = (key_row <= query_column) & (key_row > query_column - self.window) & (key_row >= 0)
        zero = torch.zeros((), dtype=hidden.dtype, device=hidden.device)
        lowest = torch.full((), torch.finfo(hidden.dtype).min, dtype=hidden.dtype, device=hidden.device)
        mask = torch.where(allowed, zero, lowest)[None, None]
        past_keys, past_values = past[0], past[1]
        new_keys, new_values = [], []
        for index, layer in enumerate(transformer.layers):
            attention = layer.self_attn
            shape = (batch, length, -1, self.head_dim)
            residual = hidden
            normed = layer.input_layernorm(hidden)
            query = attention.q_norm(attention.q_proj(normed).view(shape)).transpose(1, 2)
            key = attention.k_norm(attention.k_proj(normed).view(shape)).transpose(1, 2)
            value = attention.v_proj(normed).view(shape).transpose(1, 2)
            query, key = apply_rotary_pos_emb(query, key, cos, sin)
            keys = torch.cat([past_keys[index : index + 1], key], dim=2)
            values = torch.cat([past_values[index : index + 1], value], dim=2)
            new_keys.append(keys[:, :, -memory:])
            new_values.append(values[:, :, -memory:])
            keys = repeat_kv(keys, attention.num_key_value_groups)
            values = repeat_kv(values, attention.num_key_value_groups)
            scores = torch.matmul(query, keys.transpose(2, 3)) * attention.scaling + mask
            weights = torch.softmax(scores, dim=-1, dtype=torch.float32).to(query.dtype)
            attended = torch.matmul(weights, values).transpose(1, 2).reshape(batch, length, -1)
            hidden = residual + layer.self_attn_layer_scale(attention.o_proj(attended))
            residual = hidden
            hidden = residual + layer.mlp_layer_scale(layer.mlp(layer.post_attention_layernorm(hidden)))
        present[0] = torch.cat(new_keys, dim=0)
        present[1] = torch.cat(new_values, dim=0)
        return transformer.output_proj(transformer.norm(hidden))

    def forward(self, codes, position, *past):
        # The state crosses the graph boundary in float32 whatever the codec computes in.
        past = [state.to(self.dtype) for state in past]
        present: list = [None] * len(past)
        decoder = self.decoder
        hidden = decoder.quantizer.decode(torch.clamp(codes, min=0).transpose(1, 2)).to(self.dtype)
        hidden = self._convolution(decoder.pre_conv, hidden, past, present).transpose(1, 2)
        hidden = self._transformer(hidden, position, past, present).permute(0, 2, 1)
        for upsample, convnext in decoder.upsample:
            hidden = self._convolution(upsample, hidden, past, present)
            hidden = self._convnext(convnext, hidden, past, present)
        for block in decoder.decoder:
            kind = _kind(block)
            if kind == "Qwen3TTSTokenizerV2CausalConvNet":
                hidden = self._convolution(block, hidden, past, present)
            elif kind == "Qwen3TTSTokenizerV2DecoderDecoderBlock":
                for part in block.block:
                    if _kind(part) == "Qwen3TTSTokenizerV2CausalTransConvNet":
                        hidden = self._convolution(part, hidden, past, present)
                    elif _kind(part) == "Qwen3TTSTokenizerV2DecoderDecoderResidualUnit":
                        hidden = self._residual_unit(part, hidden, past, present)
                    else:
                        hidden = part(hidden)
            else:
                hidden = block(hidden)
        audio = hidden.clamp(min=-1, max=1).float()[:, 0, :]
        return (audio, *[state.float() for state in present])


def attention_window(tokenizer_model: nn.Module, dtype: torch.dtype) -> int:
    """The decoder transformer's window as the installed official code really applies it (probed, not
    read from the config); a bounded state cannot reproduce full causal attention."""
    from qwen3.wrappers import probe_window

    transformer = tokenizer_model.decoder.pre_transformer
    config = tokenizer_model.decoder.config

    def with_mask(sample, mask):
        masks = {"sliding_attention": mask, "full_attention": mask}
        return transformer(inputs_embeds=sample, attention_mask=masks).last_hidden_state

    window = probe_window(
        lambda sample: transformer(inputs_embeds=sample).last_hidden_state,
        with_mask,
        config.latent_dim,
        config.sliding_window,
        dtype,
        next(tokenizer_model.parameters()).device,
    )
    if window is None:
        raise SystemExit("the official decoder attends to every earlier frame here: no bounded streaming state exists")
    return int(window)


def manifest_entry(graph: CodecDecoderStepGraph) -> dict:
    """The manifest's `codecDecoderStep`: what the engine needs to allocate the zero state."""
    return {
        "graph": "codec_decoder_step",
        "attentionWindow": graph.window,
        "states": [{"name": state.name, "shape": list(state.shape)} for state in graph.states],
    }


def step_inputs(graph: CodecDecoderStepGraph, codes: torch.Tensor, position: int, states=None) -> tuple:
    """Graph inputs for a piece: codes [1,T,G], the position of its first frame, the state (zeros
    unless given)."""
    device = codes.device
    states = graph.zero_states(device) if states is None else list(states)
    return (codes, torch.tensor(position, dtype=torch.int64, device=device), *states)


def input_names(graph: CodecDecoderStepGraph) -> list[str]:
    return ["codes", "position", *[state.input_name for state in graph.states]]


def output_names(graph: CodecDecoderStepGraph) -> list[str]:
    return ["audio", *[state.output_name for state in graph.states]]
