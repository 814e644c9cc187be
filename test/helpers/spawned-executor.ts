/**
 * An executor process started for a remote-mode test (`execbox --remote …` or
 * the reference's `exec-server --remote …`): stderr is always drained (an
 * unread pipe could fill and stall it) and kept for assertions; `stop` kills
 * it and waits for it.
 */
export type SpawnedExecutor = {
  proc: Bun.Subprocess<"ignore", "ignore", "pipe">;
  stderr(): string;
  stop(): Promise<void>;
};

export function spawnExecutor(argv: string[], env: Record<string, string | undefined>): SpawnedExecutor {
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: "pipe", env });
  let text = "";
  void (async () => {
    for await (const c of proc.stderr) text += new TextDecoder().decode(c);
  })();
  return {
    proc,
    stderr: () => text,
    stop: async () => {
      proc.kill("SIGKILL");
      await proc.exited;
    },
  };
}
