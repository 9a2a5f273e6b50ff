import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VideoService } from '../../src/core/video-service.ts';
import type { VideoStore } from '../../src/core/video-store.ts';
import { VideoJobs, type StoredVideoJob } from '../../src/core/video-jobs.ts';

describe('VideoJobs.restore', () => {
  it('does not wait for the callbacks of jobs it reports failed', async () => {
    const now = new Date().toISOString();
    const interrupted: StoredVideoJob = {
      state: {
        job_id: '0b6f7c1e-8d1a-4d59-9a43-2f1e4b7c9d10',
        status: 'running',
        created_at: now,
        updated_at: now,
        progress: null,
      },
      callbackUrl: 'http://127.0.0.1:9/hook',
      attempts: 1,
    };
    const saved: StoredVideoJob[] = [];
    const told: string[] = [];
    const jobs = new VideoJobs({
      // Restore of a job without its input touches neither the renderer nor the video files.
      video: {} as VideoService,
      files: { keepSeconds: 60 } as VideoStore,
      store: {
        loadAll: async () => [interrupted],
        save: async (stored) => void saved.push(stored),
        remove: async () => {},
      },
      maxUnfinished: 4,
      // A receiver that never answers (postWebhook retries for many seconds).
      notify: (url) => {
        told.push(url.href);
        return new Promise(() => {});
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const restored = await Promise.race([
      jobs.restore().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 2000))),
    ]);
    clearTimeout(timer);
    assert.ok(restored, 'restore finished without waiting for the callback');
    assert.equal(jobs.get(interrupted.state.job_id).status, 'failed');
    assert.equal(saved.at(-1)?.state.status, 'failed', 'kept as failed before the server serves');
    assert.deepEqual(told, ['http://127.0.0.1:9/hook'], 'the callback was still sent');
  });
});
