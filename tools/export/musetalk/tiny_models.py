#!/usr/bin/env python3
"""Builds a tiny MuseTalk v1.5 `models/` directory with the official classes and random weights, in
the layout of MuseTalk's download_weights.sh, so the official code and our exporter can run without
downloading anything:

    models/musetalkV15/musetalk.json, unet.pth     diffusers UNet2DConditionModel (musetalk.json, reduced)
    models/sd-vae/                                 diffusers AutoencoderKL (sd-vae-ft-mse layout, reduced)
    models/whisper/                                transformers WhisperModel (whisper-tiny encoder shape:
                                                   d_model 384, 4 layers, so 5 hidden states) + feature extractor
    models/face-parse-bisent/79999_iter.pth, resnet18-5c106cde.pth   MuseTalk's BiSeNet (ResNet-18 backbone)

    python tools/export/musetalk/tiny_models.py --musetalk-repo ../MuseTalk --out /tmp/musetalk-tiny

What is kept from the released models: every interface size (8 → 4 latent channels at 32 × 32, the
384-wide audio conditioning, 80 mel bins, 1500 whisper positions, 19 parser classes, the f/8 VAE),
the block types and the attention layout. What is shrunk: UNet and VAE channels and layers, and the
whisper feed-forward width. Weights are rounded to a grid of a quarter of each tensor's standard
deviation so that exported fixtures compress. The face parser's last classifier is set so that its
classes are mixed (a purely random one labels one class everywhere, and the jaw mask would be trivial).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

UNET = {
    "act_fn": "silu",
    "attention_head_dim": 8,
    "block_out_channels": [16, 32, 32, 32],
    "center_input_sample": False,
    "cross_attention_dim": 384,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "downsample_padding": 1,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "in_channels": 8,
    "layers_per_block": 1,
    "mid_block_scale_factor": 1,
    "norm_eps": 1e-5,
    "norm_num_groups": 8,
    "out_channels": 4,
    "sample_size": 64,
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
}
VAE = {
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 4,
    "act_fn": "silu",
    "norm_num_groups": 8,
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "block_out_channels": [16, 16, 32, 32],
    "layers_per_block": 1,
    "sample_size": 256,
    "scaling_factor": 0.18215,
}
WHISPER = {
    "d_model": 384,
    "encoder_layers": 4,
    "encoder_attention_heads": 6,
    "encoder_ffn_dim": 64,
    "decoder_layers": 1,
    "decoder_attention_heads": 6,
    "decoder_ffn_dim": 64,
    "num_mel_bins": 80,
    "max_source_positions": 1500,
    "max_target_positions": 448,
    # MuseTalk uses the encoder only: a small decoder vocabulary keeps the files small.
    "vocab_size": 64,
    "pad_token_id": 0,
    "bos_token_id": 1,
    "eos_token_id": 1,
    "decoder_start_token_id": 1,
}


PARSER_CLASS_OFFSETS = {0: 0.00137, 1: -0.00105, 10: 0.00196, 11: 0.00667, 12: 0.00072, 13: 0.00198}


def round_to_grid(module: torch.nn.Module) -> None:
    with torch.no_grad():
        for tensor in module.state_dict().values():
            if tensor.is_floating_point() and tensor.numel() > 1:
                step = float(tensor.float().std()) / 4
                if step > 0:
                    tensor.copy_(torch.round(tensor / step) * step)


def build(repository: Path, out: Path, seed: int) -> None:
    sys.path.insert(0, str(repository.resolve()))
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from torchvision.models import resnet18
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperModel

    from musetalk.utils.face_parsing.model import BiSeNet

    torch.manual_seed(seed)
    models = out / "models"
    (models / "musetalkV15").mkdir(parents=True, exist_ok=True)
    (models / "musetalkV15" / "musetalk.json").write_text(json.dumps(UNET, indent=1) + "\n", encoding="utf-8")
    unet = UNet2DConditionModel(**UNET)
    round_to_grid(unet)
    torch.save(unet.state_dict(), models / "musetalkV15" / "unet.pth")

    vae = AutoencoderKL(**VAE)
    round_to_grid(vae)
    vae.save_pretrained(str(models / "sd-vae"))

    whisper = WhisperModel(WhisperConfig(**WHISPER))
    round_to_grid(whisper)
    whisper.save_pretrained(str(models / "whisper"))
    WhisperFeatureExtractor(feature_size=WHISPER["num_mel_bins"]).save_pretrained(str(models / "whisper"))

    parser_directory = models / "face-parse-bisent"
    parser_directory.mkdir(parents=True, exist_ok=True)
    backbone = resnet18(weights=None)
    round_to_grid(backbone)
    backbone_path = parser_directory / "resnet18-5c106cde.pth"
    torch.save(backbone.state_dict(), backbone_path)
    parser = BiSeNet(str(backbone_path), n_classes=19)
    round_to_grid(parser)
    state = parser.state_dict()
    # A random classifier with per-class offsets (found by trying on the fixture photos, for seed 0):
    # about half skin, some nose, lips, mouth and background, so every rule of the jaw mask is used.
    generator = torch.Generator().manual_seed(5)
    rows = torch.randn(19, state["conv_out.conv_out.weight"].shape[1], generator=generator) * 0.02
    offsets = torch.zeros(19)
    for class_id, offset in PARSER_CLASS_OFFSETS.items():
        offsets[class_id] = offset
    state["conv_out.conv_out.weight"] = (rows + offsets[:, None])[:, :, None, None]
    torch.save(state, parser_directory / "79999_iter.pth")
    # Marks the directory as random weights: the exporter then says "synthetic" in the manifest.
    (models / "tiny_models.json").write_text(json.dumps({"seed": seed, "randomWeights": True}) + "\n", encoding="utf-8")
    print(f"wrote {models}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--musetalk-repo", required=True, type=Path, help="a TMElyralab/MuseTalk checkout")
    parser.add_argument("--out", required=True, type=Path, help="directory that will hold models/")
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    build(arguments.musetalk_repo, arguments.out, arguments.seed)


if __name__ == "__main__":
    main()
