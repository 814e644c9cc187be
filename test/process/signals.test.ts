/** Extension `signals`: any POSIX signal name on `process/signal`, to the process group (src/protocol/signals.ts). */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { SIGNAL_NAMES, unknownSignal } from "../../src/protocol/signals.ts";
import { processSuite } from "../helpers/process-suite.ts";
import { waitUntil } from "../helpers/wait.ts";

setDefaultTimeout(30_000);

/** Untrappable (KILL, STOP) or not reportable by a bash trap (bash runs a CHLD trap per reaped child, not per signal). */
const NOT_BY_TRAP = new Set(["KILL", "STOP", "CHLD"]);
const TRAPPABLE = SIGNAL_NAMES.filter((n) => !NOT_BY_TRAP.has(n));
/** Traps every name and reports it; `read -t` is a builtin, so the process group is bash alone, and traps run between reads. */
const TRAPPER = `${TRAPPABLE.map((s) => `trap 'echo got:${s}' ${s}`).join("; ")}; echo ready; while :; do read -t 0.05 _; done`;

/** The one-letter state of a pid ("T" stopped, "Z" zombie), or null once it is gone. */
function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0]!;
  } catch {
    return null;
  }
}

describe("process/signal with POSIX names", () => {
  const suite = processSuite("sig", { tty: false, pipeStdin: true });
  const { start } = suite;
  let c: typeof suite.c;
  beforeAll(() => {
    c = suite.c;
  });
  const signal = (processId: string, name: unknown) => c.call("process/signal", { processId, signal: name });

  test("is advertised", async () => {
    expect((await c.ok("environment/info", {})).extensions.signals).toBe(1);
  });

  test("every trappable name reaches a bash trap, spelled NAME and SIGNAME alternately", async () => {
    const { processId } = await start(["bash", "-c", TRAPPER]);
    let expected = "ready\n";
    await c.waitFor(() => c.output(processId).toString() === expected);
    for (const [i, name] of TRAPPABLE.entries()) {
      const wire = i % 2 === 0 ? name : `SIG${name}`;
      expect((await signal(processId, wire)).result).toEqual({});
      expected += `got:${name}\n`;
      await c.waitFor(() => c.output(processId).toString() === expected, 10_000, `trap for ${wire}`);
    }
    await c.ok("process/terminate", { processId });
    await c.processDone(processId);
  });

  test("CHLD reaches a handler (a Bun child: bash cannot report it)", async () => {
    const script = `process.on("SIGCHLD", () => console.log("got:CHLD")); console.log("ready"); setInterval(() => {}, 1000);`;
    const { processId } = await start([process.execPath, "-e", script]);
    await c.waitFor(() => c.output(processId, "stdout").toString() === "ready\n");
    await signal(processId, "CHLD");
    await c.waitFor(() => c.output(processId, "stdout").toString() === "ready\ngot:CHLD\n");
    await signal(processId, "SIGKILL");
    await c.processDone(processId);
  });

  test("STOP stops, CONT resumes, KILL kills the whole group (exit 137, grandchild gone)", async () => {
    const { processId } = await start(["bash", "-c", "sleep 60 & echo $!; while :; do read -t 0.05 _; done"]);
    await c.waitFor(() => /^\d+\n$/.test(c.output(processId, "stdout").toString()));
    const grandchild = Number(c.output(processId, "stdout").toString());
    await signal(processId, "STOP");
    await waitUntil(() => procState(grandchild) === "T", 10_000, "grandchild stopped");
    await signal(processId, "SIGCONT");
    await waitUntil(() => procState(grandchild) === "S", 10_000, "grandchild resumed");
    await signal(processId, "KILL");
    const events = await c.processDone(processId);
    expect(events.find((e) => e.method === "process/exited")!.params.exitCode).toBe(137);
    await waitUntil(() => procState(grandchild) === null || procState(grandchild) === "Z", 10_000, "grandchild killed");
  });

  test("TERM to the group: an untrapped child exits 143", async () => {
    const { processId } = await start(["bash", "-c", "echo up; while :; do read -t 0.05 _; done"]);
    await c.waitFor(() => c.output(processId).toString() === "up\n");
    await signal(processId, "TERM");
    const events = await c.processDone(processId);
    expect(events.find((e) => e.method === "process/exited")!.params.exitCode).toBe(143);
    // Exited: a further signal does nothing, as `interrupt` does.
    expect((await signal(processId, "TERM")).result).toEqual({});
  });

  test("an unknown id is ignored, as the reference ignores interrupt to one", async () => {
    expect((await signal("nope", "TERM")).result).toEqual({});
  });

  test("unknown names are -32602 listing what is accepted; the reference's errors otherwise", async () => {
    for (const name of ["kill", "term", "SIGPOLL", "RTMIN", "SIG", ""]) {
      expect((await signal("any", name)).error).toEqual({ code: -32602, message: unknownSignal(name) });
    }
    expect(unknownSignal("kill")).toBe(
      "unknown signal `kill`: expected `interrupt` or a POSIX signal name, with or without the SIG prefix (upper case): HUP, INT, QUIT, ILL, TRAP, ABRT, BUS, FPE, KILL, USR1, SEGV, USR2, PIPE, ALRM, TERM, CHLD, CONT, STOP, TSTP, TTIN, TTOU, URG, XCPU, XFSZ, VTALRM, PROF, SYS, WINCH",
    );
    expect((await signal("any", 9)).error).toEqual({ code: -32602, message: "invalid type: number, expected string or map" });
    expect((await c.call("process/signal", { processId: "any", signal: { TERM: null } })).result).toEqual({});
  });
});
