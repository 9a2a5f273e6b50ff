import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { modelFingerprint } from '../../src/models/model-fingerprint.ts';
import { VERIFIED_FILE } from '../../src/models/verify-model-files.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

function modelWith(manifest: object): string {
  const directory = temporaryDirectory('fingerprint-');
  mkdirSync(path.join(directory, 'float32'));
  writeFileSync(path.join(directory, 'float32', 'talker.onnx'), 'weights');
  writeFileSync(path.join(directory, 'manifest.json'), JSON.stringify(manifest));
  return directory;
}

describe('modelFingerprint', () => {
  it('with hashes in the manifest: depends on the manifest and the variant, not on files beside them', async () => {
    const directory = modelWith({ files: { sha256: { 'float32/talker.onnx': 'ab'.repeat(32) } } });
    const before = await modelFingerprint(directory, 'float32');
    writeFileSync(path.join(directory, VERIFIED_FILE), '{}');
    mkdirSync(path.join(directory, 'int4'));
    writeFileSync(path.join(directory, 'int4', 'talker.onnx'), 'other weights');
    assert.equal(await modelFingerprint(directory, 'float32'), before, 'another variant installed beside it');
    assert.notEqual(await modelFingerprint(directory, 'int4'), before, 'another variant in use');
    writeFileSync(
      path.join(directory, 'manifest.json'),
      JSON.stringify({ files: { sha256: { 'float32/talker.onnx': 'cd'.repeat(32) } } }),
    );
    assert.notEqual(await modelFingerprint(directory, 'float32'), before, 'other weights');
  });

  it('without hashes: a replaced file changes it, the verification record does not', async () => {
    const directory = modelWith({ modelKey: 'base_0.6b' });
    const before = await modelFingerprint(directory, 'float32');
    writeFileSync(path.join(directory, VERIFIED_FILE), '{"x":1}');
    assert.equal(await modelFingerprint(directory, 'float32'), before);
    writeFileSync(path.join(directory, 'float32', 'talker.onnx'), 'weights, re-exported');
    assert.notEqual(await modelFingerprint(directory, 'float32'), before);
  });
});
