import { createHash } from 'node:crypto';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  MUSETALK_GRAPHS,
  readMuseTalkManifest,
  type MuseTalkGraph,
  type MuseTalkManifest,
} from '../../models/musetalk-manifest.ts';
import { sessionOptions, type ProviderChoice } from '../../onnx/session-options.ts';
import { lowerThreadPriority } from '../../onnx/thread-priority.ts';

/** The five MuseTalk graphs of one installed model (float32 inputs and outputs in every variant). */
export class MuseTalkRuntime {
  private constructor(
    readonly manifest: MuseTalkManifest,
    private readonly sessions: Record<MuseTalkGraph, ort.InferenceSession>,
    /** What identifies the loaded weights: the variant and its files' sha256 (the manifest's). */
    readonly fingerprint: string,
  ) {}

  static async load(
    directory: string,
    provider: ProviderChoice,
    dtype: 'float32' | 'float16',
    graphs: readonly MuseTalkGraph[] = MUSETALK_GRAPHS,
  ): Promise<MuseTalkRuntime> {
    const manifest = await readMuseTalkManifest(directory);
    const variant =
      Object.values(manifest.variants).find((entry) => entry.dtype === dtype) ??
      Object.values(manifest.variants)[0];
    // Before the sessions start their threads, which inherit it: the event loop goes first.
    lowerThreadPriority(provider.niceness ?? 0);
    const sessions = {} as Record<MuseTalkGraph, ort.InferenceSession>;
    for (const graph of graphs) {
      sessions[graph] = await ort.InferenceSession.create(
        path.join(directory, variant.directory, `${graph}.onnx`),
        sessionOptions(provider),
      );
    }
    const variantFiles = Object.entries(manifest.files?.sha256 ?? {})
      .filter(([file]) => file.startsWith(`${variant.directory}/`))
      .sort(([first], [second]) => first.localeCompare(second));
    const fingerprint = createHash('sha256')
      .update(JSON.stringify({ source: manifest.source, variant: variant.dtype, files: variantFiles }))
      // A manifest without hashes (hand-made) is identified by where it lives.
      .update(variantFiles.length === 0 ? path.resolve(directory) : '')
      .digest('hex');
    return new MuseTalkRuntime(manifest, sessions, fingerprint);
  }

  /** [80 × 3000] log-mel → [1500 × 5 × 384] hidden states. */
  async whisper(features: Float32Array): Promise<Float32Array> {
    const output = await this.sessions.whisper_encoder.run({
      input_features: new ort.Tensor('float32', features, [1, 80, 3000]),
    });
    return output.hidden_states.data as Float32Array;
  }

  /** Crops [B × 3 × 256 × 256] in [-1, 1] → latents [B × 4 × 32 × 32]. */
  async encode(images: Float32Array, batch: number): Promise<Float32Array> {
    const output = await this.sessions.vae_encoder.run({
      image: new ort.Tensor('float32', images, [batch, 3, 256, 256]),
    });
    return output.latents.data as Float32Array;
  }

  /** UNet then VAE decoder: latents [B × 8 × 32 × 32] + audio windows [B × 50 × 384] → faces [B × 3 × 256 × 256] in [0, 1]. */
  async render(latents: Float32Array, audio: Float32Array, batch: number): Promise<Float32Array> {
    const unet = await this.unetTensor(latents, audio, batch);
    const decoded = await this.sessions.vae_decoder.run({ latents: unet });
    return decoded.image.data as Float32Array;
  }

  /** The UNet step alone: predicted latents [B × 4 × 32 × 32]. */
  async predict(latents: Float32Array, audio: Float32Array, batch: number): Promise<Float32Array> {
    return (await this.unetTensor(latents, audio, batch)).data as Float32Array;
  }

  /** The VAE decoder alone: latents [B × 4 × 32 × 32] → faces [B × 3 × 256 × 256] in [0, 1]. */
  async decode(latents: Float32Array, batch: number): Promise<Float32Array> {
    const decoded = await this.sessions.vae_decoder.run({
      latents: new ort.Tensor('float32', latents, [batch, 4, 32, 32]),
    });
    return decoded.image.data as Float32Array;
  }

  private async unetTensor(latents: Float32Array, audio: Float32Array, batch: number): Promise<ort.Tensor> {
    const output = await this.sessions.unet.run({
      latents: new ort.Tensor('float32', latents, [batch, 8, 32, 32]),
      audio: new ort.Tensor('float32', audio, [batch, 50, 384]),
    });
    return output.latents_out;
  }

  /** A 512 × 512 RGB face (ImageNet-normalised inside) → argmax class ids. */
  async parse(rgb512: Uint8Array): Promise<Uint8Array> {
    const size = 512 * 512;
    const mean = [0.485, 0.456, 0.406];
    const deviation = [0.229, 0.224, 0.225];
    const input = new Float32Array(3 * size);
    for (let index = 0; index < size; index += 1) {
      for (let channel = 0; channel < 3; channel += 1)
        input[channel * size + index] =
          (rgb512[index * 3 + channel] / 255 - mean[channel]) / deviation[channel];
    }
    const output = await this.sessions.face_parser.run({
      image: new ort.Tensor('float32', input, [1, 3, 512, 512]),
    });
    const logits = output.logits.data as Float32Array;
    const classes = new Uint8Array(size);
    for (let index = 0; index < size; index += 1) {
      let best = 0;
      for (let cls = 1; cls < 19; cls += 1)
        if (logits[cls * size + index] > logits[best * size + index]) best = cls;
      classes[index] = best;
    }
    return classes;
  }

  async release(): Promise<void> {
    await Promise.all(Object.values(this.sessions).map((session) => session.release()));
  }
}
