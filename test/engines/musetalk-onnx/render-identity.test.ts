import assert from 'node:assert/strict';
import { readFileSync, rmSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../../src/config.ts';
import { MuseTalkEngine } from '../../../src/engines/musetalk-onnx/engine.ts';
import { ModelNotAvailableError } from '../../../src/errors.ts';
import { writeSyntheticMuseTalkModel } from '../../../src/models/synth-musetalk.ts';
import { MUSETALK_FIXTURES } from '../../support/official-musetalk.ts';
import { temporaryDirectory } from '../../support/temporary-directory.ts';

/** What a render-cache lookup asks of the engine: the model's identity, from its files alone. */
describe("the lip-sync engine's render identity", () => {
  const work = temporaryDirectory('render-identity-');
  const engineFor = (model: string) =>
    new MuseTalkEngine(
      loadConfig({
        ENABLE_VIDEO: 'true',
        MUSETALK_MODEL_DIR: model,
        CACHE_DIR: path.join(work, 'cache'),
        VIDEO_AVATAR_DIR: path.join(work, 'avatars'),
      }),
    );
  const photo = { kind: 'image' as const, bytes: readFileSync(path.join(MUSETALK_FIXTURES, 'face-2.png')) };
  before(async () => {
    await writeSyntheticMuseTalkModel(path.join(work, 'model'), { dtype: 'float32', size: 'tiny' });
    await writeSyntheticMuseTalkModel(path.join(work, 'damaged'), { dtype: 'float32', size: 'tiny' });
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('is known without starting the model (a cache hit computes nothing)', async () => {
    const engine = engineFor(path.join(work, 'model'));
    try {
      const identity = await engine.renderIdentity(photo);
      assert.match(identity ?? '', /^[0-9a-f]{64}$/);
      assert.equal(await engine.renderIdentity(photo), identity, 'stable');
      // Private state read on purpose: no worker pool was started or is starting.
      const internals = engine as unknown as { pool?: unknown; starting?: unknown };
      assert.equal(internals.pool, undefined);
      assert.equal(internals.starting, undefined);
    } finally {
      await engine.close();
    }
  });

  it('is refused for damaged model files, naming them', async () => {
    const directory = path.join(work, 'damaged');
    const manifest = JSON.parse(readFileSync(path.join(directory, 'manifest.json'), 'utf8')) as {
      files: { sha256: Record<string, string> };
    };
    const file = Object.keys(manifest.files.sha256).find((name) => name.endsWith('.onnx'))!;
    truncateSync(path.join(directory, file), 100);
    const engine = engineFor(directory);
    try {
      await assert.rejects(engine.renderIdentity(photo), (error: unknown) => {
        assert.ok(error instanceof ModelNotAvailableError);
        assert.match(error.message, new RegExp(path.basename(file).replace('.', '\\.')));
        return true;
      });
    } finally {
      await engine.close();
    }
  });
});
