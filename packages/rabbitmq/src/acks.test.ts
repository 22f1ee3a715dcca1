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

  it('never lets a multiple ack cover an open delivery: acks above it go one by one', async () => {
    const { acks, frames } = recording();
    deliver(acks, 1, 2, 3, 4, 5, 6);
    await Promise.all([acks.ack(1), acks.ack(2), acks.ack(4), acks.ack(6)]);
    assert.deepEqual(frames, [[2, true], [4, false], [6, false]], '3 and 5 are still being handled');
    await acks.ack(3);
    assert.deepEqual(frames.slice(3), [[3, false]], 'a lone ack stays a plain one');
    await Promise.all([acks.ack(5)]);
    assert.deepEqual(frames.slice(4), [[5, false]]);
  });

  it('does not wait for a delivery the channel no longer holds (requeued)', async () => {
    const { acks, frames } = recording();
    deliver(acks, 1, 2, 3);
    acks.released(1);
    await Promise.all([acks.ack(2), acks.ack(3)]);
    assert.deepEqual(frames, [[3, true]]);
  });

  it('flush() writes at once (before a channel closes); a dead channel gets nothing, and its acks still resolve', async () => {
    const { acks, frames } = recording();
    deliver(acks, 1);
    const written = acks.ack(1);
    acks.flush();
    assert.deepEqual(frames, [[1, false]]);
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
