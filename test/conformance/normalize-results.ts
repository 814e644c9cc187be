/**
 * Normalization of fs/* and http/request results and of the side channels of
 * those families (body-delta streams, the temp-dir tree). Bytes are shown
 * decoded; run-dependent values (mtimes, HTTP dates) are masked; orders that
 * are not protocol (raw directory order) are sorted. HTTP response headers
 * are compared exactly, order and repeats included. An informational line
 * (prefix INFO) is reported without counting as a difference.
 */
import { lstatSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { showBytes } from "./normalize.ts";

/** Transcript lines starting with this are informational: diffed and shown, but not a DIFF. */
export const INFO = "ⓘ ";

type Obj = Record<string, unknown>;

/** Base64 as its decoded bytes; a payload that is not canonical padded base64 is flagged so it still differs. */
export function showB64(v: unknown): unknown {
  if (typeof v !== "string") return v;
  const bytes = Buffer.from(v, "base64");
  const shown = showBytes(bytes);
  return bytes.toString("base64") === v ? `=${shown}` : `<non-canonical base64 ${JSON.stringify(v.slice(0, 40))}> ${shown}`;
}

type Header = { name?: unknown; value?: unknown };

const headerValue = (h: Header): string => (String(h.name).toLowerCase() === "date" ? "<date>" : String(h.value));

/** Per-method result normalization; `info` is the informational line, if any. */
export function normalizeResult(method: string, result: unknown): { result: unknown; info?: string } {
  if (!result || typeof result !== "object" || Array.isArray(result)) return { result };
  const r: Obj = { ...(result as Obj) };
  switch (method) {
    case "fs/readFile":
      r.dataBase64 = showB64(r.dataBase64);
      return { result: r };
    case "fs/readBlock":
      r.chunk = showB64(r.chunk);
      return { result: r };
    case "fs/getMetadata":
      // Separate files on each side: only "a plausible epoch-ms integer" (vs 0, vs garbage) is comparable.
      for (const k of ["modifiedAtMs", "createdAtMs"]) if (Number.isSafeInteger(r[k]) && (r[k] as number) > 1e12) r[k] = "<epoch-ms>";
      return { result: r };
    case "fs/walk":
      // One "kind path" string per entry keeps walk results readable; anything unexpected stays as is.
      if (Array.isArray(r.entries)) {
        r.entries = r.entries.map((e: Obj) => (e && Object.keys(e).sort().join() === "kind,path" ? `${String(e.kind)} ${String(e.path)}` : e));
      }
      return { result: r };
    case "fs/readDirectory":
      // Raw directory order is whatever the filesystem returns: compare as a set.
      if (Array.isArray(r.entries)) r.entries = [...r.entries].sort((a, b) => String(a?.fileName).localeCompare(String(b?.fileName)));
      return { result: r };
    case "http/request": {
      if (!Array.isArray(r.headers)) return { result: { ...r, bodyBase64: showB64(r.bodyBase64) } };
      // Compared exactly, in the order given and with repeats kept: execbox's own HTTP/1.1 client returns them as the reference does.
      const wire = (r.headers as Header[]).map((h) => `${String(h.name)}: ${headerValue(h)}`);
      return { result: { ...r, headers: wire, bodyBase64: showB64(r.bodyBase64) } };
    }
    default:
      return { result };
  }
}

type Delta = { idx: number; params: Obj };

/**
 * A streamed body: the concatenated bytes, the final frame, and the
 * invariants that hold whatever the delta boundaries (seq from 1 without
 * gaps, every frame with all five keys, only the last one done, empty last
 * delta, the response before the first delta).
 */
export function summarizeStream(deltas: Delta[], responseIdx: number): Obj {
  const problems: string[] = [];
  const shapes = [...new Set(deltas.map((d) => Object.keys(d.params).sort().join(",")))];
  deltas.forEach((d, i) => {
    if (d.params.seq !== i + 1) problems.push(`frame ${i + 1} has seq ${JSON.stringify(d.params.seq)}`);
    if (i < deltas.length - 1 && (d.params.done !== false || d.params.error !== null)) problems.push(`frame ${i + 1} is not a plain delta`);
  });
  const last = deltas.at(-1)?.params;
  const body = Buffer.concat(deltas.map((d) => Buffer.from(String(d.params.deltaBase64 ?? ""), "base64")));
  const out: Obj = {
    body: showBytes(body),
    final: last ? { deltaBase64: last.deltaBase64, done: last.done, error: last.error } : null,
    shapes,
    invariants: problems.length ? problems.join("; ") : "ok",
  };
  if (deltas.length && responseIdx > deltas[0]!.idx) out.order = "first delta before the response";
  if (responseIdx < 0) out.order = "no response seen";
  return out;
}

/** A deterministic listing of a directory tree: kind, size or link target, and the content of small files. */
export function treeListing(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    let names: string[];
    try {
      names = readdirSync(join(root, rel)).sort();
    } catch (e) {
      out.push(`${rel || "."} <${(e as NodeJS.ErrnoException).code}>`);
      return;
    }
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, r));
      if (st.isSymbolicLink()) out.push(`${r} -> ${readlinkSync(join(root, r))}`);
      else if (st.isDirectory()) {
        out.push(`${r}/`);
        walk(r);
      } else if (st.isFile()) {
        const text = st.size <= 64 ? ` ${JSON.stringify(showBytes(readFileSync(join(root, r))))}` : "";
        out.push(`${r} (${st.size})${text}`);
      } else out.push(`${r} <${st.isFIFO() ? "fifo" : "special"}>`);
    }
  };
  walk("");
  return out;
}
