"""Exact float32 on CUDA for the exporters' checks."""

from __future__ import annotations


def use_exact_float32() -> None:
    """PyTorch runs CUDA convolutions (and, if asked, matmuls) in TF32, a 10-bit mantissa. The
    PyTorch side is the reference that exported graphs are checked against, so it must compute in
    full float32: with TF32 a real-size float32 codec differed from onnxruntime by 1.7e-3 and 5 of
    656 reference codes flipped, which is the reference's error, not the graph's."""
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
