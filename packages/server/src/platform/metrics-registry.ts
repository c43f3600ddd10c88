// Prometheus metrics of our own: counters, gauges and histograms with labels, kept as plain
// numbers and rendered in the text exposition format 0.0.4 when scraped. A series (one set of
// label values) is resolved once and kept by whoever counts, so counting on a hot path is a
// property update: no label string is built per call.

/** The exposition format's media type, as Prometheus asks for it. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export type LabelValues<Label extends string> = Readonly<Record<Label, string>>;

export interface MetricOptions<Label extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly Label[];
}

export class CounterSeries {
  value = 0;
  constructor(readonly labels: string) {}

  /** Adds `amount`; anything not above zero (a negative, NaN) is ignored: a counter never goes down. */
  inc(amount = 1): void {
    if (amount > 0) this.value += amount;
  }
}

export class GaugeSeries {
  value = 0;
  constructor(readonly labels: string) {}

  set(value: number): void {
    this.value = value;
  }
}

export class HistogramSeries {
  /** Observations per bucket, not cumulative (the last one is +Inf's); summed when rendered. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: string,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let index = 0;
    while (index < bounds.length && value > bounds[index]!) index++;
    this.counts[index]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

abstract class LabelledMetric<Label extends string, Series> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly Label[];
  private readonly series = new Map<string, Series>();

  constructor({ name, help, labelNames = [] }: MetricOptions<Label>) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  /** The series of these label values, made on first use. Keep it: this lookup joins strings. */
  labels(values: LabelValues<Label>): Series {
    const ordered = this.labelNames.map((label) => values[label]);
    const key = ordered.join('\0');
    let series = this.series.get(key);
    if (!series) {
      const text = this.labelNames.map((label, index) => `${label}="${escapeLabelValue(ordered[index]!)}"`);
      series = this.create(text.join(','));
      this.series.set(key, series);
    }
    return series;
  }

  protected all(): IterableIterator<Series> {
    return this.series.values();
  }

  protected abstract create(labels: string): Series;
  abstract render(lines: string[]): void;

  protected header(lines: string[], type: string): void {
    lines.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${type}`);
  }
}

export class Counter<Label extends string = never> extends LabelledMetric<Label, CounterSeries> {
  protected create(labels: string): CounterSeries {
    return new CounterSeries(labels);
  }

  render(lines: string[]): void {
    this.header(lines, 'counter');
    for (const series of this.all()) lines.push(sample(this.name, series.labels, series.value));
  }
}

export class Gauge<Label extends string = never> extends LabelledMetric<Label, GaugeSeries> {
  protected create(labels: string): GaugeSeries {
    return new GaugeSeries(labels);
  }

  render(lines: string[]): void {
    this.header(lines, 'gauge');
    for (const series of this.all()) lines.push(sample(this.name, series.labels, series.value));
  }
}

export class Histogram<Label extends string = never> extends LabelledMetric<Label, HistogramSeries> {
  readonly buckets: readonly number[];
  /** `le="…"` of each bucket, +Inf last. */
  private readonly le: readonly string[];

  constructor(options: MetricOptions<Label> & { readonly buckets: readonly number[] }) {
    super(options);
    const { buckets } = options;
    if (buckets.length === 0 || buckets.some((bound, index) => index > 0 && bound <= buckets[index - 1]!)) {
      throw new Error(`metric ${options.name}: buckets must be increasing`);
    }
    if (!buckets.every(Number.isFinite)) throw new Error(`metric ${options.name}: +Inf is implied`);
    this.buckets = Object.freeze([...buckets]);
    this.le = [...buckets.map((bound) => `le="${formatValue(bound)}"`), 'le="+Inf"'];
  }

  protected create(labels: string): HistogramSeries {
    return new HistogramSeries(labels, this.buckets);
  }

  render(lines: string[]): void {
    this.header(lines, 'histogram');
    for (const series of this.all()) {
      const prefix = series.labels ? `${series.labels},` : '';
      let cumulative = 0;
      for (let index = 0; index < this.le.length; index++) {
        cumulative += series.counts[index]!;
        lines.push(`${this.name}_bucket{${prefix}${this.le[index]}} ${formatValue(cumulative)}`);
      }
      lines.push(sample(`${this.name}_sum`, series.labels, series.sum));
      lines.push(sample(`${this.name}_count`, series.labels, series.count));
    }
  }
}

/** A value read when scraped (e.g. the process's CPU time), not counted as it happens. */
class SampledMetric {
  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly type: 'counter' | 'gauge',
    private readonly read: () => number,
  ) {}

  render(lines: string[]): void {
    lines.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`);
    lines.push(sample(this.name, '', this.read()));
  }
}

type Renderable = { readonly name: string; render(lines: string[]): void };

export class MetricsRegistry {
  private readonly metrics: Renderable[] = [];

  counter<Label extends string = never>(options: MetricOptions<Label>): Counter<Label> {
    return this.add(new Counter(options), options.labelNames);
  }

  gauge<Label extends string = never>(options: MetricOptions<Label>): Gauge<Label> {
    return this.add(new Gauge(options), options.labelNames);
  }

  histogram<Label extends string = never>(
    options: MetricOptions<Label> & { readonly buckets: readonly number[] },
  ): Histogram<Label> {
    if (options.labelNames?.includes('le' as Label)) {
      throw new Error(`metric ${options.name}: "le" is a histogram's own label`);
    }
    return this.add(new Histogram(options), options.labelNames);
  }

  /** A metric without labels whose value `read` gives at each scrape. */
  sampled({
    name,
    help,
    type,
    read,
  }: {
    name: string;
    help: string;
    type: 'counter' | 'gauge';
    read: () => number;
  }): void {
    this.add(new SampledMetric(name, help, type, read), []);
  }

  /** Every metric in the text exposition format 0.0.4, in the order they were made. */
  render(): string {
    const lines: string[] = [];
    for (const metric of this.metrics) metric.render(lines);
    lines.push('');
    return lines.join('\n');
  }

  private add<Metric extends Renderable>(metric: Metric, labelNames: readonly string[] = []): Metric {
    if (!METRIC_NAME.test(metric.name)) throw new Error(`invalid metric name ${JSON.stringify(metric.name)}`);
    if (this.metrics.some((existing) => existing.name === metric.name)) {
      throw new Error(`metric ${metric.name} is already registered`);
    }
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith('__')) {
        throw new Error(`metric ${metric.name}: invalid label name ${JSON.stringify(label)}`);
      }
    }
    if (new Set(labelNames).size !== labelNames.length) {
      throw new Error(`metric ${metric.name}: a label name is repeated`);
    }
    this.metrics.push(metric);
    // A metric without labels has its one series from the start: it reads 0 before anything.
    if (labelNames.length === 0 && metric instanceof LabelledMetric) metric.labels({});
    return metric;
  }
}

function sample(name: string, labels: string, value: number): string {
  return labels ? `${name}{${labels}} ${formatValue(value)}` : `${name} ${formatValue(value)}`;
}

/** Go's float syntax, as Prometheus parses it: `+Inf`, `-Inf`, `NaN`, else JavaScript's digits. */
export function formatValue(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  return String(value);
}

/** In a label value, `\`, `"` and a line feed are escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (character) =>
    character === '\\' ? '\\\\' : character === '"' ? '\\"' : '\\n',
  );
}

/** In HELP text, `\` and a line feed are escaped. */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (character) => (character === '\\' ? '\\\\' : '\\n'));
}
