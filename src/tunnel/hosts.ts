/**
 * Where a tunnel may go: loopback only. A tunnel reaches services the executor's
 * machine keeps to itself (a dev server, a debugger port); reaching other hosts
 * would make the executor a general network pivot that no process sandbox
 * governs, so it is refused rather than offered behind a flag nobody audits.
 * Names other than `localhost` are refused too: resolving them would let DNS
 * decide where the bytes go.
 */
import { BlockList, isIP } from "node:net";
import { invalidParams } from "../protocol/errors.ts";

export const DEFAULT_TUNNEL_HOST = "127.0.0.1";

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

/** The address to connect to for `host`, or -32602 when it is not loopback. */
export function tunnelAddress(host: string | undefined): string {
  if (host === undefined || host === "localhost") return DEFAULT_TUNNEL_HOST;
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const kind = isIP(bare);
  // An IPv4-mapped address is judged by its IPv4 part.
  const mapped = kind === 6 ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)?.[1] : undefined;
  if (mapped ? loopback.check(mapped, "ipv4") : kind !== 0 && loopback.check(bare, kind === 4 ? "ipv4" : "ipv6")) return bare;
  throw invalidParams(`tunnel/open host \`${host}\` is not allowed: tunnels reach only loopback (127.0.0.0/8, ::1, localhost) on this executor`);
}
