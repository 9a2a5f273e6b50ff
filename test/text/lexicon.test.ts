import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { InvalidInputError } from '../../src/errors.ts';
import { loadLexiconFile } from '../../src/text/lexicon.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

describe('loadLexiconFile', () => {
  let directory = '';
  before(async () => {
    directory = temporaryDirectory('lexicon-test-');
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function fileWith(name: string, content: string): Promise<string> {
    const path = join(directory, name);
    await writeFile(path, content, 'utf8');
    return path;
  }

  test('reads a JSON object of readings (a byte-order mark is fine)', async () => {
    const path = await fileWith('good.json', '\uFEFF{"AI": "에이아이", "Qwen": "큐웬"}');
    assert.deepEqual(await loadLexiconFile(path), { AI: '에이아이', Qwen: '큐웬' });
  });

  const badFiles: ReadonlyArray<readonly [name: string, content: string, problem: RegExp]> = [
    ['broken.json', '{"AI": ', /not valid JSON/],
    ['array.json', '["AI"]', /must hold a JSON object.*not an array/],
    ['number.json', '42', /must hold a JSON object.*not number/],
    ['null.json', 'null', /must hold a JSON object.*not null/],
    ['value.json', '{"AI": 3}', /maps "AI" to a number/],
    ['empty-term.json', '{" ": "x"}', /empty term/],
  ];
  for (const [name, content, problem] of badFiles) {
    test(`a bad file is refused with its name and the problem: ${name}`, async () => {
      const path = await fileWith(name, content);
      await assert.rejects(loadLexiconFile(path), (error: unknown) => {
        assert.ok(error instanceof InvalidInputError);
        assert.ok(error.message.includes(path), error.message);
        assert.match(error.message, problem);
        return true;
      });
    });
  }

  test('a missing file is refused with its name', async () => {
    const path = join(directory, 'missing.json');
    await assert.rejects(loadLexiconFile(path), (error: unknown) => {
      assert.ok(error instanceof InvalidInputError);
      assert.match(error.message, /missing\.json: the file does not exist/);
      return true;
    });
  });
});
