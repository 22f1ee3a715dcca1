import net from 'node:net';
import tls from 'node:tls';
import type { ISocketFactory } from 'kafkajs';

/** As kafkajs' own factory: TCP keep-alive probes after a minute of silence. */
const KEEP_ALIVE_DELAY_MS = 60_000;

/**
 * kafkajs' socket factory, but `unref()` of a destroyed socket does nothing. kafkajs's
 * `Connection.disconnect()` ends and unrefs its socket every time it is called, also when a
 * failed connect has already destroyed it; Node defers `unref()` of a socket without a handle
 * to its 'connect' event, which a destroyed socket never has, so each call leaves a listener.
 * While a broker is down kafkajs disconnects the same dead connection again and again (each
 * failed request, each metadata refresh), and from the eleventh Node prints a
 * MaxListenersExceededWarning — seen in our Kafka node-failover runs.
 */
export const socketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const socket = ssl
    ? tls.connect(Object.assign({ host, port }, net.isIP(host) ? {} : { servername: host }, ssl), onConnect)
    : net.connect({ host, port }, onConnect);
  socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
  const unref = socket.unref;
  socket.unref = function unrefUnlessDestroyed(this: net.Socket) {
    return this.destroyed ? this : unref.call(this);
  };
  return socket;
};
