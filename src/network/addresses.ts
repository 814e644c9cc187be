/**
 * Which destinations count as local or private for the managed proxy:
 * loopback, RFC 1918, link-local, CGNAT, unspecified and the IPv6
 * equivalents (with IPv4-mapped addresses judged by their IPv4 part).
 */
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

/** Resolves a name to its addresses ([] when it resolves nowhere). */
export type AddressResolver = (host: string) => Promise<string[]>;

const PRIVATE_V4: [string, number][] = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
];
const PRIVATE_V6: [string, number][] = [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
];

const privateNets = new BlockList();
for (const [net, prefix] of PRIVATE_V4) privateNets.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of PRIVATE_V6) privateNets.addSubnet(net, prefix, "ipv6");

export function isLocalAddress(address: string): boolean {
  const kind = isIP(address);
  if (kind === 4) return privateNets.check(address, "ipv4");
  if (kind !== 6) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return privateNets.check(mapped[1]!, "ipv4");
  return privateNets.check(address, "ipv6");
}

/** `localhost` and names under it always mean this machine. */
export function isLocalName(host: string): boolean {
  return host === "localhost" || host.endsWith(".localhost");
}

/** The system resolver (getaddrinfo: /etc/hosts, then DNS). */
export const systemResolver: AddressResolver = async (host) => {
  try {
    return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    return [];
  }
};
