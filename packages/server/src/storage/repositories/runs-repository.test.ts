import { expect, it } from 'vitest';
import { createRepositories } from '../repositories.js';
import { describeEachDialect } from '../test-support/dialects.js';
import type { RunConfiguration } from './runs-repository.js';

const configuration: RunConfiguration = {
  model: 'm',
  instructions: '',
  tools: [],
  toolResources: {},
  fileIds: [],
  metadata: {},
  temperature: null,
  topP: null,
  maxPromptTokens: null,
  maxCompletionTokens: null,
  truncationStrategy: { type: 'auto', lastMessages: null },
  toolChoice: 'auto',
  responseFormat: 'auto',
  parallelToolCalls: true,
};

describeEachDialect('runs repository', (getHandle) => {
  const repositories = () => createRepositories(getHandle().db);
  const newThread = async () => {
    const workspace = await repositories().workspaces.create({ name: 'W' });
    const thread = await repositories().threads.create({ workspaceId: workspace.id });
    return { workspaceId: workspace.id, threadId: thread.id };
  };
  const newRun = async (where?: { workspaceId: string; threadId: string }) => {
    const { workspaceId, threadId } = where ?? (await newThread());
    return repositories().runs.create({
      workspaceId,
      threadId,
      assistantId: 'asst_x',
      expiresAt: null,
      ...configuration,
    });
  };

  it('stores a run as created and refuses a second active run on the thread', async () => {
    const where = await newThread();
    const run = await newRun(where);
    expect(run).toMatchObject({
      status: 'queued',
      threadId: where.threadId,
      claimedBy: null,
      attempts: 0,
      turns: 0,
    });
    expect(await repositories().runs.find(where.workspaceId, where.threadId, run.id)).toEqual(run);
    expect(await repositories().runs.find('ws_other', where.threadId, run.id)).toBeNull();
    await expect(newRun(where)).rejects.toMatchObject({
      status: 400,
      message: `Thread ${where.threadId} already has an active run ${run.id}.`,
    });
    // Once it is over, the thread takes another.
    await repositories().runs.transition({ id: run.id, from: ['queued'], changes: { status: 'cancelled' } });
    expect((await newRun(where)).status).toBe('queued');
  });

  it('lets concurrent workers claim each run exactly once, oldest first', async () => {
    const created = [];
    for (let index = 0; index < 12; index++) created.push((await newRun()).id);
    const claimedBy = new Map<string, string>();
    const worker = async (workerId: string) => {
      // Each worker its own connection where the dialect has several (a pool on Postgres).
      const own = createRepositories((await getHandle().reopen()).db);
      for (;;) {
        const claimed = await own.runs.claim({ workerId, leaseMs: 60_000, nowMs: Date.now() });
        if (!claimed) return;
        expect(claimed.resumed).toBe(false);
        expect(claimedBy.has(claimed.run.id)).toBe(false);
        claimedBy.set(claimed.run.id, workerId);
      }
    };
    await Promise.all(['w1', 'w2', 'w3', 'w4'].map(worker));
    for (const id of created) {
      expect(claimedBy.has(id)).toBe(true);
      const run = await repositories().runs.findById(id);
      expect(run).toMatchObject({ status: 'in_progress', claimedBy: claimedBy.get(id), attempts: 1 });
      expect(run!.startedAt).toBeGreaterThan(0);
    }
  });

  it('hands a run whose lease ran out to another worker, and the first one loses its writes', async () => {
    const run = await newRun();
    const now = Date.now();
    // Drain older queued runs of other tests first, to get to this one.
    let claimed = await repositories().runs.claim({ workerId: 'first', leaseMs: 1_000, nowMs: now });
    while (claimed && claimed.run.id !== run.id)
      claimed = await repositories().runs.claim({ workerId: 'first', leaseMs: 1_000, nowMs: now });
    expect(claimed?.run.id).toBe(run.id);
    expect(
      await repositories().runs.claim({ workerId: 'second', leaseMs: 1_000, nowMs: now + 500 }),
    ).toBeNull();
    expect(
      await repositories().runs.renewLease({
        id: run.id,
        workerId: 'first',
        leaseMs: 1_000,
        nowMs: now + 500,
      }),
    ).toBe('in_progress');
    const taken = await repositories().runs.claim({ workerId: 'second', leaseMs: 1_000, nowMs: now + 2_000 });
    expect(taken).toMatchObject({ resumed: true, run: { id: run.id, claimedBy: 'second', attempts: 2 } });
    expect(
      await repositories().runs.renewLease({
        id: run.id,
        workerId: 'first',
        leaseMs: 1_000,
        nowMs: now + 2_000,
      }),
    ).toBeNull();
    expect(
      await repositories().runs.transition({
        id: run.id,
        from: ['in_progress'],
        claimedBy: 'first',
        changes: { status: 'completed' },
      }),
    ).toBeNull();
    expect(
      await repositories().runs.transition({
        id: run.id,
        from: ['in_progress'],
        claimedBy: 'second',
        changes: { status: 'completed' },
      }),
    ).toMatchObject({ status: 'completed' });
  });

  it('releases every claim at start, and finds runs whose tool outputs are overdue', async () => {
    const run = await newRun();
    let claimed = await repositories().runs.claim({ workerId: 'gone', leaseMs: 600_000, nowMs: Date.now() });
    while (claimed && claimed.run.id !== run.id) {
      claimed = await repositories().runs.claim({ workerId: 'gone', leaseMs: 600_000, nowMs: Date.now() });
    }
    expect(await repositories().runs.releaseAllClaims()).toBeGreaterThanOrEqual(1);
    expect(
      await repositories().runs.claim({ workerId: 'next', leaseMs: 1_000, nowMs: Date.now() }),
    ).toMatchObject({
      resumed: true,
    });

    const waiting = await newRun();
    await repositories().runs.transition({
      id: waiting.id,
      from: ['queued'],
      changes: { status: 'requires_action', expiresAt: 1_000 },
    });
    const overdue = await repositories().runs.expiredActions({ now: 2_000, limit: 10 });
    expect(overdue.map((one) => one.id)).toContain(waiting.id);
    expect(
      (await repositories().runs.expiredActions({ now: 500, limit: 10 })).map((one) => one.id),
    ).not.toContain(waiting.id);
  });
});
