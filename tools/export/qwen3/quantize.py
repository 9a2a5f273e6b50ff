#!/usr/bin/env python3
"""Adds weight-only quantized variants (int4, int8) to an exported model directory, from its float32
variant, with onnxruntime's own MatMulNBitsQuantizer: every MatMul with a constant weight in the
chosen graphs becomes a com.microsoft MatMulNBits node (blockwise, asymmetric, one float32 scale and
one zero point per block). Graph inputs and outputs stay float32, and so do the embedding tables
(codec_embedding.bin, residual_embeddings.bin) and every graph that is not quantized (it is copied,
or hard-linked when the file system allows).

    python tools/export/qwen3/quantize.py --model-dir exports/base_0.6b --variants int4 int8
    python tools/export/qwen3/quantize.py --model-dir exports/base_0.6b --variants int4 \
        --graphs talker code_predictor --block-size 32 --accuracy-level 4

The defaults (talker and code predictor; their output heads kept float32; block 32; accuracy level
4) were chosen by measurement on a random-init 0.6B export (docs/export.md, "Quantized variants").
manifest.json gains the variants (with how they were made) and their files' sha256. Check how far a
variant drifts from float32 with drift.py before switching TTS_DTYPE to it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.onnx_files import EXTERNAL_DATA_THRESHOLD_BYTES, sha256_file, write_json  # noqa: E402

GRAPHS = [
    "text_embed",
    "talker",
    "code_predictor",
    "speaker_encoder",
    "codec_encoder",
    "codec_decoder",
    "codec_decoder_step",  # absent from older exports: then nothing is copied
]
TABLES = ["codec_embedding.bin", "residual_embeddings.bin"]
BITS = {"int4": 4, "int8": 8}
DEFAULT_GRAPHS = ["talker", "code_predictor"]
# The talker's codec head (/head/MatMul) and the code predictor's 15 heads (/heads.N/MatMul) pick the
# codes: quantization error there changes greedy choices directly, so they stay float32 by default.
HEAD_NODES = r"^/heads?(\.\d+)?/MatMul$"


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", required=True, type=Path, help="exported model directory with a float32 variant")
    parser.add_argument("--variants", nargs="+", default=["int4", "int8"], choices=sorted(BITS))
    parser.add_argument("--graphs", nargs="+", default=DEFAULT_GRAPHS, choices=GRAPHS, help="graphs to quantize")
    parser.add_argument("--block-size", type=int, default=32, help="weights per quantization block (power of 2, ≥ 16)")
    parser.add_argument(
        "--accuracy-level",
        type=int,
        default=4,
        choices=[0, 1, 2, 3, 4],
        help="MatMulNBits accuracy_level: 4 lets the CPU kernel compute in int8 (fastest); 0 is the slow default",
    )
    parser.add_argument(
        "--keep-float32",
        default=HEAD_NODES,
        help="regular expression of MatMul node names left float32 (default: the output heads); '' keeps none",
    )
    return parser.parse_args(argv)


def place(source: Path, destination: Path) -> None:
    """A hard link where possible (same file system), else a copy."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    if destination.exists():
        destination.unlink()
    try:
        os.link(source.resolve(), destination)
    except OSError:
        shutil.copy2(source, destination)


def matmul_names(graph) -> list[str]:
    names = []
    for node in graph.node:
        if node.op_type == "MatMul":
            names.append(node.name)
        for attribute in node.attribute:
            if attribute.g is not None and attribute.g.node:
                names += matmul_names(attribute.g)
            for subgraph in attribute.graphs:
                names += matmul_names(subgraph)
    return names


def bypass_weight_identities(graph) -> None:
    """The exporter reaches a weight used more than once (the code predictor's unrolled steps) through
    Identity nodes; the quantizer only sees MatMuls that read an initializer directly, so those
    Identities are removed and their readers pointed at the initializer."""
    initializers = {initializer.name for initializer in graph.initializer}
    outputs = {output.name for output in graph.output}
    renamed = {
        node.output[0]: node.input[0]
        for node in graph.node
        if node.op_type == "Identity" and node.input[0] in initializers and node.output[0] not in outputs
    }
    if not renamed:
        return
    kept = [node for node in graph.node if not (node.op_type == "Identity" and node.output[0] in renamed)]
    del graph.node[:]
    graph.node.extend(kept)
    for node in graph.node:
        for index, name in enumerate(node.input):
            if name in renamed:
                node.input[index] = renamed[name]


def share_quantized_weights(graph, first_readers: dict[str, str]) -> int:
    """MatMuls that read a weight already quantized for another MatMul become MatMulNBits nodes on the
    same quantized initializers (the quantizer would store one copy per node). `first_readers` maps
    each weight to the output of the MatMul that was quantized for it. Returns how many."""
    # The quantizer renames nodes but keeps their outputs.
    by_output = {node.output[0]: node for node in graph.node}
    replaced = 0
    for index, node in enumerate(list(graph.node)):
        if node.op_type != "MatMul" or node.input[1] not in first_readers:
            continue
        quantized = by_output.get(first_readers[node.input[1]])
        if quantized is None or quantized.op_type != "MatMulNBits":
            continue
        clone = type(quantized)()
        clone.CopyFrom(quantized)
        clone.name = node.name
        clone.input[0] = node.input[0]
        del clone.output[:]
        clone.output.extend(node.output)
        graph.node[index].CopyFrom(clone)
        replaced += 1
    used = {name for node in graph.node for name in node.input}
    unused = [initializer for initializer in graph.initializer if initializer.name not in used]
    for initializer in unused:
        graph.initializer.remove(initializer)
    return replaced


def quantize_graph(source: Path, destination: Path, bits: int, arguments: argparse.Namespace) -> tuple[int, int]:
    """Writes the quantized graph; returns (MatMuls quantized, MatMuls with constant weights kept)."""
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    model = onnx.load(str(source), load_external_data=True)
    bypass_weight_identities(model.graph)
    keep = re.compile(arguments.keep_float32) if arguments.keep_float32 else None
    excluded = [name for name in matmul_names(model.graph) if keep is not None and keep.search(name)]
    # One MatMul per shared weight goes through the quantizer; the others reuse its result.
    initializers = {initializer.name for initializer in model.graph.initializer}
    first_readers: dict[str, str] = {}
    for node in model.graph.node:
        if node.op_type == "MatMul" and node.input[1] in initializers and node.name not in excluded:
            if node.input[1] in first_readers:
                excluded.append(node.name)
            else:
                first_readers[node.input[1]] = node.output[0]
    quantizer = MatMulNBitsQuantizer(
        model,
        bits=bits,
        block_size=arguments.block_size,
        is_symmetric=False,
        accuracy_level=arguments.accuracy_level,
        nodes_to_exclude=excluded,
    )
    quantizer.process()
    result = quantizer.model.model
    share_quantized_weights(result.graph, first_readers)
    quantized = sum(1 for node in result.graph.node if node.op_type == "MatMulNBits")
    constants = {initializer.name for initializer in result.graph.initializer}
    kept = sum(1 for node in result.graph.node if node.op_type == "MatMul" and node.input[1] in constants)
    for stale in (destination, destination.with_name(destination.name + ".data")):
        if stale.exists():
            stale.unlink()
    destination.parent.mkdir(parents=True, exist_ok=True)
    size = sum(initializer.ByteSize() for initializer in result.graph.initializer)
    if size >= EXTERNAL_DATA_THRESHOLD_BYTES:
        onnx.save_model(
            result,
            str(destination),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=destination.name + ".data",
            size_threshold=1024,
        )
    else:
        onnx.save_model(result, str(destination))
    return quantized, kept


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    # The quantizer logs every node it skips at INFO.
    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)
    if arguments.block_size < 16 or arguments.block_size & (arguments.block_size - 1):
        raise SystemExit(f"--block-size {arguments.block_size}: MatMulNBits needs a power of 2 of at least 16")
    manifest_path = arguments.model_dir / "manifest.json"
    if not manifest_path.is_file():
        raise SystemExit(f"{manifest_path} is missing: point --model-dir at an exported model directory")
    manifest = json.loads(manifest_path.read_text())
    float32 = next((entry for entry in manifest["variants"].values() if entry["dtype"] == "float32"), None)
    if float32 is None:
        raise SystemExit(f"{arguments.model_dir} has no float32 variant to quantize: export one first (--dtypes float32)")
    source = arguments.model_dir / float32["directory"]
    hashes: dict[str, str] = manifest.setdefault("files", {}).setdefault("sha256", {})

    for variant in arguments.variants:
        bits = BITS[variant]
        directory = arguments.model_dir / variant
        for graph in GRAPHS:
            graph_file = source / f"{graph}.onnx"
            if graph in arguments.graphs:
                print(f"[{variant}] quantizing {graph} ({bits}-bit, block {arguments.block_size})", flush=True)
                quantized, kept = quantize_graph(graph_file, directory / graph_file.name, bits, arguments)
                print(f"[{variant}] {graph}: {quantized} MatMulNBits, {kept} MatMul kept float32", flush=True)
            else:
                for name in (graph_file.name, graph_file.name + ".data"):
                    if (source / name).exists():
                        place(source / name, directory / name)
                stale = directory / (graph_file.name + ".data")
                if stale.exists() and not (source / stale.name).exists():
                    stale.unlink()
        for table in TABLES:
            place(source / table, directory / table)

        for key in [key for key in hashes if key.startswith(f"{variant}/")]:
            del hashes[key]
        for path in sorted(directory.iterdir()):
            if path.is_file():
                hashes[f"{variant}/{path.name}"] = sha256_file(path)
        manifest["variants"][variant] = {
            "directory": variant,
            "dtype": variant,
            "quantization": {
                "method": "MatMulNBits",
                "bits": bits,
                "blockSize": arguments.block_size,
                "accuracyLevel": arguments.accuracy_level,
                "symmetric": False,
                "graphs": [graph for graph in GRAPHS if graph in arguments.graphs],
                "keptFloat32": arguments.keep_float32,
            },
        }
        write_json(manifest_path, manifest)
        print(f"[{variant}] recorded in {manifest_path}", flush=True)


if __name__ == "__main__":
    main()
