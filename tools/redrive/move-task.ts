import { ListMessageMoveTasksCommand, type SQSClient, StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import { progressBar } from './progress';

export type MoveTaskResult = { moved: number; status: string; failureReason?: string } | { unavailable: string };

/**
 * Moves a whole DLQ back to its source queue with SQS's own redrive (StartMessageMoveTask), following the task
 * with ListMessageMoveTasks for the progress bar. SQS deletes each message only once it is in the source queue.
 * Resolves `{ unavailable }` when the task cannot be started (an emulator without the API, no permission), so the
 * caller falls back to receive/send/delete; nothing was moved then.
 */
export const moveWithMessageMoveTask = async (
  sqs: SQSClient,
  dlqArn: string,
  sourceArn: string,
  options: { progress?: NodeJS.WritableStream & { isTTY?: boolean }; pollMs?: number } = {},
): Promise<MoveTaskResult> => {
  try {
    await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn, DestinationArn: sourceArn }));
  } catch (error) {
    return { unavailable: `${(error as Error).name}: ${(error as Error).message}` };
  }
  let bar: ReturnType<typeof progressBar> | undefined;
  let shown = 0;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 2000));
    const { Results = [] } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn, MaxResults: 1 }));
    const task = Results[0];
    if (!task) continue;
    const moved = Number(task.ApproximateNumberOfMessagesMoved ?? 0);
    if (options.progress && !bar) bar = progressBar(options.progress, Number(task.ApproximateNumberOfMessagesToMove ?? 0), 'StartMessageMoveTask');
    for (; shown < moved; shown += 1) bar?.tick();
    if (task.Status !== 'RUNNING' && task.Status !== 'CANCELLING') {
      bar?.done();
      return { moved, status: task.Status ?? 'UNKNOWN', failureReason: task.FailureReason };
    }
  }
};
