import { describe, expect, it } from 'vitest';
import { GPT_ROLES, type GptViewer, gptPermissions, gptRole } from './gpts-permissions.js';

const gpt = { builderAccountId: 'acct_builder', workspaceId: 'ws_team' };
const viewer = (accountId: string | null, workspaceIds: string[], signedIn = true): GptViewer => ({
  accountId,
  workspaceIds: new Set(workspaceIds),
  signedIn,
});

describe('gpt roles', () => {
  it('tells the builder, a member, another signed-in caller and an anonymous visitor apart', () => {
    expect(gptRole(gpt, viewer('acct_builder', []))).toBe('builder');
    expect(gptRole(gpt, viewer('acct_member', ['ws_team', 'ws_home']))).toBe('member');
    // A workspace API key (no person) acts as a member of its own workspace.
    expect(gptRole(gpt, viewer(null, ['ws_team']))).toBe('member');
    expect(gptRole(gpt, viewer('acct_other', ['ws_elsewhere']))).toBe('other');
    expect(gptRole(gpt, viewer(null, ['ws_elsewhere']))).toBe('other');
    expect(gptRole(gpt, viewer(null, [], false))).toBe('anonymous');
  });
});

describe('gpt permissions', () => {
  // [visibility, role, has the link] → view, chat, edit, see instructions
  const expected: Record<string, string> = {
    'private builder': 'VCEI',
    'private member': '----',
    'private other': '----',
    'private anonymous': '----',
    'link builder': 'VCEI',
    'link member': '----',
    'link other': '----',
    'link anonymous': '----',
    'link builder +link': 'VCEI',
    'link member +link': 'VC--',
    'link other +link': 'VC--',
    'link anonymous +link': 'V---',
    'workspace builder': 'VCEI',
    'workspace member': 'VC--',
    'workspace other': '----',
    'workspace anonymous': '----',
    'public builder': 'VCEI',
    'public member': 'VC--',
    'public other': 'VC--',
    'public anonymous': 'V---',
  };

  it('allows exactly the expected cells of a published GPT', () => {
    for (const visibility of ['private', 'link', 'workspace', 'public'] as const) {
      for (const role of GPT_ROLES) {
        for (const hasLink of visibility === 'link' ? [false, true] : [false]) {
          const access = gptPermissions({ visibility, role, hasLink, published: true });
          const cell = `${visibility} ${role}${hasLink ? ' +link' : ''}`;
          const got = [
            access.view ? 'V' : '-',
            access.chat ? 'C' : '-',
            access.edit ? 'E' : '-',
            access.seeInstructions ? 'I' : '-',
          ].join('');
          expect(`${cell}: ${got}`).toBe(`${cell}: ${expected[cell]}`);
        }
      }
    }
  });

  it('keeps a never-published GPT to its builder, whatever its visibility', () => {
    for (const visibility of ['private', 'link', 'workspace', 'public'] as const) {
      expect(gptPermissions({ visibility, role: 'builder', hasLink: true, published: false }).edit).toBe(
        true,
      );
      for (const role of ['member', 'other', 'anonymous'] as const) {
        expect(gptPermissions({ visibility, role, hasLink: true, published: false })).toEqual({
          view: false,
          chat: false,
          edit: false,
          seeInstructions: false,
        });
      }
    }
  });
});
