// What the progress bar prints: a redrawn line on a terminal, readable lines in a log.

import { describe, expect, it } from 'vitest';
import {
  type ByteProgress,
  createProgressBar,
  formatBytes,
  formatDuration,
  formatEta,
  formatPercent,
  renderBar,
  renderTtyLine,
} from './progress-bar.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

function fakeStream({ isTTY, columns = 80 }: { isTTY: boolean; columns?: number }) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns, write: (chunk: string) => writes.push(chunk) } };
}

function progressAt(
  receivedBytes: number,
  totalBytes: number | null,
  bytesPerSecond = 10 * MiB,
): ByteProgress {
  return { receivedBytes, totalBytes, bytesPerSecond, resumedFrom: 0 };
}

describe('formatBytes', () => {
  it('uses binary units with about three significant digits', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(12.34 * MiB)).toBe('12.3 MiB');
    expect(formatBytes(512 * MiB)).toBe('512 MiB');
    expect(formatBytes(4.07 * GiB)).toBe('4.07 GiB');
    expect(formatBytes(3 * 1024 * GiB)).toBe('3.00 TiB');
    expect(formatBytes(Number.NaN)).toBe('?');
  });
});

describe('formatDuration', () => {
  it('reads like a person would say it', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(44.6)).toBe('45s');
    expect(formatDuration(187)).toBe('3m 07s');
    expect(formatDuration(2 * 3600 + 5 * 60 + 30)).toBe('2h 05m');
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('--');
    expect(formatDuration(-1)).toBe('--');
  });
});

describe('formatPercent and formatEta', () => {
  it('clamps the percent and needs a speed and a total for the ETA', () => {
    expect(formatPercent(50, 200)).toBe('25%');
    expect(formatPercent(300, 200)).toBe('100%');
    expect(formatPercent(0, 0)).toBe('100%');
    expect(formatEta(progressAt(20 * MiB, 80 * MiB, 10 * MiB))).toBe('6s');
    expect(formatEta(progressAt(20 * MiB, 80 * MiB, 0))).toBe('--');
    expect(formatEta(progressAt(20 * MiB, null))).toBe('--');
  });
});

describe('renderBar', () => {
  it('fills in proportion, with a head while unfinished', () => {
    expect(renderBar(0, 10)).toBe('[          ]');
    expect(renderBar(0.5, 10)).toBe('[====>     ]');
    expect(renderBar(1, 10)).toBe('[==========]');
    expect(renderBar(2, 4)).toBe('[====]');
  });
});

describe('renderTtyLine', () => {
  it('shows bar, percent, sizes, speed and ETA within the terminal width', () => {
    const line = renderTtyLine('tiny.gguf', progressAt(1 * GiB, 4 * GiB, 10 * MiB), 100);
    expect(line).toMatch(
      /^tiny\.gguf \[=+> +\] {2}25% {2}1\.00 GiB\/4\.00 GiB {2}10\.0 MiB\/s {2}ETA 5m 07s$/,
    );
    expect(line.length).toBeLessThan(100);
    expect(renderTtyLine('a-very-long-model-name.gguf', progressAt(1, 2), 40).length).toBeLessThan(40);
  });

  it('spins and counts bytes when the total is unknown', () => {
    expect(renderTtyLine('tiny.gguf', progressAt(5 * MiB, null, MiB), 80, 1)).toBe(
      'tiny.gguf / 5.00 MiB  1.00 MiB/s',
    );
  });
});

describe('createProgressBar', () => {
  it('redraws one line on a terminal and ends it with the message', () => {
    const { writes, stream } = fakeStream({ isTTY: true });
    const bar = createProgressBar({ stream, label: 'tiny.gguf' });
    bar.update(progressAt(0, 100 * MiB));
    bar.update(progressAt(50 * MiB, 100 * MiB));
    bar.update(progressAt(50 * MiB, 100 * MiB)); // unchanged: not redrawn
    bar.done('Saved tiny.gguf');
    bar.update(progressAt(100 * MiB, 100 * MiB)); // after done: ignored

    expect(writes).toHaveLength(3);
    const clearToEnd = '\x1b[K';
    expect(writes[0]?.startsWith('\r')).toBe(true);
    expect(writes[0]?.endsWith(clearToEnd)).toBe(true);
    expect(writes[0]).toContain('  0% ');
    expect(writes[1]).toMatch(/^\r.* 50% /);
    expect(writes[1]?.endsWith(clearToEnd)).toBe(true);
    expect(writes.slice(0, 2).join('')).not.toContain('\n');
    expect(writes[2]).toBe('\r\x1b[KSaved tiny.gguf\n');
  });

  it('prints a line every 10% when the output is not a terminal', () => {
    const { writes, stream } = fakeStream({ isTTY: false });
    const bar = createProgressBar({ stream, label: 'tiny.gguf' });
    const total = 200 * MiB;
    for (let received = 0; received <= total; received += MiB) bar.update(progressAt(received, total));
    bar.done('done');

    const output = writes.join('');
    expect(output).not.toContain('\r');
    const lines = output.trimEnd().split('\n');
    expect(lines[0]).toBe('tiny.gguf: starting, 200 MiB');
    expect(lines.slice(1, -1).map((line) => /: (\d+)%/.exec(line)?.[1])).toEqual([
      '10',
      '20',
      '30',
      '40',
      '50',
      '60',
      '70',
      '80',
      '90',
      '100',
    ]);
    expect(lines[5]).toBe('tiny.gguf: 50% (100 MiB of 200 MiB, 10.0 MiB/s, ETA 10s)');
    expect(lines.at(-1)).toBe('done');
  });

  it('says where it resumes and steps by bytes when the size is unknown', () => {
    const resumed = fakeStream({ isTTY: false });
    const resumedBar = createProgressBar({ stream: resumed.stream, label: 'm' });
    resumedBar.update({
      receivedBytes: 30 * MiB,
      totalBytes: 100 * MiB,
      bytesPerSecond: 0,
      resumedFrom: 30 * MiB,
    });
    expect(resumed.writes).toEqual(['m: resuming at 30.0 MiB of 100 MiB (30%)\n']);

    const unknown = fakeStream({ isTTY: false });
    const unknownBar = createProgressBar({
      stream: unknown.stream,
      label: 'm',
      unknownTotalStepBytes: 10 * MiB,
    });
    for (let received = 0; received <= 35 * MiB; received += MiB)
      unknownBar.update(progressAt(received, null));
    expect(unknown.writes).toEqual([
      'm: starting (size unknown)\n',
      'm: 10.0 MiB, 10.0 MiB/s\n',
      'm: 20.0 MiB, 10.0 MiB/s\n',
      'm: 30.0 MiB, 10.0 MiB/s\n',
    ]);
  });
});
