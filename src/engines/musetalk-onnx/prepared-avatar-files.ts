import type { DiskCache } from '../../storage/disk-cache.ts';

/**
 * A prepared avatar (photo or video) on disk: `<key>.bin` holds its latents then its blending alpha,
 * `<key>.json` the rest of it with their lengths. The data is written first, so the metadata's
 * presence says the pair is complete; a failed write only means the avatar is prepared again.
 */
export async function writePreparedAvatarFiles(
  files: DiskCache,
  key: string,
  prepared: { latents: Float32Array; alpha: Uint8Array; meta: object },
): Promise<void> {
  const { latents, alpha, meta } = prepared;
  const written = await files.write(
    `${key}.bin`,
    Buffer.concat([Buffer.from(latents.buffer, latents.byteOffset, latents.byteLength), Buffer.from(alpha)]),
  );
  if (written)
    await files.write(
      `${key}.json`,
      JSON.stringify({ ...meta, latents: latents.length, alpha: alpha.length }),
    );
}

/** What writePreparedAvatarFiles wrote, or undefined when absent or incomplete (evicted halfway, a crash). */
export async function readPreparedAvatarFiles<Meta>(
  files: DiskCache,
  key: string,
): Promise<{ meta: Meta; latents: Float32Array; alpha: Uint8Array } | undefined> {
  const [metaBytes, data] = await Promise.all([files.read(`${key}.json`), files.read(`${key}.bin`)]);
  if (!metaBytes || !data) return undefined;
  try {
    const {
      latents: latentCount,
      alpha: alphaCount,
      ...meta
    } = JSON.parse(metaBytes.toString('utf8')) as {
      latents: number;
      alpha: number;
    };
    const latentBytes = latentCount * 4;
    if (data.length !== latentBytes + alphaCount) return undefined;
    return {
      meta: meta as Meta,
      latents: new Float32Array(new Uint8Array(data.subarray(0, latentBytes)).buffer),
      alpha: new Uint8Array(data.subarray(latentBytes)),
    };
  } catch {
    return undefined;
  }
}
