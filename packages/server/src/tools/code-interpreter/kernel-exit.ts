// Why a kernel stopped, in words for the model and the user. Its sandbox (bubblewrap) exits
// with 128 + N when the kernel inside got signal N.
import type { KernelExit } from './kernel-process.js';

/** Why a kernel stopped, in words (its sandbox exits with 128 + N when the kernel got signal N). */
export function describeExit(exit: KernelExit): string {
  switch (exit.killedFor) {
    case 'timeout':
      return 'the previous execution ran past its time limit and did not stop when interrupted';
    case 'aborted':
      return 'the previous execution was cancelled and did not stop when interrupted';
    case 'protocol':
      return 'the kernel sent the server more than it accepts';
    case 'reset':
    case 'expired':
    case 'shutdown':
      return 'the server stopped it';
    case undefined:
      break;
  }
  const code = exit.code;
  if (code !== null && code > 128 && code < 128 + 65) {
    const signal = signalName(code - 128);
    if (signal === 'SIGKILL')
      return 'it was killed (SIGKILL), by the code or by the CPU time its session may use';
    if (signal === 'SIGXCPU') return 'it used up the CPU time its session may use';
    if (signal === 'SIGSEGV' || signal === 'SIGBUS' || signal === 'SIGABRT') return `it crashed (${signal})`;
    return `it was ended by ${signal}`;
  }
  if (code !== null) return `it exited with status ${code}`;
  return 'it stopped';
}

function signalName(number: number): string {
  // Linux numbers: os.constants.signals maps names to them.
  const names: Record<number, string> = {
    1: 'SIGHUP',
    2: 'SIGINT',
    3: 'SIGQUIT',
    4: 'SIGILL',
    6: 'SIGABRT',
    7: 'SIGBUS',
    8: 'SIGFPE',
    9: 'SIGKILL',
    10: 'SIGUSR1',
    11: 'SIGSEGV',
    12: 'SIGUSR2',
    13: 'SIGPIPE',
    14: 'SIGALRM',
    15: 'SIGTERM',
    24: 'SIGXCPU',
    25: 'SIGXFSZ',
  };
  return names[number] ?? `signal ${number}`;
}
