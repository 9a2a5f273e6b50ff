#!/usr/bin/env python3
"""Runs the official `qwen_tts` code on a checkpoint (normally one from tiny_checkpoint.py) and writes
golden data that the TypeScript engine is tested against (test/fixtures/qwen3-official/):

- the reference's codes and speaker embedding (`create_voice_clone_prompt`);
- for each case (Korean, English and mixed text; ICL and x-vector-only mode), fully greedy
  (`do_sample` and `subtalker_dosample` false): the input ids, the generated codes and the audio of
  `generate_voice_clone`;
- a sampled run: per talker step the raw logits, the tokens before it and the processed scores
  (repetition penalty, min_new_tokens, suppression, temperature, top-k, top-p), and for the first
  frame the code predictor's input and its first processed distribution;
- the official chunked decoding (300 frames, 25 of left context) of a code sequence longer than one
  chunk, with its reference cut;
- token ids of a few hundred varied strings from the checkpoint's own tokenizer, as the official
  processor loads it and with Qwen2's own split pattern.

    python tools/export/qwen3/official_goldens.py --checkpoint /tmp/tiny-0.6b \
        --reference test/fixtures/qwen3-official/reference.wav --out /tmp/goldens-0.6b

Nothing is changed in the official code: it is only observed (its talker's and code predictor's
`generate` are wrapped to keep the scores Hugging Face already computes). Needs `qwen_tts` on
PYTHONPATH (docs/export.md, "Proving the engine").
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import soundfile
import torch

REFERENCE_TEXT = "안녕하세요. 오늘 저의 면접에 참석해 주셔서 감사합니다."
CASES = [
    {"name": "korean", "language": "Korean", "text": "반갑습니다. 자기소개를 부탁드립니다."},
    {"name": "english", "language": "English", "text": "Hello! Please tell me about yourself."},
    {"name": "mixed", "language": "Auto", "text": "저는 AI 엔지니어이고, Python과 TypeScript 3년 차입니다."},
]
GREEDY_MAX_NEW_TOKENS = 24
SAMPLED = {
    "text": "오늘 면접은 2시에 시작합니다.",
    "language": "Korean",
    "max_new_tokens": 12,
    "do_sample": True,
    "temperature": 0.8,
    "top_k": 20,
    "top_p": 0.9,
    "repetition_penalty": 1.3,
    "subtalker_dosample": True,
    "subtalker_temperature": 0.7,
    "subtalker_top_k": 12,
    "subtalker_top_p": 0.8,
}
CHUNKED_DECODE_FRAMES = 333
CHUNKED_DECODE_REFERENCE_FRAMES = 31
# Audio kept of the chunked decode (frames of the whole sequence): just after the reference cut, and
# around the boundary between the official 300-frame chunks, where chunking shows.
CHUNKED_DECODE_EXCERPTS = [(31, 41), (290, 310)]


def golden_prompts() -> list[str]:
    """The texts the goldens tokenize, in the official prompt templates."""
    texts = [case["text"] for case in CASES] + [SAMPLED["text"]]
    assistant = [f"<|im_start|>assistant\n{text}<|im_end|>\n<|im_start|>assistant\n" for text in texts]
    return assistant + [f"<|im_start|>assistant\n{REFERENCE_TEXT}<|im_end|>\n"]


def write_floats(directory: Path, name: str, values: np.ndarray) -> dict:
    """Raw little-endian float32, named in the JSON: numbers would triple the JSON's size as text."""
    path = directory / f"{name}.f32"
    np.ascontiguousarray(values, dtype="<f4").tofile(path)
    return {"file": path.name, "length": int(values.size)}


def write_audio(directory: Path, name: str, samples: np.ndarray) -> dict:
    """16-bit WAV (what the HTTP API answers, and half the size of float32): a fixture one can play."""
    path = directory / f"{name}.wav"
    soundfile.write(str(path), samples, 24000, subtype="PCM_16")
    return {"file": path.name, "length": int(samples.size)}


def tokenizer_strings(seed: int = 5) -> list[str]:
    """Hand-picked hard cases, then seeded random mixes of scripts, digits, emoji and whitespace."""
    fixed = [
        "안녕하세요",
        "안녕하세요. 오늘 저의 면접에 참석해 주셔서 감사합니다.",
        "면접은 2025년 3월 1일 오후 3시 30분에 시작합니다.",
        "Hello, world!",
        "I'm sure you'll DO it; they've said it's fine, we'd LL see.",
        "don't DON'T Don'T 'S 's",
        "1234567890 12,345.67 3.14159 ½ ⅔ ①②③ ٣٤٥",
        "  leading spaces",
        "trailing spaces   ",
        "tabs\tand\t\tmore\ttabs",
        "first line\nsecond line",
        "windows\r\nline\r\nbreaks",
        "\n\nleading breaks",
        "blank\n\n\nlines\n \n",
        "emoji 😀👍🏽👨‍👩‍👧‍👦 🇰🇷 ❤️",
        "mixed 한국어 English 日本語 中文 русский",
        "<|im_start|>assistant\n안녕<|im_end|>\n<|im_start|>assistant\n",
        "<tts_pad><tts_text_bos>literal<tts_text_eod>",
        "<think>not special?</think> <|endoftext|>",
        "NFD 한글: \u1112\u1161\u11ab\u1100\u1173\u11af",
        "full-width ＡＢＣ１２３ and ㎞ ㎏ ℃",
        "punctuation… “quotes” ‘single’ — dashes – and ·middots·",
        "URL https://example.com/a?b=c&d=e#f and email a.b@c.de",
        "code: if (x >= 10) { return x * 2; } // done",
        "AI, CEO, TypeScript, Qwen3-TTS, 0.6B, 1.7B, 12Hz",
        "   ",
        "\t",
        "a",
        "가",
        "ㅋㅋㅋㅋ ㅠㅠ",
    ]
    generator = random.Random(seed)
    pool = (
        list("가나다라마바사아자차카타파하한국어면접질문답변입니다까요")
        + list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        + list("0123456789")
        + list(" .,!?;:'\"-()[]{}@#$%&*+=/\\<>~`^|_")
        + [" ", "  ", "   ", "\n", "\n\n", "\t", "\r\n", " \n"]
        + ["😀", "👍", "🎉", "🇰🇷", "é", "ñ", "ü", "ß", "日", "本", "中", "文", "Ж", "ю", "٣", "½", "™", "…"]
        + ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL"]
    )
    randoms = []
    for _ in range(300):
        length = generator.randint(1, 40)
        randoms.append("".join(generator.choice(pool) for _ in range(length)))
    return fixed + randoms


class Observer:
    """Keeps what the official talker and code predictor `generate` calls returned."""

    def __init__(self, model) -> None:
        self.talker_results: list = []
        self.predictor_calls: list = []
        talker = model.talker
        predictor = talker.code_predictor
        original_talker, original_predictor = talker.generate, predictor.generate

        def talker_generate(*args, **kwargs):
            kwargs.update(output_scores=True, output_logits=True)
            result = original_talker(*args, **kwargs)
            self.talker_results.append(result)
            return result

        def predictor_generate(*args, **kwargs):
            kwargs.update(output_scores=True)
            result = original_predictor(*args, **kwargs)
            self.predictor_calls.append({"inputs_embeds": kwargs["inputs_embeds"].detach().clone(), "result": result})
            return result

        talker.generate = talker_generate
        predictor.generate = predictor_generate

    def reset(self) -> None:
        self.talker_results.clear()
        self.predictor_calls.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, type=Path)
    parser.add_argument("--reference", required=True, type=Path, help="reference speech, 24 kHz mono WAV")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--skip-long", action="store_true", help="skip the chunked-decoding golden")
    arguments = parser.parse_args()

    from qwen_tts import Qwen3TTSModel

    out: Path = arguments.out
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    tts = Qwen3TTSModel.from_pretrained(
        str(arguments.checkpoint), device_map="cpu", dtype=torch.float32, attn_implementation="eager"
    )
    observer = Observer(tts.model)
    audio, rate = soundfile.read(str(arguments.reference), dtype="float32")
    if rate != 24000 or audio.ndim != 1:
        raise SystemExit(f"{arguments.reference} must be 24 kHz mono (it is {rate} Hz, {audio.ndim} channel axes)")

    [icl_prompt] = tts.create_voice_clone_prompt(ref_audio=str(arguments.reference), ref_text=REFERENCE_TEXT)
    [xvector_prompt] = tts.create_voice_clone_prompt(ref_audio=str(arguments.reference), x_vector_only_mode=True)
    reference_codes = icl_prompt.ref_code.cpu().numpy()
    golden: dict = {
        "checkpoint": json.loads((arguments.checkpoint / "tiny_checkpoint.json").read_text(encoding="utf-8"))
        if (arguments.checkpoint / "tiny_checkpoint.json").is_file()
        else {"directory": arguments.checkpoint.name},
        "reference": {
            "text": REFERENCE_TEXT,
            "samples": int(audio.size),
            "codes": reference_codes.tolist(),
            "speakerEmbedding": icl_prompt.ref_spk_embedding.float().cpu().numpy().tolist(),
        },
        "cases": [],
    }

    processor = tts.processor
    encode = lambda text: processor(text=text, return_tensors="pt")["input_ids"][0].tolist()  # noqa: E731
    for case in CASES:
        for mode, prompt in (("icl", icl_prompt), ("xvector", xvector_prompt)):
            observer.reset()
            wavs, _ = tts.generate_voice_clone(
                text=case["text"],
                language=case["language"],
                voice_clone_prompt=[prompt],
                do_sample=False,
                subtalker_dosample=False,
                max_new_tokens=GREEDY_MAX_NEW_TOKENS,
            )
            result = observer.talker_results[-1]
            codes = torch.stack([hidden[-1] for hidden in result.hidden_states if hidden[-1] is not None], dim=1)[0]
            eos = tts.model.config.talker_config.codec_eos_token_id
            first = codes[:, 0].tolist()
            frames = first.index(eos) if eos in first else len(first)
            # The official loop's last token (never a frame) says whether it stopped on its own.
            last_token = int(result.sequences[0, -1]) if result.sequences.numel() else None
            name = f"{case['name']}-{mode}"
            entry = {
                "name": name,
                "mode": mode,
                "language": case["language"],
                "text": case["text"],
                "maxNewTokens": GREEDY_MAX_NEW_TOKENS,
                "inputIds": encode(tts._build_assistant_text(case["text"])),
                "referenceIds": encode(tts._build_ref_text(REFERENCE_TEXT)) if mode == "icl" else None,
                "codes": codes[:frames].tolist(),
                "endedWithEos": frames < len(first) or last_token == eos,
                "audio": write_audio(out, name, wavs[0]),
            }
            golden["cases"].append(entry)
            print(f"{name}: {frames} frames, eos={entry['endedWithEos']}, {wavs[0].size} samples ({time.time() - started:.0f} s)")

    # A sampled run: the processed distributions are compared step by step (the draws cannot be).
    observer.reset()
    settings = {key: value for key, value in SAMPLED.items() if key not in ("text", "language")}
    torch.manual_seed(1234)
    tts.generate_voice_clone(
        text=SAMPLED["text"], language=SAMPLED["language"], voice_clone_prompt=[icl_prompt], **settings
    )
    result = observer.talker_results[-1]
    tokens = result.sequences[0].tolist()
    steps = []
    raw = np.stack([logits[0].float().numpy() for logits in result.logits])
    for index, scores in enumerate(result.scores):
        processed = scores[0].float()
        probabilities = torch.softmax(processed, dim=-1)
        support = torch.nonzero(probabilities > 0).flatten().tolist()
        steps.append(
            {
                "history": tokens[:index],
                "token": tokens[index],
                "probabilities": {str(token): float(probabilities[token]) for token in support},
            }
        )
    first_call = observer.predictor_calls[0]
    predictor_scores = first_call["result"].scores[0][0].float()
    predictor_probabilities = torch.softmax(predictor_scores, dim=-1)
    predictor_support = torch.nonzero(predictor_probabilities > 0).flatten().tolist()
    inputs = first_call["inputs_embeds"][0]
    golden["sampled"] = {
        **SAMPLED,
        "inputIds": encode(tts._build_assistant_text(SAMPLED["text"])),
        "rawLogits": write_floats(out, "sampled-logits", raw),
        "vocabSize": int(raw.shape[1]),
        "steps": steps,
        "subtalkerFirstStep": {
            "hidden": inputs[0].tolist(),
            "firstCode": tokens[0],
            "probabilities": {str(token): float(predictor_probabilities[token]) for token in predictor_support},
        },
    }
    print(f"sampled: {len(steps)} steps ({time.time() - started:.0f} s)")

    if not arguments.skip_long:
        # The official non-streaming decode of more than one 300-frame chunk, with an ICL-style cut.
        generator = torch.Generator().manual_seed(99)
        codes = torch.randint(0, 2048, (CHUNKED_DECODE_FRAMES, reference_codes.shape[1]), generator=generator)
        [wav], _ = tts.model.speech_tokenizer.decode([{"audio_codes": codes}])
        cut = int(CHUNKED_DECODE_REFERENCE_FRAMES / CHUNKED_DECODE_FRAMES * wav.shape[0])
        rate = wav.shape[0] // CHUNKED_DECODE_FRAMES
        golden["chunkedDecode"] = {
            "codes": codes.tolist(),
            "referenceFrames": CHUNKED_DECODE_REFERENCE_FRAMES,
            "cut": cut,
            "samples": int(wav.shape[0] - cut),
            "excerpts": [
                {
                    "startSample": start * rate - cut,
                    "audio": write_floats(out, f"chunked-decode-{start}", wav[start * rate : end * rate]),
                }
                for start, end in CHUNKED_DECODE_EXCERPTS
            ],
        }
        print(f"chunked decode: {wav.shape[0]} samples, cut {cut} ({time.time() - started:.0f} s)")

    strings = tokenizer_strings()
    golden["tokenizer"] = [{"text": text, "ids": processor.tokenizer(text)["input_ids"]} for text in strings]
    # Qwen2's own split (what the processor uses when transformers does not substitute the
    # "Mistral fix"; see loading.split_pattern), from the same files loaded without that flag.
    from transformers import AutoTokenizer

    plain = AutoTokenizer.from_pretrained(str(arguments.checkpoint), fix_mistral_regex=False)
    golden["tokenizerQwen2Split"] = [{"text": text, "ids": plain(text)["input_ids"]} for text in strings]
    (out / "goldens.json").write_text(json.dumps(golden, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out / 'goldens.json'} in {time.time() - started:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
