import { CloseRequest, RecordRequest } from '../../src';
import { almaWebhookMessage, almaWebhooks } from '../../src/testing';
import { makeDeps } from './helpers';

const HOLD = '8812300040004561';
const CANCELED_HOLD = '8812300050004561';

describe('Class: RecordRequest', () => {
  it('caches the request with its nested and numeric fields and links it to the patron', async () => {
    // Prepare
    const { store, deps } = makeDeps();
    store.seedUser('pat0042x');

    // Act
    const outcome = await new RecordRequest(deps).execute(almaWebhookMessage('REQUEST_CREATED'));

    // Assess
    expect(outcome).toMatchObject({ item: 'written', user: 'linked' });
    expect(store.items.request.get(HOLD)!.fields).toEqual(almaWebhooks.REQUEST_CREATED['user_request']);
    expect([...store.users.get('pat0042x')!.ids.request]).toEqual([HOLD]);
  });

  it('keeps the on-shelf state when the older REQUEST_CREATED arrives late', async () => {
    // Prepare
    const { store, deps } = makeDeps();
    store.seedUser('pat0042x');
    const useCase = new RecordRequest(deps);

    // Act
    await useCase.execute(almaWebhookMessage('REQUEST_PLACED_ON_SHELF'));
    const late = await useCase.execute(almaWebhookMessage('REQUEST_CREATED'));

    // Assess
    expect(late.item).toBe('stale');
    expect(store.items.request.get(HOLD)!.eventType).toBe('REQUEST_PLACED_ON_SHELF');
  });

  it('refuses closing events', async () => {
    const { deps } = makeDeps();
    await expect(new RecordRequest(deps).execute(almaWebhookMessage('REQUEST_CLOSED'))).rejects.toThrow(
      'accepted: REQUEST_CREATED, REQUEST_PLACED_ON_SHELF',
    );
  });
});

describe('Class: CloseRequest', () => {
  it('tombstones closed and canceled requests and unlinks them', async () => {
    // Prepare
    const { store, deps } = makeDeps();
    store.seedUser('pat0042x', { request_ids: [HOLD, CANCELED_HOLD] });
    const useCase = new CloseRequest(deps);

    // Act
    const closed = await useCase.execute(almaWebhookMessage('REQUEST_CLOSED'));
    const canceled = await useCase.execute(almaWebhookMessage('REQUEST_CANCELED'));

    // Assess
    expect([closed.user, canceled.user]).toEqual(['unlinked', 'unlinked']);
    expect(store.users.get('pat0042x')!.ids.request.size).toBe(0);
    expect(store.items.request.get(HOLD)).toMatchObject({ tombstone: true, eventType: 'REQUEST_CLOSED' });
    expect(store.items.request.get(CANCELED_HOLD)).toMatchObject({ tombstone: true, eventType: 'REQUEST_CANCELED' });
  });

  it('keeps a closed request closed when REQUEST_PLACED_ON_SHELF is retried late', async () => {
    // Prepare
    const { store, deps } = makeDeps();
    store.seedUser('pat0042x');
    await new CloseRequest(deps).execute(almaWebhookMessage('REQUEST_CLOSED'));

    // Act
    const late = await new RecordRequest(deps).execute(almaWebhookMessage('REQUEST_PLACED_ON_SHELF'));

    // Assess
    expect(late).toMatchObject({ item: 'stale', user: 'untouched' });
    expect(store.users.get('pat0042x')!.ids.request.size).toBe(0);
  });
});
