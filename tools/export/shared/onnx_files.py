"""File helpers shared by the exporters: ONNX export with one external-data file for big graphs,
raw little-endian tables, and the sha256 list that `models pull` checks.

Unverified until someone runs the exporters against real weights (see docs/export.md).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

# protobuf cannot hold a single message over 2 GiB; graphs near that size keep weights outside.
PROTOBUF_LIMIT_BYTES = 2**31 - 1
EXTERNAL_DATA_THRESHOLD_BYTES = 1_900_000_000


def export_onnx(
    module: Any,
    example_inputs: tuple,
    destination: Path,
    *,
    input_names: Sequence[str],
    output_names: Sequence[str],
    dynamic_axes: Mapping[str, Mapping[int, str]],
    opset: int,
    exporter: str = "torchscript",
) -> Path:
    """Exports `module` to `destination` (an .onnx path). Graphs whose weights pass ~1.9 GB are
    re-saved with all weights in one `<name>.onnx.data` file next to the graph, so a runtime that
    loads the graph by path finds them (onnxruntime resolves `location` relative to the graph)."""
    import onnx
    import torch

    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination.parent) as scratch:
        raw = Path(scratch) / destination.name
        with torch.inference_mode():
            kwargs: dict[str, Any] = dict(
                input_names=list(input_names),
                output_names=list(output_names),
                dynamic_axes={name: dict(axes) for name, axes in dynamic_axes.items()},
                opset_version=opset,
                do_constant_folding=True,
            )
            # torch ≥ 2.9 defaults to the dynamo exporter; say which one is meant.
            accepted = inspect.signature(torch.onnx.export).parameters
            if "dynamo" in accepted:
                kwargs["dynamo"] = exporter == "dynamo"
            elif exporter == "dynamo":
                raise SystemExit("this torch has no dynamo ONNX exporter; use --exporter torchscript or a newer torch")
            if exporter == "dynamo" and "external_data" in accepted:
                kwargs["external_data"] = True
            torch.onnx.export(module, example_inputs, str(raw), **kwargs)
        # The exporter may have written weights as many side files; gather them into one.
        model = onnx.load(str(raw), load_external_data=True)
        total = sum(
            initializer.ByteSize() for initializer in model.graph.initializer
        )
        for stale in (destination, destination.with_name(destination.name + ".data")):
            if stale.exists():
                stale.unlink()
        if total >= EXTERNAL_DATA_THRESHOLD_BYTES:
            onnx.save_model(
                model,
                str(destination),
                save_as_external_data=True,
                all_tensors_to_one_file=True,
                location=destination.name + ".data",
                size_threshold=1024,
            )
        else:
            onnx.save_model(model, str(destination))
    onnx.checker.check_model(str(destination))
    return destination


def write_table(array: np.ndarray, destination: Path, dtype: str) -> None:
    """Raw little-endian array in the variant's dtype (float32 or float16), C order, no header."""
    target = np.dtype(dtype).newbyteorder("<")
    destination.parent.mkdir(parents=True, exist_ok=True)
    np.ascontiguousarray(array.astype(target, copy=False)).tofile(destination)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def hash_directory(root: Path, skip: Iterable[str] = ("manifest.json",)) -> dict[str, str]:
    """sha256 of every file under `root`, keyed by its forward-slash path relative to root."""
    skipped = set(skip)
    hashes: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(root).as_posix()
        if relative in skipped or relative.endswith(".part"):
            continue
        hashes[relative] = sha256_file(path)
    return hashes


def write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".part")
    temporary.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def copy_file(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, destination)


def copy_graph(source: Path, destination: Path) -> None:
    """Copies an .onnx graph and its .onnx.data file, if it has one."""
    copy_file(source, destination)
    data = source.with_name(source.name + ".data")
    if data.exists():
        copy_file(data, destination.with_name(destination.name + ".data"))


def require(mapping: Mapping[str, Any], key: str, where: str) -> Any:
    """A value the checkpoint must state; the exporters never fall back to built-in numbers."""
    if key not in mapping or mapping[key] is None:
        raise SystemExit(f"{where} has no '{key}': the export needs it and will not guess it")
    return mapping[key]
