#!/usr/bin/env python3
"""Runs the official MuseTalk v1.5 functions (TMElyralab/MuseTalk, as scripts/inference.py calls them)
on a `models/` directory (normally tiny_models.py's), real face photos and real speech, and writes
golden data for test/fixtures/musetalk-official:

- audio: Whisper's log-mel of the speech (AudioProcessor.get_audio_feature), the video frame count,
  which Whisper frame and hidden state fills each row of each frame's window (get_whisper_chunk run
  on an encoder stand-in whose outputs are their own indices), and the real windows of two frames;
- per photo, given the 68 landmarks our engine found (faces.json): the face box
  (get_landmark_and_bbox, its DWPose and S3FD calls answered with those landmarks and box) with
  inference.py's extra margin, the 256 × 256 crop (cv2 Lanczos-4), the VAE's latents of the masked
  and reference crops (posterior mean; upstream draws an unseeded sample), one UNet step and its
  decoded face, the face parser's input and class map, its jaw mask, the blur's input and output in
  blending.get_image, and the final pasted frame.

    python tools/export/musetalk/official_goldens.py --musetalk-repo ../MuseTalk --models-root /tmp/musetalk-tiny \
        --fixtures test/fixtures/musetalk-official --out /tmp/musetalk-goldens

The official code is only observed (cv2.GaussianBlur, the parser network and its preprocessing are
wrapped to keep what they were given and returned), never changed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import torch

WINDOW_FRAMES = (0, 1, 40)  # video frames whose real Whisper windows are kept


def write_floats(directory: Path, name: str, values) -> dict:
    array = np.ascontiguousarray(np.asarray(values, dtype="<f4"))
    path = directory / f"{name}.f32"
    array.tofile(path)
    return {"file": path.name, "shape": list(array.shape)}


def write_png(directory: Path, name: str, image: np.ndarray, bgr: bool = True) -> dict:
    """Lossless PNG; colour images are given in OpenCV's BGR order and stored as ordinary RGB PNGs."""
    path = directory / f"{name}.png"
    if not cv2.imwrite(str(path), image if bgr or image.ndim == 2 else image[:, :, ::-1]):
        raise SystemExit(f"could not write {path}")
    return {"file": path.name, "shape": list(image.shape)}


class IndexEncoder(torch.nn.Module):
    """Stands in for Whisper's encoder: hidden state s of frame t holds (t + 1) · 8 + s everywhere."""

    def __init__(self, states: int):
        super().__init__()
        self.states = states

    def forward(self, input_features, output_hidden_states=True):
        frames = input_features.shape[-1] // 2
        index = torch.arange(frames, dtype=torch.float32).view(1, -1, 1).expand(1, frames, 384)
        return SimpleNamespace(hidden_states=tuple((index + 1) * 8 + state for state in range(self.states)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--musetalk-repo", required=True, type=Path)
    parser.add_argument("--models-root", required=True, type=Path, help="the directory holding models/")
    parser.add_argument("--fixtures", required=True, type=Path, help="faces.json, the photos and speech-16k.wav")
    parser.add_argument("--out", required=True, type=Path)
    arguments = parser.parse_args()
    out = arguments.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    fixtures = arguments.fixtures.resolve()
    sys.path.insert(0, str(arguments.musetalk_repo.resolve()))
    os.chdir(arguments.models_root)  # the official loaders read ./models/…

    from transformers import WhisperModel

    import musetalk.utils.blending as blending
    import musetalk.utils.preprocessing as preprocessing
    from musetalk.utils.audio_processor import AudioProcessor
    from musetalk.utils.face_parsing import FaceParsing
    from musetalk.utils.utils import load_all_model

    torch.manual_seed(0)
    vae, unet, positional_encoding = load_all_model(device=torch.device("cpu"))
    audio_processor = AudioProcessor(feature_extractor_path="models/whisper")
    whisper = WhisperModel.from_pretrained("models/whisper").eval()
    face_parsing = FaceParsing(left_cheek_width=90, right_cheek_width=90)
    golden: dict = {"audio": {}, "faces": []}

    # Audio ----------------------------------------------------------------------------------------
    speech = str(fixtures / "speech-16k.wav")
    features, samples = audio_processor.get_audio_feature(speech)
    mel = features[0][0].numpy()  # [80, 3000]
    audible = min(mel.shape[1], int(np.ceil(samples / 160)) + 8)
    tail = mel[:, audible:]
    if tail.size and not np.all(tail == tail.flat[0]):
        raise SystemExit("the log-mel past the audio is not constant; keep more frames")
    states = whisper.config.encoder_layers + 1
    with torch.no_grad():
        indices = audio_processor.get_whisper_chunk(features, "cpu", torch.float32, SimpleNamespace(encoder=IndexEncoder(states)), samples, fps=25)
        windows = audio_processor.get_whisper_chunk(features, "cpu", torch.float32, whisper, samples, fps=25)
    code = indices[:, :, 0].numpy().astype(np.int64)  # [frames, 50]: 0 = padding, else (t + 1)·8 + s
    golden["audio"] = {
        "samples": int(samples),
        "videoFrames": int(windows.shape[0]),
        "mel": write_floats(out, "mel", mel[:, :audible]),
        "melTail": float(tail.flat[0]) if tail.size else None,
        "windowSources": [[(int(value) // 8 - 1, int(value) % 8) if value else None for value in row] for row in code],
        "windows": {str(frame): write_floats(out, f"window-{frame}", windows[frame].numpy()) for frame in WINDOW_FRAMES},
    }
    print(f"audio: {samples} samples, {windows.shape[0]} video frames")

    # Faces ----------------------------------------------------------------------------------------
    faces = json.loads((fixtures / "faces.json").read_text(encoding="utf-8"))
    for name, face in faces.items():
        photo = str(fixtures / name)
        frame = cv2.imread(photo)
        keypoints = np.zeros((1, 133, 2), dtype=np.float32)
        keypoints[0, 23:91] = np.asarray(face["landmarks"], dtype=np.float32)
        box = face["box"]
        detection = (int(box["x"]), int(box["y"]), int(box["x"] + box["width"]), int(box["y"] + box["height"]))
        # DWPose and S3FD cannot run here: they answer with the landmarks and box our engine found.
        preprocessing.inference_topdown = lambda model, image: [None]
        preprocessing.merge_data_samples = lambda results: SimpleNamespace(pred_instances=SimpleNamespace(keypoints=keypoints))
        preprocessing.fa = SimpleNamespace(get_detections_for_batch=lambda images: [detection])
        [coords], _ = preprocessing.get_landmark_and_bbox([photo], 0)
        x1, y1, x2, y2 = (int(value) for value in coords)
        y2 = min(y2 + 10, frame.shape[0])  # inference.py, v15: extra_margin
        crop = cv2.resize(frame[y1:y2, x1:x2], (256, 256), interpolation=cv2.INTER_LANCZOS4)
        stem = Path(name).stem
        with torch.no_grad():
            masked = vae.preprocess_img(crop, half_mask=True)
            reference = vae.preprocess_img(crop, half_mask=False)
            scale = vae.vae.config.scaling_factor
            masked_latents = vae.vae.encode(masked.to(vae.vae.dtype)).latent_dist.mean * scale
            reference_latents = vae.vae.encode(reference.to(vae.vae.dtype)).latent_dist.mean * scale
            latents = torch.cat([masked_latents, reference_latents], dim=1)
            window = windows[WINDOW_FRAMES[1] : WINDOW_FRAMES[1] + 1]
            predicted = unet.model(latents, torch.tensor([0]), encoder_hidden_states=positional_encoding(window)).sample
            decoded = vae.decode_latents(predicted)[0]  # uint8 BGR 256 × 256
        generated = cv2.resize(decoded.astype(np.uint8), (x2 - x1, y2 - y1))

        seen: dict = {}
        original_net, original_preprocess, original_blur = face_parsing.net, face_parsing.preprocess, cv2.GaussianBlur

        def parser_input(image, keep=seen, transform=original_preprocess):
            keep["parserInput"] = np.asarray(image).copy()
            return transform(image)

        def network(image, keep=seen, net=original_net):
            output = net(image)
            keep["classes"] = output[0].squeeze(0).argmax(0).numpy().astype(np.uint8)
            return output

        def blur(source, size, sigma, keep=seen, blur_function=original_blur):
            keep["blurInput"], keep["blurKernel"], keep["blurSigma"] = source.copy(), list(size), sigma
            result = blur_function(source, size, sigma)
            keep["blurOutput"] = result.copy()
            return result

        face_parsing.preprocess, face_parsing.net, cv2.GaussianBlur = parser_input, network, blur
        try:
            combined = blending.get_image(frame.copy(), generated, [x1, y1, x2, y2], mode="jaw", fp=face_parsing)
            jaw = np.asarray(face_parsing(blending.Image.fromarray(frame[:, :, ::-1]).crop(blending.get_crop_box([x1, y1, x2, y2], 1.5)[0]), mode="jaw"))
        finally:
            face_parsing.preprocess, face_parsing.net, cv2.GaussianBlur = original_preprocess, original_net, original_blur
        square, _ = blending.get_crop_box([x1, y1, x2, y2], 1.5)
        golden["faces"].append(
            {
                "photo": name,
                "detection": list(detection),
                "box": [x1, y1, x2, y2],
                "square": [int(value) for value in square],
                "crop": write_png(out, f"{stem}-crop", crop),
                "latents": write_floats(out, f"{stem}-latents", latents.numpy()),
                "windowFrame": WINDOW_FRAMES[1],
                "predicted": write_floats(out, f"{stem}-unet", predicted.numpy()),
                "decoded": write_png(out, f"{stem}-decoded", decoded),
                "generated": write_png(out, f"{stem}-generated", generated),
                "parserInput": write_png(out, f"{stem}-parser-input", seen["parserInput"], bgr=False),
                "classes": write_png(out, f"{stem}-classes", seen["classes"]),
                "jaw": write_png(out, f"{stem}-jaw", jaw),
                "blurInput": write_png(out, f"{stem}-blur-input", seen["blurInput"]),
                "blurKernel": seen["blurKernel"],
                "blurOutput": write_png(out, f"{stem}-blur-output", seen["blurOutput"]),
                "combined": write_png(out, f"{stem}-combined", combined),
            }
        )
        print(f"{name}: box {x1, y1, x2, y2}, square {square}, skin pixels {(seen['classes'] == 1).sum()}")
    (out / "goldens.json").write_text(json.dumps(golden) + "\n", encoding="utf-8")
    print(f"wrote {out / 'goldens.json'}")


if __name__ == "__main__":
    main()
