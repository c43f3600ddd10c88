// Run workers: a few slots per process, each claiming the oldest claimable run from the database
// and executing it under a lease it keeps renewing. Any number of processes may run workers on
// the same database; a run is held by one at a time. A woken bus message starts idle slots at
// once; otherwise they look every `pollMs`. One sweeper per process expires runs that waited
// too long for tool outputs.

import { randomBytes } from 'node:crypto';
import type { Repositories } from '../storage/repositories.js';
import type { Unsubscribe } from './event-bus.js';
import { closeOpenWork } from './run-closing.js';
import { type RunControl, type RunEvent, runChannel, runControlChannel, WAKE_CHANNEL } from './run-events.js';
import { executeRun, type RunExecutorDeps, RunStopped } from './run-executor.js';

export interface RunWorkersOptions extends RunExecutorDeps {
  /** Runs this process executes at once. */
  readonly concurrency: number;
  readonly leaseMs: number;
  /** How often idle slots look for work when no wake-up comes. */
  readonly pollMs?: number;
  /** How often requires_action runs are checked for expiry. */
  readonly sweepMs?: number;
}

export interface RunWorkers {
  readonly workerId: string;
  /** Runs being executed right now. */
  readonly active: number;
  /** Stops claiming, hands the runs being executed back (they resume elsewhere or after a restart). */
  stop(): Promise<void>;
}

export async function startRunWorkers(options: RunWorkersOptions): Promise<RunWorkers> {
  const { repositories, bus, concurrency, leaseMs, pollMs = 1000, sweepMs = 1000 } = options;
  const workerId = `worker_${randomBytes(6).toString('hex')}`;
  let stopped = false;
  const running = new Map<string, AbortController>();
  const idle = new Set<() => void>();
  const wakeAll = () => {
    for (const wake of [...idle]) wake();
  };
  const unsubscribeWake: Unsubscribe = await bus.subscribe(WAKE_CHANNEL, wakeAll);

  async function slot(): Promise<void> {
    while (!stopped) {
      let claimed: Awaited<ReturnType<Repositories['runs']['claim']>> = null;
      try {
        claimed = await repositories.runs.claim({ workerId, leaseMs, nowMs: Date.now() });
      } catch (error) {
        if (!stopped) options.log('error', 'claiming a run failed', { err: error });
      }
      if (!claimed) {
        await sleep(pollMs);
        continue;
      }
      await execute(claimed);
    }
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        idle.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      idle.add(done);
    });
  }

  async function execute(
    claimed: NonNullable<Awaited<ReturnType<Repositories['runs']['claim']>>>,
  ): Promise<void> {
    const runId = claimed.run.id;
    const controller = new AbortController();
    running.set(runId, controller);
    const stop = (reason: 'cancel' | 'lost' | 'shutdown') => {
      if (!controller.signal.aborted) controller.abort(new RunStopped(reason));
    };
    const unsubscribeControl = await bus.subscribe(runControlChannel(runId), (event) => {
      if ((event as RunControl).type === 'cancel') stop('cancel');
    });
    // The lease is renewed well before it runs out; renewal also notices a cancel made on a node
    // whose bus did not reach this one, and a lease lost to a stall.
    const heartbeat = setInterval(
      () => {
        repositories.runs
          .renewLease({ id: runId, workerId, leaseMs, nowMs: Date.now() })
          .then((status) => {
            if (status === null) stop('lost');
            else if (status === 'cancelling') stop('cancel');
          })
          .catch((error: unknown) =>
            options.log('warn', 'renewing a run lease failed', { runId, err: error }),
          );
      },
      Math.max(50, Math.floor(leaseMs / 3)),
    );
    try {
      await executeRun(options, { claimed, workerId, signal: controller.signal });
    } finally {
      clearInterval(heartbeat);
      unsubscribeControl();
      running.delete(runId);
    }
  }

  async function sweep(): Promise<void> {
    const now = options.now ?? (() => Math.floor(Date.now() / 1000));
    const expired = await repositories.runs.expiredActions({ now: now(), limit: 50 });
    for (const candidate of expired) {
      const run = await repositories.runs.transition({
        id: candidate.id,
        from: ['requires_action'],
        changes: { status: 'expired', requiredAction: null, claimedBy: null, leaseExpiresAt: null },
      });
      if (!run) continue; // outputs arrived, or another node expired it
      options.runEnded?.('expired');
      await closeOpenWork({
        repositories,
        bus,
        runId: run.id,
        stepStatus: 'expired',
        messageReason: 'run_expired',
      });
      await bus.publish(runChannel(run.id), { type: 'run', event: 'expired', run } satisfies RunEvent);
    }
  }
  const sweeper = setInterval(() => {
    sweep().catch((error: unknown) => {
      if (!stopped) options.log('error', 'expiring runs failed', { err: error });
    });
  }, sweepMs);

  const slots = Array.from({ length: concurrency }, () => slot());

  return {
    workerId,
    get active() {
      return running.size;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(sweeper);
      unsubscribeWake();
      for (const controller of running.values()) controller.abort(new RunStopped('shutdown'));
      wakeAll();
      await Promise.allSettled(slots);
    },
  };
}
