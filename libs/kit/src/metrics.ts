/**
 * A small Prometheus registry: counters, gauges and fixed-bucket histograms, rendered in the text exposition
 * format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/). Metrics are defined once, at
 * start; a definition mistake (bad name, duplicate, reserved label) throws at once, never at scrape time.
 * Every service's metrics are listed in its docs (order-state: docs/query-api.md; collector and normalizer:
 * docs/metrics.md). Moved here from order-state so every service shares one implementation.
 */

/** The content type of `render()`'s output. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** One value per label name of the metric, no more, no fewer. */
export type LabelValues<L extends string> = { readonly [K in L]: string };

export interface MetricDefinition<L extends string = never> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}

export interface HistogramDefinition<L extends string = never> extends MetricDefinition<L> {
  /** Upper bounds, strictly increasing and finite; the `+Inf` bucket is always added. */
  buckets: readonly number[];
}

/** What a function metric reads at every render: one value (no labels) or one value per label set. */
export type Reading<L extends string> = number | Iterable<readonly [LabelValues<L>, number]>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Label values escape backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\\' ? '\\\\' : c === '"' ? '\\"' : '\\n'));
}

/** HELP text escapes backslash and line feed (a double quote stays as it is). */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === '\\' ? '\\\\' : '\\n'));
}

/** A sample value as Prometheus parses it: `+Inf`, `-Inf`, `NaN`, else JavaScript's shortest exact form. */
export function formatValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  return String(value);
}

/** A sample's metric name followed by its `{label="value",...}` set (nothing when there are no labels). */
function sampleName(name: string, labelNames: readonly string[], values: readonly string[], extra?: string): string {
  if (labelNames.length === 0 && extra === undefined) return name;
  let out = `${name}{`;
  for (let i = 0; i < labelNames.length; i++) out += `${i > 0 ? ',' : ''}${labelNames[i]}="${escapeLabelValue(values[i] ?? '')}"`;
  if (extra !== undefined) out += `${labelNames.length > 0 ? ',' : ''}${extra}`;
  return `${out}}`;
}

abstract class Metric<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  abstract readonly type: MetricType;

  constructor(def: MetricDefinition<L>) {
    this.name = def.name;
    this.help = def.help;
    this.labelNames = def.labelNames ?? [];
  }

  /** The label values in the metric's label-name order; throws on a missing or unexpected label. */
  protected valuesOf(labels: LabelValues<L> | undefined): string[] {
    const given = (labels ?? {}) as Record<string, unknown>;
    const values: string[] = [];
    for (const n of this.labelNames) {
      const v = given[n];
      if (v === undefined) throw new TypeError(`${this.name}: missing label "${n}"`);
      if (typeof v !== 'string') throw new TypeError(`${this.name}: label "${n}" must be a string`);
      values.push(v);
    }
    const count = Object.keys(given).length;
    if (count !== this.labelNames.length) {
      const extra = Object.keys(given).filter((k) => !(this.labelNames as readonly string[]).includes(k));
      throw new TypeError(`${this.name}: unexpected label(s) ${extra.join(', ')}`);
    }
    return values;
  }

  /** The sample lines, each ending in a line feed. */
  abstract samples(): string;

  render(): string {
    return `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n${this.samples()}`;
  }
}

/** One stored value per label set, kept in first-use order. */
abstract class ValueMetric<L extends string> extends Metric<L> {
  readonly #series = new Map<string, { values: string[]; value: number }>();

  constructor(def: MetricDefinition<L>) {
    super(def);
    // A metric without labels exposes 0 before its first change, as Prometheus clients do.
    if (this.labelNames.length === 0) this.#series.set('[]', { values: [], value: 0 });
  }

  protected series(labels: LabelValues<L> | undefined): { value: number } {
    const values = this.valuesOf(labels);
    const key = JSON.stringify(values);
    let s = this.#series.get(key);
    if (!s) {
      s = { values, value: 0 };
      this.#series.set(key, s);
    }
    return s;
  }

  /** The current value of one label set (0 if never touched). */
  get(labels?: LabelValues<L>): number {
    return this.#series.get(JSON.stringify(this.valuesOf(labels)))?.value ?? 0;
  }

  samples(): string {
    let out = '';
    for (const s of this.#series.values()) out += `${sampleName(this.name, this.labelNames, s.values)} ${formatValue(s.value)}\n`;
    return out;
  }
}

export class Counter<L extends string = never> extends ValueMetric<L> {
  readonly type = 'counter';

  /** Adds `by` (default 1, never negative) to the label set's count. */
  inc(labels?: LabelValues<L>, by = 1): void {
    if (!(by >= 0)) throw new RangeError(`${this.name}: a counter only goes up (got ${by})`);
    this.series(labels).value += by;
  }
}

export class Gauge<L extends string = never> extends ValueMetric<L> {
  readonly type = 'gauge';

  set(labels: LabelValues<L> | undefined, value: number): void {
    this.series(labels).value = value;
  }

  inc(labels?: LabelValues<L>, by = 1): void {
    this.series(labels).value += by;
  }

  dec(labels?: LabelValues<L>, by = 1): void {
    this.series(labels).value -= by;
  }
}

interface HistogramSeries {
  values: string[];
  /** per bucket, not cumulative; the last slot is the +Inf bucket */
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram<L extends string = never> extends Metric<L> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];
  readonly #bounds: string[];
  readonly #series = new Map<string, HistogramSeries>();

  constructor(def: HistogramDefinition<L>) {
    super(def);
    if ((this.labelNames as readonly string[]).includes('le')) throw new TypeError(`${def.name}: "le" is reserved for histogram buckets`);
    if (def.buckets.length === 0) throw new TypeError(`${def.name}: a histogram needs at least one bucket`);
    def.buckets.forEach((b, i) => {
      if (!Number.isFinite(b)) throw new TypeError(`${def.name}: bucket bounds must be finite (+Inf is added by itself)`);
      if (i > 0 && b <= (def.buckets[i - 1] as number)) throw new TypeError(`${def.name}: bucket bounds must be strictly increasing`);
    });
    this.buckets = [...def.buckets];
    this.#bounds = [...this.buckets.map(formatValue), '+Inf'];
    if (this.labelNames.length === 0) this.#series.set('[]', this.#empty([]));
  }

  #empty(values: string[]): HistogramSeries {
    return { values, counts: new Array<number>(this.#bounds.length).fill(0), sum: 0, count: 0 };
  }

  /** Counts one observation (in the metric's unit: seconds for a `_seconds` histogram). */
  observe(labels: LabelValues<L> | undefined, value: number): void {
    if (Number.isNaN(value)) throw new RangeError(`${this.name}: cannot observe NaN`);
    const values = this.valuesOf(labels);
    const key = JSON.stringify(values);
    let s = this.#series.get(key);
    if (!s) {
      s = this.#empty(values);
      this.#series.set(key, s);
    }
    let i = 0;
    while (i < this.buckets.length && value > (this.buckets[i] as number)) i++;
    s.counts[i] = (s.counts[i] ?? 0) + 1;
    s.sum += value;
    s.count++;
  }

  samples(): string {
    let out = '';
    for (const s of this.#series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.#bounds.length; i++) {
        cumulative += s.counts[i] ?? 0;
        out += `${sampleName(`${this.name}_bucket`, this.labelNames, s.values, `le="${this.#bounds[i]}"`)} ${cumulative}\n`;
      }
      out += `${sampleName(`${this.name}_sum`, this.labelNames, s.values)} ${formatValue(s.sum)}\n`;
      out += `${sampleName(`${this.name}_count`, this.labelNames, s.values)} ${s.count}\n`;
    }
    return out;
  }
}

/** A counter or gauge whose values are read from a function at every render (like the Go client's CounterFunc). */
class FunctionMetric<L extends string> extends Metric<L> {
  readonly type: 'counter' | 'gauge';
  readonly #read: () => Reading<L>;

  constructor(type: 'counter' | 'gauge', def: MetricDefinition<L>, read: () => Reading<L>) {
    super(def);
    this.type = type;
    this.#read = read;
  }

  samples(): string {
    const reading = this.#read();
    if (typeof reading === 'number') {
      if (this.labelNames.length > 0) throw new TypeError(`${this.name}: has labels, so it must read label sets, not one number`);
      return `${this.name} ${formatValue(reading)}\n`;
    }
    let out = '';
    for (const [labels, value] of reading) out += `${sampleName(this.name, this.labelNames, this.valuesOf(labels))} ${formatValue(value)}\n`;
    return out;
  }
}

/** Metrics defined once, rendered in definition order. */
export class MetricsRegistry {
  readonly #metrics: Metric<string>[] = [];
  /** every sample name in use, histogram suffixes included, so no two metrics can produce the same series */
  readonly #names = new Set<string>();

  #add<M extends Metric<string>>(metric: M, def: MetricDefinition<string>): M {
    if (!METRIC_NAME.test(def.name)) throw new TypeError(`invalid metric name "${def.name}"`);
    const labelNames = def.labelNames ?? [];
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith('__')) throw new TypeError(`${def.name}: invalid label name "${l}"`);
    }
    if (new Set(labelNames).size !== labelNames.length) throw new TypeError(`${def.name}: duplicate label name`);
    const names = metric.type === 'histogram' ? [def.name, `${def.name}_bucket`, `${def.name}_sum`, `${def.name}_count`] : [def.name];
    for (const n of names) if (this.#names.has(n)) throw new TypeError(`metric "${n}" is already defined`);
    for (const n of names) this.#names.add(n);
    this.#metrics.push(metric);
    return metric;
  }

  counter<L extends string = never>(def: MetricDefinition<L>): Counter<L> {
    return this.#add(new Counter<L>(def), def);
  }

  gauge<L extends string = never>(def: MetricDefinition<L>): Gauge<L> {
    return this.#add(new Gauge<L>(def), def);
  }

  histogram<L extends string = never>(def: HistogramDefinition<L>): Histogram<L> {
    return this.#add(new Histogram<L>(def), def);
  }

  /** A counter whose totals are read at every render (they must never go down, except across a restart). */
  counterFunc<L extends string = never>(def: MetricDefinition<L>, read: () => Reading<L>): void {
    this.#add(new FunctionMetric<L>('counter', def, read), def);
  }

  /** A gauge whose values are read at every render. */
  gaugeFunc<L extends string = never>(def: MetricDefinition<L>, read: () => Reading<L>): void {
    this.#add(new FunctionMetric<L>('gauge', def, read), def);
  }

  /** The exposition text: per metric `# HELP`, `# TYPE`, then its samples; every line ends in a line feed. */
  render(): string {
    let out = '';
    for (const m of this.#metrics) out += m.render();
    return out;
  }
}
