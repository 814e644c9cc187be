/**
 * Every client→server method: its wire name, the family named in lifecycle
 * errors, and its params schema. Server (router), client and tests import this
 * table; nothing else spells a method name.
 */
import { z } from "zod";
import * as env from "./messages/environment.ts";
import * as fs from "./messages/fs.ts";
import * as http from "./messages/http.ts";
import * as networkProxy from "./messages/network-proxy.ts";
import * as lifecycle from "./messages/lifecycle.ts";
import * as proc from "./messages/process.ts";
import * as procList from "./messages/process-list.ts";
import * as procWatch from "./messages/process-watch.ts";
import * as tunnel from "./messages/tunnel.ts";

/** Marks a method whose params must be absent, `null` or `{}`. */
export const NO_PARAMS = "unit" as const;

export type MethodSpec = {
  /** Family used in `client must call initialize before using <family> methods`. */
  family: string;
  params: z.ZodType | typeof NO_PARAMS;
  result: z.ZodType;
  /**
   * fs/* only: how it runs under a restricted file-system policy — in the
   * sandboxed fs helper (one-shot operations), or opened there with the
   * descriptor passed back to the executor (streaming opens).
   */
  restrictedFs?: "helper" | "descriptor";
};

export const Methods = {
  initialize: { family: "initialize", params: lifecycle.InitializeParams, result: lifecycle.InitializeResult },
  "environment/info": { family: "environment info", params: NO_PARAMS, result: env.EnvironmentInfo },
  "environment/status": { family: "environment status", params: NO_PARAMS, result: env.EnvironmentStatus },
  "capabilities/discoverV2": {
    family: "capability discovery",
    params: env.CapabilitiesDiscoverParams,
    result: env.CapabilitiesDiscoverResult,
  },
  "capabilityRoots/discoverV1": {
    family: "capability discovery",
    params: env.CapabilityRootsDiscoverParams,
    result: env.CapabilityRootsDiscoverResult,
  },
  "environmentConfig/read": {
    family: "environment config",
    params: env.EnvironmentConfigReadParams,
    result: env.EnvironmentConfigReadResult,
  },
  "process/start": { family: "exec", params: proc.ProcessStartParams, result: proc.ProcessStartResult },
  "process/read": { family: "exec", params: proc.ProcessReadParams, result: proc.ProcessReadResult },
  "process/write": { family: "exec", params: proc.ProcessWriteParams, result: proc.ProcessWriteResult },
  "process/signal": { family: "exec", params: proc.ProcessSignalParams, result: z.object({}) },
  "process/terminate": { family: "exec", params: proc.ProcessTerminateParams, result: proc.ProcessTerminateResult },
  "process/resizePty": { family: "exec", params: proc.ProcessResizePtyParams, result: z.object({}) },
  "process/list": { family: "exec", params: NO_PARAMS, result: procList.ProcessListResult },
  "process/watch": { family: "exec", params: procWatch.ProcessWatchParams, result: procWatch.ProcessWatchResult },
  "process/unwatch": { family: "exec", params: procWatch.ProcessUnwatchParams, result: procWatch.ProcessUnwatchResult },
  "fs/readFile": { family: "filesystem", params: fs.FsReadFileParams, result: fs.FsReadFileResult, restrictedFs: "helper" },
  "fs/writeFile": { family: "filesystem", params: fs.FsWriteFileParams, result: fs.Empty, restrictedFs: "helper" },
  "fs/createDirectory": { family: "filesystem", params: fs.FsCreateDirectoryParams, result: fs.Empty, restrictedFs: "helper" },
  "fs/getMetadata": { family: "filesystem", params: fs.FsGetMetadataParams, result: fs.FsMetadata, restrictedFs: "helper" },
  "fs/readDirectory": { family: "filesystem", params: fs.FsReadDirectoryParams, result: fs.FsReadDirectoryResult, restrictedFs: "helper" },
  "fs/remove": { family: "filesystem", params: fs.FsRemoveParams, result: fs.Empty, restrictedFs: "helper" },
  "fs/copy": { family: "filesystem", params: fs.FsCopyParams, result: fs.Empty, restrictedFs: "helper" },
  "fs/canonicalize": { family: "filesystem", params: fs.FsCanonicalizeParams, result: fs.FsCanonicalizeResult, restrictedFs: "helper" },
  "fs/walk": { family: "filesystem", params: fs.FsWalkParams, result: fs.FsWalkResult, restrictedFs: "helper" },
  "fs/open": { family: "filesystem", params: fs.FsOpenParams, result: fs.FsOpenResult, restrictedFs: "descriptor" },
  "fs/readBlock": { family: "filesystem", params: fs.FsReadBlockParams, result: fs.FsReadBlockResult },
  "fs/writeBlock": { family: "filesystem", params: fs.FsWriteBlockParams, result: fs.Empty },
  "fs/close": { family: "filesystem", params: fs.FsCloseParams, result: fs.Empty },
  "fs/watchMissing": { family: "filesystem", params: fs.FsWatchMissingParams, result: fs.FsWatchMissingResult },
  "http/request": { family: "http", params: http.HttpRequestParams, result: http.HttpResponse },
  "tunnel/open": { family: "tunnel", params: tunnel.TunnelOpenParams, result: tunnel.TunnelOpenResult },
  "tunnel/write": { family: "tunnel", params: tunnel.TunnelWriteParams, result: tunnel.TunnelEmpty },
  "tunnel/ack": { family: "tunnel", params: tunnel.TunnelAckParams, result: tunnel.TunnelEmpty },
  "tunnel/close": { family: "tunnel", params: tunnel.TunnelCloseParams, result: tunnel.TunnelEmpty },
} as const satisfies Record<string, MethodSpec>;

export type MethodName = keyof typeof Methods;
export type ParamsOf<M extends MethodName> = (typeof Methods)[M]["params"] extends z.ZodType
  ? z.output<(typeof Methods)[M]["params"]>
  : undefined;
export type WireParamsOf<M extends MethodName> = (typeof Methods)[M]["params"] extends z.ZodType
  ? z.input<(typeof Methods)[M]["params"]>
  : undefined | null | Record<string, never>;
export type ResultOf<M extends MethodName> = z.infer<(typeof Methods)[M]["result"]>;

/** The one-shot fs methods the sandboxed fs helper runs (marked `restrictedFs: "helper"` above). */
export type FsHelperMethod = { [M in MethodName]: (typeof Methods)[M] extends { restrictedFs: "helper" } ? M : never }[MethodName];

export function isFsHelperMethod(name: string): name is FsHelperMethod {
  return isMethodName(name) && (Methods[name] as MethodSpec).restrictedFs === "helper";
}

/** Server→client notifications. */
export const Notifications = {
  "process/output": proc.ProcessOutputNotification,
  "process/exited": proc.ProcessExitedNotification,
  "process/closed": proc.ProcessClosedNotification,
  "process/watchMatched": procWatch.ProcessWatchMatchedNotification,
  "fs/missingChanged": fs.FsMissingChangedNotification,
  "http/request/bodyDelta": http.HttpBodyDeltaNotification,
  "network/policyDecision": networkProxy.NetworkPolicyDecisionNotification,
  "tunnel/data": tunnel.TunnelDataNotification,
  "tunnel/eof": tunnel.TunnelEofNotification,
  "tunnel/written": tunnel.TunnelWrittenNotification,
  "tunnel/closed": tunnel.TunnelClosedNotification,
} as const;
export type NotificationName = keyof typeof Notifications;
export type NotificationParams<N extends NotificationName> = z.infer<(typeof Notifications)[N]>;

/** The only notification a client may send. */
export const INITIALIZED = "initialized";

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(Methods, name);
}
