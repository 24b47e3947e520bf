import { AlmaEventType, InvalidWebhookIdError, MalformedEventError, MAX_IDENTIFIER_LENGTH, ReceiveWebhook } from '../../src';
import { almaWebhookMessage, extraAlmaWebhookMessage, InMemoryWebhookPublisher } from '../../src/testing';

describe('Class: ReceiveWebhook', () => {
  it.each(Object.values(AlmaEventType))('publishes a %s webhook to its topic, body unchanged', async (eventType) => {
    // Prepare
    const publisher = new InMemoryWebhookPublisher();
    const body = almaWebhookMessage(eventType);

    // Act
    const receipt = await new ReceiveWebhook(publisher).execute(body);

    // Assess
    expect(publisher.published).toEqual([{ topic: eventType, eventType, almaEventId: JSON.parse(body).id, body }]);
    expect(receipt).toEqual({ outcome: 'published', eventType, topic: eventType, almaEventId: JSON.parse(body).id, messageId: 'message-1' });
  });

  it('publishes the body byte for byte as received, whitespace and key order included', async () => {
    // Prepare
    const publisher = new InMemoryWebhookPublisher();
    const body = '{ "event" : {"value":"LOAN_CREATED"},\n  "action":"LOAN", "id" : "5500110001" }';

    // Act
    await new ReceiveWebhook(publisher).execute(body);

    // Assess
    expect(publisher.published[0]).toEqual({ topic: 'LOAN_CREATED', eventType: 'LOAN_CREATED', almaEventId: '5500110001', body });
  });

  it('publishes a LOAN_LOST webhook to the LOAN_RETURNED topic, naming its own event type', async () => {
    // Prepare
    const publisher = new InMemoryWebhookPublisher();

    // Act
    const receipt = await new ReceiveWebhook(publisher).execute(extraAlmaWebhookMessage('LOAN_LOST'));

    // Assess
    expect(receipt).toMatchObject({ outcome: 'published', eventType: 'LOAN_LOST', topic: 'LOAN_RETURNED', almaEventId: '5500110005' });
    expect(publisher.published.map((p) => [p.topic, p.eventType])).toEqual([['LOAN_RETURNED', 'LOAN_LOST']]);
  });

  it('skips an event the cache does not use, publishing nothing', async () => {
    // Prepare
    const publisher = new InMemoryWebhookPublisher();
    const body = JSON.stringify({ id: '9001', action: 'USER', event: { value: 'USER_UPDATED' }, webhook_user: {} });

    // Act
    const receipt = await new ReceiveWebhook(publisher).execute(body);

    // Assess
    expect(receipt).toEqual({
      outcome: 'skipped',
      eventType: 'USER_UPDATED',
      action: 'USER',
      almaEventId: '9001',
      skip: 'not-used',
      reason: 'the cache does not use USER_UPDATED (Alma USER webhook)',
    });
    expect(publisher.published).toEqual([]);
  });

  it('skips a webhook without event.value (a JOB_END), publishing nothing', async () => {
    // Prepare
    const publisher = new InMemoryWebhookPublisher();

    // Act
    const receipt = await new ReceiveWebhook(publisher).execute('{"id":"77","action":"JOB_END","job_instance":{"id":"1"}}');

    // Assess
    expect(receipt).toMatchObject({ outcome: 'skipped', skip: 'no-event-type', action: 'JOB_END', almaEventId: '77' });
    expect(publisher.published).toEqual([]);
  });

  it.each([
    ['not JSON', 'not valid json', /webhook body is not JSON/],
    ['a JSON array', '[{"event":{"value":"LOAN_CREATED"}}]', /JSON but not an object/],
    ['JSON null', 'null', /JSON but not an object/],
    ['a JSON string', '"LOAN_CREATED"', /JSON but not an object/],
    // JSON.parse takes these raw in a string, but SNS refuses the message: a 503 would have Alma resend it for ever.
    ['a raw U+FFFF in a title', '{"event":{"value":"LOAN_CREATED"},"action":"LOAN","id":"55","item_loan":{"title":"A\uffff"}}', /SNS cannot carry/],
    ['a raw U+FFFE in a title', '{"event":{"value":"LOAN_CREATED"},"action":"LOAN","id":"55","item_loan":{"title":"A\ufffe"}}', /SNS cannot carry/],
  ])('rejects %s with a MalformedEventError, publishing nothing', async (_case, body, reason) => {
    // Prepare
    const publisher = new InMemoryWebhookPublisher();

    // Act
    const act = new ReceiveWebhook(publisher).execute(body);

    // Assess
    await expect(act).rejects.toBeInstanceOf(MalformedEventError);
    await expect(new ReceiveWebhook(publisher).execute(body)).rejects.toThrow(reason);
    expect(publisher.published).toEqual([]);
  });

  it('publishes a body whose noncharacter is JSON-escaped (plain ASCII for SNS; the functions judge the field)', async () => {
    // Prepare
    const publisher = new InMemoryWebhookPublisher();
    const body = '{"event":{"value":"LOAN_CREATED"},"action":"LOAN","id":"55","item_loan":{"title":"A\\uffff"}}';

    // Act
    const receipt = await new ReceiveWebhook(publisher).execute(body);

    // Assess
    expect(receipt.outcome).toBe('published');
    expect(publisher.published[0].body).toBe(body);
  });

  // The one check of the id: it becomes the alma_event_id message attribute (a filter-policy key) and the key of every
  // log line about the event, and the SNS adapter takes it as checked.
  it.each([
    ['a control character', '55001\n{"forged":true}'],
    ['a path separator', '../5500110005'],
    ['too many characters', '5'.repeat(MAX_IDENTIFIER_LENGTH + 1)],
    ['only blanks', '   '],
    ['a number', 5500110005],
  ])('refuses a routed webhook whose id has %s, publishing nothing', async (_case, id) => {
    // Prepare
    const publisher = new InMemoryWebhookPublisher();
    const body = JSON.stringify({ ...JSON.parse(almaWebhookMessage('LOAN_CREATED')), id });

    // Act
    const act = new ReceiveWebhook(publisher).execute(body);

    // Assess
    await expect(act).rejects.toBeInstanceOf(InvalidWebhookIdError);
    await expect(act).rejects.toThrow(/^"id" \(the Alma event id\) /);
    expect(publisher.published).toEqual([]);
  });

  it('lets a publishing failure through, so the receiver can answer 5xx', async () => {
    // Prepare
    const publisher = new InMemoryWebhookPublisher();
    publisher.failNext(new Error('SNS is down'));

    // Act
    const act = new ReceiveWebhook(publisher).execute(almaWebhookMessage('REQUEST_CREATED'));

    // Assess
    await expect(act).rejects.toThrow('SNS is down');
  });
});
