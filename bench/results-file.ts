/** Sections of bench/results.md that scripts other than `bun run bench` own: replaced in place, or appended. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO, machineInfo } from "./servers.ts";

/** A section's `## heading`, a date / machine / revision line, `how` (a `- …` line), and a blank line. */
export function sectionHead(heading: string, how: string): string {
  const m = machineInfo();
  const rev = Bun.spawnSync(["git", "describe", "--always", "--dirty"], { cwd: REPO, stdout: "pipe" }).stdout.toString().trim();
  return [`## ${heading}`, "", `- date: ${new Date().toISOString()}; ${m.nproc} CPUs, ${m.cpu}, Linux ${m.kernel}, Bun ${Bun.version}; execbox git ${rev}`, how, ""].join("\n");
}

/** Writes `text` (starting with its `## …` heading line) over the section with the same heading. */
export function writeResultsSection(text: string): void {
  const file = join(REPO, "bench/results.md");
  writeFileSync(file, withSection(existsSync(file) ? readFileSync(file, "utf8") : "", text));
}

/** `old` with `text` over the section with the same heading, or appended; one blank line before each heading. */
export function withSection(old: string, text: string): string {
  const heading = text.slice(0, text.indexOf("\n") + 1);
  const [at, next] = [old.indexOf(heading), old.indexOf("\n## ", old.indexOf(heading) + 1)];
  const own = `${text.trimEnd()}\n`;
  if (at < 0) return `${old.trimEnd()}\n\n${own}`;
  return `${old.slice(0, at)}${own}${next < 0 ? "" : `\n${old.slice(next + 1)}`}`;
}

/** Writes the main report (everything before the first `## ` section), keeping the sections other scripts own. */
export function writeMainResults(report: string): void {
  const file = join(REPO, "bench/results.md");
  const old = existsSync(file) ? readFileSync(file, "utf8") : "";
  const sections = old.indexOf("\n## ");
  writeFileSync(file, sections < 0 ? report : `${report.trimEnd()}\n${old.slice(sections)}`);
}

/**
 * A section for `writeResultsSection`: its `## heading`, the machine and
 * revision, `how` it was measured (a `- …` line), and a table with one column
 * per server and one row per metric.
 */
export function resultsSection<O extends { label: string }>(heading: string, how: string, outs: O[], rows: [string, (o: O) => string][]): string {
  return [
    sectionHead(heading, how),
    `| Metric | ${outs.map((o) => o.label).join(" | ")} |`,
    `|---|${outs.map(() => "---").join("|")}|`,
    ...rows.map(([name, f]) => `| ${name} | ${outs.map(f).join(" | ")} |`),
    "",
  ].join("\n");
}

/** One row of a side-by-side table: execbox, the reference, which way is better, and an optional target for execbox. */
export type Row = { metric: string; exec: number; ref: number; digits: number; better: "lower" | "higher"; target?: { limit: number; text: string } };

/** Rows as a markdown table with the execbox ÷ reference ratio and whether execbox met its target. */
export function table(rs: Row[]): string {
  const out = [
    "| Metric | execbox | reference | execbox / ref | execbox target |",
    "|---|---:|---:|---:|---|",
  ];
  for (const r of rs) {
    const ratio = r.exec / r.ref;
    const wins = r.better === "lower" ? ratio <= 1 : ratio >= 1;
    const t = r.target;
    const met = t && (r.better === "lower" ? r.exec <= t.limit : r.exec >= t.limit);
    const target = t ? `${t.text} ${met ? "✅" : "❌ missed"}` : "";
    out.push(
      `| ${r.metric} | ${r.exec.toFixed(r.digits)} | ${r.ref.toFixed(r.digits)} | ${ratio.toFixed(2)}× (${r.better} is better${wins ? "" : ", worse"}) | ${target} |`,
    );
  }
  return out.join("\n");
}
