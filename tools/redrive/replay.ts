import type { SQSClient } from '@aws-sdk/client-sqs';
import { classifyMessage, type ParkedMessage } from './classify';
import { progressBar } from './progress';
import { queueNameOf } from './queue-names';
import { refusalNow } from './recheck';
import type { ReplayResult } from './report';
import { countMessages, deleteMessage, peekMessages, receiveBatch, restoreVisibility } from './sqs-messages';
import type { ReplayPlan, ReplayTarget } from './targets';

export interface ReplayOptions {
  sqs: SQSClient;
  queueUrl: string;
  target: ReplayTarget;
  /** At most this many messages. */
  max: number;
  /** Only say what would happen: nothing is sent, invoked or deleted. */
  dryRun: boolean;
  /** How long a received message stays hidden while it is replayed; longer than the slowest replay (a sync invoke). */
  visibilitySeconds: number;
  /** Where the progress bar goes (stderr); none when undefined. */
  progress?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Stops between two messages (Ctrl-C); what was received is made visible again. */
  signal?: AbortSignal;
  /** Only messages whose reason is this (its error type, or a part of the reason's text); the others are kept. */
  reason?: string;
  /** The clock the domain's checks run on (the replay horizon); the machine's by default. */
  now?: () => Date;
}

/** The plan for one message: the target's, unless `--reason` leaves it out or the function would refuse it now. */
const planFor = async (
  target: ReplayTarget,
  message: ParkedMessage,
  reason: string | undefined,
  now: Date,
): Promise<ReplayPlan | { refuse: string }> => {
  if (reason !== undefined && message.reasonKey !== reason && !message.reason.includes(reason)) return { skip: `its reason is not "${reason}"` };
  // Checked before any target: replayed, it would only be refused and parked again (or, past the replay horizon,
  // applied over a tombstone that may be gone).
  const refusal = refusalNow(message, now);
  if (refusal) return { refuse: refusal };
  return target.plan(message);
};

/** A plan's result line before anything is done: refused, skipped or planned. */
const unplayed = (message: ParkedMessage, plan: ReplayPlan | { refuse: string }): ReplayResult | undefined =>
  'refuse' in plan
    ? { message, outcome: 'refused', detail: plan.refuse }
    : 'skip' in plan
      ? { message, outcome: 'skipped', detail: plan.skip }
      : undefined;

/**
 * Replays the messages of a DLQ or failure queue to `target`, one at a time. A message is deleted only after its
 * replay was accepted (SQS took the copy, or the function returned without error and without reporting it as a
 * batch item failure); a failed, refused or skipped one stays hidden until the run ends, so it is not taken twice,
 * and is then made visible again. A message the function would refuse now (the domain's parser says so, on the
 * clock `now`: malformed, or older than the replay horizon) is refused here with the function's reason and left
 * parked. Returns one result per message taken.
 */
export const replayQueue = async (options: ReplayOptions): Promise<ReplayResult[]> => {
  const { sqs, queueUrl, target } = options;
  const queueName = queueNameOf(queueUrl);
  const results: ReplayResult[] = [];
  const now = options.now ?? (() => new Date());

  if (options.dryRun) {
    // Hidden while the plan is made (60 s, so a crash does not hide them long), all made visible again after.
    for (const message of await peekMessages(sqs, queueUrl, options.max, 60)) {
      const parked = classifyMessage(message, queueName);
      const plan = await planFor(target, parked, options.reason, now());
      results.push(unplayed(parked, plan) ?? { message: parked, outcome: 'planned', detail: (plan as { action: string }).action });
    }
    return results;
  }

  const { visible } = await countMessages(sqs, queueUrl);
  const bar = options.progress ? progressBar(options.progress, Math.min(options.max, visible), `${queueName} → ${target.name}`) : undefined;
  const seen = new Set<string>();
  // Messages left in the queue (failed, skipped, or taken again after their visibility ran out): made visible at the end.
  const keep = new Map<string, string>();
  try {
    while (results.length < options.max && !options.signal?.aborted) {
      const batch = await receiveBatch(sqs, queueUrl, options.visibilitySeconds, options.max - results.length);
      if (batch.length === 0) break;
      let fresh = 0;
      for (const message of batch) {
        const id = message.MessageId ?? '';
        const handle = message.ReceiptHandle ?? '';
        if (seen.has(id) || options.signal?.aborted) {
          // Already dealt with (its visibility ran out during a long run), or we are stopping: leave it be.
          keep.set(id, handle);
          continue;
        }
        seen.add(id);
        fresh += 1;
        const parked = classifyMessage(message, queueName);
        const plan = await planFor(target, parked, options.reason, now());
        const notPlayed = unplayed(parked, plan);
        if (notPlayed) {
          results.push(notPlayed);
          keep.set(id, handle);
        } else {
          try {
            const detail = await target.replay(parked);
            const result: ReplayResult = { message: parked, outcome: 'replayed', detail };
            try {
              await deleteMessage(sqs, queueUrl, handle);
            } catch (error) {
              result.notDeleted = `${(error as Error).name}: ${(error as Error).message}`;
            }
            results.push(result);
          } catch (error) {
            results.push({ message: parked, outcome: 'failed', detail: `${(error as Error).name}: ${(error as Error).message}` });
            keep.set(id, handle);
          }
        }
        bar?.tick();
      }
      // Only messages taken before came back: everything else in the queue has been seen.
      if (fresh === 0) break;
    }
  } finally {
    bar?.done();
    await restoreVisibility(sqs, queueUrl, [...keep.values()].filter(Boolean));
  }
  return results;
};
