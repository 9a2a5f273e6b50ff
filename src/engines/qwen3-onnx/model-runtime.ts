import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { float16BitsToFloat32 } from '../../onnx/float16.ts';
import { sessionOptions, type ProviderChoice } from '../../onnx/session-options.ts';
import { lowerThreadPriority } from '../../onnx/thread-priority.ts';
import {
  floatTensor,
  int64Tensor,
  readFloats,
  scalarFloat,
  scalarInt64,
  type FloatType,
} from '../../onnx/tensors.ts';
import {
  ioFloatType,
  QWEN3_GRAPHS,
  readQwen3Manifest,
  type Qwen3VariantDtype,
  type Qwen3Graph,
  type Qwen3Manifest,
} from '../../models/qwen3-manifest.ts';
import { KvCache } from './kv-cache.ts';
import { CodecDecoderThread } from './decoder-thread.ts';
import { speakerMel } from './speaker-mel.ts';
import { Qwen2Tokenizer } from './tokenizer.ts';

/** The graphs a model worker runs itself; the codec decoder runs in its decoder thread. */
const GENERATION_GRAPHS = QWEN3_GRAPHS.filter((graph) => graph !== 'codec_decoder');
type GenerationGraph = Exclude<Qwen3Graph, 'codec_decoder'>;

/** What a talker step returns; keys/values are the new positions only, [layers, kvHeads, S, headDim]. */
export interface TalkerOutput {
  logits: Float32Array;
  hidden: Float32Array;
  newKeys: Float32Array | Uint16Array;
  newValues: Float32Array | Uint16Array;
}

/**
 * One loaded model inside a worker thread: its sessions, the host-side embedding tables and the
 * tokenizer. Every method is a thin, typed wrapper around one session run.
 */
export class Qwen3ModelRuntime {
  private constructor(
    readonly manifest: Qwen3Manifest,
    /** The float type of the graphs' inputs, outputs and KV cache (float32 for int4 / int8 variants). */
    readonly dtype: FloatType,
    readonly tokenizer: Qwen2Tokenizer,
    private readonly sessions: Record<GenerationGraph, ort.InferenceSession>,
    /** [vocab, hidden] talker codec embedding. */
    readonly codecTable: Float32Array,
    /** [groups-1, codebook, hidden] code predictor residual embeddings. */
    readonly residualTable: Float32Array,
    /** The codec decoder, on a thread of its own so that it runs beside generation. */
    readonly decoder: CodecDecoderThread,
  ) {}

  /** Caches no request is using, kept for the next one (see acquireCache). */
  private readonly freeCaches: KvCache[] = [];

  static async load(
    directory: string,
    variantDtype: Qwen3VariantDtype,
    provider: ProviderChoice,
    decoderOptions: {
      /** The decoder thread's intra-op threads (TTS_DECODER_THREADS); 0: ONNX Runtime's choice. */
      threads?: number;
      /** Voices whose decoder state after their reference frames is kept (TTS_DECODER_STATES). */
      referenceStates?: number;
      /** Called if the decoder thread dies while in use. */
      onFailure?: (error: Error) => void;
    } = {},
  ): Promise<Qwen3ModelRuntime> {
    const manifest = await readQwen3Manifest(directory);
    const variant = Object.values(manifest.variants).find((entry) => entry.dtype === variantDtype);
    if (!variant) {
      const quantized = variantDtype === 'int4' || variantDtype === 'int8';
      throw new Error(
        `${directory} has no ${variantDtype} variant (it has ${Object.keys(manifest.variants).join(', ')}): set TTS_DTYPE accordingly` +
          (quantized
            ? `, or add it with tools/export/qwen3/quantize.py --model-dir ${directory} --variants ${variantDtype}`
            : ''),
      );
    }
    // Quantized variants keep float32 inputs, outputs and tables; only matmul weights are quantized.
    const dtype = ioFloatType(variantDtype);
    const variantDirectory = path.join(directory, variant.directory);
    const options = sessionOptions(provider);
    // Before the sessions start their threads, which inherit it: the event loop goes first.
    lowerThreadPriority(provider.niceness ?? 0);
    // Started after the priority is lowered: a new thread inherits its creator's.
    const { threads = 0, referenceStates = 0, onFailure } = decoderOptions;
    const decoder = await CodecDecoderThread.start(
      {
        manifest,
        variantDirectory,
        provider: { ...provider, threads },
        referenceDecoderStates: referenceStates,
      },
      onFailure,
    );
    try {
      const sessions = {} as Record<GenerationGraph, ort.InferenceSession>;
      for (const graph of GENERATION_GRAPHS) {
        // Load by path so that external weights (graph.onnx.data) resolve next to the graph.
        sessions[graph] = await ort.InferenceSession.create(
          path.join(variantDirectory, `${graph}.onnx`),
          options,
        );
      }
      const readTable = async (file: string) => {
        const bytes = await readFile(path.join(variantDirectory, file));
        const aligned = new Uint8Array(bytes);
        return dtype === 'float16'
          ? float16BitsToFloat32(new Uint16Array(aligned.buffer))
          : new Float32Array(aligned.buffer);
      };
      const tokenizer = await Qwen2Tokenizer.fromDirectory(
        path.join(directory, 'tokenizer'),
        manifest.tokenizer.splitPattern,
      );
      return new Qwen3ModelRuntime(
        manifest,
        dtype,
        tokenizer,
        sessions,
        await readTable('codec_embedding.bin'),
        await readTable('residual_embeddings.bin'),
        decoder,
      );
    } catch (error) {
      // A thread left running would keep the process alive, and exiting under it can abort.
      await decoder.close();
      throw error;
    }
  }

  get hidden(): number {
    return this.manifest.dimensions.hidden;
  }

  /** Text ids → [S × hidden] embeddings (text embedding + projection). */
  async embedText(ids: number[]): Promise<Float32Array> {
    const output = await this.sessions.text_embed.run({ input_ids: int64Tensor(ids, [1, ids.length]) });
    return readFloats(output.embeds).slice();
  }

  codecRow(codeId: number): Float32Array {
    return this.codecTable.subarray(codeId * this.hidden, (codeId + 1) * this.hidden);
  }

  residualRow(group: number, code: number): Float32Array {
    const { codebookSize } = this.manifest.dimensions;
    const start = ((group - 1) * codebookSize + code) * this.hidden;
    return this.residualTable.subarray(start, start + this.hidden);
  }

  /**
   * A KV cache for one request, emptied. The worker runs one request at a time, so this is the same
   * cache (and the same buffers) every time; a second concurrent request would get its own.
   */
  acquireCache(): KvCache {
    const { layers, kvHeads, headDim, maxPositions } = this.manifest.dimensions;
    const cache = this.freeCaches.pop() ?? new KvCache(layers, kvHeads, headDim, this.dtype, maxPositions);
    cache.reset();
    return cache;
  }

  releaseCache(cache: KvCache): void {
    this.freeCaches.push(cache);
  }

  /** Runs the talker on `sequence` new positions after the cache's length (the caller appends them). */
  async talker(embeds: Float32Array, sequence: number, cache: KvCache): Promise<TalkerOutput> {
    const output = await this.sessions.talker.run({
      inputs_embeds: floatTensor(embeds, [1, sequence, this.hidden], this.dtype),
      ...cache.feeds(),
      past_length: scalarInt64(cache.length),
    });
    return {
      logits: output.logits.data as Float32Array,
      hidden: readFloats(output.hidden),
      newKeys: output.new_keys.data as Float32Array | Uint16Array,
      newValues: output.new_values.data as Float32Array | Uint16Array,
    };
  }

  /**
   * The 15 residual codes of a frame in one run. Sampling happens inside the graph from `noise`
   * (uniform, drawn by the host so the request's seed decides it); top_k ≤ 0 keeps every code.
   */
  async predictCodes(
    hidden: Float32Array,
    firstCode: number,
    sampling: { temperature: number; topK: number; topP: number },
    noise: Float32Array,
  ): Promise<BigInt64Array> {
    const groups = this.manifest.dimensions.codeGroups;
    const output = await this.sessions.code_predictor.run({
      hidden: floatTensor(hidden, [1, this.hidden], this.dtype),
      first_code: int64Tensor([firstCode], [1]),
      temperature: scalarFloat(sampling.temperature),
      top_k: scalarInt64(sampling.topK),
      top_p: scalarFloat(sampling.topP),
      noise: new ort.Tensor('float32', noise, [groups - 1, this.manifest.dimensions.codebookSize]),
    });
    return output.codes.data as BigInt64Array;
  }

  /** Reference speech (24 kHz) → codes [frames × groups]. */
  async encodeReference(samples: Float32Array): Promise<{ codes: Int32Array; frames: number }> {
    const output = await this.sessions.codec_encoder.run({
      audio: new ort.Tensor('float32', samples, [1, samples.length]),
    });
    const data = output.codes.data as BigInt64Array;
    return { codes: Int32Array.from(data, (value) => Number(value)), frames: output.codes.dims[1] };
  }

  async speakerEmbedding(samples: Float32Array): Promise<Float32Array> {
    const mel = speakerMel(samples, this.manifest.speakerMel);
    const output = await this.sessions.speaker_encoder.run({
      mel: new ort.Tensor('float32', mel.data, [1, mel.frames, mel.mels]),
    });
    return readFloats(output.embedding).slice();
  }

  async release(): Promise<void> {
    await Promise.all(Object.values(this.sessions).map((session) => session.release()));
    await this.decoder.close();
  }
}
