import { randomBase62 } from '@atelier/protocol';
import { expect, it } from 'vitest';
import { ConflictError } from '../../errors.js';
import { describeEachDialect } from '../test-support/dialects.js';
import { createAccountsRepository } from './accounts-repository.js';

const uniqueEmail = () => `ada.${randomBase62(10).toLowerCase()}@example.com`;

describeEachDialect('accounts repository', (getHandle) => {
  const accounts = () => createAccountsRepository(getHandle().db, { now: () => 1_700_000_000 });

  it('creates an account and finds it again by id and by email', async () => {
    const email = uniqueEmail();
    const created = await accounts().create({ name: 'Ada Lovelace', email, passwordHash: 'scrypt$…' });
    expect(created).toEqual({
      id: expect.stringMatching(/^acct_[0-9A-Za-z]{24}$/),
      email,
      name: 'Ada Lovelace',
      passwordHash: 'scrypt$…',
      createdAt: 1_700_000_000,
    });
    expect(await accounts().findById(created.id)).toEqual(created);
    expect(await accounts().findByEmail(email)).toEqual(created);
  });

  it('returns timestamps as numbers', async () => {
    const created = await createAccountsRepository(getHandle().db).create({ name: 'Now' });
    const found = await accounts().findById(created.id);
    expect(typeof found?.createdAt).toBe('number');
    expect(Math.abs(found!.createdAt - Date.now() / 1000)).toBeLessThan(60);
  });

  it('treats emails case-insensitively and stores them lower-cased', async () => {
    const email = uniqueEmail();
    const created = await accounts().create({ name: 'Ada', email: `  ${email.toUpperCase()} ` });
    expect(created.email).toBe(email);
    expect((await accounts().findByEmail(email.toUpperCase()))?.id).toBe(created.id);
  });

  it('refuses a second account with the same email with a ConflictError', async () => {
    const email = uniqueEmail();
    await accounts().create({ name: 'First', email });
    const attempt = accounts().create({ name: 'Second', email: email.toUpperCase() });
    await expect(attempt).rejects.toBeInstanceOf(ConflictError);
    await expect(attempt).rejects.toMatchObject({ status: 409, param: 'email', code: 'email_taken' });
  });

  it('allows any number of accounts without an email or password', async () => {
    const first = await accounts().create({ name: 'Anonymous' });
    const second = await accounts().create({ name: 'Anonymous' });
    expect(first.id).not.toBe(second.id);
    expect(first).toMatchObject({ email: null, passwordHash: null });
  });

  it('returns null for unknown ids and emails', async () => {
    expect(await accounts().findById('acct_nope')).toBeNull();
    expect(await accounts().findByEmail(uniqueEmail())).toBeNull();
  });
});
