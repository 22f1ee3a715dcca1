// cluster-key-slot (ioredis' own dependency) ships no types: its one function, as ioredis uses it.
declare module 'cluster-key-slot' {
  /** The Redis Cluster hash slot (0–16383) of a key, honouring {hash tags}. */
  export default function calculateSlot(key: string | Buffer): number;
}
