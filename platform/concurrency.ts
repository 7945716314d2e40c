/** Bounded concurrency for batches of I/O (reconciliation's queries and signals, the benchmarks' senders). */

/** Runs `work` over `items` with at most `limit` calls in flight; rejects with the first failure. */
export async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(Math.max(1, limit), items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index], index);
      }
    }),
  );
}
