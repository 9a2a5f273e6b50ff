"""manifest.json of docs/qwen3-onnx-layout.md, with every id taken from the checkpoint's own JSON.

Unverified until someone runs it against real weights (see docs/export.md).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.onnx_files import require  # noqa: E402

FORMAT = "qwen3-tts-onnx"
CONTRACT_VERSION = 3

# The speaker mel is fixed in the official code (Qwen3TTSForConditionalGeneration.
# extract_speaker_embedding calls mel_spectrogram with these literals); only the sample rate and
# the number of mel bins come from speaker_encoder_config.
SPEAKER_MEL_CODE_CONSTANTS = {"nFft": 1024, "hop": 256, "window": 1024, "fMin": 0, "fMax": 12000}

GENERATION_KEYS = {
    "doSample": "do_sample",
    "topK": "top_k",
    "topP": "top_p",
    "temperature": "temperature",
    "repetitionPenalty": "repetition_penalty",
    "maxNewTokens": "max_new_tokens",
}
SUBTALKER_KEYS = {
    "doSample": "subtalker_dosample",
    "topK": "subtalker_top_k",
    "topP": "subtalker_top_p",
    "temperature": "subtalker_temperature",
}


def build_manifest(
    *,
    model_key: str,
    repository: str,
    revision: str,
    synthetic: bool,
    config: dict,
    generation_config: dict,
    speech_config: dict,
    model_config: Any,
    variants: list[str],
    decoder_max_frames: int,
    decoder_left_context: int,
    split_pattern: str,
    hashes: dict[str, str],
    decoder_step: dict | None = None,
) -> dict:
    """`config`, `generation_config`, `speech_config` are the raw JSON files (ids must be stated
    there); `model_config` is the instantiated Qwen3TTSConfig (sizes the weights really have).
    `decoder_step` is streaming_decoder.manifest_entry's, when codec_decoder_step was exported."""
    talker_json = require(config, "talker_config", "config.json")
    talker = model_config.talker_config
    predictor = talker.code_predictor_config
    speaker = model_config.speaker_encoder_config
    head_dim = getattr(talker, "head_dim", None) or talker.hidden_size // talker.num_attention_heads
    samples_per_frame = require(speech_config, "decode_upsample_rate", "speech_tokenizer/config.json")
    encode_rate = require(speech_config, "encode_downsample_rate", "speech_tokenizer/config.json")
    if encode_rate != samples_per_frame:
        raise SystemExit(f"encode rate {encode_rate} differs from decode rate {samples_per_frame}; the layout assumes one")
    input_rate = require(speech_config, "input_sample_rate", "speech_tokenizer/config.json")
    output_rate = require(speech_config, "output_sample_rate", "speech_tokenizer/config.json")
    if input_rate != output_rate:
        raise SystemExit(f"codec input rate {input_rate} differs from its output rate {output_rate}")
    languages = require(talker_json, "codec_language_id", "config.json talker_config")
    decoder_json = require(speech_config, "decoder_config", "speech_tokenizer/config.json")
    attention_window = require(decoder_json, "sliding_window", "speech_tokenizer/config.json decoder_config")
    return {
        "format": FORMAT,
        "contractVersion": CONTRACT_VERSION,
        "modelKey": model_key,
        "source": {"repository": repository, "revision": revision, "synthetic": synthetic},
        "dimensions": {
            "hidden": talker.hidden_size,
            "layers": talker.num_hidden_layers,
            "kvHeads": talker.num_key_value_heads,
            "headDim": head_dim,
            "vocabSize": talker.vocab_size,
            "codeGroups": talker.num_code_groups,
            "codebookSize": predictor.vocab_size,
            "speakerEmbedding": speaker.enc_dim,
            "maxPositions": talker.max_position_embeddings,
        },
        # How the official processor splits text before BPE (loading.split_pattern).
        "tokenizer": {"splitPattern": split_pattern},
        "textTokens": {
            "imStart": require(config, "im_start_token_id", "config.json"),
            "imEnd": require(config, "im_end_token_id", "config.json"),
            "ttsPad": require(config, "tts_pad_token_id", "config.json"),
            "ttsBos": require(config, "tts_bos_token_id", "config.json"),
            "ttsEos": require(config, "tts_eos_token_id", "config.json"),
        },
        "codecTokens": {
            "pad": require(talker_json, "codec_pad_id", "config.json talker_config"),
            "bos": require(talker_json, "codec_bos_id", "config.json talker_config"),
            "eos": require(talker_json, "codec_eos_token_id", "config.json talker_config"),
            "think": require(talker_json, "codec_think_id", "config.json talker_config"),
            "nothink": require(talker_json, "codec_nothink_id", "config.json talker_config"),
            "thinkBos": require(talker_json, "codec_think_bos_id", "config.json talker_config"),
            "thinkEos": require(talker_json, "codec_think_eos_id", "config.json talker_config"),
        },
        "languages": {name: int(value) for name, value in languages.items()},
        "audio": {
            "sampleRate": output_rate,
            "samplesPerFrame": samples_per_frame,
            "decoderMaxFrames": decoder_max_frames,
            "decoderLeftContext": decoder_left_context,
            # The decoder transformer's attention window: streamed chunks get at least this much context.
            "decoderAttentionWindow": attention_window,
        },
        "speakerMel": {
            "sampleRate": speaker.sample_rate,
            "mels": speaker.mel_dim,
            **SPEAKER_MEL_CODE_CONSTANTS,
        },
        "generation": {
            **{name: require(generation_config, key, "generation_config.json") for name, key in GENERATION_KEYS.items()},
            "subtalker": {
                name: require(generation_config, key, "generation_config.json") for name, key in SUBTALKER_KEYS.items()
            },
        },
        "variants": {variant: {"directory": variant, "dtype": variant} for variant in variants},
        # The stateful streamed decoder and its state tensors (optional: older exports lack it).
        **({"codecDecoderStep": decoder_step} if decoder_step is not None else {}),
        "files": {"sha256": hashes},
    }
