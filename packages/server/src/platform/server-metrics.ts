// What Atelier tells Prometheus: the process (read at each scrape), HTTP requests by route
// pattern, upstream calls, model tokens and runs. Made once in main.ts and handed to whoever
// counts, as narrow callbacks; the series each one counts into are resolved once and kept.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type CounterSeries, type HistogramSeries, MetricsRegistry } from './metrics-registry.js';

/** The requests of one route and method: counted by status when each one's response closes. */
export interface HttpRouteSeries {
  observe(status: number, seconds: number): void;
}

/** One upstream's attempts: the status of each answer and how long its head took, or none. */
export interface UpstreamSeries {
  answered(status: number, seconds: number): void;
  failed(): void;
}

export interface ServerMetrics {
  /** Every metric in the text exposition format 0.0.4; the process's are read now. */
  render(): string;
  /** `route` is the route's pattern (`/v1/threads/:thread_id/runs`), never a URL. */
  httpRoute(method: string, route: string): HttpRouteSeries;
  upstream(name: string): UpstreamSeries;
  modelTokens(model: string, inputTokens: number, outputTokens: number): void;
  /** A run reached a terminal status (completed, incomplete, failed, cancelled, expired). */
  runEnded(status: string): void;
  /** Stops the event-loop delay monitor. */
  close(): void;
}

/** Seconds. From a fraction of a millisecond (the gateway's own overhead) to a long generation. */
const REQUEST_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
];
const FIRST_BYTE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** How often the event-loop delay monitor samples, in ms (its samples include this interval). */
const EVENT_LOOP_RESOLUTION_MS = 10;
const EVENT_LOOP_WINDOW_MS = 15_000;

export function createServerMetrics(): ServerMetrics {
  const registry = new MetricsRegistry();

  // The process, read at each scrape.
  registry.sampled({
    name: 'process_cpu_user_seconds_total',
    help: 'User CPU time spent by the process, in seconds.',
    type: 'counter',
    read: () => process.cpuUsage().user / 1e6,
  });
  registry.sampled({
    name: 'process_cpu_system_seconds_total',
    help: 'System CPU time spent by the process, in seconds.',
    type: 'counter',
    read: () => process.cpuUsage().system / 1e6,
  });
  registry.sampled({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size of the process, in bytes.',
    type: 'gauge',
    read: () => process.memoryUsage.rss(),
  });
  const startTime = performance.timeOrigin / 1000;
  registry.sampled({
    name: 'process_start_time_seconds',
    help: 'Start time of the process since the Unix epoch, in seconds.',
    type: 'gauge',
    read: () => startTime,
  });
  registry.sampled({
    name: 'nodejs_heap_size_used_bytes',
    help: 'V8 heap in use, in bytes.',
    type: 'gauge',
    read: () => process.memoryUsage().heapUsed,
  });
  // Each sample is the time between two ticks of a 10 ms timer: what passed beyond the 10 ms is
  // the lag. The 99th percentile over a fixed window shows stalls that an average hides; windows
  // are the server's own, so any number of scrapers read the same value (the last whole window,
  // or the one under way before the first has ended). Neither timer keeps the process alive.
  const delay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  delay.enable();
  const lagOfWindow = () =>
    Math.max(0, delay.count > 0 ? delay.percentile(99) - EVENT_LOOP_RESOLUTION_MS * 1e6 : 0) / 1e9;
  let lastWindowLag: number | undefined;
  const windows = setInterval(() => {
    lastWindowLag = lagOfWindow();
    delay.reset();
  }, EVENT_LOOP_WINDOW_MS);
  windows.unref();
  registry.sampled({
    name: 'nodejs_eventloop_lag_seconds',
    help: `Event loop lag (99th percentile over the last ${EVENT_LOOP_WINDOW_MS / 1000} s window), in seconds.`,
    type: 'gauge',
    read: () => lastWindowLag ?? lagOfWindow(),
  });

  const httpRequests = registry.counter({
    name: 'atelier_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status (499: the client left before any answer).',
    labelNames: ['method', 'route', 'status'],
  });
  const httpDuration = registry.histogram({
    name: 'atelier_http_request_duration_seconds',
    help: 'Time from a request to its response closing (a stream: its end), in seconds.',
    labelNames: ['method', 'route'],
    buckets: REQUEST_BUCKETS,
  });
  const upstreamRequests = registry.counter({
    name: 'atelier_upstream_requests_total',
    help: 'Attempts of requests to upstreams, by answer status ("error": no answer, e.g. refused or timed out).',
    labelNames: ['upstream', 'status'],
  });
  const upstreamFirstByte = registry.histogram({
    name: 'atelier_upstream_first_byte_seconds',
    help: "Time from an upstream attempt's start to its answer's head, in seconds.",
    labelNames: ['upstream'],
    buckets: FIRST_BYTE_BUCKETS,
  });
  const modelTokens = registry.counter({
    name: 'atelier_model_tokens_total',
    help: 'Tokens of model calls as the usage ledger counts them, by model and kind (input, output); GPTs as model="gpt", ids not listed as model="unlisted".',
    labelNames: ['model', 'kind'],
  });
  const runs = registry.counter({
    name: 'atelier_runs_total',
    help: 'Assistants runs that reached a terminal status, by status.',
    labelNames: ['status'],
  });

  const routes = new Map<string, Map<string, HttpRouteSeries>>();
  const upstreams = new Map<string, UpstreamSeries>();
  const models = new Map<string, { readonly input: CounterSeries; readonly output: CounterSeries }>();
  const runStatuses = new Map<string, CounterSeries>();

  return {
    render: () => registry.render(),
    httpRoute(method, route) {
      let byMethod = routes.get(route);
      if (!byMethod) {
        byMethod = new Map();
        routes.set(route, byMethod);
      }
      let series = byMethod.get(method);
      if (!series) {
        series = byStatus({
          duration: httpDuration.labels({ method, route }),
          count: (status) => httpRequests.labels({ method, route, status }),
        });
        byMethod.set(method, series);
      }
      return series;
    },
    upstream(name) {
      let series = upstreams.get(name);
      if (!series) {
        const answers = byStatus({
          duration: upstreamFirstByte.labels({ upstream: name }),
          count: (status) => upstreamRequests.labels({ upstream: name, status }),
        });
        const failures = upstreamRequests.labels({ upstream: name, status: 'error' });
        series = {
          answered: (status, seconds) => answers.observe(status, seconds),
          failed: () => failures.inc(),
        };
        upstreams.set(name, series);
      }
      return series;
    },
    modelTokens(model, inputTokens, outputTokens) {
      let series = models.get(model);
      if (!series) {
        series = {
          input: modelTokens.labels({ model, kind: 'input' }),
          output: modelTokens.labels({ model, kind: 'output' }),
        };
        models.set(model, series);
      }
      series.input.inc(inputTokens);
      series.output.inc(outputTokens);
    },
    runEnded(status) {
      let series = runStatuses.get(status);
      if (!series) {
        series = runs.labels({ status });
        runStatuses.set(status, series);
      }
      series.inc();
    },
    close() {
      clearInterval(windows);
      delay.disable();
    },
  };
}

/** A duration histogram's series and a counter's series per status, each resolved on first use. */
function byStatus({
  duration,
  count,
}: {
  duration: HistogramSeries;
  count: (status: string) => CounterSeries;
}): HttpRouteSeries {
  const statuses = new Map<number, CounterSeries>();
  return {
    observe(status, seconds) {
      let counter = statuses.get(status);
      if (!counter) {
        counter = count(String(status));
        statuses.set(status, counter);
      }
      counter.inc();
      duration.observe(seconds);
    },
  };
}
