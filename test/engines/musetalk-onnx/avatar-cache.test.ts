import assert from 'node:assert/strict';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { AvatarCache } from '../../../src/engines/musetalk-onnx/avatar-cache.ts';
import { MuseTalkRuntime } from '../../../src/engines/musetalk-onnx/musetalk-runtime.ts';
import { writeSyntheticMuseTalkModel } from '../../../src/models/synth-musetalk.ts';
import { chooseProvider } from '../../../src/onnx/session-options.ts';
import { MUSETALK_FIXTURES } from '../../support/official-musetalk.ts';
import { temporaryDirectory } from '../../support/temporary-directory.ts';

const image = (hash: string, width = 320, height = 360) => ({
  rgb: new Uint8Array(width * height * 3),
  width,
  height,
  hash,
});

describe('the prepared-avatar cache key', () => {
  it('changes with the image, its decoded size and the weights, and only with them', () => {
    const key = (hash: string, fingerprint: string, width?: number) =>
      AvatarCache.key(image(hash, width), { fingerprint });
    assert.equal(key('photo', 'weights-a'), key('photo', 'weights-a'));
    assert.notEqual(key('photo', 'weights-a'), key('other', 'weights-a'));
    assert.notEqual(key('photo', 'weights-a'), key('photo', 'weights-b'), 'other models');
    assert.notEqual(key('photo', 'weights-a'), key('photo', 'weights-a', 240), 'another VIDEO_MAX_SIDE');
  });

  describe('model fingerprints', () => {
    let first: string;
    const second = path.join(MUSETALK_FIXTURES, 'model');
    before(async () => {
      first = path.join(temporaryDirectory('avatar-key-'), 'synthetic');
      await writeSyntheticMuseTalkModel(first, { dtype: 'float32', size: 'tiny' });
    });

    it('differ between models with other weights (synthetic ones, official-class ones), not between loads', async () => {
      const provider = chooseProvider('cpu', { threads: 1 });
      const load = async (directory: string) => {
        const runtime = await MuseTalkRuntime.load(directory, provider, 'float32', ['vae_encoder']);
        await runtime.release();
        return runtime.fingerprint;
      };
      assert.equal(await load(first), await load(first));
      assert.notEqual(await load(first), await load(second));
    });
  });
});
