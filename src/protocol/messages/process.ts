import { z } from "zod";
import { bool, lazy, opt, seq, str, strMap, struct, u64, usize, variant } from "../serde.ts";
import { uuidProblem } from "../uuid.ts";
import { SIGNAL_VALUES, unknownSignal } from "../signals.ts";
import { Base64Chunk } from "./bytes.ts";
import { RemoteNetworkProxyLaunchConfig } from "./network-proxy.ts";
import { ManagedNetwork, SandboxContext } from "./sandbox.ts";
import { RunTimeoutFields, TimedOut } from "./process-timeouts.ts";

export const EnvPolicy = lazy(() =>
  struct("ExecEnvPolicy", {
    inherit: variant(["core", "all", "none"]),
    ignoreDefaultExcludes: bool(),
    exclude: seq(str()),
    set: strMap(),
    includeOnly: seq(str()),
  }),
);
export type EnvPolicy = z.infer<typeof EnvPolicy>;

/** Attribution only; `threadId` must be a UUID (the reference rejects anything else). */
export const ExecMetadata = lazy(() =>
  struct("ExecMetadata", {
    threadId: opt(
      str().superRefine((v, ctx) => {
        const problem = uuidProblem(v);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
    ),
    toolCallId: opt(str()),
  }, { seqDefaults: true }),
);

/** 0.171.0 shell snapshot scope for a login command (src/process/shell-snapshot.ts); a malformed one is refused as the reference refuses it. */
export const ShellSnapshotRequest = lazy(() =>
  struct("ShellSnapshotRequest", { scopeId: str(), shell: struct("ShellInfo", { name: str(), path: str() }) }),
);

/** Codex app-server's `ProcessTerminalSize`: a PTY's size in character cells (extension `ptySize`; bounds in src/process/pty-size.ts). */
export const TerminalSize = lazy(() => struct("ProcessTerminalSize", { rows: u64(), cols: u64() }));
export type TerminalSize = z.infer<typeof TerminalSize>;

export const ProcessStartParams = lazy(() =>
  struct("WireExecParams", {
    processId: str(),
    argv: seq(str()),
    cwd: str(),
    env: strMap(),
    tty: bool(),
    pipeStdin: bool().optional(),
    arg0: opt(str()),
    envPolicy: opt(EnvPolicy),
    sandbox: opt(SandboxContext),
    enforceManagedNetwork: bool().optional(),
    managedNetwork: opt(ManagedNetwork),
    networkProxy: opt(RemoteNetworkProxyLaunchConfig),
    metadata: opt(ExecMetadata),
    shellSnapshot: opt(ShellSnapshotRequest),
  }, {
    // execbox's own (src/protocol/extensions.ts): map form only.
    extensions: {
      /** Extension `ptySize`: the PTY's initial size (tty only); the reference's 24x80 without it. */
      size: opt(TerminalSize),
      /** Extension `timeouts` (src/protocol/messages/process-timeouts.ts). */
      ...RunTimeoutFields,
    },
  }),
);
export type ProcessStartParams = z.infer<typeof ProcessStartParams>;

export const SandboxType = lazy(() => z.enum(["none", "linuxSeccomp", "macosSeatbelt", "windowsRestrictedToken"]));
export const ProcessStartResult = lazy(() => z.object({ processId: z.string(), sandboxType: SandboxType }));

export const OutputStream = lazy(() => z.enum(["stdout", "stderr", "pty"]));
export type OutputStream = z.infer<typeof OutputStream>;

export const ProcessReadParams = lazy(() =>
  struct("ReadParams", {
    processId: str(),
    afterSeq: opt(u64()),
    maxBytes: opt(usize()),
    waitMs: opt(u64()),
  }),
);
export type ProcessReadParams = z.infer<typeof ProcessReadParams>;

export const OutputChunk = lazy(() => z.object({ seq: z.number(), stream: OutputStream, chunk: z.string() }));
export const ProcessReadResult = lazy(() =>
  z.object({
    chunks: z.array(OutputChunk),
    nextSeq: z.number(),
    exited: z.boolean(),
    exitCode: z.number().nullable(),
    closed: z.boolean(),
    failure: z.string().nullable(),
    sandboxDenied: z.boolean(),
  }),
);
export type ProcessReadResult = z.infer<typeof ProcessReadResult>;

/**
 * `closeStdin` (extension `closeStdin`, Codex app-server's name): close the
 * child's stdin after writing `chunk`, which may then be left out. The
 * reference ignores the field (unknown fields are), so a client checks the
 * extension first. Without it, `chunk` is required as on the reference.
 */
export const ProcessWriteParams = lazy(() => {
  const params = struct("WriteParams", { processId: str(), chunk: Base64Chunk, writeId: str() }, { extensions: { closeStdin: opt(bool()) } });
  const closing = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v) && (v as Record<string, unknown>).closeStdin === true;
  return z.preprocess((v) => (closing(v) && v.chunk === undefined ? { ...v, chunk: "" } : v), params) as unknown as z.ZodType<
    z.output<typeof params>,
    Omit<z.input<typeof params>, "chunk"> & { chunk?: string }
  >;
});
export const WriteStatus = lazy(() => z.enum(["accepted", "unknownProcess", "stdinClosed", "starting"]));
export type WriteStatus = z.infer<typeof WriteStatus>;
export const ProcessWriteResult = lazy(() => z.object({ status: WriteStatus }));

/**
 * The reference takes `interrupt` only; extension `signals` adds every
 * POSIX signal name (src/process/signals.ts), and an unknown value's error
 * lists them.
 */
export const ProcessSignalParams = lazy(() =>
  struct("SignalParams", { processId: str(), signal: variant(SIGNAL_VALUES, { unknown: unknownSignal }) }),
);
/** Extension `ptySize`: Codex app-server's `process/resizePty`, keyed by execbox's `processId`. */
export const ProcessResizePtyParams = lazy(() => struct("ResizePtyParams", { processId: str(), size: TerminalSize }));
export const ProcessTerminateParams = lazy(() => struct("TerminateParams", { processId: str() }));
export const ProcessTerminateResult = lazy(() => z.object({ running: z.boolean() }));

export const ProcessOutputNotification = lazy(() =>
  z.object({
    processId: z.string(),
    seq: z.number(),
    stream: OutputStream,
    chunk: z.string(),
  }),
);
export const ProcessExitedNotification = lazy(() =>
  z.object({
    processId: z.string(),
    seq: z.number(),
    exitCode: z.number(),
    sandboxDenied: z.boolean(),
    timedOut: TimedOut.optional(),
  }),
);
export const ProcessClosedNotification = lazy(() => z.object({ processId: z.string(), seq: z.number() }));
