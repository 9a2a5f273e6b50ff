import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DiskCache } from '../../src/storage/disk-cache.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

const fresh = () => path.join(temporaryDirectory('disk-cache-'), 'entries');

describe('DiskCache', () => {
  it('reads back what it wrote, atomically, and nothing for a missing entry', async () => {
    const directory = fresh();
    const cache = new DiskCache({ directory, maxBytes: 1 << 20, label: 'test' });
    assert.equal(await cache.write('a.json', '{"x":1}'), true);
    assert.equal(String(await cache.read('a.json')), '{"x":1}');
    assert.equal(await cache.read('b.json'), undefined);
    assert.deepEqual(readdirSync(directory), ['a.json'], 'no temporary file is left');
  });

  it('keeps within its budget, evicting the least recently used first', async () => {
    const directory = fresh();
    const cache = new DiskCache({ directory, maxBytes: 3000, label: 'test' });
    for (const name of ['old', 'used', 'other']) await cache.write(name, Buffer.alloc(1000));
    const past = (seconds: number) => new Date(Date.now() - seconds * 1000);
    utimesSync(path.join(directory, 'old'), past(30), past(30));
    utimesSync(path.join(directory, 'used'), past(20), past(20));
    utimesSync(path.join(directory, 'other'), past(10), past(10));
    await cache.read('used');
    await cache.write('newest', Buffer.alloc(1000));
    await cache.evict();
    assert.deepEqual(readdirSync(directory).sort(), ['newest', 'other', 'used']);
  });

  it('removes dead temporary files at its first use', async () => {
    const directory = fresh();
    mkdirSync(directory, { recursive: true });
    writeFileSync(path.join(directory, '.voice.json.1a2b3c4d.partial'), 'half a file');
    const cache = new DiskCache({ directory, maxBytes: 1 << 20, label: 'test' });
    await cache.read('voice.json');
    assert.deepEqual(readdirSync(directory), []);
  });

  it('goes on without caching when it cannot write, leaving nothing behind', async () => {
    const parent = temporaryDirectory('disk-cache-');
    const directory = path.join(parent, 'blocked');
    writeFileSync(directory, 'a file where the folder should be');
    const cache = new DiskCache({ directory, maxBytes: 1 << 20, label: 'test' });
    assert.equal(await cache.write('a.json', 'x'), false);
    assert.equal(await cache.read('a.json'), undefined);
    assert.ok(existsSync(directory));
  });

  it('refuses entry names that are paths', async () => {
    const cache = new DiskCache({ directory: fresh(), maxBytes: 1 << 20, label: 'test' });
    await assert.rejects(cache.write('../escape', 'x'), /plain file name/);
  });
});
