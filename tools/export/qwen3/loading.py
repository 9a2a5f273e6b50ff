"""Loads a Qwen3-TTS 12 Hz Base checkpoint with the official `qwen_tts` package, or builds the
official architecture with random weights from a config directory (`--random-init`), so the
exporter and the parity check can be smoke-tested without downloading weights.

Unverified until someone runs it against real weights (see docs/export.md).
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

TOKENIZER_FILES = ("vocab.json", "merges.txt", "tokenizer_config.json")
QWEN2_SPLIT_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# What transformers ≥ 4.57.3 substitutes when a tokenizer is loaded with fix_mistral_regex=True (as the
# official Qwen3-TTS processor is) and the checkpoint's config.json is not marked as saved by ≤ 4.57.2.
MISTRAL_FIX_SPLIT_PATTERN = (
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?"
    r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


@dataclass
class Checkpoint:
    """The official pipeline plus the raw JSON it was built from (ids are read from these)."""

    tts: Any  # qwen_tts.Qwen3TTSModel
    directory: Path
    repository: str
    revision: str
    synthetic: bool
    config: dict
    generation_config: dict
    speech_config: dict
    preprocessor_config: dict
    tokenizer_directory: Path
    keep_alive: list = field(default_factory=list)

    @property
    def model(self):
        return self.tts.model

    @property
    def talker(self):
        return self.tts.model.talker

    @property
    def tokenizer_model(self):
        return self.tts.model.speech_tokenizer.model


def read_json(path: Path) -> dict:
    if not path.is_file():
        raise SystemExit(f"{path} is missing: the export reads every id and size from it")
    return json.loads(path.read_text(encoding="utf-8"))


def resolve_checkpoint(model: str, revision: str | None) -> tuple[Path, str, str]:
    """A local directory as it is, else a hub snapshot. Returns (directory, repository, revision)."""
    local = Path(model)
    if local.is_dir():
        return local.resolve(), local.name, revision or "local"
    from huggingface_hub import snapshot_download

    directory = Path(snapshot_download(repo_id=model, revision=revision))
    # Snapshots live in …/snapshots/<commit>: that commit is the exact revision exported.
    commit = directory.name if re.fullmatch(r"[0-9a-f]{40}", directory.name) else (revision or "main")
    return directory, model, commit


def load_official(model: str, revision: str | None, device: str, dtype: torch.dtype) -> Checkpoint:
    from qwen_tts import Qwen3TTSModel

    directory, repository, commit = resolve_checkpoint(model, revision)
    tts = Qwen3TTSModel.from_pretrained(str(directory), device_map=device, dtype=dtype, attn_implementation="eager")
    if tts.model.tts_model_type != "base":
        raise SystemExit(f"{model} is a {tts.model.tts_model_type} model; only Base models clone voices")
    tts.model.eval()
    tts.model.speech_tokenizer.model.eval()
    return Checkpoint(
        tts=tts,
        directory=directory,
        repository=repository,
        revision=commit,
        synthetic=False,
        config=read_json(directory / "config.json"),
        generation_config=read_json(directory / "generation_config.json"),
        speech_config=read_json(directory / "speech_tokenizer" / "config.json"),
        preprocessor_config=read_json(directory / "speech_tokenizer" / "preprocessor_config.json"),
        tokenizer_directory=directory,
    )


def build_random_init(config_directory: Path, device: str, dtype: torch.dtype, seed: int) -> Checkpoint:
    """The official classes, built from hand-written configs with random weights (tests only)."""
    from qwen_tts import Qwen3TTSModel, Qwen3TTSTokenizer
    from qwen_tts.core.models.configuration_qwen3_tts import Qwen3TTSConfig
    from qwen_tts.core.models.modeling_qwen3_tts import Qwen3TTSForConditionalGeneration
    from qwen_tts.core.models.processing_qwen3_tts import Qwen3TTSProcessor
    from qwen_tts.core.tokenizer_12hz.configuration_qwen3_tts_tokenizer_v2 import Qwen3TTSTokenizerV2Config
    from qwen_tts.core.tokenizer_12hz.modeling_qwen3_tts_tokenizer_v2 import Qwen3TTSTokenizerV2Model
    from transformers import EncodecFeatureExtractor

    config_json = read_json(config_directory / "config.json")
    generation_json = read_json(config_directory / "generation_config.json")
    speech_json = read_json(config_directory / "speech_tokenizer" / "config.json")
    preprocessor_json = read_json(config_directory / "speech_tokenizer" / "preprocessor_config.json")

    torch.manual_seed(seed)
    config = Qwen3TTSConfig(**{key: value for key, value in config_json.items() if key != "model_type"})
    config._attn_implementation = "eager"
    config.talker_config._attn_implementation = "eager"
    config.talker_config.code_predictor_config._attn_implementation = "eager"
    model = Qwen3TTSForConditionalGeneration(config).to(device=device, dtype=dtype).eval()

    speech_config = Qwen3TTSTokenizerV2Config(**{key: value for key, value in speech_json.items() if key != "model_type"})
    tokenizer_model = Qwen3TTSTokenizerV2Model(speech_config)
    # Codebooks start at zero (decoder parameters `embedding_sum`, Mimi encoder buffers
    # `embed_sum`); random ones make both codecs see and emit varied codes.
    for name, tensor in [*tokenizer_model.named_parameters(), *tokenizer_model.named_buffers()]:
        if name.endswith(("embedding_sum", "embed_sum")):
            tensor.data.normal_()
    tokenizer_model = tokenizer_model.to(device=device, dtype=dtype).eval()
    speech = Qwen3TTSTokenizer()
    speech.model = tokenizer_model
    speech.config = speech_config
    speech.device = torch.device(device)
    extractor_arguments = {k: v for k, v in preprocessor_json.items() if k not in ("feature_extractor_type",)}
    speech.feature_extractor = EncodecFeatureExtractor(**extractor_arguments)
    model.load_speech_tokenizer(speech)
    model.load_generate_config(generation_json)

    scratch = tempfile.TemporaryDirectory(prefix="qwen3-random-tokenizer-")
    tokenizer_directory = Path(scratch.name)
    tokenizer = write_byte_level_tokenizer(config_json, tokenizer_directory)
    processor = Qwen3TTSProcessor(tokenizer=tokenizer)
    tts = Qwen3TTSModel(model=model, processor=processor, generate_defaults=generation_json)
    return Checkpoint(
        tts=tts,
        directory=config_directory,
        repository=f"random-init:{config_directory.name}",
        revision=f"seed-{seed}",
        synthetic=True,
        config=config_json,
        generation_config=generation_json,
        speech_config=speech_json,
        preprocessor_config=preprocessor_json,
        tokenizer_directory=tokenizer_directory,
        keep_alive=[scratch],
    )


def write_byte_level_tokenizer(config_json: dict, directory: Path):
    """A tiny Qwen2-style byte-level BPE for random-init runs: the 256 byte symbols, merges that
    make "assistant" one token (as in the real vocabulary, so the official slice offsets hold),
    and the chat/TTS special tokens at the ids config.json names."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from transformers import Qwen2TokenizerFast
    from transformers.models.gpt2.tokenization_gpt2 import bytes_to_unicode

    symbols = list(bytes_to_unicode().values())
    vocabulary = {symbol: index for index, symbol in enumerate(symbols)}
    merges = []
    word = "assistant"
    current = word[0]
    for character in word[1:]:
        merges.append((current, character))
        current += character
        vocabulary.setdefault(current, len(vocabulary))
    special = {
        "<|endoftext|>": config_json.get("pad_token_id", 151643),
        "<|im_start|>": config_json["im_start_token_id"],
        "<|im_end|>": config_json["im_end_token_id"],
        "<|tts_pad|>": config_json["tts_pad_token_id"],
        "<|tts_text_bos|>": config_json["tts_bos_token_id"],
        "<|tts_text_eod|>": config_json["tts_eos_token_id"],
    }
    vocabulary.update(special)
    backend = Tokenizer(models.BPE(vocab=vocabulary, merges=merges))
    backend.normalizer = normalizers.NFC()
    # Qwen2's split pattern, then byte-level mapping, as the real tokenizer.json does.
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN2_SPLIT_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    backend.decoder = decoders.ByteLevel()
    tokenizer = Qwen2TokenizerFast(
        tokenizer_object=backend,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        bos_token=None,
        additional_special_tokens=[token for token in special if token not in ("<|endoftext|>", "<|im_end|>")],
    )
    for token, expected in special.items():
        actual = tokenizer.convert_tokens_to_ids(token)
        if actual != expected:
            raise SystemExit(f"random-init tokenizer put {token} at {actual}, expected {expected}")
    tokenizer.save_pretrained(str(directory))
    # A tokenizer built from a `tokenizers` object saves only tokenizer.json; the layout ships the
    # checkpoint-style files, so write them as the real checkpoint has them (special tokens only in
    # tokenizer_config.json's added_tokens_decoder).
    byte_vocabulary = {token: index for token, index in vocabulary.items() if token not in special}
    (directory / "vocab.json").write_text(json.dumps(byte_vocabulary, ensure_ascii=False), encoding="utf-8")
    merge_lines = "".join(f"{left} {right}\n" for left, right in merges)
    (directory / "merges.txt").write_text("#version: 0.2\n" + merge_lines, encoding="utf-8")
    return tokenizer


def split_pattern(checkpoint: Checkpoint) -> str:
    """Which pre-tokenizer split the official processor really applies here: 'qwen2' or 'mistral-fix'.

    It depends on the installed transformers version and on the checkpoint's config.json, so it is
    read off the loaded tokenizer rather than assumed; the engine then splits text the same way."""
    state = json.loads(checkpoint.tts.processor.tokenizer.backend_tokenizer.to_str())
    pre = state.get("pre_tokenizer") or {}
    steps = pre.get("pretokenizers", [pre])
    patterns = [step.get("pattern", {}).get("Regex") for step in steps if step.get("type") == "Split"]
    known = {QWEN2_SPLIT_PATTERN: "qwen2", MISTRAL_FIX_SPLIT_PATTERN: "mistral-fix"}
    if len(patterns) != 1 or patterns[0] not in known:
        raise SystemExit(f"the official tokenizer splits text with an unknown pattern {patterns}; the engine cannot match it")
    return known[patterns[0]]


def tokenizer_files(checkpoint: Checkpoint) -> dict[str, Path]:
    files = {name: checkpoint.tokenizer_directory / name for name in TOKENIZER_FILES}
    missing = [name for name, path in files.items() if not path.is_file()]
    if missing:
        raise SystemExit(f"{checkpoint.tokenizer_directory} lacks {', '.join(missing)}; the layout ships them")
    return files
