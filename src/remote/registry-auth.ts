/** How the executor authenticates to the registry (remote.md §2.2), and `--registration-bearer-stdin`'s line. */
import { REGISTRATION_BEARER_MAX_BYTES } from "./limits.ts";
import { RegistryError } from "./registry-error.ts";
import { type SigV4Scope, signV4 } from "./sigv4.ts";

export type RegistryAuth =
  /**
   * `Authorization: Bearer <token>`. `fromStdin`: a registration response that
   * contains the token is refused, as the reference does for a stdin bearer
   * (a registry echoing the secret back is broken or hostile).
   */
  | { kind: "bearer"; token: string; fromStdin: boolean }
  | { kind: "sigv4"; scope: SigV4Scope };

/** The headers `auth` adds to a request with these signed headers and body. */
export function authHeaders(auth: RegistryAuth, method: string, url: URL, signed: Record<string, string>, body: string, now: Date): Record<string, string> {
  if (auth.kind === "bearer") return { authorization: `Bearer ${auth.token}` };
  return signV4({ method, url, headers: signed, body }, auth.scope, now);
}

const NEWLINE = 0x0a;

/**
 * The bearer in the first line of `input`: at most REGISTRATION_BEARER_MAX_BYTES
 * bytes with its `\n`, an optional `\r` before it dropped, then only visible
 * ASCII (no spaces). Bytes after the line are ignored, as by the reference.
 */
export function parseRegistrationBearer(input: Uint8Array): string {
  const end = input.subarray(0, REGISTRATION_BEARER_MAX_BYTES).indexOf(NEWLINE);
  if (end < 0) throw new RegistryError("config", "expected a newline-terminated registration bearer of at most 16 KiB");
  let line = input.subarray(0, end);
  if (line.at(-1) === 0x0d) line = line.subarray(0, -1);
  if (line.length === 0 || line.some((b) => b < 0x21 || b > 0x7e)) throw new RegistryError("config", "invalid registration bearer");
  return new TextDecoder().decode(line);
}

/** Reads stdin until its first newline (or the cap, or EOF) and parses the bearer there. */
export async function readRegistrationBearer(stdin: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    chunks.push(chunk);
    size += chunk.length;
    if (chunk.includes(NEWLINE) || size > REGISTRATION_BEARER_MAX_BYTES) break;
  }
  return parseRegistrationBearer(Buffer.concat(chunks));
}
