import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { isServiceBusError, type ServiceBusClient } from '@azure/service-bus';
import type { ServiceBusStandIn } from '../../src/servicebus/index.ts';
import { type ConfiguredStandIn, receiveOne, startConfiguredStandIn } from '../support/servicebus-client.ts';

const LOCK_MS = 1000;

// Short locks so expiry and renewal are observable within a test's budget.
describe('Service Bus stand-in: locks and schedules', () => {
  let broker: ConfiguredStandIn | undefined;
  let sb: ServiceBusStandIn;
  let client: ServiceBusClient;

  before(async () => {
    const sub = (name: string) => ({
      Name: name,
      Properties: { LockDuration: 'PT1S', MaxDeliveryCount: 10 },
      Rules: [],
    });
    const topic = (name: string, subs: string[]) => ({ Name: name, Properties: {}, Subscriptions: subs.map(sub) });
    const config = {
      UserConfig: {
        Namespaces: [
          {
            Name: 'sbemulatorns',
            Topics: [
              topic('scheduled', ['one', 'two']),
              topic('renewals', ['worker']),
              topic('expiry', ['worker']),
              topic('long-work', ['worker']),
            ],
          },
        ],
      },
    };
    broker = await startConfiguredStandIn(config);
    ({ bus: sb, client } = broker);
  });
  after(async () => {
    await broker?.close();
  });

  it('holds scheduled messages until their time, and cancels on request', async () => {
    const sender = client.createSender('scheduled');
    const at = new Date(Date.now() + 800);
    const [keep, cancel] = await sender.scheduleMessages(
      [
        { body: 'keep', messageId: 's-keep' },
        { body: 'cancel', messageId: 's-cancel' },
      ],
      at,
    );
    assert.ok(keep !== undefined && cancel !== undefined && keep.lessThan(cancel));
    assert.deepEqual(sb.counts('scheduled', 'one'), { active: 0, scheduled: 2, deadLetter: 0, locked: 0 });
    await sender.cancelScheduledMessages(cancel);
    assert.equal(sb.counts('scheduled', 'one').scheduled, 1);

    await sb.waitFor(() => sb.counts('scheduled', 'two').active === 1, 5000);
    assert.ok(Date.now() >= at.getTime());
    for (const name of ['one', 'two']) {
      const receiver = client.createReceiver('scheduled', name);
      const m = await receiveOne(receiver);
      assert.equal(m.body, 'keep');
      assert.equal(m.scheduledEnqueueTimeUtc?.getTime(), at.getTime());
      assert.ok(m.enqueuedTimeUtc!.getTime() >= at.getTime());
      assert.equal(m.sequenceNumber?.toString(), keep.toString());
      await receiver.completeMessage(m);
      await receiver.close();
    }
    assert.deepEqual(sb.counts('scheduled', 'one'), { active: 0, scheduled: 0, deadLetter: 0, locked: 0 });
  });

  it('extends lockedUntilUtc on renewMessageLock, keeping the message settleable past the first lock', async () => {
    await client.createSender('renewals').sendMessages({ body: 'renew-me' });
    const receiver = client.createReceiver('renewals', 'worker', { maxAutoLockRenewalDurationInMs: 0 });
    const m = await receiveOne(receiver);
    const firstUntil = m.lockedUntilUtc!.getTime();
    await delay(LOCK_MS / 2);
    const renewed = await receiver.renewMessageLock(m);
    assert.ok(renewed.getTime() >= firstUntil + LOCK_MS / 2 - 50, `${renewed.toISOString()} vs ${firstUntil}`);
    assert.equal(m.lockedUntilUtc?.getTime(), renewed.getTime());
    await delay(Math.max(0, firstUntil + 100 - Date.now()));
    await receiver.completeMessage(m);
    assert.deepEqual(sb.counts('renewals', 'worker'), { active: 0, scheduled: 0, deadLetter: 0, locked: 0 });
    await receiver.close();
  });

  it('redelivers after lock expiry; settling the stale copy fails with MessageLockLost', async () => {
    await client.createSender('expiry').sendMessages({ body: 'slow', messageId: 'e1' });
    // The SDK auto-renews locks of received messages by default; expiry needs that off.
    const receiver = client.createReceiver('expiry', 'worker', { maxAutoLockRenewalDurationInMs: 0 });
    const stale = await receiveOne(receiver);
    assert.equal(stale.deliveryCount, 0);
    await sb.waitFor(() => sb.counts('expiry', 'worker').locked === 0, 5000);
    assert.equal(sb.counts('expiry', 'worker').active, 1);

    const fresh = await receiveOne(receiver);
    assert.equal(fresh.messageId, 'e1');
    assert.equal(fresh.deliveryCount, 1);
    await assert.rejects(receiver.completeMessage(stale), (err: unknown) => {
      assert.ok(isServiceBusError(err), String(err));
      assert.equal(err.code, 'MessageLockLost');
      return true;
    });
    await assert.rejects(receiver.renewMessageLock(stale), (err: unknown) => {
      assert.ok(isServiceBusError(err), String(err));
      assert.equal(err.code, 'MessageLockLost');
      return true;
    });
    await receiver.completeMessage(fresh);
    assert.deepEqual(sb.counts('expiry', 'worker'), { active: 0, scheduled: 0, deadLetter: 0, locked: 0 });
    await receiver.close();
  });

  it('keeps a message locked through subscribe() auto-renewal while the handler outlives 3 lock durations', async () => {
    await client.createSender('long-work').sendMessages({ body: 'long', messageId: 'l1' });
    const receiver = client.createReceiver('long-work', 'worker', { maxAutoLockRenewalDurationInMs: 60_000 });
    const seen: Array<{ id: unknown; count: number }> = [];
    const errors: unknown[] = [];
    let finished!: () => void;
    const done = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const subscription = receiver.subscribe(
      {
        async processMessage(m) {
          try {
            seen.push({ id: m.messageId, count: m.deliveryCount ?? -1 });
            // The work itself takes 3.5 lock durations; auto-renewal must keep the lock alive meanwhile.
            await delay(LOCK_MS * 3.5);
            assert.equal(sb.counts('long-work', 'worker').locked, 1);
            await receiver.completeMessage(m);
          } finally {
            finished();
          }
        },
        async processError(args) {
          errors.push(args.error);
        },
      },
      { autoCompleteMessages: false },
    );
    await done;
    await subscription.close();
    assert.deepEqual(errors, []);
    assert.deepEqual(seen, [{ id: 'l1', count: 0 }]);
    assert.deepEqual(sb.counts('long-work', 'worker'), { active: 0, scheduled: 0, deadLetter: 0, locked: 0 });
    await receiver.close();
  });
});
