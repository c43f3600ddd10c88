import { describe, expect, it } from 'vitest';
import {
  EXPOSITION_CONTENT_TYPE,
  escapeLabelValue,
  formatValue,
  MetricsRegistry,
} from './metrics-registry.js';

describe('MetricsRegistry', () => {
  it('renders counters and gauges in the text exposition format 0.0.4', () => {
    const registry = new MetricsRegistry();
    const requests = registry.counter({
      name: 'app_requests_total',
      help: 'Requests.',
      labelNames: ['method', 'status'],
    });
    const temperature = registry.gauge({ name: 'app_temperature_celsius', help: 'Warmth.' });
    const okGets = requests.labels({ method: 'GET', status: '200' });
    okGets.inc();
    okGets.inc(2);
    requests.labels({ status: '404', method: 'POST' }).inc();
    temperature.labels({}).set(-1.5);

    expect(registry.render()).toBe(
      [
        '# HELP app_requests_total Requests.',
        '# TYPE app_requests_total counter',
        'app_requests_total{method="GET",status="200"} 3',
        'app_requests_total{method="POST",status="404"} 1',
        '# HELP app_temperature_celsius Warmth.',
        '# TYPE app_temperature_celsius gauge',
        'app_temperature_celsius -1.5',
        '',
      ].join('\n'),
    );
    expect(EXPOSITION_CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('resolves a series once: the same label values give the same object', () => {
    const registry = new MetricsRegistry();
    const counter = registry.counter({ name: 'hits_total', help: 'Hits.', labelNames: ['a', 'b'] });
    const series = counter.labels({ a: 'x', b: 'y' });
    expect(counter.labels({ b: 'y', a: 'x' })).toBe(series);
    expect(counter.labels({ a: 'x', b: 'z' })).not.toBe(series);
  });

  it('renders a histogram with cumulative buckets, +Inf, _sum and _count', () => {
    const registry = new MetricsRegistry();
    const latency = registry.histogram({
      name: 'app_latency_seconds',
      help: 'Latency.',
      labelNames: ['route'],
      buckets: [0.005, 0.1, 1],
    });
    const series = latency.labels({ route: '/v1/threads/:thread_id/runs' });
    for (const value of [0.001, 0.005, 0.05, 0.5, 7]) series.observe(value);

    expect(registry.render()).toBe(
      [
        '# HELP app_latency_seconds Latency.',
        '# TYPE app_latency_seconds histogram',
        'app_latency_seconds_bucket{route="/v1/threads/:thread_id/runs",le="0.005"} 2',
        'app_latency_seconds_bucket{route="/v1/threads/:thread_id/runs",le="0.1"} 3',
        'app_latency_seconds_bucket{route="/v1/threads/:thread_id/runs",le="1"} 4',
        'app_latency_seconds_bucket{route="/v1/threads/:thread_id/runs",le="+Inf"} 5',
        'app_latency_seconds_sum{route="/v1/threads/:thread_id/runs"} 7.556',
        'app_latency_seconds_count{route="/v1/threads/:thread_id/runs"} 5',
        '',
      ].join('\n'),
    );
  });

  it('renders a histogram without labels from the start, at zero', () => {
    const registry = new MetricsRegistry();
    registry.histogram({ name: 'wait_seconds', help: 'Wait.', buckets: [1] });
    expect(registry.render()).toContain(
      ['wait_seconds_bucket{le="1"} 0', 'wait_seconds_bucket{le="+Inf"} 0', 'wait_seconds_sum 0'].join('\n'),
    );
  });

  it('shows only HELP and TYPE for a labelled metric nothing counted yet', () => {
    const registry = new MetricsRegistry();
    registry.counter({ name: 'later_total', help: 'Later.', labelNames: ['kind'] });
    expect(registry.render()).toBe('# HELP later_total Later.\n# TYPE later_total counter\n');
  });

  it('escapes backslash, double quote and line feed in label values, and in HELP text', () => {
    const registry = new MetricsRegistry();
    const counter = registry.counter({
      name: 'odd_total',
      help: 'A \\ backslash\nand a new line.',
      labelNames: ['model'],
    });
    counter.labels({ model: 'a\\b"c"\nd' }).inc();
    expect(registry.render()).toBe(
      [
        '# HELP odd_total A \\\\ backslash\\nand a new line.',
        '# TYPE odd_total counter',
        'odd_total{model="a\\\\b\\"c\\"\\nd"} 1',
        '',
      ].join('\n'),
    );
    expect(escapeLabelValue('plain')).toBe('plain');
  });

  it('reads sampled metrics at each render', () => {
    const registry = new MetricsRegistry();
    let value = 1.25;
    registry.sampled({ name: 'cpu_seconds_total', help: 'CPU.', type: 'counter', read: () => value });
    expect(registry.render()).toContain('# TYPE cpu_seconds_total counter\ncpu_seconds_total 1.25\n');
    value = 2.000001;
    expect(registry.render()).toContain('cpu_seconds_total 2.000001\n');
  });

  it('never lets a counter go down', () => {
    const registry = new MetricsRegistry();
    const series = registry.counter({ name: 'tokens_total', help: 'Tokens.' }).labels({});
    series.inc(5);
    series.inc(-3);
    series.inc(Number.NaN);
    expect(series.value).toBe(5);
  });

  it('writes special values as Prometheus reads them', () => {
    expect(formatValue(Number.POSITIVE_INFINITY)).toBe('+Inf');
    expect(formatValue(Number.NEGATIVE_INFINITY)).toBe('-Inf');
    expect(formatValue(Number.NaN)).toBe('NaN');
    expect(formatValue(0.000123)).toBe('0.000123');
  });

  it('refuses invalid and duplicate names', () => {
    const registry = new MetricsRegistry();
    registry.counter({ name: 'taken_total', help: 'x' });
    expect(() => registry.counter({ name: 'taken_total', help: 'x' })).toThrow(/already registered/);
    expect(() => registry.counter({ name: 'bad-name', help: 'x' })).toThrow(/invalid metric name/);
    expect(() => registry.counter({ name: 'ok_total', help: 'x', labelNames: ['__reserved'] })).toThrow(
      /invalid label name/,
    );
    expect(() =>
      registry.histogram({ name: 'h_seconds', help: 'x', labelNames: ['le'], buckets: [1] }),
    ).toThrow(/"le"/);
    expect(() => registry.histogram({ name: 'h2_seconds', help: 'x', buckets: [2, 1] })).toThrow(
      /increasing/,
    );
  });
});
