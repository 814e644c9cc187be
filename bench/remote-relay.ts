/**
 * The fake registry and the routing fake rendezvous of `bench/remote.ts`, in
 * a process of their own so routing every relay frame does not eat the
 * harness's thread. Driven over Bun IPC: it sends `{ registry }` once up, and
 * answers `{ wait: n }` with `{ opened }` once n executor sockets have been
 * opened and one is connected (or `{ error }`); `{ clear: true }` drops the
 * frames the rendezvous recorded (it records none here: it only routes).
 */
import { FakeRendezvous } from "../test/helpers/fake-rendezvous.ts";
import { startFakeRegistry } from "../test/helpers/fake-registry.ts";

/** Queue for a slow harness socket rather than drop a frame (that would stall its Noise stream). */
const BACKPRESSURE_LIMIT = 2 ** 31 - 1;
/** How long a fresh executor may take to register and dial the rendezvous. */
const READY_TIMEOUT_MS = 20_000;

// Routing only: decoding and recording every frame cost the relay more CPU than either executor spent.
const rendezvous = new FakeRendezvous({ backpressureLimit: BACKPRESSURE_LIMIT, record: false });
const registry = startFakeRegistry({ rendezvousUrl: rendezvous.url(), harnessUrl: rendezvous.harnessUrl(), bindAuthorizations: true });

process.on("message", (m: { wait?: number; clear?: boolean; exit?: boolean }) => {
  // A clean exit (not a kill), so a profiler started with BUN_OPTIONS can write its profile.
  if (m.exit) process.exit(0);
  if (m.clear) {
    rendezvous.received.length = 0;
    rendezvous.fromHarness.length = 0;
    registry.requests.length = 0;
  }
  if (m.wait === undefined) return;
  const n = m.wait;
  rendezvous.waitFor(() => rendezvous.opened >= n && rendezvous.connected, `executor socket #${n}`, READY_TIMEOUT_MS).then(
    () => process.send!({ opened: rendezvous.opened }),
    (e: Error) => process.send!({ error: e.message }),
  );
});
process.send!({ registry: registry.url });
