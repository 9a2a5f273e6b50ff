#!/usr/bin/env python3
"""Exports MuseTalk v1.5 (UNet, SD VAE encoder and decoder, whisper-tiny encoder, BiSeNet face
parser) into our ONNX layout for the embedded lip-sync engine.

    python tools/export/musetalk/export.py --musetalk-repo ../MuseTalk --models-dir ../MuseTalk/models \
        --out exports/musetalk --dtypes float32 float16 --device cuda
    python tools/export/musetalk/export.py --musetalk-repo ../MuseTalk \
        --random-init tools/export/musetalk/random_init --out /tmp/musetalk-random --dtypes float32

Graph names, inputs and outputs are in GRAPHS below, in one place, so they follow the layout
document. Each graph is re-run in onnxruntime at another batch size and compared with PyTorch.
Unverified until someone runs it against real weights (see docs/export.md).
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

import numpy as np
import torch

# This folder's modules are imported by their own names (muse_*), never as a `musetalk` package,
# which would shadow the official repository's `musetalk` package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from muse_loading import MuseTalkModels, build_random_init, load_official  # noqa: E402
from muse_wrappers import (  # noqa: E402
    FaceParserGraph,
    UnetGraph,
    VaeDecoderGraph,
    VaeEncoderGraph,
    WhisperEncoderGraph,
)
from shared.exact_float32 import use_exact_float32  # noqa: E402
from shared.onnx_files import export_onnx, hash_directory, write_json  # noqa: E402

FORMAT = "musetalk-onnx"
CONTRACT_VERSION = 1
DTYPES = {"float32": torch.float32, "float16": torch.float16}
LATENT = 32  # 256-px crops through the f/8 VAE
CROP = 256
PARSER_SIZE = 512
WHISPER_FRAMES = 3000  # Whisper's fixed 30 s log-mel window
AUDIO_WINDOW = 50  # 2·(left 2 + right 2 + 1) whisper frames × 5 hidden states, per video frame

# name → (input names, output names, dynamic axes)
GRAPHS = {
    "unet": (["latents", "audio"], ["latents_out"], {"latents": {0: "batch"}, "audio": {0: "batch"}, "latents_out": {0: "batch"}}),
    "vae_encoder": (["image"], ["latents"], {"image": {0: "batch"}, "latents": {0: "batch"}}),
    "vae_decoder": (["latents"], ["image"], {"latents": {0: "batch"}, "image": {0: "batch"}}),
    "whisper_encoder": (["input_features"], ["hidden_states"], {"input_features": {0: "batch"}, "hidden_states": {0: "batch"}}),
    "face_parser": (["image"], ["logits"], {"image": {0: "batch"}, "logits": {0: "batch"}}),
}


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--musetalk-repo", required=True, type=Path, help="a TMElyralab/MuseTalk checkout")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--models-dir", type=Path, help="MuseTalk's models/ directory (download_weights.sh)")
    source.add_argument("--random-init", type=Path, help="config directory: same architectures, random weights")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--dtypes", nargs="+", default=["float32"], choices=sorted(DTYPES))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--exporter", choices=["torchscript", "dynamo"], default="torchscript")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-verify", action="store_true")
    return parser.parse_args()


def load(arguments: argparse.Namespace, dtype: torch.dtype) -> MuseTalkModels:
    if arguments.random_init is not None:
        return build_random_init(arguments.musetalk_repo, arguments.random_init, arguments.device, dtype, arguments.seed)
    return load_official(arguments.musetalk_repo, arguments.models_dir, arguments.device, dtype)


def modules(models: MuseTalkModels, dtype: torch.dtype) -> dict[str, torch.nn.Module]:
    return {
        "unet": UnetGraph(models.unet, models.positional_encoding, dtype).eval(),
        "vae_encoder": VaeEncoderGraph(models.vae, dtype).eval(),
        "vae_decoder": VaeDecoderGraph(models.vae, dtype).eval(),
        "whisper_encoder": WhisperEncoderGraph(models.whisper, dtype).eval(),
        "face_parser": FaceParserGraph(models.face_parser, dtype).eval(),
    }


def example_inputs(name: str, batch: int, models: MuseTalkModels, device: str, generator: torch.Generator) -> tuple:
    def normal(*shape):
        return torch.randn(*shape, generator=generator).to(device)

    hidden = models.unet_config["cross_attention_dim"]
    mels = models.whisper.config.num_mel_bins
    return {
        "unet": lambda: (normal(batch, 8, LATENT, LATENT), normal(batch, AUDIO_WINDOW, hidden)),
        "vae_encoder": lambda: (normal(batch, 3, CROP, CROP).clamp(-1, 1),),
        "vae_decoder": lambda: (normal(batch, 4, LATENT, LATENT),),
        "whisper_encoder": lambda: (normal(batch, mels, WHISPER_FRAMES).clamp(-1, 1),),
        "face_parser": lambda: (normal(batch, 3, PARSER_SIZE, PARSER_SIZE),),
    }[name]()


# Largest difference to PyTorch a verified graph may show, relative to the output's scale.
VERIFY_TOLERANCE = {"float32": 1e-4, "float16": 2e-2}


def verify(path: Path, module: torch.nn.Module, inputs: tuple, names: list[str], label: str, tolerance: float) -> list[str]:
    """Runs the graph in onnxruntime (CPU); returns what differs from PyTorch beyond tolerance."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    actual = session.run(None, {name: value.detach().cpu().numpy() for name, value in zip(names, inputs)})
    with torch.inference_mode():
        expected = module(*inputs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    problems = []
    for output, got, want in zip(session.get_outputs(), actual, expected):
        want = want.detach().cpu().numpy()
        if got.shape != want.shape:
            problems.append(f"{label}: {output.name} is {got.shape} in ONNX but {want.shape} in PyTorch")
            continue
        difference = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))
        scale = float(np.max(np.abs(want)))
        print(f"  verify {label}.{output.name} {got.shape}: max |onnx - torch| = {difference:.3g} (scale {scale:.3g})")
        if difference > tolerance * max(scale, 1e-3):
            problems.append(f"{label}: {output.name} differs by {difference:.3g} (scale {scale:.3g})")
    return problems


def main() -> None:
    arguments = parse_arguments()
    use_exact_float32()
    if "float16" in arguments.dtypes and not arguments.device.startswith("cuda"):
        raise SystemExit("float16 export must run on CUDA (--device cuda)")
    arguments.out.mkdir(parents=True, exist_ok=True)
    variants = [variant for variant in ("float32", "float16") if variant in arguments.dtypes]
    models = None
    problems: list[str] = []
    for variant in variants:
        dtype = DTYPES[variant]
        models = load(arguments, dtype)
        generator = torch.Generator(device="cpu").manual_seed(arguments.seed)
        for name, module in modules(models, dtype).items():
            input_names, output_names, axes = GRAPHS[name]
            path = arguments.out / variant / f"{name}.onnx"
            print(f"[{variant}] exporting {name} → {path}")
            export_onnx(
                module,
                example_inputs(name, 2, models, arguments.device, generator),
                path,
                input_names=input_names,
                output_names=output_names,
                dynamic_axes=axes,
                opset=arguments.opset,
                exporter=arguments.exporter,
            )
            if not arguments.skip_verify:
                # Traced at batch 2: checked at batch 1 and 3, so a baked batch size fails here.
                for batch in (1, 3) if name != "whisper_encoder" else (1,):
                    check = example_inputs(name, batch, models, arguments.device, generator)
                    problems += verify(path, module, check, input_names, f"{variant}/{name}", VERIFY_TOLERANCE[variant])
    if problems:
        raise SystemExit("the exported graphs differ from PyTorch:\n  " + "\n  ".join(problems))
        if variant != variants[-1]:
            del models
            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
    assert models is not None
    whisper = models.whisper.config
    manifest = {
        "format": FORMAT,
        "contractVersion": CONTRACT_VERSION,
        "modelKey": "musetalk",
        "source": {"repository": "TMElyralab/MuseTalk", "revision": "v1.5", "synthetic": models.synthetic, **models.sources},
        "dimensions": {
            "crop": CROP,
            "latent": LATENT,
            "latentChannels": models.vae.config.latent_channels,
            "audioWindow": AUDIO_WINDOW,
            "audioFeature": models.unet_config["cross_attention_dim"],
            "whisperFrames": WHISPER_FRAMES,
            "whisperMels": whisper.num_mel_bins,
            "whisperStates": whisper.encoder_layers + 1,
            "whisperPositions": whisper.max_source_positions,
            "parserSize": PARSER_SIZE,
            "parserClasses": 19,
        },
        "vae": {"scalingFactor": float(models.vae.config.scaling_factor)},
        "whisper": {
            "sampleRate": int(models.feature_extractor.sampling_rate),
            "nFft": int(models.feature_extractor.n_fft),
            "hop": int(models.feature_extractor.hop_length),
        },
        "variants": {variant: {"directory": variant, "dtype": variant} for variant in variants},
        "files": {"sha256": hash_directory(arguments.out)},
    }
    write_json(arguments.out / "manifest.json", manifest)
    print(f"wrote {arguments.out / 'manifest.json'}")


if __name__ == "__main__":
    main()
