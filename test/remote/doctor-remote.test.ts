/** `execbox doctor --remote URL`: whether the environment registry answers, without registering anything. */
import { expect, test } from "bun:test";
import { startFakeRegistry } from "../helpers/fake-registry.ts";
import { execboxCommand } from "../helpers/server.ts";

async function doctor(args: string[]): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn([...execboxCommand(), "doctor", ...args], { stdout: "pipe", stderr: "pipe", timeout: 20_000 });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return { code, out };
}

test("a registry that answers is reachable (any HTTP status); nothing is registered", async () => {
  await using registry = startFakeRegistry();
  const { code, out } = await doctor(["--json", "--remote", registry.url]);
  expect(code).toBe(0);
  const report = JSON.parse(out);
  expect(report.registry).toMatchObject({ url: registry.url, reachable: true });
  expect(Number.isInteger(report.registry.status)).toBe(true);
  expect(registry.requestsTo("register")).toEqual([]);
  const plain = await doctor(["--remote", registry.url]);
  expect(plain.out).toContain(`registry          reachable — HTTP ${report.registry.status} from ${registry.url} in `);
});

test("a registry nobody listens on is not reachable: exit 1 and the reason", async () => {
  // A port that was just free: bind, note it, release it.
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const url = `http://127.0.0.1:${probe.port}`;
  probe.stop(true);
  const { code, out } = await doctor(["--json", "--remote", url]);
  expect(code).toBe(1);
  expect(JSON.parse(out).registry).toMatchObject({ url, reachable: false });
  const bad = await doctor(["--remote", "ftp://127.0.0.1/"]);
  expect([bad.code, bad.out.trim().split("\n").at(-1)]).toEqual([1, "registry          NOT reachable — ftp://127.0.0.1/: unsupported scheme ftp:"]);
});
