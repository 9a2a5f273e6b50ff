import cliProgress from 'cli-progress';
import type { Config } from '../config.ts';
import { formatBytes } from './installed-models-command.ts';
import type { ModelVariant } from './model-registry.ts';
import { pullModel, type PullProgress, type PullResult } from './pull.ts';

export interface ModelsPullCommandOptions {
  config: Config;
  /** `float32`, `float16`, `int8`, `int4` or `all`; default TTS_DTYPE. */
  dtype?: ModelVariant | 'all';
  /** Export official checkpoints with CUDA PyTorch on the GPU (needed for float16). */
  gpu?: boolean;
  keepCheckpoint?: boolean;
  signal?: AbortSignal;
  /** Where the bar and messages go (default stderr, so stdout stays clean for scripts). */
  output?: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * `models pull <key>`: installs a model with a progress bar on a terminal and one line per file
 * otherwise. Errors are thrown (ModelPullError and friends) for the CLI to print.
 */
export async function runModelsPullCommand(
  key: string,
  options: ModelsPullCommandOptions,
): Promise<PullResult> {
  const output = options.output ?? process.stderr;
  const interactive = output.isTTY === true;
  const bar = new cliProgress.SingleBar(
    {
      stream: output,
      format: '{bar} {percentage}% | {done}/{all} | file {index}/{count} {file}',
      hideCursor: true,
      clearOnComplete: false,
      noTTYOutput: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let lastFile: string | undefined;
  let lastMessage: string | undefined;
  const onProgress = (progress: PullProgress) => {
    // PyTorch's and transformers' chatter (NNPACK on CPUs without it, tracer warnings) is not news.
    if (
      progress.message !== undefined &&
      /NNPACK|Warning|warnings\.warn|^\s+(_C\.|len\(|mask =|for idx|if codes|is_causal)/.test(
        progress.message,
      )
    )
      return;
    if (progress.message !== undefined) {
      // The exporter's own output, one line at a time (the bar is for downloads).
      if (started) {
        bar.stop();
        started = false;
      }
      if (progress.message !== lastMessage) output.write(`  [${progress.phase}] ${progress.message}\n`);
      lastMessage = progress.message;
      return;
    }
    const payload = {
      done: formatBytes(progress.bytes),
      all: progress.totalBytes === undefined ? '?' : formatBytes(progress.totalBytes),
      index: Math.min(progress.fileIndex + 1, progress.fileCount),
      count: progress.fileCount,
      file: progress.file ?? '',
    };
    if (!interactive) {
      if (progress.phase === 'downloading' && progress.file !== lastFile) {
        lastFile = progress.file;
        output.write(`downloading ${progress.file} (${payload.index}/${payload.count})\n`);
      }
      return;
    }
    if (progress.phase === 'manifest') return;
    // Without sizes from the hub the bar counts files instead of bytes.
    const total = progress.totalBytes ?? progress.fileCount;
    const value = progress.totalBytes === undefined ? progress.fileIndex : progress.bytes;
    if (!started) {
      bar.start(Math.max(total, 1), value, payload);
      started = true;
    } else {
      bar.update(value, payload);
    }
  };
  output.write(`pulling ${key}…\n`);
  try {
    const result = await pullModel(key, {
      config: options.config,
      dtype: options.dtype,
      gpu: options.gpu,
      keepCheckpoint: options.keepCheckpoint,
      signal: options.signal,
      onProgress,
    });
    if (started) bar.stop();
    const fetched = result.downloaded.length;
    if (result.exportedFrom) {
      output.write(
        `${key} (${result.variants.join(', ')}) was exported from the official checkpoint ${result.exportedFrom.checkpoint}` +
          `@${result.exportedFrom.revision} and installed in ${result.directory}. Parity with the official code:\n` +
          `${result.exportedFrom.parity}\n`,
      );
      return result;
    }
    output.write(
      `${key} (${result.variants.join(', ')}) is installed in ${result.directory} from ${result.repository}` +
        `@${result.revision}: ${fetched} file(s) downloaded, ${result.files.length - fetched} already present.\n`,
    );
    return result;
  } catch (error) {
    if (started) bar.stop();
    throw error;
  }
}
