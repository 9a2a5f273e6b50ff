import path from 'node:path';

const QWEN3_KEYS = ['base_0.6b', 'base_1.7b'] as const;

/** `models synth <key> --out DIR`: a model with the real layout and random weights, for tests and benchmarks. */
export async function runModelsSynthCommand(
  key: string,
  options: { out: string; dtype: string; size: string },
): Promise<void> {
  if (options.dtype !== 'float32' && options.dtype !== 'float16') {
    throw new Error(`--dtype must be float32 or float16, not ${options.dtype}`);
  }
  if (options.size !== 'tiny' && options.size !== 'real') {
    throw new Error(`--size must be tiny or real, not ${options.size}`);
  }
  const outDir = path.resolve(options.out);
  const startedAt = performance.now();
  if ((QWEN3_KEYS as readonly string[]).includes(key)) {
    const { writeSyntheticQwen3Model } = await import('./synth-qwen3.ts');
    await writeSyntheticQwen3Model(outDir, {
      key: key as (typeof QWEN3_KEYS)[number],
      dtype: options.dtype,
      size: options.size,
    });
  } else if (key === 'musetalk') {
    const { writeSyntheticMuseTalkModel } = await import('./synth-musetalk.ts');
    await writeSyntheticMuseTalkModel(outDir, { dtype: options.dtype, size: options.size });
  } else {
    throw new Error(`unknown model key ${key}: use base_0.6b, base_1.7b or musetalk`);
  }
  console.log(
    `wrote a synthetic ${options.size} ${key} (${options.dtype}) to ${outDir} in ${Math.round(performance.now() - startedAt)} ms`,
  );
}
