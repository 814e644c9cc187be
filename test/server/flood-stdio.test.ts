/** The flood test over stdio: a client that writes requests and reads no answers stops being read. */
import { expect, setDefaultTimeout, test } from "bun:test";
import { procField, rssBytes } from "../helpers/proc.ts";
import { execboxCommand } from "../helpers/server.ts";
import { waitUntilSteady } from "../helpers/wait.ts";

setDefaultTimeout(60_000);

const REQUESTS = 200_000;
const MiB = 1 << 20;


test("stdio: requests are not read while answers are backed up; all answers arrive once they are read", async () => {
  const proc = Bun.spawn([...execboxCommand(), "--listen", "stdio"], { stdin: "pipe", stdout: "pipe", stderr: "ignore" });
  try {
    let input = `{"id":0,"method":"initialize","params":{"clientName":"flood-test"}}\n{"method":"initialized","params":{}}\n`;
    for (let id = 1; id <= REQUESTS; id++) input += `{"id":${id},"method":"environment/info","params":null}\n`;
    proc.stdin.write(input);
    void proc.stdin.flush();
    // Nothing reads the answers: wait until the executor stops reading its stdin.
    const last = await waitUntilSteady(() => procField(proc.pid, "io", "rchar"), "the executor to stop reading");
    expect(last).toBeLessThan(input.length);
    expect(rssBytes(proc.pid)).toBeLessThan(200 * MiB);
    // Now read every answer: ids in order, nothing lost.
    let next = 0;
    let outOfOrder = 0;
    let rest = "";
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout) {
      const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        if ((JSON.parse(line) as { id: number }).id !== next++) outOfOrder++;
      }
      if (next === REQUESTS + 1) break;
    }
    expect([next, outOfOrder]).toEqual([REQUESTS + 1, 0]);
  } finally {
    proc.kill("SIGKILL");
    await proc.exited;
  }
});
