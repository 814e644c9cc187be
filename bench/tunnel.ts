#!/usr/bin/env bun
/**
 * `bun bench/tunnel.ts [runs] [MiB]`: port forwarding throughput. N MiB
 * through `execbox forward` (executor and forwarder both the compiled binary,
 * `$EXECBOX_BIN` or built now) vs the same bytes over a direct loopback
 * connection, each way (service → client: download; client → service:
 * upload), runs interleaved, median reported; and through `ssh -L` when an
 * sshd is installed. Writes its section of bench/results.md.
 */
import { readFirstLine } from "../test/helpers/first-line.ts";
import { writeQueued } from "../src/tunnel/write-queue.ts";
import { sectionHead, writeResultsSection } from "./results-file.ts";
import { execboxCommand, killAll, makeTempDir, spawnTracked, startServer } from "./servers.ts";

const runs = Number(process.argv[2] ?? 3);
const MiB = 1 << 20;
const total = Number(process.argv[3] ?? 100) * MiB;
const BLOCK = crypto.getRandomValues(new Uint8Array(256 * 1024));

type Direction = "download" | "upload";
type Conn = { sent: number; received: number; queue: Uint8Array[] };

/** The service: on each connection, sends `total` bytes then closes (download), or reads and counts until EOF (upload). */
function startService(direction: Direction) {
  const conns: Conn[] = [];
  const pump = (socket: Bun.Socket<Conn>) => {
    const c = socket.data;
    while (writeQueued(socket, c.queue) && c.sent < total) {
      const n = Math.min(BLOCK.byteLength, total - c.sent);
      c.sent += n;
      c.queue.push(BLOCK.subarray(0, n));
    }
    if (c.queue.length === 0 && c.sent >= total) socket.end();
  };
  const listener = Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { sent: 0, received: 0, queue: [] };
        conns.push(socket.data);
        if (direction === "download") pump(socket);
      },
      drain: (socket) => void (direction === "download" && pump(socket)),
      data(socket, d) {
        socket.data.received += d.byteLength;
      },
    },
  });
  return { listener, conns };
}

/** Moves `total` bytes over one connection to `port`; resolves with the seconds it took (first byte to last, as the client sees it). */
function transfer(port: number, direction: Direction): Promise<number> {
  return new Promise((resolve, reject) => {
    let received = 0;
    let sent = 0;
    const queue: Uint8Array[] = [];
    const started = performance.now();
    const pump = (socket: Bun.Socket<undefined>) => {
      while (writeQueued(socket, queue) && sent < total) {
        const n = Math.min(BLOCK.byteLength, total - sent);
        sent += n;
        queue.push(BLOCK.subarray(0, n));
      }
      // Half-close: the service closes once it has read everything, and that close stops the clock.
      if (queue.length === 0 && sent >= total) socket.shutdown();
    };
    void Bun.connect({
      hostname: "127.0.0.1",
      port,
      allowHalfOpen: true,
      socket: {
        open: (s) => void (direction === "upload" && pump(s)),
        drain: (s) => void (direction === "upload" && pump(s)),
        data(_s, d) {
          received += d.byteLength;
        },
        close() {
          const seconds = (performance.now() - started) / 1000;
          if (direction === "download" && received !== total) reject(new Error(`received ${received} of ${total} bytes`));
          else resolve(seconds);
        },
        error: (_s, e) => reject(e),
      },
    });
  });
}

/** `execbox forward` (the same binary) to `port`; returns its local port and a stop. */
async function startForward(argv: string[], url: string, port: number) {
  const { proc, kill, stderr } = spawnTracked([...argv, "forward", "--url", url, `0:${port}`]);
  const line = await readFirstLine(proc.stdout, 15_000).catch((e) => {
    throw new Error(`${e.message}; stderr: ${stderr()}`);
  });
  return { port: Number(line.trim().split(":").at(-1)), kill };
}

/** `ssh -L` through a throwaway sshd on 127.0.0.1 (key auth, this user), when one is installed; else null. */
async function startSshForward(port: number): Promise<{ port: number; kill(): Promise<void> } | null> {
  if (!Bun.which("sshd", { PATH: "/usr/sbin:/usr/bin" }) || !Bun.which("ssh")) return null;
  const dir = makeTempDir("execbox-bench-ssh-");
  for (const [name, type] of [["host", "ed25519"], ["user", "ed25519"]]) {
    Bun.spawnSync(["ssh-keygen", "-q", "-t", type!, "-N", "", "-f", `${dir}/${name}`]);
  }
  await Bun.write(`${dir}/authorized_keys`, await Bun.file(`${dir}/user.pub`).text());
  const sshdPort = freePort();
  const sshd = spawnTracked([
    "/usr/sbin/sshd", "-D", "-e", "-f", "/dev/null", "-p", String(sshdPort), "-o", "ListenAddress=127.0.0.1",
    "-h", `${dir}/host`, "-o", `AuthorizedKeysFile=${dir}/authorized_keys`, "-o", "StrictModes=no", "-o", "PidFile=none",
  ]);
  // ssh gives up at once on a refused connect: start it once sshd listens.
  if (!(await accepts(sshdPort))) {
    await sshd.kill();
    console.error(`sshd did not come up: ${sshd.stderr().slice(0, 500)}`);
    return null;
  }
  const localPort = freePort();
  const ssh = spawnTracked([
    "ssh", "-N", "-i", `${dir}/user`, "-p", String(sshdPort), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
    "-o", "ExitOnForwardFailure=yes", "-o", "BatchMode=yes", "-L", `${localPort}:127.0.0.1:${port}`, "127.0.0.1",
  ]);
  if (await accepts(localPort)) return { port: localPort, kill: async () => void (await Promise.all([ssh.kill(), sshd.kill()])) };
  await Promise.all([ssh.kill(), sshd.kill()]);
  console.error(`ssh -L did not come up; ssh: ${ssh.stderr().slice(0, 500)}; sshd: ${sshd.stderr().slice(0, 500)}`);
  return null;
}

/** Whether 127.0.0.1:port accepts a connection within 10 s (polled: the listener is another process). */
async function accepts(port: number): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    const ok = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } }).then((s) => (s.end(), true), () => false);
    if (ok) return true;
    await Bun.sleep(50);
  }
  return false;
}

function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const cmd = execboxCommand(false);
  const executor = await startServer(cmd);
  const results: Record<string, Record<Direction, number[]>> = {};
  const record = (path: string, direction: Direction, seconds: number) => {
    results[path] ??= { download: [], upload: [] };
    results[path]![direction].push(total / MiB / seconds);
  };
  try {
    for (const direction of ["download", "upload"] as const) {
      const service = startService(direction);
      const fwd = await startForward(cmd.argv, executor.url, service.listener.port);
      const ssh = await startSshForward(service.listener.port);
      const paths: [string, number][] = [["direct loopback", service.listener.port], ["execbox forward", fwd.port], ...(ssh ? [["ssh -L", ssh.port] as [string, number]] : [])];
      for (let run = 0; run < runs; run++) {
        for (const [path, port] of paths) {
          const before = service.conns.length;
          const seconds = await transfer(port, direction);
          // The connection this run made (a readiness probe through ssh may have added an empty one meanwhile).
          const received = Math.max(0, ...service.conns.slice(before).map((c) => c.received));
          if (direction === "upload" && received !== total) throw new Error(`${path}: the service received ${received} of ${total} bytes`);
          record(path, direction, seconds);
          console.log(`${direction} ${path.padEnd(16)} ${(total / MiB / seconds).toFixed(0).padStart(5)} MiB/s`);
        }
      }
      await fwd.kill();
      await ssh?.kill();
      service.listener.stop(true);
    }
  } finally {
    await executor.kill();
    killAll();
  }
  const direct = results["direct loopback"]!;
  const rows = Object.entries(results).map(([path, r]) => {
    const cell = (d: Direction) => `${median(r[d]).toFixed(0)} (${(median(r[d]) / median(direct[d])).toFixed(2)}×)`;
    return `| ${path} | ${cell("download")} | ${cell("upload")} | ${r.download.map((x) => x.toFixed(0)).join(", ")} / ${r.upload.map((x) => x.toFixed(0)).join(", ")} |`;
  });
  const how = `- \`bun bench/tunnel.ts ${runs} ${total / MiB}\`: ${total / MiB} MiB over one TCP connection to a service on 127.0.0.1, direct, through \`${cmd.label} forward\` (the executor the same binary, WebSocket on 127.0.0.1)${results["ssh -L"] ? ", and through `ssh -L` (OpenSSH, ed25519, default cipher) to a throwaway sshd on 127.0.0.1" : " (ssh -L could not be set up here: no row)"}; ${runs} run(s) each, interleaved; median MiB/s, ratio to direct. Service, client, forwarder and executor share the machine's 2 cores (with other agents' work).`;
  const section = [
    sectionHead("Port forwarding (tunnel)", how),
    "| Path | service → client MiB/s (× direct) | client → service MiB/s (× direct) | runs (down / up) |",
    "|---|---:|---:|---|",
    ...rows,
    "",
  ].join("\n");
  console.log(section);
  writeResultsSection(section);
}

await main();
