/**
 * UUID text validation with the uuid crate's error texts, for
 * `process/start.metadata.threadId` (simple, hyphenated or `urn:uuid:` form).
 */
const HEX = /^[0-9a-fA-F]$/;
const GROUPS = [8, 4, 4, 4, 12];

/** Returns undefined when `text` is a UUID, else the reference's message. */
export function uuidProblem(text: string): string | undefined {
  const body = text.startsWith("urn:uuid:") ? text.slice("urn:uuid:".length) : text;
  const chars = [...body];
  for (let i = 0; i < chars.length; i++) {
    if (!HEX.test(chars[i]!) && chars[i] !== "-") {
      return `invalid character: expected an optional prefix of \`urn:uuid:\` followed by [0-9a-fA-F-], found \`${chars[i]}\` at ${i + 1}`;
    }
  }
  if (!body.includes("-")) {
    return body.length === 32 ? undefined : `invalid length: expected length 32 for simple format, found ${body.length}`;
  }
  const groups = body.split("-");
  if (groups.length !== GROUPS.length) return `invalid group count: expected ${GROUPS.length}, found ${groups.length}`;
  for (let g = 0; g < GROUPS.length; g++) {
    if (groups[g]!.length !== GROUPS[g]) {
      return `invalid group length in group ${g}: expected ${GROUPS[g]}, found ${groups[g]!.length}`;
    }
  }
  return undefined;
}
