/**
 * The macOS Seatbelt profile, checked against golden files (macOS is not
 * available here). `UPDATE_GOLDEN=1 bun test test/sandbox/seatbelt.test.ts`
 * rewrites them; review the diff like code.
 */
import { expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FsView } from "../../src/sandbox/policy.ts";
import { seatbeltArgv, seatbeltProfile } from "../../src/sandbox/seatbelt.ts";

const GOLDEN = join(import.meta.dir, "golden");
/** macOS's canonical forms, as realpath gives them there. */
const MAC_REALPATH: Record<string, string> = { "/tmp/ws": "/private/tmp/ws", "/tmp/ws/.git": "/private/tmp/ws/.git" };
const resolve = (p: string) => {
  const r = MAC_REALPATH[p];
  if (r === undefined) throw new Error("ENOENT");
  return r;
};

function golden(name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) writeFileSync(file, actual);
  expect(actual).toBe(readFileSync(file, "utf8"));
}

const render = (view: FsView | null, network: "restricted" | "enabled", minimal = false) => {
  const p = seatbeltProfile(view, network, minimal, resolve);
  return `${p.policy}\n;; parameters\n${p.params.map(([k, v]) => `;; -D${k}=${v}`).join("\n")}\n`;
};

test("read-only: full read, nothing writable, no network", () => {
  golden("read-only.sb", render({ fullRead: true, fullWrite: false, rules: [] }, "restricted"));
});

test("workspace-write: writable root with a read-only .git, a denied file, protected names as regexes on the canonical root", () => {
  const view: FsView = {
    fullRead: true,
    fullWrite: false,
    rules: [
      { path: "/tmp/ws", access: "write" },
      { path: "/tmp/ws/.git", access: "read" },
      { path: "/tmp/ws/secret.pem", access: "deny" },
    ],
  };
  golden("workspace-write.sb", render(view, "restricted"));
});

test("minimal runtime plus one readable and one writable tree, network enabled", () => {
  const view: FsView = { fullRead: false, fullWrite: false, minimal: true, rules: [{ path: "/opt/data", access: "read" }, { path: "/tmp/ws", access: "write" }] };
  golden("minimal-network.sb", render(view, "enabled", true));
});

test("the whole disk writable; sandbox-exec argv carries the parameters before --", () => {
  golden("full-write.sb", render(null, "restricted"));
  const argv = seatbeltArgv(seatbeltProfile({ fullRead: true, fullWrite: false, rules: [{ path: "/tmp/ws", access: "write" }] }, "restricted", false, resolve));
  expect(argv[0]).toBe("/usr/bin/sandbox-exec");
  expect(argv[1]).toBe("-p");
  expect(argv.slice(3)).toEqual(["-DWRITABLE_ROOT_0=/private/tmp/ws", "--"]);
});
