#!/usr/bin/env python3
"""Runs MuseTalk's official PyTorch modules and our ONNX graphs on the same inputs and reports the
differences stage by stage: whisper hidden states, the per-video-frame audio windows (official
AudioProcessor.get_whisper_chunk fed by either encoder), VAE latents, the UNet step, the decoded
crop (as uint8), and the face-parsing classes.

    python tools/export/musetalk/parity.py --musetalk-repo ../MuseTalk --models-dir ../MuseTalk/models \
        --onnx exports/musetalk --variant float32 --audio speech.wav --image face_crop.png

Without --audio / --image, a synthetic tone and a synthetic image are used. Exit status 1 when a
stage is out of tolerance. Unverified until someone runs it against real weights (docs/export.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from muse_loading import build_random_init, load_official  # noqa: E402
from shared.exact_float32 import use_exact_float32  # noqa: E402


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--musetalk-repo", required=True, type=Path)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--models-dir", type=Path)
    source.add_argument("--random-init", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--onnx", required=True, type=Path)
    parser.add_argument("--variant", default="float32", choices=["float32", "float16"])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--providers", nargs="+", default=["CPUExecutionProvider"])
    parser.add_argument("--audio", type=Path, help="speech to drive the mouth (any rate; resampled to 16 kHz)")
    parser.add_argument("--image", type=Path, help="a face crop (any size; resized as MuseTalk does)")
    parser.add_argument("--frames", type=int, default=8, help="video frames to push through the UNet")
    parser.add_argument("--report", type=Path)
    return parser.parse_args()


def load_audio(arguments: argparse.Namespace) -> np.ndarray:
    if arguments.audio is not None:
        import librosa

        audio, _ = librosa.load(str(arguments.audio), sr=16000)
        return audio.astype(np.float32)
    time = np.arange(2 * 16000) / 16000
    return (0.2 * np.sin(2 * np.pi * (150 + 50 * np.sin(2 * np.pi * 3 * time)) * time)).astype(np.float32)


def load_image(arguments: argparse.Namespace) -> np.ndarray:
    """BGR uint8, as cv2.imread gives it."""
    import cv2

    if arguments.image is not None:
        image = cv2.imread(str(arguments.image))
        if image is None:
            raise SystemExit(f"cannot read {arguments.image}")
        return image
    rows, columns = np.mgrid[0:300, 0:280]
    face = 128 + 60 * np.sin(rows / 17.0) * np.cos(columns / 23.0)
    return np.clip(np.stack([face, face * 0.9, face * 1.1], axis=-1), 0, 255).astype(np.uint8)


def entry(stage: str, ours: np.ndarray, official: np.ndarray, tolerance: float) -> dict:
    ours = np.asarray(ours, dtype=np.float64)
    official = np.asarray(official, dtype=np.float64)
    if ours.shape != official.shape:
        return {"stage": stage, "ok": False, "detail": f"shape {ours.shape} vs official {official.shape}"}
    difference = float(np.max(np.abs(ours - official)))
    mean = float(np.mean(np.abs(ours - official)))
    return {"stage": stage, "ok": difference <= tolerance, "detail": f"max |diff| {difference:.3g}, mean {mean:.3g} (tolerance {tolerance:g})"}


def main() -> None:
    import cv2
    import onnxruntime
    from PIL import Image

    arguments = parse_arguments()
    use_exact_float32()
    dtype = torch.float32 if arguments.variant == "float32" else torch.float16
    device = arguments.device
    if arguments.random_init is not None:
        models = build_random_init(arguments.musetalk_repo, arguments.random_init, device, dtype, arguments.seed)
    else:
        models = load_official(arguments.musetalk_repo, arguments.models_dir, device, dtype)
    from musetalk.utils.audio_processor import AudioProcessor

    manifest = json.loads((arguments.onnx / "manifest.json").read_text(encoding="utf-8"))
    folder = arguments.onnx / manifest["variants"][arguments.variant]["directory"]

    def session(name):
        return onnxruntime.InferenceSession(str(folder / f"{name}.onnx"), providers=arguments.providers)

    loose = 1.0 if arguments.variant == "float32" else 10.0  # float16 tolerances are ten times looser
    report: list[dict] = []

    # Audio: features exactly as AudioProcessor.get_audio_feature makes them (30 s segments).
    audio = load_audio(arguments)
    segments = [audio[start : start + 30 * 16000] for start in range(0, len(audio), 30 * 16000)]
    features = [
        models.feature_extractor(segment, return_tensors="pt", sampling_rate=16000).input_features.to(device, dtype)
        for segment in segments
    ]
    whisper_session = session("whisper_encoder")
    ours_states = [whisper_session.run(None, {"input_features": f.float().cpu().numpy()})[0] for f in features]
    with torch.inference_mode():
        official_states = [
            torch.stack(models.whisper.encoder(f, output_hidden_states=True).hidden_states, dim=2).float().cpu().numpy()
            for f in features
        ]
    report.append(entry("whisper hidden states", ours_states[0], official_states[0], 2e-3 * loose))

    # Stands in for WhisperModel inside the official windowing code: same call, our states.
    queue = list(ours_states)

    def onnx_encoder(_features, output_hidden_states=True):
        stacked = torch.from_numpy(queue.pop(0)).to(device, dtype)
        return SimpleNamespace(hidden_states=tuple(stacked.unbind(dim=2)))

    onnx_whisper = SimpleNamespace(encoder=onnx_encoder)

    chunk = AudioProcessor.get_whisper_chunk
    with torch.inference_mode():
        official_prompts = chunk(None, features, device, dtype, models.whisper, len(audio), fps=25)
        ours_prompts = chunk(None, features, device, dtype, onnx_whisper, len(audio), fps=25)
    report.append(entry("audio windows per video frame", ours_prompts.float().cpu(), official_prompts.float().cpu(), 2e-3 * loose))

    # Crop → VAE latents (MuseTalk's preprocess_img: Lanczos resize, RGB, /255, half mask, [-1,1]).
    image = cv2.resize(load_image(arguments), (256, 256), interpolation=cv2.INTER_LANCZOS4)
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    whole = np.transpose(rgb, (2, 0, 1))[None]
    masked = whole.copy()
    masked[:, :, 128:, :] = 0
    inputs = np.concatenate([masked, whole]) * 2 - 1
    (ours_latents,) = session("vae_encoder").run(None, {"image": inputs.astype(np.float32)})
    with torch.inference_mode():
        distribution = models.vae.encode(torch.from_numpy(inputs).to(device, dtype)).latent_dist
        official_latents = (distribution.mean * models.vae.config.scaling_factor).float().cpu().numpy()
    report.append(entry("VAE latents (posterior mean × scale)", ours_latents, official_latents, 5e-3 * loose))

    # UNet: the official latents and audio windows through both.
    frames = min(arguments.frames, len(official_prompts))
    unet_latents = np.repeat(np.concatenate([official_latents[0:1], official_latents[1:2]], axis=1), frames, axis=0)
    window = official_prompts[:frames].float().cpu().numpy()
    (ours_unet,) = session("unet").run(None, {"latents": unet_latents, "audio": window})
    with torch.inference_mode():
        conditioning = models.positional_encoding(torch.from_numpy(window).to(device, dtype))
        official_unet = (
            models.unet(
                torch.from_numpy(unet_latents).to(device, dtype),
                torch.tensor([0], device=device),
                encoder_hidden_states=conditioning,
            )
            .sample.float()
            .cpu()
            .numpy()
        )
    report.append(entry("UNet step", ours_unet, official_unet, 1e-2 * loose))

    # Decode to uint8 as decode_latents does (x/2+0.5, clamp, ×255, round).
    (ours_image,) = session("vae_decoder").run(None, {"latents": official_unet})
    with torch.inference_mode():
        decoded = models.vae.decode(torch.from_numpy(official_unet).to(device, dtype) / models.vae.config.scaling_factor).sample
        official_image = (decoded.float() / 2 + 0.5).clamp(0, 1).cpu().numpy()
    report.append(
        entry("decoded crop (uint8 levels)", np.round(ours_image * 255), np.round(official_image * 255), 2.0 * loose)
    )

    # Face parsing: FaceParsing.__call__'s input (PIL bilinear 512, ImageNet normalisation), main head.
    pil = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB)).resize((512, 512), Image.BILINEAR)
    tensor = (np.asarray(pil, dtype=np.float32) / 255.0 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    tensor = np.transpose(tensor, (2, 0, 1))[None].astype(np.float32)
    (ours_logits,) = session("face_parser").run(None, {"image": tensor})
    with torch.inference_mode():
        official_logits = models.face_parser(torch.from_numpy(tensor).to(device, dtype))[0].float().cpu().numpy()
    agreement = float(np.mean(ours_logits.argmax(1) == official_logits.argmax(1)))
    report.append(
        {
            "stage": "face parsing classes",
            "ok": agreement >= (0.999 if arguments.variant == "float32" else 0.99),
            "detail": f"{agreement * 100:.3f}% of pixels get the same class",
        }
    )

    width = max(len(item["stage"]) for item in report)
    for item in report:
        print(f"{'OK  ' if item['ok'] else 'FAIL'} {item['stage']:<{width}}  {item['detail']}")
    if arguments.report is not None:
        arguments.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    sys.exit(0 if all(item["ok"] for item in report) else 1)


if __name__ == "__main__":
    main()
