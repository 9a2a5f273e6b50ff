import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VideoJob } from '../../src/core/video-service.ts';
import { FileJobStore } from '../../src/storage/job-store.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

describe('a video job with an uploaded avatar video, kept on disk', () => {
  it('comes back after a restart as a video, with its bytes', async () => {
    const directory = temporaryDirectory('job-store-video-');
    const bytes = Buffer.from('the bytes of an MP4');
    // The store writes the speech job as it is: a stub is enough to follow the avatar.
    const job = {
      speech: { items: [] },
      avatar: { kind: 'video', bytes, fileName: 'me.mp4' },
    } as unknown as VideoJob;
    const now = new Date().toISOString();
    const state = {
      job_id: '0b7c5d2e-1f2a-4b3c-8d4e-5f6a7b8c9d0e',
      status: 'queued' as const,
      created_at: now,
      updated_at: now,
      progress: null,
    };
    await new FileJobStore({ directory }).save({ state, job, attempts: 0 });
    const [restored] = await new FileJobStore({ directory }).loadAll();
    assert.equal(restored.job?.avatar.kind, 'video');
    assert.ok(restored.job?.avatar.kind === 'video');
    assert.deepEqual(restored.job.avatar.bytes, bytes);
    assert.equal(restored.job.avatar.fileName, 'me.mp4');
  });
});
