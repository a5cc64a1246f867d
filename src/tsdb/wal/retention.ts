// Who else still reads the WAL. Remote-write queues tail the WAL directory
// and may lag behind the head (a receiver outage); the owner of the WAL (the
// TSDB, the agent's store) asks before it checkpoints and deletes segments.
// Any cap on how much lagging data is kept is the implementer's business: it
// reports a segment no lower than its cap allows.

export interface WalRetention {
  /** The lowest WAL segment some reader still has to read; null when none is needed. Segments >= it are kept. */
  lowestNeededSegment(): number | null;
}

/** The last segment a truncation may fold away, given the one it planned and what readers still need. */
export function lastTruncatableSegment(planned: number, retention: WalRetention | undefined): number {
  const needed = retention?.lowestNeededSegment() ?? null;
  return needed === null ? planned : Math.min(planned, needed - 1);
}
