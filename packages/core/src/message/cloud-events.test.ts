import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors/index.js';
import { cloudEventHeaders, readCloudEvent, resolveCloudEvent } from './cloud-events.js';

describe('CloudEvents binary mode', () => {
  it('names attributes as each protocol binding does', () => {
    const event = { type: 'com.example.order.placed', source: '/orders', time: '2026-11-24T10:00:00.000Z', extensions: { tenant: 'acme' } };
    assert.deepEqual(cloudEventHeaders('kafka', 'm1', 'application/json', event), {
      ce_id: 'm1', ce_source: '/orders', ce_type: 'com.example.order.placed', ce_specversion: '1.0', ce_time: '2026-11-24T10:00:00.000Z', ce_tenant: 'acme', 'content-type': 'application/json',
    });
    // AMQP: datacontenttype is the message's content-type property, which the driver sets.
    assert.deepEqual(Object.keys(cloudEventHeaders('rabbitmq', 'm1', 'application/json', event)).sort(), ['cloudEvents:id', 'cloudEvents:source', 'cloudEvents:specversion', 'cloudEvents:tenant', 'cloudEvents:time', 'cloudEvents:type']);
    assert.equal(cloudEventHeaders('pubsub', 'm1', 'application/json', event)['ce-type'], 'com.example.order.placed');
  });

  it('reads attributes from any binding, with the content type from wherever it travelled', () => {
    const fromKafka = readCloudEvent({ ce_id: 'a', ce_source: '/s', ce_type: 't', ce_specversion: '1.0', ce_partitionkey: 'k', 'content-type': 'application/json' }, undefined);
    assert.deepEqual(fromKafka, { id: 'a', source: '/s', type: 't', specversion: '1.0', datacontenttype: 'application/json', extensions: { partitionkey: 'k' } });
    const fromAmqp = readCloudEvent({ 'cloudEvents:id': 'b', 'cloudEvents:source': '/s', 'cloudEvents:type': 't', 'cloudEvents:specversion': '1.0' }, 'text/plain');
    assert.equal(fromAmqp?.datacontenttype, 'text/plain');
    assert.equal(readCloudEvent({ 'ce-id': 'c', 'ce-type': 't', 'ce-specversion': '1.0' }, undefined), undefined, 'source missing: not a CloudEvent');
    assert.equal(readCloudEvent({ origin: 'x' }, undefined), undefined);
  });

  it('says which required attribute is missing and refuses bad extension names', () => {
    assert.throws(() => resolveCloudEvent({ source: '/orders' }, undefined), (e: unknown) => e instanceof ConfigError && e.field === 'cloudEvent.type');
    assert.throws(() => resolveCloudEvent({ source: '/o', type: 't' }, { extensions: { 'Bad-Name': 'x' } }), (e: unknown) => e instanceof ConfigError && e.field === 'cloudEvent.extensions.Bad-Name');
    assert.deepEqual(resolveCloudEvent({ source: '/o', type: 'default' }, { type: 'own' }).type, 'own');
    assert.throws(() => resolveCloudEvent({ source: '/o', type: 't' }, { typ: 'x' } as never), (e: unknown) => e instanceof ConfigError && e.field === 'message.cloudEvent.typ');
  });
});
