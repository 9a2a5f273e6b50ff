"""Loads MuseTalk v1.5's models the way the official repository does (TMElyralab/MuseTalk, whose
`musetalk` package must be importable: pass its checkout with --musetalk-repo), or builds the same
architectures with random weights (--random-init) for smoke tests without downloads.

Weights layout expected under --models-dir (the official download_weights.sh):
    musetalkV15/unet.pth, musetalkV15/musetalk.json, sd-vae/ (sd-vae-ft-mse), whisper/ (whisper-tiny),
    face-parse-bisent/79999_iter.pth, face-parse-bisent/resnet18-5c106cde.pth

Unverified until someone runs it against real weights (see docs/export.md).
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch


@dataclass
class MuseTalkModels:
    unet: Any  # diffusers UNet2DConditionModel
    positional_encoding: Any  # musetalk.models.unet.PositionalEncoding
    vae: Any  # diffusers AutoencoderKL
    whisper: Any  # transformers WhisperModel
    face_parser: Any  # musetalk.utils.face_parsing.model.BiSeNet
    feature_extractor: Any  # transformers WhisperFeatureExtractor
    unet_config: dict
    sources: dict
    synthetic: bool
    keep_alive: list = field(default_factory=list)


def import_musetalk(repository: Path) -> None:
    if not (repository / "musetalk" / "models" / "unet.py").is_file():
        raise SystemExit(f"{repository} is not a TMElyralab/MuseTalk checkout (musetalk/models/unet.py is missing)")
    # First on the path, so `musetalk` resolves to the official package.
    sys.path.insert(0, str(repository.resolve()))
    sys.modules.pop("musetalk", None)


def plain_attention(model) -> None:
    """Classic matmul-softmax attention (UNet and VAE mid-block): exporters have failed on fused
    SDPA in these models."""
    from diffusers.models.attention_processor import AttnProcessor

    model.set_attn_processor(AttnProcessor())


def load_official(repository: Path, models: Path, device: str, dtype: torch.dtype) -> MuseTalkModels:
    import_musetalk(repository)
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from musetalk.models.unet import PositionalEncoding
    from musetalk.utils.face_parsing.model import BiSeNet
    from transformers import WhisperFeatureExtractor, WhisperModel

    unet_config = json.loads((models / "musetalkV15" / "musetalk.json").read_text(encoding="utf-8"))
    unet = UNet2DConditionModel(**unet_config)
    unet.load_state_dict(torch.load(models / "musetalkV15" / "unet.pth", map_location="cpu"))
    plain_attention(unet)
    vae = AutoencoderKL.from_pretrained(str(models / "sd-vae"))
    plain_attention(vae)
    whisper = WhisperModel.from_pretrained(str(models / "whisper"))
    feature_extractor = WhisperFeatureExtractor.from_pretrained(str(models / "whisper"))
    parser_directory = models / "face-parse-bisent"
    face_parser = BiSeNet(str(parser_directory / "resnet18-5c106cde.pth"))
    face_parser.load_state_dict(torch.load(parser_directory / "79999_iter.pth", map_location="cpu"))
    return finish(
        MuseTalkModels(
            unet=unet,
            positional_encoding=PositionalEncoding(d_model=unet_config["cross_attention_dim"]),
            vae=vae,
            whisper=whisper,
            face_parser=face_parser,
            feature_extractor=feature_extractor,
            unet_config=unet_config,
            sources=(
                {"randomInit": "tools/export/musetalk/tiny_models.py"}
                if (models / "tiny_models.json").is_file()
                else {
                    "unet": "TMElyralab/MuseTalk musetalkV15/unet.pth",
                    "vae": "stabilityai/sd-vae-ft-mse",
                    "whisper": "openai/whisper-tiny",
                    "faceParser": "face-parse BiSeNet 79999_iter.pth",
                }
            ),
            synthetic=(models / "tiny_models.json").is_file(),
        ),
        device,
        dtype,
    )


def build_random_init(repository: Path, config_directory: Path, device: str, dtype: torch.dtype, seed: int) -> MuseTalkModels:
    import_musetalk(repository)
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from musetalk.models.unet import PositionalEncoding
    from musetalk.utils.face_parsing.model import BiSeNet
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperModel

    torch.manual_seed(seed)
    unet_config = json.loads((config_directory / "musetalk.json").read_text(encoding="utf-8"))
    vae_config = json.loads((config_directory / "vae_config.json").read_text(encoding="utf-8"))
    whisper_config = json.loads((config_directory / "whisper_config.json").read_text(encoding="utf-8"))
    unet = UNet2DConditionModel(**unet_config)
    plain_attention(unet)
    vae = AutoencoderKL(**vae_config)
    plain_attention(vae)
    whisper = WhisperModel(WhisperConfig(**whisper_config))
    scratch = tempfile.TemporaryDirectory(prefix="musetalk-random-")
    # BiSeNet loads ImageNet ResNet-18 weights from a file at construction; an empty state dict
    # leaves them random.
    empty = Path(scratch.name) / "resnet18-empty.pth"
    torch.save({}, empty)
    face_parser = BiSeNet(str(empty))
    return finish(
        MuseTalkModels(
            unet=unet,
            positional_encoding=PositionalEncoding(d_model=unet_config["cross_attention_dim"]),
            vae=vae,
            whisper=whisper,
            face_parser=face_parser,
            feature_extractor=WhisperFeatureExtractor(feature_size=whisper_config["num_mel_bins"]),
            unet_config=unet_config,
            sources={"randomInit": str(config_directory.name), "seed": seed},
            synthetic=True,
            keep_alive=[scratch],
        ),
        device,
        dtype,
    )


def finish(models: MuseTalkModels, device: str, dtype: torch.dtype) -> MuseTalkModels:
    for name in ("unet", "positional_encoding", "vae", "whisper", "face_parser"):
        module = getattr(models, name).to(device=device, dtype=dtype).eval()
        module.requires_grad_(False)
        setattr(models, name, module)
    return models
