import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import net from 'node:net';
import { describe, it } from 'node:test';
import { socketFactory } from './socket.js';

const open = (port: number, onConnect: () => void = () => undefined): net.Socket => socketFactory({ host: '127.0.0.1', port, ssl: undefined as never, onConnect }) as net.Socket;

/** A loopback port nothing listens on (bound once, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

describe('kafka socketFactory', () => {
  it('a socket a failed connect destroyed can be ended and unrefed again and again without a listener left behind', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): number => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const socket = open(await closedPort(), () => assert.fail('connected to a closed port'));
      const [error] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
      assert.equal(error.code, 'ECONNREFUSED');
      const before = socket.listenerCount('connect'); // onConnect's, never to be called
      // What kafkajs' Connection.disconnect() does, once per call, while the broker is down.
      for (let i = 0; i < 12; i++) socket.end().unref();
      assert.equal(socket.listenerCount('connect'), before);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings.map((w) => w.message), []);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('connects, sends, and unrefs a live socket as kafkajs expects', async () => {
    const server = net.createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const received = new Promise<string>((resolve) => {
      server.once('connection', (peer) => {
        let data = '';
        peer.setEncoding('utf8').on('data', (chunk: string) => (data += chunk)).on('end', () => resolve(data));
      });
    });
    try {
      let connected = false;
      const socket = open((server.address() as net.AddressInfo).port, () => (connected = true));
      await once(socket, 'connect');
      assert.equal(connected, true);
      socket.write('request-1;');
      socket.write('request-2;');
      socket.end().unref();
      assert.equal(await received, 'request-1;request-2;');
    } finally {
      server.close();
    }
  });
});
