#!/usr/bin/env python3
"""Times the official `qwen_tts` pipeline on this machine, for `npm run bench -- official`, which
runs our engine on an export of the same checkpoint and prints the ratio.

It speaks one text greedily (`do_sample` and `subtalker_dosample` false, so both sides do the same
work frame for frame) with `generate_voice_clone`, after one warm-up run, and prints one JSON line:
frames generated, seconds per run, frames per second. The checkpoint is a real one (--checkpoint)
or the official classes with random weights at the released sizes (--random-init, seed 0 as the
exporter builds them), so the comparison needs no download.

    python tools/export/qwen3/official_speed.py --random-init tools/export/qwen3/random_init/base_0.6b \
        --reference test/fixtures/qwen3-official/reference.wav --frames 40 --threads 2
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qwen3.loading import build_random_init, load_official  # noqa: E402

REFERENCE_TEXT = "안녕하세요. 오늘 저의 면접에 참석해 주셔서 감사합니다."
TEXT = "반갑습니다. 자기소개를 부탁드립니다. 지원하신 동기가 무엇인가요?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="hub id or local directory of a Qwen3-TTS 12 Hz Base checkpoint")
    source.add_argument("--random-init", type=Path, help="config directory: official classes, random weights")
    parser.add_argument("--reference", type=Path, required=True, help="reference recording (WAV)")
    parser.add_argument("--ref-text", default=REFERENCE_TEXT)
    parser.add_argument("--text", default=TEXT)
    parser.add_argument("--language", default="Korean")
    parser.add_argument("--frames", type=int, default=40, help="max_new_tokens (80 ms frames)")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--attention", default="sdpa", choices=["sdpa", "eager"])
    arguments = parser.parse_args()

    if arguments.threads > 0:
        torch.set_num_threads(arguments.threads)
    if arguments.random_init:
        checkpoint = build_random_init(arguments.random_init, "cpu", torch.float32, 0)
    else:
        checkpoint = load_official(arguments.checkpoint, None, "cpu", torch.float32)
    model = checkpoint.model
    # The random-init builder asks for eager attention; the official pipeline's default is SDPA.
    for config in (model.config, model.config.talker_config, model.config.talker_config.code_predictor_config):
        config._attn_implementation = arguments.attention

    def speak(frames: int) -> tuple[int, float]:
        started = time.perf_counter()
        with torch.inference_mode():
            wavs, sample_rate = checkpoint.tts.generate_voice_clone(
                text=arguments.text,
                language=arguments.language,
                ref_audio=str(arguments.reference),
                ref_text=arguments.ref_text,
                do_sample=False,
                subtalker_dosample=False,
                max_new_tokens=frames,
            )
        seconds = time.perf_counter() - started
        return round(len(wavs[0]) / (sample_rate * 0.08)), seconds

    speak(4)  # warm-up: first runs allocate and pick kernels
    runs = [speak(arguments.frames) for _ in range(arguments.runs)]
    frames = runs[0][0]
    seconds = [run[1] for run in runs]
    print(
        json.dumps(
            {
                "frames": frames,
                "seconds": seconds,
                "framesPerSecond": frames / min(seconds),
                "threads": torch.get_num_threads(),
                "attention": arguments.attention,
            }
        )
    )


if __name__ == "__main__":
    main()
