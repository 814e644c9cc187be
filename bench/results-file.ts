/** Sections of bench/results.md that scripts other than `bun run bench` own: replaced in place, or appended. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./servers.ts";

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
