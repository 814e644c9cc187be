/**
 * Resuming after a lost harness stream, against the reference executor and
 * execbox's (compiled binary in CI), through the fake registry and routing
 * rendezvous with a proxy in front of it that can kill only the harness's
 * side of the path. The executor learns that a harness stream ended only
 * from a relay `reset`, which the rendezvous sends when it notices the
 * harness socket is gone: late, or (the path failed on the harness's side)
 * not at all. A new stream's `initialize {resumeSessionId}` that overtakes
 * that reset meets -32010, the session being still attached to the old one.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { ExecboxClient } from "../../src/client/index.ts";
import { connectRemote, HARNESS_REPLACED_REASON, remoteConnector } from "../../src/client/remote.ts";
import { referenceForTests } from "../helpers/reference-bin.ts";
import { execboxCommand } from "../helpers/server.ts";
import { waitUntil } from "../helpers/wait.ts";
import { type ProxiedRelay, RIG_ENV, startProxiedRelay } from "./client-relay-rig.ts";

setDefaultTimeout(30_000);

function resumeSuite(label: string, command: string[]): void {
  let rig: ProxiedRelay;
  const clients: ExecboxClient[] = [];
  /** Connects and returns the client with the id of the stream it opened. */
  const connected = async (options: { resume: boolean }) => {
    const from = rig.rendezvous.fromHarness.length;
    const client = await connectRemote({ ...rig.remote, ...options, recoveryDeadlineMs: 3_000 });
    clients.push(client);
    return { client, streamId: rig.rendezvous.fromHarness.slice(from).find((f) => f.body?.kind === "resume")!.streamId };
  };

  beforeAll(async () => {
    rig = await startProxiedRelay(command, label);
  });

  afterAll(async () => {
    for (const c of clients) await c.close();
    await rig?.stop();
  });

  describe(`resume through the relay, ${label}`, () => {
    test("the cause: with the old stream never reset, a resume on a new stream is answered -32010 (still attached)", async () => {
      const { client } = await connected({ resume: false });
      const failed = new Promise<void>((resolve) => client.on("state", (state) => state === "failed" && resolve()));
      expect(rig.proxy.dropHarnesses()).toBe(1); // the rendezvous keeps its end: it sends the executor no reset
      await failed;
      // A stream opened as the client did before it reset its previous stream first.
      const answers: string[] = [];
      const raw = await remoteConnector({ ...rig.remote, resume: false }).open({ message: (t) => answers.push(t), closed: () => {} });
      try {
        raw.send(JSON.stringify({ id: 1, method: "initialize", params: { clientName: "raw", resumeSessionId: client.sessionId } }));
        await waitUntil(() => answers.length > 0, 10_000, "the answer to initialize");
        expect(JSON.parse(answers[0]!)).toEqual({
          id: 1,
          error: { code: -32010, message: `session ${client.sessionId} is already attached to another connection` },
        });
      } finally {
        await raw.close();
      }
    });

    test("the fix: a new stream first resets the one it replaces, so the first resume attempt succeeds", async () => {
      const { client, streamId } = await connected({ resume: true });
      const session = client.sessionId;
      const p = await client.startProcess({ argv: ["sh", "-c", "read line; echo got $line"], cwd: rig.dir.uri, env: RIG_ENV, tty: false, pipeStdin: true });
      const connects = rig.registry.requestsTo("connect").length;
      const from = rig.rendezvous.fromHarness.length;
      const states: string[] = [];
      client.on("state", (state) => states.push(state));
      expect(rig.proxy.dropHarnesses()).toBe(1);
      await p.write("after-resume\n");
      const out = await p.collect();
      expect([Buffer.from(out.stdout).toString(), out.exitCode, client.sessionId]).toEqual(["got after-resume\n", 0, session]);
      // One new bundle and stream: no -32010 and retry.
      expect(rig.registry.requestsTo("connect").length - connects).toBe(1);
      const since = rig.rendezvous.fromHarness.slice(from);
      const at = since.findIndex((f) => f.body?.kind === "reset" && f.body.reason === HARNESS_REPLACED_REASON);
      const [reset, resume] = since.slice(at);
      expect([reset!.streamId, reset!.body]).toEqual([streamId, { kind: "reset", reason: HARNESS_REPLACED_REASON }]);
      expect(resume!.streamId).not.toBe(streamId);
      expect(resume!.body).toEqual({ kind: "resume", nextSeq: 0 });
      // "connected" comes once every live process has caught up, which may be just after this process's own close arrived.
      await waitUntil(() => states.length >= 2, 10_000, "the client to report connected");
      expect(states).toEqual(["recovering", "connected"]);
    });
  });
}

const reference = referenceForTests();
if (reference) resumeSuite("the reference executor", [reference, "exec-server"]);
resumeSuite("execbox's executor", execboxCommand());
