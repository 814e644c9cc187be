/** The Prometheus text format (exact bytes) and the flow's back-pressure hook. */
import { expect, test } from "bun:test";
import { ConnectionFlow, type SendResult } from "../../src/server/flow.ts";
import { metrics } from "../../src/server/metrics.ts";
import { Counter, Gauge, Histogram, Registry } from "../../src/server/prometheus.ts";

test("counters, gauges and histograms render as the exposition format, label values escaped", () => {
  const r = new Registry();
  const c = r.register(new Counter("c_total", "A counter\\with \"help\"\nlines.", true));
  const g = r.register(new Gauge("g", "A gauge."));
  r.register(new Gauge("s", "Read at scrape.", (set) => set({ state: "a" }, 7)));
  const h = r.register(new Histogram("h_seconds", "A histogram.", [0.1, 1]));
  c.inc(2, { m: 'x"y\\z\n' });
  c.inc(1, { m: 'x"y\\z\n' });
  g.inc(5);
  g.dec(2);
  h.observe(0.05, { m: "a" });
  h.observe(0.5, { m: "a" });
  h.observe(3, { m: "a" });
  expect(r.text()).toBe(
    [
      "# HELP c_total A counter\\\\with \"help\"\\nlines.",
      "# TYPE c_total counter",
      'c_total{m="x\\"y\\\\z\\n"} 3',
      "# HELP g A gauge.",
      "# TYPE g gauge",
      "g 3",
      "# HELP s Read at scrape.",
      "# TYPE s gauge",
      's{state="a"} 7',
      "# HELP h_seconds A histogram.",
      "# TYPE h_seconds histogram",
      'h_seconds_bucket{m="a",le="0.1"} 1',
      'h_seconds_bucket{m="a",le="1"} 2',
      'h_seconds_bucket{m="a",le="+Inf"} 3',
      'h_seconds_sum{m="a"} 3.55',
      'h_seconds_count{m="a"} 3',
      "",
    ].join("\n"),
  );
});

test("each producer told to wait by a backed-up connection counts one back-pressure wait", () => {
  const waits = () => Number(/^execbox_backpressure_waits_total (\d+)$/m.exec(metrics.text())![1]);
  let answer: SendResult = "sent";
  const flow = new ConnectionFlow({ send: () => answer, abort: () => {} }, 1);
  const before = waits();
  expect(flow.ready()).toBeUndefined();
  answer = "congested";
  flow.send("x");
  expect(flow.ready()).toBeInstanceOf(Promise);
  expect(flow.ready()).toBeInstanceOf(Promise);
  expect(waits()).toBe(before + 2);
  answer = "sent";
  flow.drained();
  expect(flow.ready()).toBeUndefined();
  expect(waits()).toBe(before + 2);
});
