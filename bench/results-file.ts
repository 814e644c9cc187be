/** Sections of bench/results.md that scripts other than `bun run bench` own: replaced in place, or appended. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO, machineInfo } from "./servers.ts";

/** Writes `text` (starting with its `## …` heading line) over the section with the same heading. */
export function writeResultsSection(text: string): void {
  const [file, heading] = [join(REPO, "bench/results.md"), text.slice(0, text.indexOf("\n") + 1)];
  const old = existsSync(file) ? readFileSync(file, "utf8") : "";
  const [at, next] = [old.indexOf(heading), old.indexOf("\n## ", old.indexOf(heading) + 1)];
  writeFileSync(file, at < 0 ? `${old.trimEnd()}\n\n${text}` : `${old.slice(0, at)}${text}${next < 0 ? "" : old.slice(next + 1)}`);
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
  const m = machineInfo();
  const rev = Bun.spawnSync(["git", "describe", "--always", "--dirty"], { cwd: REPO, stdout: "pipe" }).stdout.toString().trim();
  return [
    `## ${heading}`,
    "",
    `- date: ${new Date().toISOString()}; ${m.nproc} CPUs, ${m.cpu}, Linux ${m.kernel}, Bun ${Bun.version}; execbox git ${rev}`,
    how,
    "",
    `| Metric | ${outs.map((o) => o.label).join(" | ")} |`,
    `|---|${outs.map(() => "---").join("|")}|`,
    ...rows.map(([name, f]) => `| ${name} | ${outs.map(f).join(" | ")} |`),
    "",
  ].join("\n");
}
