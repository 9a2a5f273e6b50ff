#!/usr/bin/env python3
"""Proves the streamed codec decoder (codec_decoder_step, streaming_decoder.py) against the official
one: a random code sequence decoded by the official Qwen3TTSTokenizerV2Decoder in one call, and the
same sequence through our step graph in pieces (1, 4 and 16 frames; and as the engine streams an ICL
request: the reference frames first, then 4, then 16 at a time), in PyTorch and in onnxruntime.

    python tools/export/qwen3/decoder_step_parity.py --checkpoint <tiny checkpoint dir> --work /tmp/step
    python tools/export/qwen3/decoder_step_parity.py --random-init tools/export/qwen3/random_init/base_0.6b \
        --work /tmp/step --frames 200
    python tools/export/qwen3/decoder_step_parity.py --checkpoint <checkpoint dir> --work /tmp/step \
        --add-to <its export>

--add-to puts the proven graph into an export made before codec_decoder_step existed (every variant
directory: the codec graphs are float32 in every variant) and lists it in its manifest.json, so the
engine streams with it without a new export.

--checkpoint loads the speech tokenizer of a checkpoint directory with the official loader;
--random-init builds only the codec with the official classes from a config directory (real sizes,
random weights; codebooks filled and the last convolution scaled as tiny_checkpoint.py does, so the
audio is not silent). Up to 300 frames the official one-shot decode is also what chunked_decode
(and so generate_voice_clone) returns. Exit status 1 when a difference exceeds --tolerance.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.exact_float32 import use_exact_float32  # noqa: E402
from shared.onnx_files import export_onnx, sha256_file, write_json  # noqa: E402
from qwen3.streaming_decoder import (  # noqa: E402
    CodecDecoderStepGraph,
    attention_window,
    input_names,
    manifest_entry,
    output_names,
    step_inputs,
)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", type=Path, help="checkpoint directory (its speech_tokenizer/ is loaded)")
    source.add_argument("--random-init", type=Path, help="config directory: official codec, random weights")
    parser.add_argument("--work", type=Path, required=True, help="where the step graph is exported")
    parser.add_argument("--frames", type=int, default=160, help="length of the decoded sequence")
    parser.add_argument("--pieces", type=int, nargs="+", default=[1, 4, 16], help="piece sizes to stream in")
    parser.add_argument("--reference-frames", type=int, default=31, help="first piece of the engine-like schedule")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--tolerance", type=float, default=1e-4, help="largest absolute difference accepted")
    parser.add_argument("--json", type=Path, help="write the report here too")
    parser.add_argument("--torch", action="store_true", help="also stream through the PyTorch wrapper (slow)")
    parser.add_argument("--reuse-export", action="store_true", help="use the graph in --work (same source, seed)")
    parser.add_argument("--add-to", type=Path, help="an export of the same checkpoint to add the graph to, once proven")
    return parser.parse_args()


def load_codec(arguments: argparse.Namespace) -> torch.nn.Module:
    from qwen_tts.core.tokenizer_12hz.configuration_qwen3_tts_tokenizer_v2 import Qwen3TTSTokenizerV2Config
    from qwen_tts.core.tokenizer_12hz.modeling_qwen3_tts_tokenizer_v2 import Qwen3TTSTokenizerV2Model

    if arguments.checkpoint is not None:
        return Qwen3TTSTokenizerV2Model.from_pretrained(str(arguments.checkpoint / "speech_tokenizer")).float().eval()
    from qwen3.tiny_checkpoint import scale_decoder_output

    speech_json = json.loads((arguments.random_init / "speech_tokenizer" / "config.json").read_text(encoding="utf-8"))
    torch.manual_seed(arguments.seed)
    model = Qwen3TTSTokenizerV2Model(
        Qwen3TTSTokenizerV2Config(**{key: value for key, value in speech_json.items() if key != "model_type"})
    )
    for name, tensor in model.named_parameters():
        if name.endswith("embedding_sum"):
            tensor.data.normal_()
    model = model.float().eval()
    decoder = speech_json["decoder_config"]
    scale_decoder_output(model, decoder["codebook_size"], decoder["num_quantizers"])
    return model


def schedules(arguments: argparse.Namespace) -> dict[str, list[int]]:
    """Piece sizes, summing to --frames."""

    def split(first: list[int], size: int) -> list[int]:
        pieces = list(first)
        while sum(pieces) < arguments.frames:
            pieces.append(min(size, arguments.frames - sum(pieces)))
        return pieces

    named = {f"pieces of {size}": split([], size) for size in arguments.pieces}
    named[f"engine: {arguments.reference_frames} reference frames, then 4, then 16"] = split(
        [arguments.reference_frames, 4], 16
    )
    return named


def stream_torch(graph: CodecDecoderStepGraph, codes: torch.Tensor, pieces: list[int]) -> np.ndarray:
    states, position, parts = None, 0, []
    with torch.inference_mode():
        for count in pieces:
            audio, *states = graph(*step_inputs(graph, codes[:, position : position + count], position, states))
            parts.append(audio[0].numpy())
            position += count
    return np.concatenate(parts)


def stream_onnx(session, graph: CodecDecoderStepGraph, codes: np.ndarray, pieces: list[int]) -> tuple[np.ndarray, float]:
    """The sequence through the exported graph; returns its audio and the mean milliseconds per run."""
    states = {state.input_name: np.zeros(state.shape, dtype=np.float32) for state in graph.states}
    position, parts, started = 0, [], time.perf_counter()
    for count in pieces:
        feeds = {"codes": codes[:, position : position + count], "position": np.array(position, dtype=np.int64)}
        outputs = session.run(None, {**feeds, **states})
        parts.append(outputs[0][0])
        states = {state.input_name: value for state, value in zip(graph.states, outputs[1:])}
        position += count
    return np.concatenate(parts), (time.perf_counter() - started) * 1000 / max(len(pieces), 1)


def main() -> None:
    arguments = parse_arguments()
    use_exact_float32()
    torch.set_grad_enabled(False)
    import onnxruntime

    model = load_codec(arguments)
    decoder = model.decoder
    config = decoder.config
    groups, codebook = int(config.num_quantizers), int(config.codebook_size)
    generator = torch.Generator().manual_seed(arguments.seed + 1)
    codes = torch.randint(0, codebook, (1, arguments.frames, groups), generator=generator)
    started = time.perf_counter()
    with torch.inference_mode():
        official = decoder(codes.transpose(1, 2))[0, 0].numpy()
    report: dict = {
        "source": str(arguments.checkpoint or arguments.random_init),
        "frames": arguments.frames,
        "officialScale": float(np.abs(official).max()),
        "officialRms": float(np.sqrt(np.mean(official.astype(np.float64) ** 2))),
        "officialSeconds": round(time.perf_counter() - started, 1),
        "results": [],
    }
    print(json.dumps(report), flush=True)
    if arguments.frames > 300:
        # Beyond one official chunk, chunked_decode (generate_voice_clone's) is not one decode any more.
        with torch.inference_mode():
            chunked = decoder.chunked_decode(codes.transpose(1, 2))[0, 0].numpy()
        report["chunkedVsOneShot"] = float(np.abs(chunked - official).max())
    graph = CodecDecoderStepGraph(model, torch.float32, attention_window(model, torch.float32)).eval()
    report["attentionWindow"] = graph.window
    path = arguments.work / "codec_decoder_step.onnx"
    if not (arguments.reuse_export and path.exists()):
        export_onnx(
            graph,
            step_inputs(graph, codes[:, :5], 0),
            path,
            input_names=input_names(graph),
            output_names=output_names(graph),
            dynamic_axes={"codes": {1: "frames"}, "audio": {1: "samples"}},
            opset=arguments.opset,
        )
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    failed = False
    for label, pieces in schedules(arguments).items():
        onnx_audio, run_ms = stream_onnx(session, graph, codes.numpy(), pieces)
        row = {
            "schedule": label,
            "runs": len(pieces),
            "onnxVsOfficial": float(np.abs(onnx_audio - official).max()),
            "onnxMsPerRun": round(run_ms, 2),
        }
        failed |= onnx_audio.shape != official.shape or row["onnxVsOfficial"] > arguments.tolerance
        if arguments.torch:
            streamed = stream_torch(graph, codes, pieces)
            row["torchVsOfficial"] = float(np.abs(streamed - official).max())
            failed |= streamed.shape != official.shape or row["torchVsOfficial"] > arguments.tolerance
        report["results"].append(row)
        print(json.dumps(row), flush=True)
    print(json.dumps({key: value for key, value in report.items() if key != "results"}))
    if arguments.json:
        arguments.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if failed:
        raise SystemExit(f"the streamed decode differs from the official one by more than {arguments.tolerance}")
    if arguments.add_to:
        add_to_export(arguments.add_to, path, manifest_entry(graph))


def add_to_export(model_dir: Path, graph_file: Path, entry: dict) -> None:
    manifest_path = model_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    hashes = manifest.setdefault("files", {}).setdefault("sha256", {})
    for variant in manifest["variants"].values():
        destination = model_dir / variant["directory"] / graph_file.name
        shutil.copyfile(graph_file, destination)
        hashes[f"{variant['directory']}/{graph_file.name}"] = sha256_file(destination)
    manifest["codecDecoderStep"] = entry
    write_json(manifest_path, manifest)
    print(f"added {graph_file.name} to {model_dir} ({', '.join(manifest['variants'])})")


if __name__ == "__main__":
    main()
