/**
 * What the partitioned (key-ordered) subscriptions of the adapters share. A durable
 * subscription consumed with `ordering: 'key'` on a broker whose consumers would otherwise
 * share a key between instances is split into N partitions by the hash of the key; each
 * partition is consumed by one instance at a time, so a key is never handled in two places.
 */

/** A durable subscription consumed with `ordering: 'key'` is partitioned; anything else is read as one. */
export const isPartitioned = (spec: { ordering: string; durable: boolean }): boolean => spec.ordering === 'key' && spec.durable;

/**
 * Which instance owns which partition: the live instances sorted by id, partition i to the
 * (i mod count)-th. Every instance computes the same from the same members, and the spread is
 * even (8 partitions over 3 instances: 3, 3, 2).
 */
export function ownerOf(partition: number, members: readonly string[]): string | undefined {
  if (members.length === 0) return undefined;
  const sorted = [...members].sort();
  return sorted[partition % sorted.length];
}

/**
 * Why another N is refused: a message's partition is its key's hash among N, and with another N
 * keys would move to partitions holding none of their earlier messages, breaking their order.
 */
export function partitionCountRefused(subscription: string, declared: number | undefined, asked: number, reset: string): string {
  const was = declared === undefined ? 'another number of partitions' : `${declared} partitions`;
  return (
    `subscription ${subscription} is partitioned with ${was}, asked for ${asked}: keys would move between partitions and lose their order. ` +
    `Use the number it was declared with (the partitions URL option), or drain it and ${reset} first`
  );
}
