import path from 'node:path';

const QWEN3_KEYS = ['base_0.6b', 'base_1.7b'] as const;

/** `models synth <key> --out DIR`: a model with the real layout and random weights, for tests and benchmarks. */
export async function runModelsSynthCommand(
  key: string,
  options: { out: string; dtype: string; size: string },
): Promise<void> {
  const dtypes = ['float32', 'float16', 'int8', 'int4'] as const;
  const dtype = dtypes.find((name) => name === options.dtype);
  if (!dtype) throw new Error(`--dtype must be one of ${dtypes.join(', ')}, not ${options.dtype}`);
  if (options.size !== 'tiny' && options.size !== 'real') {
    throw new Error(`--size must be tiny or real, not ${options.size}`);
  }
  const outDir = path.resolve(options.out);
  const startedAt = performance.now();
  if ((QWEN3_KEYS as readonly string[]).includes(key)) {
    const { writeSyntheticQwen3Model } = await import('./synth-qwen3.ts');
    await writeSyntheticQwen3Model(outDir, {
      key: key as (typeof QWEN3_KEYS)[number],
      dtype,
      size: options.size,
    });
  } else if (key === 'musetalk') {
    if (dtype !== 'float32' && dtype !== 'float16')
      throw new Error(`MuseTalk has float32 and float16 variants, not ${dtype}`);
    const { writeSyntheticMuseTalkModel } = await import('./synth-musetalk.ts');
    await writeSyntheticMuseTalkModel(outDir, { dtype, size: options.size });
  } else {
    throw new Error(`unknown model key ${key}: use base_0.6b, base_1.7b or musetalk`);
  }
  console.log(
    `wrote a synthetic ${options.size} ${key} (${options.dtype}) to ${outDir} in ${Math.round(performance.now() - startedAt)} ms`,
  );
}
