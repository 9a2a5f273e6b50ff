import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AdmissionQueue } from '../core/admission.ts';
import type { WorkObserver } from '../core/work-observer.ts';

type QueueName = 'speech' | 'video';

/**
 * Prometheus metrics for operators: time to first audio, real-time factor, queue waits and
 * refusals, finished work by outcome, HTTP requests, and the process's own figures (memory, CPU,
 * event-loop lag). One registry per app, so tests and several apps in one process stay apart.
 */
export class Metrics implements WorkObserver {
  readonly registry = new Registry();
  private readonly queues = new Map<QueueName, AdmissionQueue>();

  private readonly speechRequests = new Counter({
    name: 'tts_requests_total',
    help: 'Speech requests that reached generation, by model and outcome',
    labelNames: ['model', 'outcome'],
    registers: [this.registry],
  });
  private readonly firstAudio = new Histogram({
    name: 'tts_time_to_first_audio_seconds',
    help: 'From a speech request’s arrival to its first audio',
    labelNames: ['model'],
    buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 16],
    registers: [this.registry],
  });
  private readonly realTimeFactor = new Histogram({
    name: 'tts_real_time_factor',
    help: 'Seconds of generation per second of audio (below 1 is faster than real time)',
    labelNames: ['model'],
    buckets: [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 4, 8],
    registers: [this.registry],
  });
  private readonly audioSeconds = new Counter({
    name: 'tts_audio_seconds_total',
    help: 'Seconds of speech produced',
    labelNames: ['model'],
    registers: [this.registry],
  });
  private readonly queueWait = new Histogram({
    name: 'queue_wait_seconds',
    help: 'Time an admitted request waited for an engine slot',
    labelNames: ['queue'],
    buckets: [0, 0.05, 0.25, 1, 4, 16, 64],
    registers: [this.registry],
  });
  private readonly queueRefusals = new Counter({
    name: 'queue_refused_total',
    help: 'Requests answered 503 because the admission queue was full',
    labelNames: ['queue'],
    registers: [this.registry],
  });
  private readonly videoRenders = new Histogram({
    name: 'video_render_seconds',
    help: 'Lip-synced video requests, speech included, by engine and outcome',
    labelNames: ['engine', 'outcome'],
    buckets: [1, 2, 5, 10, 20, 40, 80, 160],
    registers: [this.registry],
  });
  readonly httpRequests = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route and status (streamed responses are not included)',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.025, 0.1, 0.5, 1, 2.5, 10, 30],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    for (const [name, read] of [
      ['queue_active', (queue: AdmissionQueue) => queue.snapshot().active],
      ['queue_pending', (queue: AdmissionQueue) => queue.snapshot().pending],
    ] as const) {
      const queues = this.queues;
      new Gauge({
        name,
        help: name === 'queue_active' ? 'Requests being worked on' : 'Requests waiting for a slot',
        labelNames: ['queue'],
        registers: [this.registry],
        collect() {
          for (const [queueName, queue] of queues) this.set({ queue: queueName }, read(queue));
        },
      });
    }
  }

  /** Reports the queue's occupancy at every scrape. */
  watchQueue(name: QueueName, queue: AdmissionQueue): void {
    this.queues.set(name, queue);
  }

  admission(queue: QueueName, outcome: { waitedSeconds: number } | 'refused'): void {
    if (outcome === 'refused') this.queueRefusals.inc({ queue });
    else this.queueWait.observe({ queue }, outcome.waitedSeconds);
  }

  speechFinished(report: Parameters<WorkObserver['speechFinished']>[0]): void {
    const model = report.model;
    this.speechRequests.inc({ model, outcome: report.outcome });
    if (report.firstAudioSeconds !== undefined) this.firstAudio.observe({ model }, report.firstAudioSeconds);
    if (report.audioSeconds > 0) {
      this.audioSeconds.inc({ model }, report.audioSeconds);
      if (report.outcome === 'ok')
        this.realTimeFactor.observe({ model }, report.generationSeconds / report.audioSeconds);
    }
  }

  videoFinished(report: Parameters<WorkObserver['videoFinished']>[0]): void {
    this.videoRenders.observe({ engine: report.engine, outcome: report.outcome }, report.seconds);
  }
}
