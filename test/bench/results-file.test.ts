/** bench/results.md's sections: one replaced in place keeps the blank line before the next heading. */
import { expect, test } from "bun:test";
import { withSection } from "../../bench/results-file.ts";

const section = (heading: string, body: string) => `## ${heading}\n\n${body}\n`;

test("a section replaced in place, appended, or last is separated from the next heading by one blank line", () => {
  const old = `# Results\n\n${section("A", "| a | 1 |")}\n${section("B", "| b | 1 |")}`;
  expect(withSection(old, section("A", "| a | 2 |"))).toBe(`# Results\n\n${section("A", "| a | 2 |")}\n${section("B", "| b | 1 |")}`);
  expect(withSection(old, section("B", "| b | 2 |"))).toBe(`# Results\n\n${section("A", "| a | 1 |")}\n${section("B", "| b | 2 |")}`);
  expect(withSection(old, section("C", "| c | 1 |"))).toBe(`${old}\n${section("C", "| c | 1 |")}`);
});
