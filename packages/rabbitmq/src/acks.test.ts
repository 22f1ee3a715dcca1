import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Message } from 'amqplib';
import { ChannelAcks } from './acks.js';

/** A channel that records the ack frames it would write: [tag, multiple]. */
function recording(live = () => true): { acks: ChannelAcks; frames: [number, boolean][] } {
  const frames: [number, boolean][] = [];
  const channel = { ack: (message: Message, multiple?: boolean) => void frames.push([message.fields.deliveryTag, multiple === true]) };
  return { acks: new ChannelAcks(channel, live), frames };
}

const deliver = (acks: ChannelAcks, ...tags: number[]): void => tags.forEach((tag) => acks.delivered(tag));

describe('ChannelAcks', () => {
  it("writes a turn's acks as one multiple ack when nothing below them is still open", async () => {
    const { acks, frames } = recording();
    deliver(acks, 1, 2, 3, 4);
    const written = [acks.ack(2), acks.ack(1), acks.ack(3)];
    assert.deepEqual(frames, [], 'nothing leaves during the turn');
    await Promise.all(written);
    assert.deepEqual(frames, [[3, true]]);
  });

  it('never lets a multiple ack cover an open delivery: acks above it go one by one, then join the next multiple ack', async () => {
    const { acks, frames } = recording();
    deliver(acks, 1, 2, 3, 4, 5);
    await Promise.all([acks.ack(1), acks.ack(3), acks.ack(5)]);
    assert.deepEqual(frames, [[1, true], [3, false], [5, false]], '2 and 4 are still being handled');
    await acks.ack(2);
    assert.deepEqual(frames.slice(3), [[2, true]], '4 is still open, so the multiple ack stops at 2');
    await acks.ack(4);
    assert.deepEqual(frames.slice(4), [[4, true]]);
  });

  it('does not wait for a delivery the channel no longer holds (requeued)', async () => {
    const { acks, frames } = recording();
    deliver(acks, 1, 2, 3);
    acks.released(1);
    await acks.ack(3);
    assert.deepEqual(frames, [[3, false]], '2 is open');
    await acks.ack(2);
    assert.deepEqual(frames.slice(1), [[2, true]]);
  });

  it('flush() writes at once (before a channel closes); a dead channel gets nothing, and its acks still resolve', async () => {
    const { acks, frames } = recording();
    deliver(acks, 1);
    const written = acks.ack(1);
    acks.flush();
    assert.deepEqual(frames, [[1, true]]);
    await written;
    let live = true;
    const dead = recording(() => live);
    deliver(dead.acks, 1);
    const pending = dead.acks.ack(1);
    live = false;
    await pending;
    assert.deepEqual(dead.frames, []);
  });

  it("rejects the turn's acks when the channel refuses to write (closing), so the runner reports them", async () => {
    const acks = new ChannelAcks({ ack: () => { throw new Error('Channel closing'); } }, () => true);
    acks.delivered(1);
    await assert.rejects(acks.ack(1), /Channel closing/);
  });
});
