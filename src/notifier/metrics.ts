// The notifier's own metrics, with Prometheus 3's names, labels, types and help texts.
import { Counter, Gauge, Histogram, Summary, type Registry } from 'prom-client';

/** Go's client defaults for a summary: quantiles over the last 10 minutes in 5 age buckets. */
const SUMMARY_MAX_AGE_SECONDS = 600;
const SUMMARY_AGE_BUCKETS = 5;

export class NotifierMetrics {
  readonly latencySummary: Summary<'alertmanager'>;
  readonly latencyHistogram: Histogram<'alertmanager'>;
  readonly errors: Counter<'alertmanager'>;
  readonly sent: Counter<'alertmanager'>;
  readonly dropped: Counter;

  constructor(registry: Registry, queueCapacity: number, queueLength: () => number, alertmanagersDiscovered: () => number) {
    const registers = [registry];
    this.latencySummary = new Summary({
      name: 'prometheus_notifications_latency_seconds',
      help: 'Latency quantiles for sending alert notifications.',
      labelNames: ['alertmanager'] as const,
      percentiles: [0.5, 0.9, 0.99],
      maxAgeSeconds: SUMMARY_MAX_AGE_SECONDS,
      ageBuckets: SUMMARY_AGE_BUCKETS,
      registers,
    });
    this.latencyHistogram = new Histogram({
      name: 'prometheus_notifications_latency_histogram_seconds',
      help: 'Latency histogram for sending alert notifications.',
      labelNames: ['alertmanager'] as const,
      buckets: [0.01, 0.1, 1, 10],
      registers,
    });
    this.errors = new Counter({
      name: 'prometheus_notifications_errors_total',
      help: 'Total number of sent alerts affected by errors.',
      labelNames: ['alertmanager'] as const,
      registers,
    });
    this.sent = new Counter({
      name: 'prometheus_notifications_sent_total',
      help: 'Total number of alerts sent.',
      labelNames: ['alertmanager'] as const,
      registers,
    });
    this.dropped = new Counter({
      name: 'prometheus_notifications_dropped_total',
      help: 'Total number of alerts dropped due to errors when sending to Alertmanager.',
      registers,
    });
    new Gauge({
      name: 'prometheus_notifications_queue_length',
      help: 'The number of alert notifications in the queue.',
      registers,
      collect() {
        this.set(queueLength());
      },
    });
    const capacity = new Gauge({
      name: 'prometheus_notifications_queue_capacity',
      help: 'The capacity of the alert notifications queue.',
      registers,
    });
    capacity.set(queueCapacity);
    new Gauge({
      name: 'prometheus_notifications_alertmanagers_discovered',
      help: 'The number of alertmanagers discovered and active.',
      registers,
      collect() {
        this.set(alertmanagersDiscovered());
      },
    });
  }

  /** Starts an Alertmanager's counters at 0, so that rates work from its first send. */
  addAlertmanager(url: string): void {
    this.sent.inc({ alertmanager: url }, 0);
    this.errors.inc({ alertmanager: url }, 0);
  }

  removeAlertmanager(url: string): void {
    const l = { alertmanager: url };
    this.latencySummary.remove(l);
    this.latencyHistogram.remove(l);
    this.sent.remove(l);
    this.errors.remove(l);
  }

  observeSend(url: string, seconds: number, count: number): void {
    const l = { alertmanager: url };
    this.latencySummary.observe(l, seconds);
    this.latencyHistogram.observe(l, seconds);
    this.sent.inc(l, count);
  }
}
