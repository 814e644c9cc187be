/**
 * The routing table: wire method name → handler. The router decodes params
 * with the method's schema (serde-style errors), applies the lifecycle gate,
 * then calls the handler with typed params. Handlers live in their domains.
 */
import { discoverCapabilityRoots } from "../environment/capability-roots.ts";
import { discoverCapabilities, readEnvironmentConfig } from "../environment/discovery.ts";
import { type FsConnection, fsApi } from "../fs/api.ts";
import { openSandboxed, runOneShot, sandboxedDiscovery } from "../fs/sandboxed.ts";
import { checkSandbox } from "../sandbox/intent.ts";
import type { HttpConnection, HttpStreams } from "../http/request.ts";
import { RpcError, invalidParams } from "../protocol/errors.ts";
import { type FsHelperMethod, Methods, type MethodName, NO_PARAMS, type ParamsOf, type ResultOf, isMethodName } from "../protocol/methods.ts";
import { describeValue, serdeMessage } from "../protocol/serde.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { type ServerContext, fsSandboxScope, serverEnvironmentInfo } from "./server-context.ts";
import type { Session } from "./session.ts";
import type { TraceContext } from "../protocol/trace-context.ts";
import type { TunnelTable } from "../tunnel/table.ts";

/** What belongs to the connection, not the session: file handles, watches, HTTP streams, tunnels. */
export type ConnectionScope = FsConnection & { http: HttpStreams; httpConnection: HttpConnection; tunnels: TunnelTable };
/** `trace`: the request's W3C trace context (its `trace` member, or its relay frame's), for logging and tracing. */
export type RequestContext = { server: ServerContext; session: Session; connection: ConnectionScope; trace: TraceContext | null };
type Handler<M extends MethodName> = (ctx: RequestContext, params: ParamsOf<M>) => ResultOf<M> | Promise<ResultOf<M>>;
type RoutedMethod = Exclude<MethodName, "initialize">;

/** A one-shot fs method: run here, or in the sandboxed fs helper when its `sandbox` restricts the file system. */
const oneShot = <M extends FsHelperMethod>(method: M): Handler<M> => ({ server }, p) => runOneShot(fsSandboxScope(server), method, p);

const routes: { [M in RoutedMethod]: Handler<M> } = {
  "environment/info": ({ server }) => serverEnvironmentInfo(server),
  "environment/status": () => ({ status: "ready" }),
  "capabilities/discoverV2": ({ server }, p) => {
    // Nothing is read (execbox has no plugins or configured skills), but a sandbox it could not enforce is refused, as on every fs path.
    checkSandbox(p.sandbox, fsSandboxScope(server));
    return discoverCapabilities(p.cwd);
  },
  "capabilityRoots/discoverV1": ({ server }, p) => discoverCapabilityRoots(p, sandboxedDiscovery(fsSandboxScope(server))),
  "environmentConfig/read": ({ server }, p) => readEnvironmentConfig(p, server.env),
  "process/start": ({ session }, p) => session.processes.start(p),
  "process/read": ({ session }, p) =>
    session.processes.read(p.processId, p.afterSeq ?? 0, p.maxBytes ?? undefined, p.waitMs ?? 0),
  "process/write": async ({ session }, p) => ({ status: await session.processes.write(p.processId, p.writeId, p.chunk, p.closeStdin ?? false) }),
  "process/signal": ({ session }, p) => {
    session.processes.signal(p.processId, p.signal);
    return {};
  },
  "process/terminate": ({ session }, p) => ({ running: session.processes.terminate(p.processId) }),
  "process/resizePty": ({ session }, p) => {
    session.processes.resizePty(p.processId, p.size);
    return {};
  },
  "process/list": ({ session }) => session.processes.list(),
  "process/watch": ({ session }, p) => session.processes.watch(p),
  "process/unwatch": ({ session }, p) => session.processes.unwatch(p.processId, p.watchId),
  "fs/readFile": oneShot("fs/readFile"),
  "fs/writeFile": oneShot("fs/writeFile"),
  "fs/createDirectory": oneShot("fs/createDirectory"),
  "fs/getMetadata": oneShot("fs/getMetadata"),
  "fs/readDirectory": oneShot("fs/readDirectory"),
  "fs/remove": oneShot("fs/remove"),
  "fs/copy": oneShot("fs/copy"),
  "fs/canonicalize": oneShot("fs/canonicalize"),
  "fs/walk": oneShot("fs/walk"),
  "fs/open": ({ server, connection }, p) => openSandboxed(fsSandboxScope(server), connection.files, p),
  "fs/readBlock": ({ connection }, p) => fsApi.readBlock(connection, p),
  "fs/writeBlock": ({ connection }, p) => fsApi.writeBlock(connection, p),
  "fs/close": ({ connection }, p) => fsApi.close(connection, p),
  "fs/watchMissing": ({ connection }, p) => fsApi.watchMissing(connection, p),
  "http/request": ({ connection }, p) => connection.http.request(p, connection.httpConnection),
  "tunnel/open": ({ connection }, p) => connection.tunnels.open(p, connection.httpConnection.afterReply),
  "tunnel/write": ({ connection }, p) => (connection.tunnels.get(p.tunnelId).write(p.chunk, p.eof ?? false), {}),
  "tunnel/ack": ({ connection }, p) => (connection.tunnels.get(p.tunnelId).ack(p.bytes), {}),
  "tunnel/close": ({ connection }, p) => (connection.tunnels.get(p.tunnelId).close("clientClosed"), {}),
};

export function unknownMethod(method: string): RpcError {
  return new RpcError(ErrorCode.MethodNotFound, `exec-server stub does not implement \`${method}\` yet`);
}

/** Decodes `params` for a known method, or throws -32602 with serde's wording. */
export function decodeParams<M extends MethodName>(method: M, raw: unknown): ParamsOf<M> {
  const schema = Methods[method].params;
  if (schema === NO_PARAMS) {
    if (raw === null || raw === undefined) return undefined as ParamsOf<M>;
    if (typeof raw === "object" && !Array.isArray(raw) && Object.keys(raw).length === 0) return undefined as ParamsOf<M>;
    throw invalidParams(`invalid type: ${describeValue(raw)}, expected unit`);
  }
  const parsed = schema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw invalidParams(serdeMessage(parsed.error));
  return parsed.data as ParamsOf<M>;
}

/**
 * Runs one request: unknown method → -32601; params decoded (so bad params
 * win over lifecycle errors, as in the reference); `gate` throws the lifecycle
 * error for the method's family or returns the session; then the handler.
 */
export async function dispatch(
  method: string,
  raw: unknown,
  gate: (family: string) => RequestContext,
): Promise<unknown> {
  if (!isMethodName(method) || method === "initialize") throw unknownMethod(method);
  const params = decodeParams(method, raw);
  const ctx = gate(Methods[method].family);
  const handler = routes[method] as Handler<RoutedMethod>;
  return handler(ctx, params as never);
}
