import type { WebhookPublication, WebhookPublisher } from '../lib/webhooks/webhook-publisher.port';

/**
 * A WebhookPublisher that keeps what it was given, one message id per publication.
 *
 * @example
 * const publisher = new InMemoryWebhookPublisher();
 * await new ReceiveWebhook(publisher).execute(body);
 * publisher.published[0].topic; // 'LOAN_CREATED'
 */
export class InMemoryWebhookPublisher implements WebhookPublisher {
  public readonly published: WebhookPublication[] = [];
  private pendingFailure?: Error;

  /** Makes the next publish fail with `error`. */
  public failNext(error: Error): void {
    this.pendingFailure = error;
  }

  public async publish(publication: WebhookPublication): Promise<{ messageId: string }> {
    const failure = this.pendingFailure;
    this.pendingFailure = undefined;
    if (failure) throw failure;
    this.published.push(publication);
    return { messageId: `message-${this.published.length}` };
  }
}
