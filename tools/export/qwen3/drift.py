#!/usr/bin/env python3
"""How far a variant of an exported model (int8, int4, float16) drifts from its float32 variant on
the same sentence, greedy, stage by stage, with onnxruntime only (no PyTorch checkpoint needed):

  - voice prompt: reference codes and speaker embedding, each variant's own graphs;
  - prefill logits: largest difference, and whether the greedy first code is the same;
  - teacher-forced codes: both variants fed float32's frames, so one early difference does not
    decide the rest; the share of steps whose first code (c0) and whole frame agree;
  - free-running greedy codes: the share of identical frames and the first one that differs;
  - audio: the codec decoder of the variant on float32's codes (decoder drift alone), and each
    variant's own codes through its own decoder (what a listener hears), as SNR against float32.

    python tools/export/qwen3/drift.py --onnx exports/base_0.6b --variant int4 \
        --ref-audio ref.wav --ref-text "…" --text "안녕하세요." --language korean --max-new-tokens 60

On a random-init export the figures only show that the machinery works: random weights give
logits with unnatural margins, so agreement there says little about a real checkpoint's drift.
The exit status is 0 whatever the drift: the figures are for a person to judge.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qwen3.onnx_pipeline import OnnxQwen3, VoicePrompt  # noqa: E402


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--onnx", required=True, type=Path, help="exported model directory (with manifest.json)")
    parser.add_argument("--variant", required=True, help="the variant to judge (int8, int4, float16, …)")
    parser.add_argument("--against", default="float32", help="the reference variant (default float32)")
    parser.add_argument("--providers", nargs="+", default=["CPUExecutionProvider"])
    parser.add_argument("--ref-audio", type=Path, help="reference speech (any rate; resampled to 24 kHz)")
    parser.add_argument("--ref-text", default="This is a short reference sentence.")
    parser.add_argument("--text", default="Hello, this is a check of a quantized variant.")
    parser.add_argument("--language", default="english")
    parser.add_argument("--x-vector-only", action="store_true")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--report", type=Path, help="also write the report as JSON here")
    return parser.parse_args()


def snr_db(reference: np.ndarray, other: np.ndarray) -> float:
    length = min(len(reference), len(other))
    reference = reference[:length].astype(np.float64)
    noise = reference - other[:length].astype(np.float64)
    signal_power = float(np.sum(reference**2))
    noise_power = float(np.sum(noise**2))
    if noise_power == 0.0:
        return float("inf")
    return 10 * np.log10(max(signal_power, 1e-30) / noise_power)


def voice_prompt(model: OnnxQwen3, audio: np.ndarray, arguments: argparse.Namespace, tokenizer) -> VoicePrompt:
    import torch
    from qwen_tts.core.models.modeling_qwen3_tts import mel_spectrogram

    settings = model.manifest["speakerMel"]
    mel = mel_spectrogram(
        torch.from_numpy(audio).unsqueeze(0),
        n_fft=settings["nFft"],
        num_mels=settings["mels"],
        sampling_rate=settings["sampleRate"],
        hop_size=settings["hop"],
        win_size=settings["window"],
        fmin=settings["fMin"],
        fmax=settings["fMax"],
    ).transpose(1, 2)
    speaker = model.speaker_embedding(mel.numpy())
    if arguments.x_vector_only:
        return VoicePrompt(speaker=speaker, reference_codes=None, reference_ids=None)
    reference_ids = np.array(tokenizer(f"<|im_start|>assistant\n{arguments.ref_text}<|im_end|>\n")["input_ids"])
    return VoicePrompt(speaker=speaker, reference_codes=model.encode_codes(audio), reference_ids=reference_ids)


def teacher_forced(model: OnnxQwen3, prompt, trailing, pad_row, frames: np.ndarray) -> np.ndarray:
    """The greedy frame the model would choose at each step when fed `frames` (the reference's) so far."""
    dims = model.manifest["dimensions"]
    penalty = model.manifest["generation"]["repetitionPenalty"]
    vocabulary = dims["vocabSize"]
    eos = model.manifest["codecTokens"]["eos"]
    keys = np.zeros((dims["layers"], dims["kvHeads"], 0, dims["headDim"]), dtype=model.dtype)
    values = keys.copy()
    rows = prompt[None]
    chosen = []
    for step in range(len(frames)):
        logits, hidden, new_keys, new_values = model.talker(rows, keys, values)
        keys = np.concatenate([keys, new_keys], axis=2)
        values = np.concatenate([values, new_values], axis=2)
        # The same scoring as OnnxQwen3.generate (greedy): repetition penalty, no EOS in the first two steps.
        scores = logits[0].astype(np.float64)
        for token in set(int(code) for code in frames[:step, 0]):
            scores[token] = scores[token] * penalty if scores[token] < 0 else scores[token] / penalty
        if step < 2:
            scores[eos] = -np.inf
        suppressed = np.arange(vocabulary - 1024, vocabulary)
        scores[suppressed[suppressed != eos]] = -np.inf
        first = int(np.argmax(scores))
        # The residual codes for the reference's first code, so that c1..c15 are compared like for like.
        (rest,) = model.run(
            "code_predictor",
            hidden=hidden.astype(model.dtype),
            first_code=np.array([frames[step][0]], dtype=np.int64),
            temperature=np.array(1.0, dtype=np.float32),
            top_k=np.array(0, dtype=np.int64),
            top_p=np.array(1.0, dtype=np.float32),
            noise=np.full((model.groups - 1, model.codebook), 0.5, dtype=np.float32),
        )
        chosen.append(np.concatenate([[first], rest]).astype(np.int64))
        rows = (model.frame_row(frames[step]) + (trailing[step] if step < len(trailing) else pad_row))[None, None]
    return np.stack(chosen) if chosen else np.zeros((0, model.groups), dtype=np.int64)


def main() -> None:
    arguments = parse_arguments()
    from transformers import AutoTokenizer

    from qwen3.parity import reference_audio

    tokenizer = AutoTokenizer.from_pretrained(str(arguments.onnx / "tokenizer"))
    audio = reference_audio(arguments)
    input_ids = np.array(
        tokenizer(f"<|im_start|>assistant\n{arguments.text}<|im_end|>\n<|im_start|>assistant\n")["input_ids"]
    )
    results: dict[str, dict] = {}
    for variant in (arguments.against, arguments.variant):
        model = OnnxQwen3(arguments.onnx, variant, arguments.providers)
        voice = voice_prompt(model, audio, arguments, tokenizer)
        prompt, trailing, pad_row = model.build_prompt(input_ids, arguments.language, voice)
        started = time.perf_counter()
        frames, prefill_logits = model.generate(prompt, trailing, pad_row, arguments.max_new_tokens, greedy=True)
        seconds = time.perf_counter() - started
        results[variant] = dict(
            model=model, voice=voice, prompt=(prompt, trailing, pad_row), frames=frames, logits=prefill_logits
        )
        print(f"[{variant}] {len(frames)} frames in {seconds:.1f} s (onnxruntime Python, greedy)", flush=True)

    base, other = results[arguments.against], results[arguments.variant]
    report: dict = {"variant": arguments.variant, "against": arguments.against}
    if base["voice"].reference_codes is not None:
        ours, theirs = other["voice"].reference_codes, base["voice"].reference_codes
        length = min(len(ours), len(theirs))
        report["referenceCodesIdenticalPercent"] = 100.0 * float(np.mean(np.all(ours[:length] == theirs[:length], 1)))
    a, b = base["voice"].speaker, other["voice"].speaker
    report["speakerCosine"] = float(np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-30))
    difference = np.abs(other["logits"] - base["logits"])
    report["prefillLogitsMaxDiff"] = float(difference.max())
    report["prefillLogitsScale"] = float(np.abs(base["logits"]).max())
    report["prefillTop1Same"] = bool(np.argmax(other["logits"]) == np.argmax(base["logits"]))

    # Teacher forcing: the variant on its own prompt, fed the reference's frames.
    reference_frames = base["frames"]
    forced = teacher_forced(other["model"], *other["prompt"], reference_frames)
    if len(reference_frames):
        report["teacherForcedC0AgreementPercent"] = 100.0 * float(np.mean(forced[:, 0] == reference_frames[:, 0]))
        report["teacherForcedResidualAgreementPercent"] = 100.0 * float(np.mean(forced[:, 1:] == reference_frames[:, 1:]))

    frames = other["frames"]
    length = min(len(frames), len(reference_frames))
    same = [bool(np.array_equal(frames[index], reference_frames[index])) for index in range(length)]
    report["frames"] = {"variant": len(frames), "against": len(reference_frames)}
    report["freeRunningIdenticalFramesPercent"] = 100.0 * float(np.mean(same)) if same else None
    report["firstDifferentFrame"] = next((index for index, value in enumerate(same) if not value), None)

    full = reference_frames
    if base["voice"].reference_codes is not None:
        full = np.concatenate([base["voice"].reference_codes, reference_frames])
    skip = len(full) - len(reference_frames)
    samples = base["model"].manifest["audio"]["samplesPerFrame"]
    base_audio = base["model"].decode(full)[skip * samples :]
    report["decoderSnrDb"] = snr_db(base_audio, other["model"].decode(full)[skip * samples :])
    own = frames if other["voice"].reference_codes is None else np.concatenate([other["voice"].reference_codes, frames])
    own_skip = len(own) - len(frames)
    report["endToEndSnrDb"] = snr_db(base_audio, other["model"].decode(own)[own_skip * samples :])
    report["note"] = "random-init weights make these figures indicative only" if base["model"].manifest.get(
        "source", {}
    ).get("synthetic") else "greedy, one sentence"

    for key, value in report.items():
        print(f"{key:<40} {value}")
    if arguments.report is not None:
        arguments.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
