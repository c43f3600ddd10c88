// Download progress for the CLI, without dependencies: one redrawn line on a terminal, and a line
// every ~10% (or every so many bytes when the size is unknown) when the output goes to a log.

/** Structurally the same as `DownloadProgress` from `inference/model-download.ts`. */
export interface ByteProgress {
  readonly receivedBytes: number;
  readonly totalBytes: number | null;
  readonly bytesPerSecond: number;
  readonly resumedFrom?: number;
}

/** The slice of `process.stderr` the bar uses; tests pass a fake. */
export interface ProgressStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

export interface ProgressBarOptions {
  readonly stream?: ProgressStream;
  readonly label: string;
  /** Without a known total, a log line is printed every this many bytes. */
  readonly unknownTotalStepBytes?: number;
}

export interface ProgressBar {
  update(progress: ByteProgress): void;
  /** Ends the bar: on a terminal the message replaces the bar line; without one the last bar stays. */
  done(message?: string): void;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;
const SPINNER = ['|', '/', '-', '\\'] as const;
const CLEAR_TO_END = '\x1b[K';
const MIN_BAR_WIDTH = 10;
const MAX_BAR_WIDTH = 40;

/** Binary units with about three significant digits: `512 B`, `1.50 KiB`, `12.3 MiB`, `4.07 GiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  const decimals = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(decimals)} ${UNITS[unit]}`;
}

/** `45s`, `3m 07s`, `2h 05m`; `--` when unknown (no speed yet). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole}s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes}m ${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** Whole percent, never above 100 (a server may send more than it announced). */
export function formatPercent(receivedBytes: number, totalBytes: number): string {
  const percent = totalBytes <= 0 ? 100 : Math.floor((receivedBytes / totalBytes) * 100);
  return `${Math.max(0, Math.min(100, percent))}%`;
}

export function formatEta({ receivedBytes, totalBytes, bytesPerSecond }: ByteProgress): string {
  if (totalBytes === null || bytesPerSecond <= 0) return '--';
  return formatDuration(Math.max(0, totalBytes - receivedBytes) / bytesPerSecond);
}

/** `[=======>      ]` with `width` cells between the brackets. */
export function renderBar(fraction: number, width: number): string {
  const clamped = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.floor(clamped * width);
  const done = filled > 0 && filled < width ? `${'='.repeat(filled - 1)}>` : '='.repeat(filled);
  return `[${done}${' '.repeat(width - filled)}]`;
}

/** The one-line terminal view; `columns` keeps it from wrapping, which would break `\r` redraws. */
export function renderTtyLine(label: string, progress: ByteProgress, columns: number, frame = 0): string {
  const rate = `${formatBytes(progress.bytesPerSecond)}/s`;
  let line: string;
  if (progress.totalBytes === null) {
    line = `${label} ${SPINNER[frame % SPINNER.length]} ${formatBytes(progress.receivedBytes)}  ${rate}`;
  } else {
    const stats =
      ` ${formatPercent(progress.receivedBytes, progress.totalBytes).padStart(4)}` +
      `  ${formatBytes(progress.receivedBytes)}/${formatBytes(progress.totalBytes)}` +
      `  ${rate}  ETA ${formatEta(progress)}`;
    const room = columns - 1 - label.length - 1 - stats.length - 2;
    const width = Math.max(MIN_BAR_WIDTH, Math.min(MAX_BAR_WIDTH, room));
    const fraction = progress.totalBytes <= 0 ? 1 : progress.receivedBytes / progress.totalBytes;
    line = `${label} ${renderBar(fraction, width)}${stats}`;
  }
  return line.length >= columns ? line.slice(0, Math.max(0, columns - 1)) : line;
}

export function createProgressBar({
  stream = process.stderr,
  label,
  unknownTotalStepBytes = 100 * 1024 * 1024,
}: ProgressBarOptions): ProgressBar {
  const interactive = stream.isTTY === true;
  let finished = false;
  let drawn = '';
  let frame = 0;
  let lastStep: number | null = null;

  function updateTty(progress: ByteProgress): void {
    const line = renderTtyLine(label, progress, stream.columns ?? 80, frame++);
    if (line === drawn) return;
    drawn = line;
    stream.write(`\r${line}${CLEAR_TO_END}`);
  }

  function updateLog(progress: ByteProgress): void {
    const { receivedBytes, totalBytes } = progress;
    const step =
      totalBytes === null
        ? Math.floor(receivedBytes / unknownTotalStepBytes)
        : totalBytes <= 0
          ? 10
          : Math.floor(Math.min(1, receivedBytes / totalBytes) * 10);
    if (lastStep !== null && step <= lastStep) return;
    const first = lastStep === null;
    lastStep = step;
    stream.write(`${label}: ${describeForLog(progress, first)}\n`);
  }

  return {
    update(progress) {
      if (finished) return;
      if (interactive) updateTty(progress);
      else updateLog(progress);
    },
    done(message = undefined) {
      if (finished) return;
      finished = true;
      if (interactive) {
        if (message !== undefined) stream.write(`${drawn === '' ? '' : `\r${CLEAR_TO_END}`}${message}\n`);
        else if (drawn !== '') stream.write('\n');
      } else if (message !== undefined) {
        stream.write(`${message}\n`);
      }
    },
  };
}

function describeForLog(progress: ByteProgress, first: boolean): string {
  const { receivedBytes, totalBytes, bytesPerSecond, resumedFrom = 0 } = progress;
  if (first && resumedFrom > 0) {
    const of =
      totalBytes === null
        ? ''
        : ` of ${formatBytes(totalBytes)} (${formatPercent(receivedBytes, totalBytes)})`;
    return `resuming at ${formatBytes(receivedBytes)}${of}`;
  }
  if (first && receivedBytes === 0) {
    return totalBytes === null ? 'starting (size unknown)' : `starting, ${formatBytes(totalBytes)}`;
  }
  const rate = bytesPerSecond > 0 ? `, ${formatBytes(bytesPerSecond)}/s` : '';
  if (totalBytes === null) return `${formatBytes(receivedBytes)}${rate}`;
  const eta = receivedBytes < totalBytes && bytesPerSecond > 0 ? `, ETA ${formatEta(progress)}` : '';
  return `${formatPercent(receivedBytes, totalBytes)} (${formatBytes(receivedBytes)} of ${formatBytes(totalBytes)}${rate}${eta})`;
}
