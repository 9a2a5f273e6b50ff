"""nn.Module wrappers that give each graph of docs/qwen3-onnx-layout.md its exact inputs and outputs.

They reuse the official modules' weights and sub-modules (projections, norms, MLPs, rotary tables,
the codec's convolutions) and only re-arrange the control flow the layout needs: a host-owned KV
cache for the talker, the fused 15-step code predictor, and explicit attention masks so the
exporter never has to trace the transformers masking utilities.

Unverified until someone runs them against real weights (see docs/export.md).
"""

from __future__ import annotations

import torch
from torch import nn

from qwen_tts.core.models.modeling_qwen3_tts import (
    apply_multimodal_rotary_pos_emb,
    apply_rotary_pos_emb,
    repeat_kv,
)


def additive_mask(allowed: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """0 where attention is allowed, the dtype's lowest value elsewhere; shape [1, 1, Q, K]."""
    zero = torch.zeros((), dtype=dtype, device=allowed.device)
    lowest = torch.full((), torch.finfo(dtype).min, dtype=dtype, device=allowed.device)
    return torch.where(allowed, zero, lowest)[None, None]


def blocked_attention(query, key, value, past_keys, past_values, past_mask, new_mask, scaling):
    """Eager grouped-query attention over the host's blocked cache and the S new positions (batch 1).

    query [1,H,S,D]; key, value [1,K,S,D]; past_keys [N,K,D,B] and past_values [N,K,B,D] (the used
    blocks, read where they lie: blocked_cache.py); past_mask additive [N·B]; new_mask additive
    [G·S,S] (causal, repeated for the G query heads of each KV head). Query head h reads KV head h // G,
    as repeat_kv arranges it. The same sums as the official eager attention (q·kᵀ·scaling + mask,
    float32 softmax, weights·v), with the past's products taken block by block and added up, so that
    no key or value is gathered or concatenated. Returns [1,S,H·D].
    """
    kv_heads, head_dim = key.shape[1], query.shape[-1]
    rows = query.reshape(kv_heads, -1, head_dim)  # [K, G·S, D]
    past_scores = torch.matmul(rows.unsqueeze(0), past_keys)  # [N, K, G·S, B]
    past_scores = past_scores.permute(1, 2, 0, 3).reshape(kv_heads, rows.shape[1], -1)  # [K, G·S, N·B]
    new_scores = torch.matmul(rows, key[0].transpose(1, 2))  # [K, G·S, S]
    scores = torch.cat([past_scores * scaling + past_mask, new_scores * scaling + new_mask], dim=-1)
    weights = torch.softmax(scores, dim=-1, dtype=torch.float32).to(query.dtype)
    slots = past_mask.shape[0]
    past_weights = weights[..., :slots].reshape(kv_heads, rows.shape[1], -1, past_values.shape[2])
    attended = torch.matmul(past_weights.permute(2, 0, 1, 3), past_values).sum(dim=0)  # [K, G·S, D]
    attended = attended + torch.matmul(weights[..., slots:], value[0])
    length = query.shape[2]
    return attended.reshape(1, -1, length, head_dim).transpose(1, 2).reshape(1, length, -1)


def decoder_layer_step(
    layer: nn.Module,
    hidden: torch.Tensor,
    rotate,
    past_keys: torch.Tensor | None,
    past_values: torch.Tensor | None,
    mask: torch.Tensor,
    blocked_masks: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One Qwen3-style decoder layer (talker or code predictor) over S new positions.

    Follows the official layer: input RMSNorm, q/k per-head RMSNorm, rotary, grouped-query eager
    attention with a float32 softmax, o_proj, residual, post-attention RMSNorm, gated MLP, residual.
    With `blocked_masks` (past, new), past_keys/past_values are the talker's blocked cache
    (blocked_attention); otherwise [1,K,P,D] caches concatenated with the new positions.
    Returns the new hidden states and this layer's keys/values for the new positions ([1,K,S,D]).
    """
    attention = layer.self_attn
    batch, length, _ = hidden.shape
    shape = (batch, length, -1, attention.head_dim)
    residual = hidden
    normed = layer.input_layernorm(hidden)
    query = attention.q_norm(attention.q_proj(normed).view(shape)).transpose(1, 2)
    key = attention.k_norm(attention.k_proj(normed).view(shape)).transpose(1, 2)
    value = attention.v_proj(normed).view(shape).transpose(1, 2)
    query, key = rotate(query, key)
    if blocked_masks is not None:
        attended = blocked_attention(query, key, value, past_keys, past_values, *blocked_masks, attention.scaling)
        hidden = residual + attention.o_proj(attended)
        hidden = hidden + layer.mlp(layer.post_attention_layernorm(hidden))
        return hidden, key, value
    keys = key if past_keys is None else torch.cat([past_keys, key], dim=2)
    values = value if past_values is None else torch.cat([past_values, value], dim=2)
    keys = repeat_kv(keys, attention.num_key_value_groups)
    values = repeat_kv(values, attention.num_key_value_groups)
    scores = torch.matmul(query, keys.transpose(2, 3)) * attention.scaling + mask
    weights = torch.softmax(scores, dim=-1, dtype=torch.float32).to(query.dtype)
    attended = torch.matmul(weights, values).transpose(1, 2).reshape(batch, length, -1)
    hidden = residual + attention.o_proj(attended)
    hidden = hidden + layer.mlp(layer.post_attention_layernorm(hidden))
    return hidden, key, value


class TextEmbedGraph(nn.Module):
    """text_embed: input_ids i64[1,S] → embeds [1,S,H] (text embedding, then text_projection)."""

    def __init__(self, talker: nn.Module):
        super().__init__()
        self.embedding = talker.model.text_embedding
        self.projection = talker.text_projection

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.projection(self.embedding(input_ids))


class TalkerGraph(nn.Module):
    """talker: one graph for prefill and decode over a host-owned, blocked cache (contract 3).

    inputs_embeds [1,S,H]; per layer l past_keys_l [N,K,D,B] and past_values_l [N,K,B,D], the host's
    used cache blocks (blocked_cache.py); past_length i64[] ≤ N·B. The S new positions sit at
    past_length … past_length+S-1; they attend to cache slots < past_length and causally among
    themselves. Outputs: logits f32[1,V] and the post-final-norm hidden [1,H] of the last position,
    and only the new positions' keys/values [L,K,S,D], which the host writes into its blocks.
    """

    def __init__(self, talker: nn.Module):
        super().__init__()
        config = talker.config
        if getattr(config, "sliding_window", None) is not None:
            raise SystemExit("the talker config enables sliding-window attention; this exporter does not implement it")
        self.layers = talker.model.layers
        self.norm = talker.model.norm
        self.rotary = talker.model.rotary_emb
        self.head = talker.codec_head
        # Query heads per KV head (repeat_kv's factor): the causal mask is repeated for each.
        self.groups = self.layers[0].self_attn.num_key_value_groups
        self.mrope_section = config.rope_scaling["mrope_section"]
        self.mrope_interleaved = config.rope_scaling["interleaved"]

    def forward(self, inputs_embeds, *caches_and_length):
        *caches, past_length = caches_and_length
        length = inputs_embeds.shape[1]
        device = inputs_embeds.device
        new_index = torch.arange(length, device=device)
        positions = past_length + new_index
        # Batch 1: the three M-RoPE streams carry the same positions, as in the official generate.
        position_ids = positions.view(1, 1, -1).expand(3, 1, -1)
        cos, sin = self.rotary(inputs_embeds, position_ids)

        def rotate(query, key):
            return apply_multimodal_rotary_pos_emb(query, key, cos, sin, self.mrope_section, self.mrope_interleaved)

        slots = caches[1].shape[0] * caches[1].shape[2]
        past_mask = additive_mask(torch.arange(slots, device=device) < past_length, inputs_embeds.dtype)[0, 0]
        causal = additive_mask(new_index.view(1, -1) <= new_index.view(-1, 1), inputs_embeds.dtype)[0, 0]
        masks = (past_mask, causal.repeat(self.groups, 1))

        hidden = inputs_embeds
        new_keys, new_values = [], []
        for index, layer in enumerate(self.layers):
            hidden, key, value = decoder_layer_step(
                layer, hidden, rotate, caches[2 * index], caches[2 * index + 1], None, masks
            )
            new_keys.append(key[0])
            new_values.append(value[0])
        hidden = self.norm(hidden)
        last = hidden[:, -1]
        logits = self.head(last).float()
        return logits, last, torch.stack(new_keys), torch.stack(new_values)


class CodePredictorGraph(nn.Module):
    """code_predictor: the whole residual loop in one run.

    hidden [1,H] (talker, post-norm); first_code i64[1]; temperature f32[]; top_k i64[]; top_p f32[];
    noise f32[G-1,C] uniform in (0,1) → codes i64[G-1]. Step j keeps the top_k of
    logits_j / temperature, then the top_p nucleus of those (Hugging Face's warper order), adds
    Gumbel noise g = -log(-log u) and takes the argmax, which samples softmax over what was kept;
    constant noise adds the same g everywhere, so 0.5 gives greedy argmax.
    The loop keeps its own key/value cache per layer (the official generate uses the HF cache).
    """

    def __init__(self, talker: nn.Module):
        super().__init__()
        predictor = talker.code_predictor
        config = predictor.config
        if getattr(config, "sliding_window", None) is not None:
            raise SystemExit("the code predictor enables sliding-window attention; this exporter does not implement it")
        self.first_table = talker.model.codec_embedding
        self.tables = predictor.model.codec_embedding
        self.projection = predictor.small_to_mtp_projection
        self.layers = predictor.model.layers
        self.norm = predictor.model.norm
        self.rotary = predictor.model.rotary_emb
        self.heads = predictor.lm_head
        self.steps = talker.config.num_code_groups - 1

    def forward(self, hidden, first_code, temperature, top_k, top_p, noise):
        dtype = hidden.dtype
        device = hidden.device
        context = torch.cat([hidden.view(1, 1, -1), self.first_table(first_code.view(1, 1))], dim=1)
        inputs = self.projection(context)
        caches: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * len(self.layers)
        offset = 0
        codes = []
        for step in range(self.steps):
            length = inputs.shape[1]
            position_ids = torch.arange(offset, offset + length, device=device).view(1, -1)
            cos, sin = self.rotary(inputs, position_ids)

            def rotate(query, key, cos=cos, sin=sin):
                return apply_rotary_pos_emb(query, key, cos, sin)

            new_index = torch.arange(length, device=device)
            allowed = torch.cat(
                [
                    torch.ones(length, offset, dtype=torch.bool, device=device),
                    new_index.view(1, -1) <= new_index.view(-1, 1),
                ],
                dim=1,
            )
            mask = additive_mask(allowed, dtype)
            states = inputs
            for index, layer in enumerate(self.layers):
                cache = caches[index]
                states, key, value = decoder_layer_step(
                    layer,
                    states,
                    rotate,
                    None if cache is None else cache[0],
                    None if cache is None else cache[1],
                    mask,
                )
                caches[index] = (
                    key if cache is None else torch.cat([cache[0], key], dim=2),
                    value if cache is None else torch.cat([cache[1], value], dim=2),
                )
            offset += length
            logits = self.heads[step](self.norm(states)[:, -1]).float()[0]
            code = self.sample(logits, temperature, top_k, top_p, noise[step])
            codes.append(code)
            if step + 1 < self.steps:
                inputs = self.projection(self.tables[step](code.view(1, 1)))
        return torch.stack(codes)

    @staticmethod
    def sample(logits, temperature, top_k, top_p, noise):
        vocabulary = logits.shape[-1]
        scaled = logits / temperature
        # top_k ≤ 0 keeps everything; ties with the k-th value stay in, as in the HF top-k warper.
        # The bound is built with full_like, not passed as clamp(max=...): traced, the vocabulary size
        # is a CPU tensor, which a CUDA export (fp16) refuses to mix with top_k.
        limit = torch.full_like(top_k, vocabulary)
        k = torch.where(top_k > 0, torch.minimum(top_k, limit), limit)
        ordered, _ = torch.sort(scaled, descending=True)
        threshold = ordered.gather(0, (k - 1).view(1))
        # Nucleus over what top-k kept (TopPLogitsWarper): a token stays while the probability of the
        # tokens before it, in descending order, is below top_p; the most likely one always stays.
        kept = torch.where(ordered >= threshold, ordered, torch.full_like(ordered, float("-inf")))
        probabilities = torch.softmax(kept, dim=-1)
        before = torch.cumsum(probabilities, dim=-1) - probabilities
        in_nucleus = (before < top_p) | (top_p >= 1)
        count = torch.sum((in_nucleus & (ordered >= threshold)).to(torch.int64)).clamp(min=1)
        threshold = torch.maximum(threshold, ordered.gather(0, (count - 1).view(1)))
        gumbel = -torch.log(-torch.log(noise))
        score = torch.where(scaled < threshold, torch.full_like(scaled, float("-inf")), scaled + gumbel)
        return torch.argmax(score, dim=-1)


class SpeakerEncoderGraph(nn.Module):
    """speaker_encoder: mel f32[1,T,mels] → embedding [1,E] (ECAPA-TDNN of the checkpoint)."""

    def __init__(self, encoder: nn.Module, dtype: torch.dtype):
        super().__init__()
        self.encoder = encoder
        self.dtype = dtype

    def forward(self, mel):
        return self.encoder(mel.to(self.dtype))


def sliding_causal_mask(length: int | torch.Tensor, window: int | None, dtype, device) -> torch.Tensor:
    """Causal mask that also drops keys `window` or more positions back (transformers' sliding rule)."""
    index = torch.arange(length, device=device)
    allowed = index.view(1, -1) <= index.view(-1, 1)
    if window is not None:
        allowed = allowed & (index.view(1, -1) > index.view(-1, 1) - window)
    return additive_mask(allowed, dtype)


def probe_window(run_default, run_with_mask, hidden_size: int, window: int | None, dtype, device) -> int | None:
    """Which mask the installed transformers version really applies: full causal or sliding window.

    Versions differ (some Mimi builds ignore `sliding_window`), so instead of assuming, run the
    official module once without a mask and once with each candidate on a sequence longer than the
    window, and keep the candidate that reproduces it. Fails loudly when neither does.
    """
    if window is None:
        return None
    length = window + 32
    generator = torch.Generator(device="cpu").manual_seed(1234)
    sample = torch.randn(1, length, hidden_size, generator=generator).to(device=device, dtype=dtype)
    with torch.inference_mode():
        reference = run_default(sample).float()
        errors = {}
        for candidate in (window, None):
            output = run_with_mask(sample, sliding_causal_mask(length, candidate, dtype, device)).float()
            errors[candidate] = float((output - reference).abs().max())
    best = min(errors, key=errors.get)
    scale = float(reference.abs().max()) or 1.0
    if errors[best] > 1e-2 * scale:
        raise SystemExit(f"cannot reproduce the official attention mask (errors {errors}); export stopped")
    return best


def euclidean_codes(codebook: nn.Module):
    """MimiEuclideanCodebook.quantize without torch.cdist (no ONNX symbolic in older exporters):
    the same nearest centroid, from squared distances computed with a matmul."""

    def quantize(hidden_states):
        embed = codebook.embed.float()
        states = hidden_states.float()
        distances = (
            states.pow(2).sum(-1, keepdim=True) - 2 * states @ embed.t() + embed.pow(2).sum(-1)[None, :]
        )
        return distances.argmin(dim=-1)

    return quantize


class CodecEncoderGraph(nn.Module):
    """codec_encoder: audio f32[1,N] at 24 kHz → codes i64[1,ceil(N/rate),G].

    Mirrors Qwen3TTSTokenizerV2Model.encode for one unpadded waveform: the Mimi encoder's
    convolutions (with their own per-layer padding), its transformer (mask built here), downsampling
    and split RVQ, then the first `valid_quantizers` codebooks and the first
    ceil(N / encode_downsample_rate) frames.
    """

    def __init__(self, tokenizer_model: nn.Module, dtype: torch.dtype):
        super().__init__()
        mimi = tokenizer_model.encoder
        self.convolutions = mimi.encoder
        self.transformer = mimi.encoder_transformer
        self.downsample = mimi.downsample
        self.quantizer = mimi.quantizer
        self.valid_quantizers = tokenizer_model.encoder_valid_num_quantizers
        self.rate = int(tokenizer_model.encode_downsample_rate)
        self.dtype = dtype
        for module in self.quantizer.modules():
            if type(module).__name__ == "MimiEuclideanCodebook":
                module.quantize = euclidean_codes(module)
        device = next(tokenizer_model.parameters()).device
        self.window = probe_window(
            lambda sample: self.transformer(sample, return_dict=True).last_hidden_state,
            lambda sample, mask: self.transformer(sample, attention_mask=mask, return_dict=True).last_hidden_state,
            mimi.config.hidden_size,
            getattr(mimi.config, "sliding_window", None),
            dtype,
            device,
        )

    def forward(self, audio):
        # A shape tensor, so the frame count stays symbolic in the traced graph.
        samples = torch._shape_as_tensor(audio)[1]
        # The official convolutions pad layer by layer (MimiConv1d computes each layer's extra padding
        # from tensor buffers, so it stays symbolic when traced): the last, partial frame is encoded
        # exactly as the official encoder does.
        embeddings = self.convolutions(audio.to(self.dtype).unsqueeze(1))
        frames = embeddings.shape[2]
        mask = sliding_causal_mask(frames, self.window, embeddings.dtype, embeddings.device)
        transformed = self.transformer(embeddings.transpose(1, 2), attention_mask=mask, return_dict=True)
        embeddings = transformed.last_hidden_state.transpose(1, 2)
        embeddings = self.downsample(embeddings)
        codes = self.quantizer.encode(embeddings, self.valid_quantizers)  # [Q, 1, T]
        kept = torch.div(samples + (self.rate - 1), self.rate, rounding_mode="floor")
        codes = codes[: self.valid_quantizers, :, :kept]
        return codes.permute(1, 2, 0).to(torch.int64)


class CodecDecoderGraph(nn.Module):
    """codec_decoder: codes i64[1,T,G], context_frames i64[] → audio f32[1,(T-context)·rate].

    The official decoder (quantizer decode, pre-conv, sliding-window transformer, upsampling,
    vocoder, clamp to ±1) on one chunk whose first `context_frames` frames are left context, as in
    Qwen3TTSTokenizerV2Decoder.chunked_decode; the context's audio is cut inside the graph.
    """

    def __init__(self, tokenizer_model: nn.Module, dtype: torch.dtype):
        super().__init__()
        decoder = tokenizer_model.decoder
        self.decoder = decoder
        self.rate = int(tokenizer_model.decode_upsample_rate)
        self.dtype = dtype
        transformer = decoder.pre_transformer
        device = next(tokenizer_model.parameters()).device

        def with_mask(sample, mask):
            masks = {"sliding_attention": mask, "full_attention": mask}
            return transformer(inputs_embeds=sample, attention_mask=masks).last_hidden_state

        self.window = probe_window(
            lambda sample: transformer(inputs_embeds=sample).last_hidden_state,
            with_mask,
            decoder.config.latent_dim,
            decoder.config.sliding_window,
            dtype,
            device,
        )
        # The official causal convolutions compute their padding with Python arithmetic on the input
        # length, which tracing would bake in (the first export of a real-architecture checkpoint
        # failed here: traced at 40 frames, run at 64). Replace it with length-free equivalents.
        for module in decoder.modules():
            kind = type(module).__name__
            if kind == "Qwen3TTSTokenizerV2CausalTransConvNet" and module.right_pad > 0:
                module.forward = _trim_right(module)
            elif kind == "Qwen3TTSTokenizerV2CausalConvNet":
                module.forward = _causal_pad_left(module)

    def forward(self, codes, context_frames):
        frames = codes.shape[1]
        decoder = self.decoder
        hidden = decoder.quantizer.decode(torch.clamp(codes, min=0).transpose(1, 2)).to(self.dtype)
        hidden = decoder.pre_conv(hidden).transpose(1, 2)
        mask = sliding_causal_mask(frames, self.window, hidden.dtype, hidden.device)
        position_ids = torch.arange(frames, device=hidden.device).view(1, -1)
        hidden = decoder.pre_transformer(
            inputs_embeds=hidden,
            attention_mask={"sliding_attention": mask, "full_attention": mask},
            position_ids=position_ids,
        ).last_hidden_state
        hidden = hidden.permute(0, 2, 1)
        for blocks in decoder.upsample:
            for block in blocks:
                hidden = block(hidden)
        wav = hidden
        for block in decoder.decoder:
            wav = block(wav)
        wav = wav.clamp(min=-1, max=1).float()
        return wav[:, 0, context_frames * self.rate : frames * self.rate]


def _causal_pad_left(module: nn.Module):
    """Qwen3TTSTokenizerV2CausalConvNet.forward for stride 1, where its extra right padding is always
    zero: (n - k + p) / 1 + 1 = n frames, ideal length (n - 1) + (k - p) = n. Strided ones would need
    the length, and the decoder has none."""
    if module.stride != 1:
        raise SystemExit("the codec decoder has a strided causal convolution; this exporter does not handle it")
    convolution = module.conv
    padding = int(module.padding)

    def forward(hidden_state):
        return convolution(torch.nn.functional.pad(hidden_state, (padding, 0))).contiguous()

    return forward


def _trim_right(module: nn.Module):
    convolution = module.conv
    right_pad = int(module.right_pad)

    def forward(hidden_state):
        return convolution(hidden_state)[..., :-right_pad].contiguous()

    return forward
