"""A Python reference of what the TypeScript engine does with our Qwen3 ONNX layout: prompt
assembly from the host tables (QWEN3 facts §4), the talker loop over a host-owned cache, greedy or
seeded sampling of c0 on the host, the fused code predictor, and chunked decoding. The parity
script runs it next to the official pipeline.

Unverified until someone runs it against real weights (see docs/export.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qwen3.blocked_cache import BLOCK, blocked_feeds


@dataclass
class VoicePrompt:
    speaker: np.ndarray  # [H] float32
    reference_codes: np.ndarray | None  # [T_ref, G] int64 (ICL mode)
    reference_ids: np.ndarray | None  # token ids of "<|im_start|>assistant\n{ref}<|im_end|>\n"


class OnnxQwen3:
    def __init__(self, model_directory: Path, variant: str, providers: list[str]):
        import onnxruntime

        self.directory = model_directory
        self.manifest = json.loads((model_directory / "manifest.json").read_text(encoding="utf-8"))
        entry = self.manifest["variants"][variant]
        self.dtype = np.float16 if entry["dtype"] == "float16" else np.float32
        folder = model_directory / entry["directory"]
        dimensions = self.manifest["dimensions"]
        self.hidden = dimensions["hidden"]
        self.groups = dimensions["codeGroups"]
        self.codebook = dimensions["codebookSize"]
        self.sessions = {
            name: onnxruntime.InferenceSession(str(folder / f"{name}.onnx"), providers=providers)
            for name in ("text_embed", "talker", "code_predictor", "speaker_encoder", "codec_encoder", "codec_decoder")
        }
        vocabulary = dimensions["vocabSize"]
        self.codec_table = np.fromfile(folder / "codec_embedding.bin", dtype=self.dtype).reshape(vocabulary, self.hidden)
        self.residual_tables = np.fromfile(folder / "residual_embeddings.bin", dtype=self.dtype).reshape(
            self.groups - 1, self.codebook, self.hidden
        )

    def run(self, name: str, **feeds):
        return self.sessions[name].run(None, feeds)

    def talker(self, embeds: np.ndarray, keys: np.ndarray, values: np.ndarray, block: int = BLOCK, extra_blocks: int = 0):
        """One talker run after the positions in `keys`/`values` ([L,K,P,D]), fed in the graph's blocks
        (blocked_cache.py). Returns logits, hidden, new keys, new values; the caller appends the new ones."""
        return self.run(
            "talker",
            inputs_embeds=embeds.astype(self.dtype),
            **blocked_feeds(keys, values, block, extra_blocks),
            past_length=np.array(keys.shape[2], dtype=np.int64),
        )

    def stepwise_logits(self, prompt: np.ndarray, block: int = 4) -> np.ndarray:
        """The prompt's last logits [V] when only its first half is a prefill and the rest are single
        steps over the blocked cache (small blocks, so positions cross block edges, and a spare block
        of masked filler): what the whole prefill gives, if the graph reads and masks its cache right."""
        dims = self.manifest["dimensions"]
        keys = np.zeros((dims["layers"], dims["kvHeads"], 0, dims["headDim"]), dtype=self.dtype)
        values = keys.copy()
        first = max(1, len(prompt) // 2)
        logits, _, keys, values = self.talker(prompt[None, :first], keys, values, block, extra_blocks=1)
        for row in range(first, len(prompt)):
            logits, _, new_keys, new_values = self.talker(prompt[None, row : row + 1], keys, values, block, extra_blocks=1)
            keys = np.concatenate([keys, new_keys], axis=2)
            values = np.concatenate([values, new_values], axis=2)
        return logits[0].astype(np.float32)

    # Per-graph calls ---------------------------------------------------------------------------
    def text_embed(self, ids: np.ndarray) -> np.ndarray:
        return self.run("text_embed", input_ids=ids.reshape(1, -1).astype(np.int64))[0][0].astype(np.float32)

    def speaker_embedding(self, mel: np.ndarray) -> np.ndarray:
        return self.run("speaker_encoder", mel=mel.astype(np.float32))[0][0].astype(np.float32)

    def encode_codes(self, audio: np.ndarray) -> np.ndarray:
        return self.run("codec_encoder", audio=audio.reshape(1, -1).astype(np.float32))[0][0]

    def codec_row(self, code: int) -> np.ndarray:
        return self.codec_table[code].astype(np.float32)

    def frame_row(self, codes: np.ndarray) -> np.ndarray:
        row = self.codec_row(int(codes[0]))
        for group in range(1, self.groups):
            row = row + self.residual_tables[group - 1, int(codes[group])].astype(np.float32)
        return row

    # Prompt (facts §4, non_streaming_mode=False) -----------------------------------------------
    def build_prompt(
        self, input_ids: np.ndarray, language: str, voice: VoicePrompt
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Returns (prefill rows [L,H], trailing text rows [N,H], the tts_pad row [H])."""
        text_tokens = self.manifest["textTokens"]
        codec = self.manifest["codecTokens"]
        special = self.text_embed(np.array([text_tokens["ttsBos"], text_tokens["ttsEos"], text_tokens["ttsPad"]]))
        bos_row, eos_row, pad_row = special[0], special[1], special[2]
        if language.lower() == "auto":
            prefix = [self.codec_row(codec["nothink"]), self.codec_row(codec["thinkBos"]), self.codec_row(codec["thinkEos"])]
        else:
            language_id = self.manifest["languages"][language.lower()]
            prefix = [
                self.codec_row(codec["think"]),
                self.codec_row(codec["thinkBos"]),
                self.codec_row(language_id),
                self.codec_row(codec["thinkEos"]),
            ]
        prefix += [voice.speaker, self.codec_row(codec["pad"]), self.codec_row(codec["bos"])]
        rows = list(self.text_embed(input_ids[:3]))
        rows += [pad_row + prefix[index] for index in range(len(prefix) - 2)]
        rows.append(bos_row + prefix[-2])
        if voice.reference_codes is not None:
            assert voice.reference_ids is not None
            text = self.text_embed(np.concatenate([voice.reference_ids[3:-2], input_ids[3:-5]]))
            text = np.concatenate([text, eos_row[None]], axis=0)
            codes = np.stack([self.codec_row(codec["bos"])] + [self.frame_row(frame) for frame in voice.reference_codes])
            if len(text) > len(codes):
                rows += list(text[: len(codes)] + codes)
                trailing = text[len(codes) :]
            else:
                padded = np.concatenate([text, np.repeat(pad_row[None], len(codes) - len(text), axis=0)], axis=0)
                rows += list(padded + codes)
                trailing = pad_row[None]
        else:
            rows.append(self.text_embed(input_ids[3:4])[0] + self.codec_row(codec["bos"]))
            trailing = np.concatenate([self.text_embed(input_ids[4:-5]), eos_row[None]], axis=0)
        return np.stack(rows).astype(np.float32), trailing.astype(np.float32), pad_row

    # Generation (greedy or seeded; host sampling as in facts §6) --------------------------------
    def generate(
        self,
        prompt: np.ndarray,
        trailing: np.ndarray,
        pad_row: np.ndarray,
        max_new_tokens: int,
        greedy: bool,
        seed: int = 0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Returns (frames [T,G] int64, prefill logits [V])."""
        generation = self.manifest["generation"]
        eos = self.manifest["codecTokens"]["eos"]
        vocabulary = self.manifest["dimensions"]["vocabSize"]
        dims = self.manifest["dimensions"]
        random = np.random.default_rng(seed)
        keys = np.zeros((dims["layers"], dims["kvHeads"], 0, dims["headDim"]), dtype=self.dtype)
        values = keys.copy()
        logits, hidden, new_keys, new_values = self.talker(prompt[None], keys, values)
        prefill_logits = logits[0].astype(np.float32)
        keys, values = new_keys, new_values
        history: list[int] = []
        frames = []
        subtalker = generation["subtalker"]
        # max_new_tokens counts sampled c0 tokens; the last one is never expanded into a frame.
        for step in range(max_new_tokens - 1):
            scores = logits[0].astype(np.float64)
            for token in set(history):
                scores[token] = scores[token] * generation["repetitionPenalty"] if scores[token] < 0 else scores[token] / generation["repetitionPenalty"]
            if step < 2:  # min_new_tokens = 2
                scores[eos] = -np.inf
            suppressed = np.arange(vocabulary - 1024, vocabulary)
            scores[suppressed[suppressed != eos]] = -np.inf
            first = int(np.argmax(scores)) if greedy else sample(scores, generation, random)
            if first == eos:
                break
            history.append(first)
            noise = (
                np.full((self.groups - 1, self.codebook), 0.5, dtype=np.float32)
                if greedy
                else random.uniform(1e-7, 1 - 1e-7, size=(self.groups - 1, self.codebook)).astype(np.float32)
            )
            (rest,) = self.run(
                "code_predictor",
                hidden=hidden.astype(self.dtype),
                first_code=np.array([first], dtype=np.int64),
                temperature=np.array(1.0 if greedy else subtalker["temperature"], dtype=np.float32),
                top_k=np.array(0 if greedy else subtalker["topK"], dtype=np.int64),
                top_p=np.array(1.0 if greedy else subtalker["topP"], dtype=np.float32),
                noise=noise,
            )
            frame = np.concatenate([[first], rest]).astype(np.int64)
            frames.append(frame)
            if step == max_new_tokens - 2:
                break  # the token the next step would choose could never become a frame
            row = self.frame_row(frame) + (trailing[step] if step < len(trailing) else pad_row)
            logits, hidden, new_keys, new_values = self.talker(row[None, None], keys, values)
            keys = np.concatenate([keys, new_keys], axis=2)
            values = np.concatenate([values, new_values], axis=2)
        empty = np.zeros((0, self.groups), dtype=np.int64)
        return (np.stack(frames) if frames else empty), prefill_logits

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Chunked decode as the official chunked_decode: chunk + left context ≤ decoderMaxFrames."""
        audio = self.manifest["audio"]
        context = audio["decoderLeftContext"]
        chunk = audio["decoderMaxFrames"] - context
        pieces = []
        start = 0
        while start < len(codes):
            end = min(start + chunk, len(codes))
            left = context if start - context > 0 else start
            (wave,) = self.run(
                "codec_decoder",
                codes=codes[start - left : end][None].astype(np.int64),
                context_frames=np.array(left, dtype=np.int64),
            )
            pieces.append(wave[0])
            start = end
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)


def sample(scores: np.ndarray, generation: dict, random: np.random.Generator) -> int:
    """Temperature, top-k (ties kept), top-p, then a draw; as the HF warpers for do_sample."""
    scaled = scores / generation["temperature"]
    if generation["topK"] > 0:
        threshold = np.sort(scaled)[-min(generation["topK"], len(scaled))]
        scaled = np.where(scaled < threshold, -np.inf, scaled)
    probabilities = np.exp(scaled - np.max(scaled))
    probabilities /= probabilities.sum()
    if generation["topP"] < 1.0:
        order = np.argsort(-probabilities)
        cumulative = np.cumsum(probabilities[order])
        keep = cumulative - probabilities[order] < generation["topP"]
        mask = np.zeros_like(probabilities, dtype=bool)
        mask[order[keep]] = True
        probabilities = np.where(mask, probabilities, 0)
        probabilities /= probabilities.sum()
    return int(random.choice(len(probabilities), p=probabilities))
