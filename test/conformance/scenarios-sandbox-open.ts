/**
 * capabilities.md "sandboxedFileStreaming": fs/open (read and replace) under
 * a sandbox that restricts the file system — hidden, denied and read-only
 * paths, symlinks in and out of the readable set, dangling links, FIFOs,
 * directories, `..` — then block I/O on what was opened.
 */
import { build } from "./fs-fixture.ts";
import { type Ctx, type Scenario, type Step, b64, ready, req, tree } from "./types.ts";

function files(dir: string): void {
  build(dir, {
    "ws/a.txt": "hello\n",
    "ws/deny.txt": "denied\n",
    "ws/dir/x": "x",
    "ws/fifo": { fifo: true },
    "ws/link-in": { link: "a.txt" },
    "ws/link-out": { link: "../hidden/secret.txt" },
    "ws/link-ro": { link: "../ro/f.txt" },
    "ws/dangling": { link: "nope.txt" },
    "hidden/secret.txt": "secret\n",
    "ro/f.txt": "read only\n",
  });
}

const path = (uri: string) => ({ type: "path", path: uri });
type Entry = { path: unknown; access: string };
/** Every policy also reads the server's PATH dir (types.ts `serverBinUri`): the reference's helper starts from there. */
const sandbox = (c: Ctx, entries: Entry[]) => ({
  permissions: {
    type: "managed",
    network: "restricted",
    file_system: { type: "restricted", entries: [...entries, { path: path(c.serverBinUri), access: "read" }] },
  },
  windowsSandboxLevel: "disabled",
});
/** Reads ws and ro only: `hidden` is outside the readable set. */
const readWs = (c: Ctx) => sandbox(c, [{ path: path(`${c.uri}/ws`), access: "read" }, { path: path(`${c.uri}/ro`), access: "read" }]);
/** Reads everything, writes ws but its deny.txt. */
const writeWs = (c: Ctx) =>
  sandbox(c, [
    { path: { type: "special", value: { kind: "root" } }, access: "read" },
    { path: path(`${c.uri}/ws`), access: "write" },
    { path: path(`${c.uri}/ws/deny.txt`), access: "deny" },
  ]);

const open = (handleId: string, rel: string, policy: (c: Ctx) => unknown, mode?: string): Step =>
  req("fs/open", (c: Ctx) => ({ handleId, path: `${c.uri}/${rel}`, ...(mode ? { mode } : {}), sandbox: policy(c) }));
const readBlock = (handleId: string, offset: number, len: number): Step => req("fs/readBlock", { handleId, offset, len });

export const sandboxOpenScenarios: Scenario[] = [
  {
    name: "sandbox-open/read-restricted",
    setup: files,
    steps: [
      ...ready(),
      open("r1", "ws/a.txt", readWs),
      readBlock("r1", 0, 100),
      open("r2", "hidden/secret.txt", readWs),
      open("r3", "ws/link-out", readWs),
      open("r4", "ws/link-in", readWs),
      readBlock("r4", 0, 100),
      open("r5", "ws/dangling", readWs),
      open("r6", "ws/fifo", readWs),
      open("r7", "ws/dir", readWs),
      open("r8", "ws/missing.txt", readWs),
      open("r9", "ws/../hidden/secret.txt", readWs),
      open("r10", "ws/new.txt", readWs, "replace"),
      open("r11", "hidden/new.txt", readWs, "replace"),
      open("r12", "ws/a.txt", readWs, "replace"),
      req("fs/writeBlock", { handleId: "r1", offset: 0, chunk: b64("x") }),
      req("fs/close", { handleId: "r1" }),
      readBlock("r1", 0, 10),
      req("fs/close", { handleId: "r4" }),
    ],
  },
  {
    name: "sandbox-open/write-restricted",
    setup: files,
    steps: [
      ...ready(),
      open("w1", "ws/out.txt", writeWs, "replace"),
      req("fs/writeBlock", { handleId: "w1", offset: 0, chunk: b64("written\n") }),
      readBlock("w1", 0, 10),
      req("fs/close", { handleId: "w1" }),
      open("w2", "ws/deny.txt", writeWs),
      open("w3", "ws/deny.txt", writeWs, "replace"),
      open("w4", "ws/link-ro", writeWs, "replace"),
      open("w5", "ro/f.txt", writeWs, "replace"),
      open("w6", "ws/link-in", writeWs, "replace"),
      req("fs/writeBlock", { handleId: "w6", offset: 0, chunk: b64("via link\n") }),
      req("fs/close", { handleId: "w6" }),
      open("w7", "ws/dir", writeWs, "replace"),
      open("w8", "ws/fifo", writeWs),
      open("w9", "ws/nodir/new.txt", writeWs, "replace"),
      tree(),
    ],
  },
];
