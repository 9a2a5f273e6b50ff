import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { buildTestApp, type TestApp } from '../helper.ts';
import { launchChromium, SKIP_WITHOUT_CHROMIUM } from '../support/chromium.ts';
import { StreamingLipsyncEngine } from '../support/streaming-lipsync-engine.ts';

/**
 * The try-it page plays a video while it renders: it starts the live HLS stream on the SSE `playable`
 * event, appending the fMP4 segments to a MediaSource (Chromium's own HLS player refuses a playlist
 * that still grows), and the video is playing before `done` arrives. The engine encodes real H.264 + AAC through the server's encoder (5 s of
 * video, a frame every 40 ms, so the render lasts over 5 s). Needs Chromium, like try-it-page.test.ts.
 */

/** Every wait on the page gives up after this long, so a broken page fails instead of hanging. */
const WAIT_MS = 15000;

/** What the page's video element and the SSE showed, in page time (ms). */
interface Observed {
  playingAt?: number;
  doneAt?: number;
  currentTimeWhenDone?: number;
  /** The player's src when it started: a blob: URL of the MediaSource. */
  source?: string;
}

describe(
  'the try-it page plays the video while it renders',
  { skip: SKIP_WITHOUT_CHROMIUM, timeout: 90000 },
  () => {
    let test: TestApp;
    let browser: Browser;
    let address: string;
    before(async () => {
      test = await buildTestApp({
        lipsync: new StreamingLipsyncEngine({ seconds: 5, frameDelayMs: 40 }),
        environment: { ENABLE_VIDEO: 'true' },
      });
      await test.app.listen({ host: '127.0.0.1', port: 0 });
      address = `http://127.0.0.1:${(test.app.server.address() as AddressInfo).port}`;
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await test?.close();
    });

    /** Renders on a fresh page and records when the player first played and when `done` showed (the download link appearing). */
    async function renderAndWatch(): Promise<{ observed: Observed; page: Page }> {
      const page = await browser.newPage();
      page.setDefaultTimeout(WAIT_MS);
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      // Sent as source text: the project compiles without the DOM library.
      await page.evaluateOnNewDocument(`
      const observed = (window.observed = {});
      document.addEventListener('DOMContentLoaded', () => {
        const player = document.getElementById('player');
        const download = document.getElementById('videoDownload');
        const onTime = () => {
          if (player.currentTime > 0 && observed.playingAt === undefined) {
            observed.playingAt = performance.now();
            observed.source = player.src;
          }
        };
        player.addEventListener('timeupdate', onTime);
        player.addEventListener('playing', onTime);
        new MutationObserver(() => {
          if (!download.hidden && observed.doneAt === undefined) {
            observed.doneAt = performance.now();
            observed.currentTimeWhenDone = player.currentTime;
          }
        }).observe(download, { attributes: true });
      });
    `);
      await page.goto(`${address}/ui`, { waitUntil: 'load', timeout: WAIT_MS });
      await page.waitForFunction(
        `document.querySelectorAll('#voice option').length > 0 && ` +
          `document.querySelectorAll('#avatar option[value="interviewer.jpg"]').length === 1`,
        { timeout: WAIT_MS },
      );
      await page.select('#avatar', 'interviewer.jpg');
      await page.click('#render');
      await page
        .waitForFunction('window.observed.doneAt !== undefined', { timeout: WAIT_MS * 2 })
        .catch(async (error: unknown) => {
          const stage = await page.$eval('#stage', (element) => element.textContent);
          const log = await page.$eval('#log', (element) => element.textContent);
          throw new Error(`${(error as Error).message}; the page said: ${stage} ${log} ${errors.join(' ')}`);
        });
      // Playback goes on to the end of the stream after `done`.
      await page
        .waitForFunction("document.getElementById('player').currentTime > 4.5", { timeout: WAIT_MS })
        .catch(async (error: unknown) => {
          const state = await page.evaluate(
            `(({ currentTime, readyState, networkState, paused, error, src, duration }) =>
            JSON.stringify({ currentTime, readyState, networkState, paused, error: error && error.message, src, duration, observed: window.observed }))(document.getElementById('player'))`,
          );
          throw new Error(`${(error as Error).message}; the player: ${String(state)}`);
        });
      const observed = (await page.evaluate('window.observed')) as Observed;
      assert.deepEqual(errors, []);
      assert.equal(
        await page.$eval('#player', (player) => (player as unknown as { error: unknown }).error),
        null,
      );
      assert.match(
        await page.$eval('#videoDownload', (link) => link.getAttribute('href') ?? ''),
        /^\/video\/files\/[0-9a-f-]{36}\.mp4$/,
      );
      return { observed, page };
    }

    it('starts playing the live stream (through MediaSource) before `done`, and plays it to the end', async () => {
      const { observed, page } = await renderAndWatch();
      try {
        assert.ok(observed.playingAt !== undefined, 'the player played');
        assert.ok(
          observed.playingAt < observed.doneAt!,
          `playing at ${observed.playingAt.toFixed(0)} ms, done at ${observed.doneAt!.toFixed(0)} ms`,
        );
        assert.ok(observed.currentTimeWhenDone! > 0, 'the video had advanced when done arrived');
        assert.match(observed.source ?? '', /^blob:/, 'played through MediaSource');
      } finally {
        await page.close();
      }
    });
  },
);
