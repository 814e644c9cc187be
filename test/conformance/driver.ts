/**
 * Plays one scenario against one executor and produces its normalized
 * transcript. Lines are recorded in *step* order, not arrival order: each
 * request's response is looked up by id, so harmless races (a notification
 * overtaking a response) never show up as differences, while process
 * notifications are summarized per process (see normalize.ts).
 */
import { join } from "node:path";
import { RawClient } from "../helpers/rpc-client.ts";
import { cleanup, httpProbe, isAsyncEvent, isDelta, isProcessEvent, resolveDeep } from "./driver-io.ts";
import { Masker, maskValue, normalizeRead, parseExact, render, summarizeProcess } from "./normalize.ts";
import { INFO, normalizeResult, summarizeStream, treeListing } from "./normalize-results.ts";
import type { Ctx, ReadMode, Scenario, Step, Val } from "./types.ts";

type Frame = Record<string, any>;
type Conn = {
  name: string;
  client: RawClient;
  parsed: Frame[];
  consumed: Set<number>;
  nextId: number;
  /** Requests sent, by rendered id: what to do with their response. */
  pending: Map<string, { method: string; read?: ReadMode; equivalent?: RegExp }>;
  ready: boolean;
  closeSeen: boolean;
  clientClosed: boolean;
  summarized: Set<string>;
  /** The latest process/start sent for each processId (its rendered id): one answered with an error made no process to wait for. */
  lastStart: Map<string, string>;
  /** Streamed http/request ids (rendered) by requestId, in sending order; shifted as their streams are awaited. */
  streams: Map<string, string[]>;
};

export type PlayOptions = {
  keepKeyOrder: boolean;
  runDir: string;
  http: string;
  rawHttp: string;
  /** Opens a connection another way than a WebSocket to `url` (the remote leg: a Noise stream). */
  connect?: () => Promise<RawClient>;
};
export type Transcript = { lines: string[]; raw: string[] };

const resolveVal = <T>(v: Val<T>, ctx: Ctx): T => (typeof v === "function" ? (v as (c: Ctx) => T)(ctx) : v);
const isResponse = (f: Frame) => "id" in f && ("result" in f || "error" in f);

export async function play(scenario: Scenario, url: string, dir: string, opts: PlayOptions): Promise<Transcript> {
  const ctx: Ctx = { dir, uri: `file://${dir}`, sessions: {}, http: opts.http, rawHttp: opts.rawHttp, serverBinUri: `file://${join(opts.runDir, "server-bin")}` };
  const masker = new Masker([
    [dir, "<TMP>"],
    // `file:tmp/…` (no leading slash) is a PathUri form too.
    [dir.slice(1), "<TMP-NO-SLASH>"],
    [opts.runDir, "<RUN>"],
  ]);
  const conns = new Map<string, Conn>();
  const lines: string[] = [];
  const started = new Set<string>();
  const out = (conn: string, arrow: string, text: string) => lines.push(masker.apply(`${conn} ${arrow} ${text}`));
  const show = (v: unknown) => render(v, opts.keepKeyOrder);

  const sync = (c: Conn): Frame[] => {
    // Parse lazily from the raw texts: RawClient's own JSON.parse would round big-int ids.
    while (c.parsed.length < c.client.texts.length) {
      const text = c.client.texts[c.parsed.length]!;
      try {
        c.parsed.push(parseExact(text) as Frame);
      } catch {
        c.parsed.push({ "=unparseable": text });
      }
    }
    return c.parsed;
  };
  const noteClose = (c: Conn) => {
    if (c.client.closed && !c.closeSeen && !c.clientClosed) {
      c.closeSeen = true;
      out(c.name, "✕", `closed by server (code ${c.client.closeCode ?? "none"})`);
    }
  };
  /** Polls until `find` returns a frame index, the connection closes, or the deadline passes. */
  const waitFrame = async (c: Conn, find: (frames: Frame[]) => number, timeoutMs: number): Promise<number> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = find(sync(c));
      if (i >= 0) return i;
      if (c.client.closed || Date.now() > deadline) return -1;
      await Bun.sleep(5);
    }
  };
  /** Records a response (plus its informational line, if any); returns the index of its transcript line. */
  const emitResponse = (c: Conn, f: Frame): number => {
    let v = maskValue(f) as Frame;
    const info = c.pending.get(show(f.id));
    if (info?.read && v.result && typeof v.result === "object") v = { ...v, result: normalizeRead(v.result, info.read) };
    if (info?.method === "initialize" && f.result?.sessionId) {
      ctx.sessions[c.name] = f.result.sessionId;
      c.ready = true;
    }
    const norm = info && "result" in v ? normalizeResult(info.method, v.result) : undefined;
    if (norm) v = { ...v, result: norm.result };
    const text = show(v);
    out(c.name, "←", (info?.equivalent ? text.replace(info.equivalent, `<any of: ${info.equivalent.source}>`) : text));
    const at = lines.length - 1;
    if (norm?.info) out(c.name, INFO, norm.info);
    return at;
  };
  const awaitResponse = async (c: Conn, id: unknown, timeoutMs: number): Promise<number> => {
    const key = show(id);
    const i = await waitFrame(c, (fs) => fs.findIndex((f, j) => !c.consumed.has(j) && isResponse(f) && show(f.id) === key), timeoutMs);
    if (i < 0) {
      noteClose(c);
      if (!c.client.closed) out(c.name, "←", `(no response to id ${key} within ${timeoutMs} ms)`);
      return -1;
    }
    c.consumed.add(i);
    return emitResponse(c, c.parsed[i]!);
  };
  const conn = (name = "c1"): Conn => {
    const c = conns.get(name);
    if (!c) throw new Error(`scenario ${scenario.name}: connection ${name} used before connect`);
    return c;
  };
  const bucket = (ms: number) => (ms < 300 ? "fast" : `~${(Math.round(ms / 500) * 0.5).toFixed(1)}s`);

  const run = async (step: Step): Promise<void> => {
    switch (step.kind) {
      case "connect": {
        const name = step.conn ?? "c1";
        try {
          const client = await (opts.connect?.() ?? RawClient.websocket(url));
          conns.set(name, {
            name,
            client,
            parsed: [],
            consumed: new Set(),
            nextId: 1,
            pending: new Map(),
            ready: false,
            closeSeen: false,
            clientClosed: false,
            summarized: new Set(),
            lastStart: new Map(),
            streams: new Map(),
          });
          out(name, "⇄", "connected");
        } catch (e) {
          out(name, "✕", `connect failed: ${(e as Error).message.replace(url, "<url>")}`);
        }
        return;
      }
      case "request": {
        const c = conn(step.conn);
        const id = step.id ?? c.nextId++;
        const params = step.params === undefined ? undefined : resolveDeep(step.params, ctx);
        const frame = params === undefined ? { id, method: step.method } : { id, method: step.method, params };
        if (step.method === "process/start" && params && typeof params === "object") {
          started.add(String((params as Frame).processId));
          c.lastStart.set(String((params as Frame).processId), show(id));
        }
        if (step.method === "http/request" && (params as Frame | undefined)?.streamResponse === true) {
          const rid = String((params as Frame).requestId);
          c.streams.set(rid, [...(c.streams.get(rid) ?? []), show(id)]);
        }
        const read = step.read ?? (step.method === "process/read" ? "exact" : undefined);
        c.pending.set(show(id), { method: step.method, read, equivalent: step.equivalent });
        const t0 = performance.now();
        c.client.send(frame);
        out(c.name, "→", show(frame));
        if (step.wait === false) return;
        const timeout = step.timeoutMs ?? 10_000;
        if (!step.timed) await awaitResponse(c, id, timeout);
        else {
          // The latency bucket is only known after the response arrives, so append it afterwards.
          const at = await awaitResponse(c, id, timeout);
          if (at >= 0) lines[at] += `  [${bucket(performance.now() - t0)}]`;
        }
        return;
      }
      case "notify": {
        const c = conn(step.conn);
        const params = step.params === undefined ? undefined : resolveVal(step.params, ctx);
        c.client.notify(step.method, params);
        out(c.name, "→", show(params === undefined ? { method: step.method } : { method: step.method, params }));
        return;
      }
      case "raw": {
        const c = conn(step.conn);
        const text = resolveVal(step.text, ctx);
        c.client.sendRaw(text);
        out(c.name, "→", `raw ${JSON.stringify(text)}`);
        if (step.expect === "none") return;
        const timeout = step.timeoutMs ?? 2_000;
        const i = await waitFrame(c, (fs) => fs.findIndex((f, j) => !c.consumed.has(j) && !isAsyncEvent(f)), timeout);
        if (i >= 0) {
          c.consumed.add(i);
          emitResponse(c, c.parsed[i]!);
        } else {
          noteClose(c);
          if (!c.client.closed) out(c.name, "←", `(no reply within ${timeout} ms)`);
        }
        return;
      }
      case "await": {
        const c = conn(step.conn);
        const keys = step.ids.map((id) => show(id));
        for (const id of step.ids) if (step.read) c.pending.set(show(id), { method: "process/read", read: step.read });
        await waitFrame(c, (fs) => (keys.every((k) => fs.some((f) => isResponse(f) && show(f.id) === k)) ? 0 : -1), step.timeoutMs ?? 10_000);
        // Record in arrival order: ordering between responses is part of the protocol (§7).
        const arrived = sync(c)
          .map((f, j) => [f, j] as const)
          .filter(([f, j]) => !c.consumed.has(j) && isResponse(f) && keys.includes(show(f.id)));
        for (const [f, j] of arrived) {
          c.consumed.add(j);
          emitResponse(c, f);
        }
        if (arrived.length < keys.length) out(c.name, "←", `(only ${arrived.length} of ${keys.length} responses)`);
        noteClose(c);
        return;
      }
      case "expectClose": {
        const c = conn(step.conn);
        const deadline = Date.now() + step.ms;
        while (!c.client.closed && Date.now() < deadline) await Bun.sleep(5);
        noteClose(c);
        if (!c.client.closed) out(c.name, "○", `still open after ${step.ms} ms`);
        return;
      }
      case "awaitProcess": {
        const c = conn(step.conn);
        const pid = step.processId;
        const has = (m: string) => (fs: Frame[]) => fs.findIndex((f) => f.method === m && f.params?.processId === pid);
        // A start refused with an error never makes a process: record its absence at once rather than after the wait.
        const refused = sync(c).some((f) => f.error !== undefined && f.id !== undefined && show(f.id) === c.lastStart.get(pid));
        const closedAt = refused ? -1 : await waitFrame(c, has("process/closed"), step.timeoutMs ?? 10_000);
        // `closed` can overtake `exited` on the wire (§12.3): give the exit event a moment.
        if (closedAt >= 0) await waitFrame(c, has("process/exited"), 1_000);
        c.summarized.add(pid);
        const events = sync(c).filter((f) => isProcessEvent(f) && f.params?.processId === pid) as { method: string; params: Frame }[];
        const summary = summarizeProcess(events, step.exact ?? false);
        if (closedAt < 0) summary["=timeout"] = "no process/closed";
        out(c.name, "⟂", `${JSON.stringify(pid)} ${show(summary)}`);
        return;
      }
      case "sleep":
        await Bun.sleep(step.ms);
        return;
      case "close": {
        const c = conn(step.conn);
        noteClose(c);
        c.clientClosed = true;
        c.client.close();
        out(c.name, "→", "client closes");
        const deadline = Date.now() + 2_000;
        while (!c.client.closed && Date.now() < deadline) await Bun.sleep(5);
        return;
      }
      case "http":
        out("http", "→", `${step.method} ${step.path} ${show(step.headers ?? {})}`);
        out("http", "←", await httpProbe(url.replace(/^ws:/, "http:"), step));
        return;
      case "local":
        step.run(dir);
        out("local", "·", step.label);
        return;
      case "tree":
        out("tree", "·", `${step.sub ?? "."} ${JSON.stringify(treeListing(step.sub ? `${dir}/${step.sub}` : dir))}`);
        return;
      case "awaitStream": {
        const c = conn(step.conn);
        const timeout = step.timeoutMs ?? 10_000;
        const fin = await waitFrame(c, (fs) => fs.findIndex((f, j) => !c.consumed.has(j) && isDelta(f, step.requestId) && f.params.done === true), timeout);
        const upTo = fin >= 0 ? fin : c.parsed.length - 1;
        const deltas = c.parsed.flatMap((f, idx) => (idx <= upTo && !c.consumed.has(idx) && isDelta(f, step.requestId) ? [{ idx, params: f.params as Frame }] : []));
        for (const d of deltas) c.consumed.add(d.idx);
        // The stream belongs to the oldest streamed request with this requestId that got a result (not an error).
        const ids = c.streams.get(step.requestId) ?? [];
        const respIdx = c.parsed.findIndex((f) => isResponse(f) && "result" in f && ids.includes(show(f.id)));
        if (respIdx >= 0) c.streams.set(step.requestId, ids.filter((k) => k !== show(c.parsed[respIdx]!.id)));
        const summary = summarizeStream(deltas, respIdx);
        if (fin < 0) summary["=timeout"] = `no done:true frame within ${timeout} ms`;
        out(c.name, "⇶", `${JSON.stringify(step.requestId)} ${show(summary)}`);
        return;
      }
      case "awaitNotify": {
        const c = conn(step.conn);
        const timeout = step.timeoutMs ?? 3_000;
        const i = await waitFrame(c, (fs) => fs.findIndex((f, j) => !c.consumed.has(j) && !("id" in f) && f.method === step.method), timeout);
        if (i >= 0) {
          c.consumed.add(i);
          out(c.name, "←", show(maskValue(c.parsed[i])));
        } else out(c.name, "←", `(no ${step.method} within ${timeout} ms)`);
        return;
      }
    }
  };

  try {
    for (const step of scenario.steps) await run(step);
    // Anything the steps did not account for is part of the behaviour too.
    for (const c of conns.values()) {
      await Bun.sleep(50);
      sync(c).forEach((f, j) => {
        if (!c.consumed.has(j) && !isProcessEvent(f) && f.method !== "http/request/bodyDelta") out(c.name, "←", `(unsolicited) ${show(maskValue(f))}`);
      });
      const streams = new Set(c.parsed.filter((f, j) => !c.consumed.has(j) && !("id" in f) && f.method === "http/request/bodyDelta").map((f) => String(f.params?.requestId)));
      for (const rid of streams) {
        const deltas = c.parsed.flatMap((f, idx) => (!c.consumed.has(idx) && isDelta(f, rid) ? [{ idx, params: f.params as Frame }] : []));
        out(c.name, "⇶", `(not awaited) ${JSON.stringify(rid)} ${show(summarizeStream(deltas, 0))}`);
      }
      const late = new Set(c.parsed.filter((f) => isProcessEvent(f) && !c.summarized.has(f.params?.processId)).map((f) => f.params?.processId));
      for (const pid of late) {
        const events = c.parsed.filter((f) => isProcessEvent(f) && f.params?.processId === pid) as { method: string; params: Frame }[];
        out(c.name, "⟂", `(not awaited) ${JSON.stringify(pid)} ${show(summarizeProcess(events, false))}`);
      }
      noteClose(c);
    }
  } finally {
    await cleanup([...conns.values()], started);
  }
  const raw = [...conns.values()].flatMap((c) => c.client.texts.map((t) => `${c.name} ← ${t}`));
  return { lines, raw };
}
