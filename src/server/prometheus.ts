/**
 * The Prometheus text exposition format (version 0.0.4), for the few metric
 * kinds execbox keeps: counters, gauges and histograms with optional labels.
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 *
 * Written here rather than taken from prom-client (15.1.3, measured): that
 * library grew the compiled binary by 716 KiB and the idle executor's RSS by
 * 2.6 MiB (it loads its default collectors and node:cluster at startup), for
 * what is ~100 lines. The OpenTelemetry Prometheus exporter would load the
 * metrics SDK at startup (so the tracing SDK's shared parts too) and adds
 * `otel_scope_*` labels and a `target_info` series to every scrape.
 */

export type Labels = Readonly<Record<string, string>>;

/** The HTTP content type of the exposition. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const escapeHelp = (s: string) => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
const escapeValue = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** `{a="x",b="y"}`, or "" without labels; also the key of a series. */
function labelText(labels: Labels | undefined, extra?: string): string {
  const parts = labels ? Object.entries(labels).map(([k, v]) => `${k}="${escapeValue(v)}"`) : [];
  if (extra !== undefined) parts.push(extra);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function number(v: number): string {
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}

abstract class Family {
  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly type: "counter" | "gauge" | "histogram",
  ) {}

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`);
    this.samples(out);
  }

  protected abstract samples(out: string[]): void;
}

/** A value per label set; series appear once first touched (an unlabelled one from the start). */
class Series extends Family {
  protected readonly values = new Map<string, number>();

  constructor(name: string, help: string, type: "counter" | "gauge", labelled: boolean) {
    super(name, help, type);
    if (!labelled) this.values.set("", 0);
  }

  protected add(labels: Labels | undefined, by: number): void {
    const key = labelText(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  protected samples(out: string[]): void {
    for (const [key, value] of this.values) out.push(`${this.name}${key} ${number(value)}`);
  }
}

export class Counter extends Series {
  constructor(name: string, help: string, labelled = false) {
    super(name, help, "counter", labelled);
  }

  inc(by = 1, labels?: Labels): void {
    this.add(labels, by);
  }
}

export class Gauge extends Series {
  /** `collect`: called at each scrape to set the values (for state read rather than tracked). */
  constructor(name: string, help: string, private readonly collect?: (set: (labels: Labels | undefined, value: number) => void) => void) {
    super(name, help, "gauge", collect !== undefined);
  }

  inc(by = 1): void {
    this.add(undefined, by);
  }

  dec(by = 1): void {
    this.add(undefined, -by);
  }

  protected override samples(out: string[]): void {
    this.collect?.((labels, value) => this.values.set(labelText(labels), value));
    super.samples(out);
  }
}

type HistogramSeries = { labels: Labels | undefined; counts: number[]; sum: number; count: number };

export class Histogram extends Family {
  private readonly series = new Map<string, HistogramSeries>();

  /** `buckets`: upper bounds, ascending; `+Inf` is implied. */
  constructor(name: string, help: string, private readonly buckets: readonly number[]) {
    super(name, help, "histogram");
  }

  observe(value: number, labels?: Labels): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    const at = this.buckets.findIndex((le) => value <= le);
    if (at >= 0) s.counts[at]!++;
    s.sum += value;
    s.count++;
  }

  protected samples(out: string[]): void {
    for (const [key, s] of this.series) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i]!;
        out.push(`${this.name}_bucket${labelText(s.labels, `le="${number(le)}"`)} ${cumulative}`);
      });
      out.push(`${this.name}_bucket${labelText(s.labels, 'le="+Inf"')} ${s.count}`);
      out.push(`${this.name}_sum${key} ${number(s.sum)}`, `${this.name}_count${key} ${s.count}`);
    }
  }
}

/** Families rendered in registration order. */
export class Registry {
  private readonly families: Family[] = [];

  register<F extends Family>(family: F): F {
    this.families.push(family);
    return family;
  }

  text(): string {
    const out: string[] = [];
    for (const f of this.families) f.render(out);
    return `${out.join("\n")}\n`;
  }
}
