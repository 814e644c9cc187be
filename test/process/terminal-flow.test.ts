/** A PTY child's output stopped from the executor side (Linux: TCXONC on its terminal), for real. */
import { expect, test } from "bun:test";
import { spawnChild } from "../../src/process/spawn.ts";
import { waitUntil, waitUntilSteady } from "../helpers/wait.ts";

test.skipIf(process.platform !== "linux")("paused output stays stopped even if the client types ^Q, and the program's flags are never touched", async () => {
  let received = 0;
  let text = "";
  const child = spawnChild(
    {
      argv: ["/bin/sh", "-c", "stty -ixon; echo ready; head -c 67108864 /dev/zero; stty -a"],
      cwd: "/tmp",
      env: { PATH: "/usr/bin:/bin" },
      tty: true,
      pipeStdin: false,
    },
    {
      data: (b) => {
        received += b.byteLength;
        if (received < 4096 || b.some((c) => c !== 0)) text += Buffer.from(b.filter((c) => c !== 0)).toString();
      },
      end: () => {},
    },
  );
  try {
    await waitUntil(() => text.includes("ready"), 10_000, "the program to start");
    child.pauseOutput();
    const stoppedAt = await waitUntilSteady(() => received, "output to stop");
    // ^Q with IXON off is plain input: it must not restart a terminal the executor stopped.
    await child.write(Buffer.from([0x11]));
    expect(await waitUntilSteady(() => received, "output to stay stopped")).toBe(stoppedAt);
    expect(stoppedAt).toBeLessThan(67108864);
    child.resumeOutput();
    expect(await child.exited).toBe(0);
    await waitUntil(() => text.includes("speed"), 10_000, "stty -a");
    // The program sees exactly the flags it set: IXON off, never execbox's.
    expect(text).toMatch(/(^|\s)-ixon(\s|$)/);
  } finally {
    child.signalGroup("SIGKILL");
    child.release();
  }
});
