/**
 * The stream prologue (remote.md §5.3): binds each handshake to its route.
 * Every part is prefixed by its length as a u64 big-endian; 0.169.0 rejects
 * 4-byte prefixes.
 */
import { PROLOGUE_LABEL } from "./names.ts";

export type PrologueParts = {
  /** As returned by the registry. */
  readonly environmentId: string;
  readonly executorRegistrationId: string;
  /** The relay frame's `stream_id` string. */
  readonly streamId: string;
};

const LENGTH_PREFIX_BYTES = 8;

/** `len ‖ "codex-exec-server-relay-noise/v1" ‖ len ‖ env ‖ len ‖ registration ‖ len ‖ stream`, UTF-8. */
export function buildPrologue(parts: PrologueParts): Uint8Array {
  const encoder = new TextEncoder();
  const fields = [PROLOGUE_LABEL, parts.environmentId, parts.executorRegistrationId, parts.streamId].map((f) =>
    encoder.encode(f),
  );
  const out = new Uint8Array(fields.reduce((n, f) => n + LENGTH_PREFIX_BYTES + f.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const field of fields) {
    view.setBigUint64(at, BigInt(field.length));
    out.set(field, at + LENGTH_PREFIX_BYTES);
    at += LENGTH_PREFIX_BYTES + field.length;
  }
  return out;
}
