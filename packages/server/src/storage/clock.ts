// Time as the database stores it: whole unix seconds. Repositories take a clock so tests can pin it.

export type Clock = () => number;

export const systemClock: Clock = () => Math.floor(Date.now() / 1000);
