import { SNSClient } from '@aws-sdk/client-sns';
import { AlmaEventType, MAX_WEBHOOK_BYTES } from '@alma-cache/cache-domain';
import { almaWebhookMessage } from '@alma-cache/cache-domain/testing';
import { SnsWebhookPublisher, WebhookTooLargeError } from '../../src';
import { createTopic, drainQueue, messageAttributesOf, subscribeQueue } from '../../src/testing';

// Against moto's SNS and SQS (the global setup points AWS_ENDPOINT_URL at it).
describe('Class: SnsWebhookPublisher', () => {
  jest.setTimeout(20_000);
  const sns = new SNSClient({});
  let topicArns: Record<AlmaEventType, string>;
  let queueUrls: Record<AlmaEventType, string>;

  beforeAll(async () => {
    topicArns = {} as Record<AlmaEventType, string>;
    queueUrls = {} as Record<AlmaEventType, string>;
    for (const eventType of Object.values(AlmaEventType)) {
      topicArns[eventType] = await createTopic();
      queueUrls[eventType] = await subscribeQueue(topicArns[eventType]);
    }
  });

  afterAll(() => sns.destroy());

  it('publishes the body unchanged to the topic of the route, with the event type and id as attributes', async () => {
    // Prepare
    const body = almaWebhookMessage('LOAN_RETURNED');
    const publisher = new SnsWebhookPublisher(sns, topicArns);

    // Act
    const { messageId } = await publisher.publish({ topic: 'LOAN_RETURNED', eventType: 'LOAN_LOST', almaEventId: '5500110005', body });

    // Assess
    const [message, ...more] = await drainQueue(queueUrls.LOAN_RETURNED);
    expect(more).toEqual([]);
    expect(message.Body).toBe(body);
    expect(messageId).toMatch(/^[0-9a-f-]{36}$/);
    const attributes = messageAttributesOf(message);
    expect(attributes).toEqual({ alma_event_type: 'LOAN_LOST', alma_event_id: '5500110005' });
    const others = Object.values(AlmaEventType).filter((type) => type !== 'LOAN_RETURNED');
    const elsewhere = await Promise.all(others.map(async (eventType) => ({ eventType, messages: await drainQueue(queueUrls[eventType]) })));
    expect(elsewhere).toEqual(others.map((eventType) => ({ eventType, messages: [] })));
  });

  it('leaves out alma_event_id when the webhook has none', async () => {
    // Prepare
    const publisher = new SnsWebhookPublisher(sns, topicArns);

    // Act
    await publisher.publish({ topic: 'LOAN_CREATED', eventType: 'LOAN_CREATED', body: '{"event":{"value":"LOAN_CREATED"}}' });

    // Assess
    const [message] = await drainQueue(queueUrls.LOAN_CREATED);
    expect(Object.keys(message.MessageAttributes ?? {})).toEqual(['alma_event_type']);
  });

  it('refuses a body SNS would refuse, without sending it', async () => {
    // Prepare
    const send = jest.spyOn(sns, 'send');
    const publisher = new SnsWebhookPublisher(sns, topicArns);
    const body = `{"event":{"value":"LOAN_CREATED"},"pad":"${'x'.repeat(MAX_WEBHOOK_BYTES)}"}`;

    // Act
    const act = publisher.publish({ topic: 'LOAN_CREATED', eventType: 'LOAN_CREATED', body });

    // Assess
    await expect(act).rejects.toBeInstanceOf(WebhookTooLargeError);
    expect(send).not.toHaveBeenCalled();
    send.mockRestore();
  });

  it('lets an SNS error through', async () => {
    // Prepare
    const publisher = new SnsWebhookPublisher(sns, { ...topicArns, REQUEST_CLOSED: 'arn:aws:sns:eu-west-1:000000000000:no-such-topic' });

    // Act
    const act = publisher.publish({ topic: 'REQUEST_CLOSED', eventType: 'REQUEST_CLOSED', body: almaWebhookMessage('REQUEST_CLOSED') });

    // Assess
    await expect(act).rejects.toThrow(/not.?found|does not exist/i);
  });
});
