import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { hashModelFiles } from '../../src/models/file-hashes.ts';
import { ModelFileError, VERIFIED_FILE, verifyModelFiles } from '../../src/models/verify-model-files.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

function modelDirectory(): { directory: string } {
  const directory = temporaryDirectory('verify-model-');
  writeFileSync(path.join(directory, 'weights.bin'), Buffer.alloc(4096, 7));
  writeFileSync(path.join(directory, 'merges.txt'), 'a b\nc d\n');
  return { directory };
}

describe('verifyModelFiles', () => {
  it('hashes every file once, then trusts files that have not changed since', async () => {
    const { directory } = modelDirectory();
    const expected = await hashModelFiles(directory);
    assert.deepEqual((await verifyModelFiles(directory, expected)).hashed.sort(), [
      'merges.txt',
      'weights.bin',
    ]);
    assert.deepEqual((await verifyModelFiles(directory, expected)).hashed, [], 'a restart reads nothing');
    assert.ok(JSON.parse(readFileSync(path.join(directory, VERIFIED_FILE), 'utf8'))['weights.bin']);
    utimesSync(path.join(directory, 'merges.txt'), new Date(), new Date(Date.now() - 60000));
    assert.deepEqual(
      (await verifyModelFiles(directory, expected)).hashed,
      ['merges.txt'],
      'a touched file is read again',
    );
  });

  it('names a truncated file, also when it had been verified before', async () => {
    const { directory } = modelDirectory();
    const expected = await hashModelFiles(directory);
    await verifyModelFiles(directory, expected);
    truncateSync(path.join(directory, 'weights.bin'), 1000);
    await assert.rejects(verifyModelFiles(directory, expected), (error: unknown) => {
      assert.ok(error instanceof ModelFileError);
      assert.equal(error.file, 'weights.bin');
      assert.match(error.message, /weights\.bin .* is damaged or incomplete.*1000 bytes on disk/);
      return true;
    });
  });

  it('names a missing file', async () => {
    const { directory } = modelDirectory();
    const expected = { ...(await hashModelFiles(directory)), 'tokenizer/vocab.json': 'f'.repeat(64) };
    await assert.rejects(verifyModelFiles(directory, expected), /tokenizer\/vocab\.json is missing/);
  });

  it('still verifies where it cannot remember (a read-only directory): it hashes at every start', async () => {
    const { directory } = modelDirectory();
    const expected = await hashModelFiles(directory);
    // A folder in place of the record makes writing it fail, as on a read-only mount.
    mkdirSync(path.join(directory, VERIFIED_FILE));
    assert.equal((await verifyModelFiles(directory, expected)).hashed.length, 2);
    assert.equal((await verifyModelFiles(directory, expected)).hashed.length, 2);
  });
});
