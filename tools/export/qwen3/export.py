#!/usr/bin/env python3
"""Exports a Qwen3-TTS 12 Hz Base checkpoint into our ONNX layout (docs/qwen3-onnx-layout.md).

    python tools/export/qwen3/export.py --model Qwen/Qwen3-TTS-12Hz-0.6B-Base --model-key base_0.6b \
        --out exports/base_0.6b --dtypes float32 float16
    python tools/export/qwen3/export.py --model Qwen/Qwen3-TTS-12Hz-0.6B-Base --model-key base_0.6b \
        --out exports/base_0.6b --dtypes float32 int8 int4
    python tools/export/qwen3/export.py --random-init tools/export/qwen3/random_init/base_0.6b \
        --model-key base_0.6b --out /tmp/qwen3-random --dtypes float32

Each exported graph is run once more in onnxruntime at a shape other than the traced one and
compared with the PyTorch wrapper, so a length baked in by tracing fails here, not in the server.
Unverified until someone runs it against real weights (see docs/export.md).
"""

from __future__ import annotations

import argparse
import copy
import gc
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qwen3.blocked_cache import input_names as blocked_input_names  # noqa: E402
from qwen3.loading import Checkpoint, build_random_init, load_official, split_pattern, tokenizer_files  # noqa: E402
from qwen3.manifest import build_manifest  # noqa: E402
from qwen3.quantize import BITS as QUANTIZED  # noqa: E402
from qwen3.quantize import main as quantize  # noqa: E402
from qwen3.streaming_decoder import CodecDecoderStepGraph, attention_window, manifest_entry, step_inputs  # noqa: E402
from qwen3.streaming_decoder import input_names as step_input_names  # noqa: E402
from qwen3.streaming_decoder import output_names as step_output_names  # noqa: E402
from qwen3.wrappers import (  # noqa: E402
    CodecDecoderGraph,
    CodecEncoderGraph,
    CodePredictorGraph,
    SpeakerEncoderGraph,
    TalkerGraph,
    TextEmbedGraph,
)
from shared.exact_float32 import use_exact_float32  # noqa: E402
from shared.onnx_files import copy_file, export_onnx, hash_directory, write_json, write_table  # noqa: E402

DTYPES = {"float32": torch.float32, "float16": torch.float16}


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="hub id (Qwen/Qwen3-TTS-12Hz-0.6B-Base) or a local checkpoint directory")
    source.add_argument("--random-init", type=Path, help="config directory: official architecture, random weights")
    parser.add_argument("--revision", help="hub revision to export (default: main)")
    parser.add_argument("--model-key", required=True, choices=["base_0.6b", "base_1.7b"])
    parser.add_argument("--out", required=True, type=Path, help="output model directory")
    parser.add_argument(
        "--dtypes",
        nargs="+",
        default=["float32"],
        choices=sorted(DTYPES) + sorted(QUANTIZED),
        help="int8 / int4: weight-only quantized variants made from the float32 one by quantize.py "
        "(float32 is exported too)",
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--exporter", choices=["torchscript", "dynamo"], default="torchscript")
    parser.add_argument(
        "--codec-exporter",
        choices=["torchscript", "dynamo"],
        help="exporter for codec_encoder/codec_decoder (default: --exporter)",
    )
    parser.add_argument("--decoder-chunk", type=int, default=300, help="frames decoded per chunk (official: 300)")
    parser.add_argument("--decoder-context", type=int, default=25, help="left-context frames (official: 25)")
    parser.add_argument(
        "--codec-precision",
        choices=["float32", "variant"],
        default="float32",
        help="codec graphs compute in float32 in every variant (default; fp16 codec decoders are known to "
        "misbehave on some GPUs) or in the variant's dtype",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-verify", action="store_true", help="skip the onnxruntime re-run of each graph")
    return parser.parse_args()


def load(arguments: argparse.Namespace, dtype: torch.dtype) -> Checkpoint:
    if arguments.random_init is not None:
        return build_random_init(arguments.random_init, arguments.device, dtype, arguments.seed)
    return load_official(arguments.model, arguments.revision, arguments.device, dtype)


def to_numpy(value: torch.Tensor) -> np.ndarray:
    return value.detach().cpu().numpy()


# Largest difference to PyTorch a verified graph may show, relative to the output's scale. Integer
# outputs (codes) must match exactly.
VERIFY_TOLERANCE = {"float32": 1e-4, "float16": 2e-2}


@dataclass
class GraphJob:
    name: str
    module: torch.nn.Module
    trace: tuple
    # Inputs at other shapes than the traced one (shorter, longer, empty caches …): a length baked
    # in by tracing fails here, not in the server.
    checks: list[tuple]
    input_names: list[str]
    output_names: list[str]
    axes: dict = field(default_factory=dict)
    codec: bool = False


def verify(path: Path, job: GraphJob, inputs: tuple, label: str, tolerance: float) -> list[str]:
    """Runs the graph in onnxruntime (CPU) on `inputs`; returns what differs from PyTorch beyond tolerance."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {name: to_numpy(value) for name, value in zip(job.input_names, inputs)}
    try:
        actual = session.run(None, feeds)
    except Exception as error:  # noqa: BLE001 - any runtime failure is a failed check, reported as such
        return [f"{label}: onnxruntime failed: {error}"]
    with torch.inference_mode():
        expected = job.module(*inputs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    problems = []
    for output, (got, want) in zip(session.get_outputs(), zip(actual, expected)):
        want = to_numpy(want)
        if got.shape != want.shape:
            problems.append(f"{label}: {output.name} has shape {got.shape} in ONNX but {want.shape} in PyTorch")
            continue
        if np.issubdtype(want.dtype, np.integer):
            mismatches = int((got != want).sum())
            print(f"  verify {label}.{output.name} {tuple(got.shape)}: {mismatches} of {want.size} integers differ")
            if mismatches:
                problems.append(f"{label}: {output.name}: {mismatches} of {want.size} integers differ")
        else:
            scale = float(np.max(np.abs(want))) if want.size else 0.0
            difference = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64)))) if want.size else 0.0
            print(f"  verify {label}.{output.name} {tuple(got.shape)}: max |onnx - torch| = {difference:.3g} (scale {scale:.3g})")
            if difference > tolerance * max(scale, 1e-3):
                problems.append(f"{label}: {output.name} differs by {difference:.3g} (scale {scale:.3g})")
    return problems


def graph_jobs(arguments: argparse.Namespace, variant: str, checkpoint: Checkpoint) -> list[GraphJob]:
    dtype = DTYPES[variant]
    device = torch.device(arguments.device)
    talker = checkpoint.talker
    config = talker.config
    hidden = config.hidden_size
    layers = config.num_hidden_layers
    kv_heads = config.num_key_value_heads
    head_dim = getattr(config, "head_dim", None) or hidden // config.num_attention_heads
    groups = config.num_code_groups
    codebook = config.code_predictor_config.vocab_size
    generator = torch.Generator(device="cpu").manual_seed(arguments.seed)

    def random_floats(*shape):
        return torch.randn(*shape, generator=generator).to(device=device, dtype=dtype)

    def ints(high, *shape):
        return torch.randint(0, high, shape, generator=generator).to(device)

    def scalar(value, kind=torch.int64):
        return torch.tensor(value, dtype=kind, device=device)

    jobs = [
        GraphJob(
            "text_embed",
            TextEmbedGraph(talker).eval(),
            (ints(1000, 1, 7),),
            [(ints(1000, 1, length),) for length in (1, 12, 40)],
            ["input_ids"],
            ["embeds"],
            {"input_ids": {1: "sequence"}, "embeds": {1: "sequence"}},
        )
    ]

    def talker_inputs(length, blocks, block, past):
        # The host's blocked cache (blocked_cache.py): past ≤ blocks·block, the tail masked.
        caches = []
        for _ in range(layers):
            caches += [random_floats(blocks, kv_heads, head_dim, block), random_floats(blocks, kv_heads, block, head_dim)]
        return (random_floats(1, length, hidden), *caches, scalar(past))

    cache_names = blocked_input_names(layers)
    cache_axes = {
        name: {0: "blocks", 2 if "values" in name else 3: "block"} for name in cache_names
    }
    jobs.append(
        GraphJob(
            "talker",
            TalkerGraph(talker).eval(),
            talker_inputs(5, 3, 3, 4),
            # one step, a prefill on an empty block, a long prefill, steps into partly used blocks
            [
                talker_inputs(1, 2, 7, 9),
                talker_inputs(3, 1, 64, 0),
                talker_inputs(40, 1, 16, 0),
                talker_inputs(1, 2, 64, 100),
                talker_inputs(2, 5, 4, 17),
            ],
            ["inputs_embeds", *cache_names, "past_length"],
            ["logits", "hidden", "new_keys", "new_values"],
            {
                "inputs_embeds": {1: "sequence"},
                **cache_axes,
                "new_keys": {2: "sequence"},
                "new_values": {2: "sequence"},
            },
        )
    )

    def predictor_inputs(temperature, top_k, top_p, constant_noise):
        noise = torch.full((groups - 1, codebook), 0.5) if constant_noise else torch.rand(groups - 1, codebook, generator=generator)
        return (
            random_floats(1, hidden),
            ints(codebook, 1),
            scalar(temperature, torch.float32),
            scalar(top_k),
            scalar(top_p, torch.float32),
            noise.clamp(1e-6, 1 - 1e-6).to(device),
        )

    jobs.append(
        GraphJob(
            "code_predictor",
            CodePredictorGraph(talker).eval(),
            predictor_inputs(0.9, 50, 0.8, False),
            [
                predictor_inputs(1.0, 50, 1.0, True),  # greedy
                predictor_inputs(0.7, 10, 0.5, False),
                predictor_inputs(1.3, 0, 1.0, False),  # top_k 0: no top-k
                predictor_inputs(0.9, 1, 1.0, False),
            ],
            ["hidden", "first_code", "temperature", "top_k", "top_p", "noise"],
            ["codes"],
        )
    )
    mels = checkpoint.model.config.speaker_encoder_config.mel_dim
    jobs.append(
        GraphJob(
            "speaker_encoder",
            SpeakerEncoderGraph(checkpoint.model.speaker_encoder, dtype).eval(),
            (torch.randn(1, 180, mels, generator=generator).to(device),),
            [(torch.randn(1, frames, mels, generator=generator).to(device),) for frames in (97, 400)],
            ["mel"],
            ["embedding"],
            {"mel": {1: "frames"}},
        )
    )

    codec_dtype = torch.float32 if arguments.codec_precision == "float32" else dtype
    tokenizer_model = checkpoint.tokenizer_model
    if codec_dtype != dtype:
        tokenizer_model = copy.deepcopy(tokenizer_model).to(dtype=codec_dtype)
    rate = int(tokenizer_model.decode_upsample_rate)
    quantizers = int(tokenizer_model.config.decoder_config.num_quantizers)
    codec_codebook = int(tokenizer_model.config.decoder_config.codebook_size)

    def audio(samples):
        return ((0.1 * torch.randn(1, samples, generator=generator)).clamp(-1, 1).to(device),)

    jobs.append(
        GraphJob(
            "codec_encoder",
            CodecEncoderGraph(tokenizer_model, codec_dtype).eval(),
            audio(3 * rate + 700),
            # partial last frames of several sizes, whole frames, and longer than traced
            [audio(samples) for samples in (7 * rate + 1, 5 * rate, rate - 1, 40 * rate + 1234)],
            ["audio"],
            ["codes"],
            {"audio": {1: "samples"}, "codes": {1: "frames"}},
            codec=True,
        )
    )
    max_frames = arguments.decoder_chunk + arguments.decoder_context

    def codes(frames, context):
        return (ints(codec_codebook, 1, frames, quantizers), scalar(context))

    jobs.append(
        GraphJob(
            "codec_decoder",
            CodecDecoderGraph(tokenizer_model, codec_dtype).eval(),
            codes(40, 5),
            [codes(64, 25), codes(1, 0), codes(97, 72), codes(max_frames, arguments.decoder_context)],
            ["codes", "context_frames"],
            ["audio"],
            {"codes": {1: "frames"}, "audio": {1: "samples"}},
            codec=True,
        )
    )
    # The streamed decoder: pieces carry the decoder's state, so no frame is decoded twice.
    step = CodecDecoderStepGraph(tokenizer_model, codec_dtype, attention_window(tokenizer_model, codec_dtype)).eval()

    def piece(frames, position, zero_state=False):
        states = None if zero_state else [0.1 * random_floats(*state.shape).float() for state in step.states]
        return step_inputs(step, ints(codec_codebook, 1, frames, quantizers), position, states)

    jobs.append(
        GraphJob(
            "codec_decoder_step",
            step,
            piece(5, 80),
            # the first frame of a sequence, a piece starting inside the window, a piece longer than it
            [piece(1, 0, True), piece(16, 3), piece(97, 200), piece(4, 1000)],
            step_input_names(step),
            step_output_names(step),
            {"codes": {1: "frames"}, "audio": {1: "samples"}},
            codec=True,
        )
    )
    return jobs


def export_variant(arguments: argparse.Namespace, variant: str, checkpoint: Checkpoint) -> None:
    directory = arguments.out / variant
    talker = checkpoint.talker
    problems: list[str] = []
    for job in graph_jobs(arguments, variant, checkpoint):
        path = directory / f"{job.name}.onnx"
        print(f"[{variant}] exporting {job.name} → {path}")
        exporter = (arguments.codec_exporter or arguments.exporter) if job.codec else arguments.exporter
        export_onnx(
            job.module,
            job.trace,
            path,
            input_names=job.input_names,
            output_names=job.output_names,
            dynamic_axes=job.axes,
            opset=arguments.opset,
            exporter=exporter,
        )
        if not arguments.skip_verify:
            precise = job.codec and arguments.codec_precision == "float32"
            tolerance = VERIFY_TOLERANCE["float32" if precise else variant]
            for index, inputs in enumerate(job.checks):
                problems += verify(path, job, inputs, f"{variant}/{job.name}#{index + 1}", tolerance)
    if problems:
        raise SystemExit("the exported graphs differ from PyTorch:\n  " + "\n  ".join(problems))

    print(f"[{variant}] writing tables")
    codec_table = to_numpy(talker.model.codec_embedding.weight.float())
    residual = np.stack([to_numpy(table.weight.float()) for table in talker.code_predictor.model.codec_embedding])
    write_table(codec_table, directory / "codec_embedding.bin", variant)
    write_table(residual, directory / "residual_embeddings.bin", variant)


def decoder_step_entry(checkpoint: Checkpoint) -> dict:
    """codec_decoder_step's state tensors, as graph_jobs built it (the codec is float32 or the variant's
    dtype; the state's shapes do not depend on it)."""
    model = checkpoint.tokenizer_model
    dtype = next(model.parameters()).dtype
    return manifest_entry(CodecDecoderStepGraph(model, dtype, attention_window(model, dtype)))


def main() -> None:
    arguments = parse_arguments()
    use_exact_float32()
    if "float16" in arguments.dtypes and not arguments.device.startswith("cuda"):
        raise SystemExit("float16 export must run on CUDA (--device cuda); CPU half kernels trace wrong graphs")
    arguments.out.mkdir(parents=True, exist_ok=True)
    quantized = [variant for variant in ("int8", "int4") if variant in arguments.dtypes]
    if quantized and "float32" not in arguments.dtypes:
        print(f"exporting float32 too: {', '.join(quantized)} are made from it")
        arguments.dtypes.append("float32")
    # float32 first: it is the reference the float16 variant is compared against by the parity script.
    variants = [variant for variant in ("float32", "float16") if variant in arguments.dtypes]
    checkpoint = None
    for variant in variants:
        checkpoint = load(arguments, DTYPES[variant])
        export_variant(arguments, variant, checkpoint)
        if variant != variants[-1]:
            del checkpoint
            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
    assert checkpoint is not None
    for name, source in tokenizer_files(checkpoint).items():
        copy_file(source, arguments.out / "tokenizer" / name)
    present = [variant for variant in ("float32", "float16") if (arguments.out / variant / "talker.onnx").exists()]
    manifest = build_manifest(
        model_key=arguments.model_key,
        repository=checkpoint.repository,
        revision=checkpoint.revision,
        synthetic=checkpoint.synthetic,
        config=checkpoint.config,
        generation_config=checkpoint.generation_config,
        speech_config=checkpoint.speech_config,
        model_config=checkpoint.model.config,
        variants=present,
        decoder_max_frames=arguments.decoder_chunk + arguments.decoder_context,
        decoder_left_context=arguments.decoder_context,
        split_pattern=split_pattern(checkpoint),
        hashes=hash_directory(arguments.out),
        decoder_step=decoder_step_entry(checkpoint),
    )
    write_json(arguments.out / "manifest.json", manifest)
    print(f"wrote {arguments.out / 'manifest.json'} ({len(manifest['files']['sha256'])} files)")
    if quantized:
        # Made from the float32 graphs just exported; drift.py tells how far they stray from them.
        quantize(["--model-dir", str(arguments.out), "--variants", *quantized])


if __name__ == "__main__":
    main()
