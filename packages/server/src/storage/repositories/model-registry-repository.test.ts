import { describe, expect, it } from 'vitest';
import { ConflictError, InvalidRequestError } from '../../errors.js';
import { createSecretBox } from '../secret-box.js';
import { describeEachDialect } from '../test-support/dialects.js';
import { createModelRegistryRepository } from './model-registry-repository.js';

describe('model registry repository', () => {
  describeEachDialect(
    'stores',
    (getHandle) => {
      let time = 1_700_000_000;
      const repository = () => createModelRegistryRepository(getHandle().db, { now: () => time });

      it('upstreams, with the key only as sealed text, replaced by name', async () => {
        const box = createSecretBox('k'.repeat(40));
        const sealed = box.seal('sk-lab-secret', { context: 'upstream lab' });
        const stored = await repository().putUpstream({
          name: 'lab',
          baseUrl: 'http://gpu:8000/v1',
          apiKey: sealed,
          prefix: 'lab/',
          models: null,
          timeoutMs: 30_000,
          maxConcurrency: 4,
          maxRetries: null,
        });
        expect(stored).toMatchObject({ name: 'lab', apiKey: sealed, models: null, createdAt: time });
        const row = await getHandle().db.selectFrom('upstreams').selectAll().executeTakeFirstOrThrow();
        expect(JSON.stringify(row)).not.toContain('sk-lab-secret');
        time += 10;
        await repository().putUpstream({ ...stored, models: ['llama'], apiKey: null });
        const [again] = await repository().listUpstreams();
        expect(again).toMatchObject({
          models: ['llama'],
          apiKey: null,
          createdAt: time - 10,
          updatedAt: time,
        });
        expect(await repository().removeUpstream('lab')).toBe(true);
        expect(await repository().removeUpstream('lab')).toBe(false);
      });

      it('aliases, moved in place, never in a cycle', async () => {
        await repository().setAlias({ alias: 'gpt-3.5-turbo', target: 'lab/a' });
        await repository().setAlias({ alias: 'default', target: 'gpt-3.5-turbo' });
        time += 5;
        const moved = await repository().setAlias({
          alias: 'gpt-3.5-turbo',
          target: 'lab/a',
          nextTarget: 'lab/b',
          switchAt: time + 100,
        });
        expect(moved).toMatchObject({ nextTarget: 'lab/b', switchAt: time + 100, updatedAt: time });
        expect((await repository().listAliases()).map((alias) => alias.alias)).toEqual([
          'default',
          'gpt-3.5-turbo',
        ]);
        await expect(repository().setAlias({ alias: 'gpt-3.5-turbo', target: 'default' })).rejects.toThrow(
          ConflictError,
        );
        await expect(
          repository().setAlias({ alias: 'x', target: 'y', nextTarget: 'x', switchAt: time }),
        ).rejects.toThrow(InvalidRequestError);
        await expect(repository().setAlias({ alias: 'x', target: 'y', nextTarget: 'z' })).rejects.toThrow(
          InvalidRequestError,
        );
        expect(await repository().removeAlias('default')).toBe(true);
        expect(await repository().removeAlias('default')).toBe(false);
      });

      it('model settings, patched field by field (undefined keeps, null clears)', async () => {
        await repository().updateSettings('lab/a', { inputPricePer1k: 0.5, outputPricePer1k: 1.5 });
        await repository().updateSettings('lab/a', { capabilities: { vision: true }, contextLength: 8192 });
        const deprecated = await repository().updateSettings('lab/a', {
          deprecatedAt: time,
          shutdownAt: time + 1000,
          replacement: 'lab/b',
          fallbacks: ['lab/b', 'tiny'],
        });
        expect(deprecated).toMatchObject({
          inputPricePer1k: 0.5,
          outputPricePer1k: 1.5,
          capabilities: { vision: true },
          contextLength: 8192,
          shutdownAt: time + 1000,
          fallbacks: ['lab/b', 'tiny'],
        });
        const cleared = await repository().updateSettings('lab/a', { inputPricePer1k: null, fallbacks: [] });
        expect(cleared).toMatchObject({ inputPricePer1k: null, outputPricePer1k: 1.5, fallbacks: [] });
        expect(await repository().findSettings('lab/a')).toEqual(cleared);
        expect((await repository().listSettings()).map((settings) => settings.model)).toEqual(['lab/a']);
        await expect(repository().updateSettings('lab/a', { inputPricePer1k: -1 })).rejects.toThrow(
          InvalidRequestError,
        );
        expect(await repository().removeSettings('lab/a')).toBe(true);
        expect(await repository().findSettings('lab/a')).toBeNull();
      });
    },
    { freshFor: 'test' },
  );
});
