import { parseArgs } from 'node:util';

export const USAGE = `usage: npm run load -- [options]

  A bounded semester-start burst on the local stack (127.0.0.1 only): starts the stack as npm start does, seeds the
  fake Alma, pre-caches part of the patrons, then sends signed webhooks through the receiver's HTTP port while readers
  query the API, and checks the cache against the model of the events sent. Every bound below is a flag.

  --rate <n>          webhooks per second (default 100; 1 to 1000)
  --rates <a,b,c>     several rates in one run, one after the other on the same stack (e.g. 25,50,100); replaces --rate
  --duration <s>      seconds of sending per rate (default 60; 1 to 600)
  --readers <n>       query API reads per second during the send phase (default 20; 0 to 200)
  --patrons <n>       patrons the fake Alma knows, per rate (default 300; 10 to 5000)
  --unknown <f>       share of them the cache does not know before the run (default 0.2)
  --duplicates <f>    share of webhooks delivered twice, as Alma redelivers (default 0.05)
  --late <f>          share of webhooks delivered late, after newer ones (default 0.05)
  --drain-timeout <s> after the send phase, how long to wait for the queues to empty and the changes to arrive (default 180; 5 to 900)
  --max-webhooks <n>  hard cap on webhooks sent per rate, duplicates included (default 100000)
  --max-in-flight <n> webhooks awaiting the receiver's reply at most; beyond, sending falls behind the rate (default 64)
  --pollers <n>       concurrent pollers per cache-update queue (default 5: the SQS trigger's maximumConcurrency)
  --seed <n>          the scenario's random seed (default 1)
  --out <dir>         the report folder (default tools/bench/reports/load-<timestamp>, copied to load-latest)
  --no-latest         do not copy the report to tools/bench/reports/load-latest
  --help`;

/** A flag's value refused: the message names the flag and what it takes, and the usage follows it. */
export class LoadOptionsError extends Error {
  public readonly code = 'LOAD_BAD_FLAG';

  public constructor(message: string) {
    super(message);
    this.name = 'LoadOptionsError';
  }
}

export interface LoadOptions {
  /** One entry per rate, run in this order. */
  readonly rates: readonly number[];
  readonly durationSeconds: number;
  readonly readersPerSecond: number;
  readonly patrons: number;
  readonly unknownShare: number;
  readonly duplicateShare: number;
  readonly lateShare: number;
  readonly drainTimeoutSeconds: number;
  readonly maxWebhooks: number;
  readonly maxInFlight: number;
  readonly pollers: number;
  readonly seed: number;
  readonly out?: string;
  readonly latest: boolean;
  readonly help: boolean;
}

const wholeNumber = (value: string, flag: string, min: number, max: number): number => {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < min || number > max) {
    throw new LoadOptionsError(`${flag} takes a whole number from ${min} to ${max}, not "${value}"`);
  }
  return number;
};

const share = (value: string, flag: string, max: number): number => {
  const number = /^\d*\.?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(number >= 0 && number <= max)) throw new LoadOptionsError(`${flag} takes a share from 0 to ${max} (e.g. 0.05), not "${value}"`);
  return number;
};

/**
 * Reads the command line. Anything unknown or out of bounds is refused with a message naming the flag, so a typo
 * never starts a run with a bound the operator did not mean.
 *
 * @example
 * parseLoadOptions(['--rates', '25,50,100', '--duration', '30']).rates; // [25, 50, 100]
 * @throws LoadOptionsError
 */
export const parseLoadOptions = (argv: readonly string[]): LoadOptions => {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        rate: { type: 'string' },
        rates: { type: 'string' },
        duration: { type: 'string', default: '60' },
        readers: { type: 'string', default: '20' },
        patrons: { type: 'string', default: '300' },
        unknown: { type: 'string', default: '0.2' },
        duplicates: { type: 'string', default: '0.05' },
        late: { type: 'string', default: '0.05' },
        'drain-timeout': { type: 'string', default: '180' },
        'max-webhooks': { type: 'string', default: '100000' },
        'max-in-flight': { type: 'string', default: '64' },
        pollers: { type: 'string', default: '5' },
        seed: { type: 'string', default: '1' },
        out: { type: 'string' },
        'no-latest': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    throw new LoadOptionsError((error as Error).message);
  }
  const text = (name: string) => values[name] as string;
  if (values['rate'] !== undefined && values['rates'] !== undefined) throw new LoadOptionsError('give --rate or --rates, not both');
  const rates =
    values['rates'] !== undefined
      ? text('rates')
          .split(',')
          .map((rate) => wholeNumber(rate.trim(), '--rates', 1, 1000))
      : [wholeNumber(values['rate'] === undefined ? '100' : text('rate'), '--rate', 1, 1000)];
  if (rates.length > 5) throw new LoadOptionsError(`--rates takes at most 5 rates, not ${rates.length}`);
  const out = values['out'] as string | undefined;
  if (out !== undefined && out.trim() === '') throw new LoadOptionsError('--out takes a folder');
  return {
    rates,
    durationSeconds: wholeNumber(text('duration'), '--duration', 1, 600),
    readersPerSecond: wholeNumber(text('readers'), '--readers', 0, 200),
    patrons: wholeNumber(text('patrons'), '--patrons', 10, 5000),
    unknownShare: share(text('unknown'), '--unknown', 1),
    duplicateShare: share(text('duplicates'), '--duplicates', 0.5),
    lateShare: share(text('late'), '--late', 0.5),
    drainTimeoutSeconds: wholeNumber(text('drain-timeout'), '--drain-timeout', 5, 900),
    maxWebhooks: wholeNumber(text('max-webhooks'), '--max-webhooks', 1, 1_000_000),
    maxInFlight: wholeNumber(text('max-in-flight'), '--max-in-flight', 1, 2000),
    pollers: wholeNumber(text('pollers'), '--pollers', 1, 20),
    seed: wholeNumber(text('seed'), '--seed', 0, 2 ** 31 - 1),
    ...(out === undefined ? {} : { out }),
    latest: values['no-latest'] !== true,
    help: values['help'] === true,
  };
};
