"""nn.Module wrappers for the MuseTalk v1.5 graphs: the UNet (one denoising step at timestep 0),
the SD VAE encoder (posterior mean × scaling factor) and decoder, the whisper-tiny encoder (all
hidden states stacked) and the BiSeNet face parser (main head only).

Inputs and outputs stay float32 in every variant; a float16 variant computes inside in float16.
Unverified until someone runs it against real weights (see docs/export.md).
"""

from __future__ import annotations

import sys

import torch
from torch import nn


class UnetGraph(nn.Module):
    """latents [B,8,32,32] (masked ‖ reference), audio [B,50,384] (whisper window, before the
    positional encoding) → predicted latents [B,4,32,32]. The positional encoding and the constant
    timestep 0 of MuseTalk's single-step inference are inside the graph."""

    def __init__(self, unet: nn.Module, positional_encoding: nn.Module, dtype: torch.dtype, window: int = 50):
        super().__init__()
        self.unet = unet
        # PositionalEncoding adds its first `seq_len` rows; the window is always 50 long, so only those
        # rows go into the graph (the whole 5000-row table would be most of the file).
        self.register_buffer("encoding", positional_encoding.pe[:, :window].detach().clone(), persistent=False)
        self.dtype = dtype

    def forward(self, latents, audio):
        conditioning = (audio + self.encoding).to(self.dtype)
        timestep = torch.zeros(1, dtype=torch.int64, device=latents.device)
        output = self.unet(latents.to(self.dtype), timestep, encoder_hidden_states=conditioning).sample
        return output.float()


class VaeEncoderGraph(nn.Module):
    """image [B,3,256,256] in [-1,1] (RGB) → latents [B,4,32,32]: the posterior mean × scaling
    factor. Upstream inference samples the posterior; its training code uses the mode, and a server
    must be deterministic, so the mean it is."""

    def __init__(self, vae: nn.Module, dtype: torch.dtype):
        super().__init__()
        self.vae = vae
        self.scaling = float(vae.config.scaling_factor)
        self.dtype = dtype

    def forward(self, image):
        moments = self.vae.quant_conv(self.vae.encoder(image.to(self.dtype)))
        mean = moments[:, : moments.shape[1] // 2]
        return (mean * self.scaling).float()


class VaeDecoderGraph(nn.Module):
    """latents [B,4,32,32] (scaled) → image [B,3,256,256] in [0,1] RGB: MuseTalk's decode_latents
    up to the clamp; ×255, rounding and BGR order stay on the host."""

    def __init__(self, vae: nn.Module, dtype: torch.dtype):
        super().__init__()
        self.vae = vae
        self.scaling = float(vae.config.scaling_factor)
        self.dtype = dtype

    def forward(self, latents):
        decoded = self.vae.decoder(self.vae.post_quant_conv(latents.to(self.dtype) / self.scaling))
        return (decoded.float() / 2 + 0.5).clamp(0, 1)


class WhisperEncoderGraph(nn.Module):
    """input_features [B,80,3000] (Whisper log-mel of a 30 s window) → hidden_states
    [B,1500,L+1,384]: the embedding output and every layer's output, as AudioProcessor stacks them."""

    def __init__(self, whisper: nn.Module, dtype: torch.dtype):
        super().__init__()
        self.encoder = whisper.encoder
        self.dtype = dtype

    def forward(self, input_features):
        states = self.encoder(input_features.to(self.dtype), output_hidden_states=True).hidden_states
        return torch.stack(states, dim=2).float()


class _GlobalAveragePooling:
    """Stands in for torch.nn.functional inside BiSeNet's module: its ContextPath pools over the
    whole feature map with `F.avg_pool2d(x, x.size()[2:])`, a kernel taken from a traced shape, which
    the ONNX exporter refuses. Pooling over everything is adaptive pooling to 1 × 1, the same numbers."""

    def __init__(self, functional):
        self._functional = functional

    def avg_pool2d(self, tensor, kernel_size, *args, **kwargs):
        if not args and not kwargs and tuple(int(size) for size in kernel_size) == tuple(tensor.shape[2:]):
            return self._functional.adaptive_avg_pool2d(tensor, 1)
        return self._functional.avg_pool2d(tensor, kernel_size, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._functional, name)


class FaceParserGraph(nn.Module):
    """image [1,3,512,512] (RGB, ImageNet-normalised) → logits [1,19,512,512] of BiSeNet's main head
    (MuseTalk's FaceParsing uses out[0]; the argmax and the jaw/neck rules stay on the host)."""

    def __init__(self, network: nn.Module, dtype: torch.dtype):
        super().__init__()
        self.network = network
        self.dtype = dtype
        module = sys.modules[type(network).__module__]
        if not isinstance(module.F, _GlobalAveragePooling):
            module.F = _GlobalAveragePooling(module.F)

    def forward(self, image):
        return self.network(image.to(self.dtype))[0].float()
