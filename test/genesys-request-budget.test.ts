/**
 * The shared request budget's promise, measured on the real PostgreSQL function: permits taken at once by three
 * budgets (as three worker processes would, each with its own pool) never exceed the limit in any window, and a
 * request that matches a resource's lower budget waits for both. The window is shortened to two seconds so the test
 * is quick; the arithmetic is the minute's.
 */
import { Pool } from 'pg';
import { gcraParameters, RequestBudget } from '../genesys/request-budget';

const url = () => process.env.TOLLGATE_TEST_DATABASE_URL as string;

function mostInAnyWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('the shared Genesys request budget', () => {
  const pools: Pool[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.end()));
  });

  it('chooses GCRA parameters that keep any window at or under the limit', () => {
    for (const limit of [5, 60, 200, 300, 60_000]) {
      const { intervalMs, toleranceMs, burst } = gcraParameters(limit, 60_000);
      // n permits fit in a window of W when (n − 1)·T − τ < W: the largest such n is the limit.
      const most = Math.floor((60_000 + toleranceMs) / intervalMs - 1e-9) + 1;
      expect(most).toBeLessThanOrEqual(limit);
      expect(burst).toBeLessThan(limit);
    }
  });

  it('never lets three processes together exceed the limit in any window, nor a resource its lower one', async () => {
    const scope = `test-${Date.now()}-${Math.random()}`;
    const windowMs = 2000;
    const options = { scope, perMinute: 10, resources: [{ method: 'PUT', pathPrefix: '/api/v2/routing/', perMinute: 4 }], marginMs: 0, windowMs };
    const budgets = [0, 1, 2].map(() => {
      const pool = new Pool({ connectionString: url(), max: 2 });
      pools.push(pool);
      return new RequestBudget(pool, options);
    });
    const granted: { at: number; put: boolean }[] = [];
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const put = i % 3 === 0;
        await budgets[i % 3].take(put ? 'PUT' : 'GET', put ? '/api/v2/routing/queues/q' : '/api/v2/users/u');
        granted.push({ at: Date.now(), put });
      }),
    );
    expect(granted).toHaveLength(24);
    // Grant times are measured after the fact (a little later than the permit): allow them 50 ms of slack.
    expect(mostInAnyWindow(granted.map((grant) => grant.at), windowMs - 50)).toBeLessThanOrEqual(10);
    expect(mostInAnyWindow(granted.filter((grant) => grant.put).map((grant) => grant.at), windowMs - 50)).toBeLessThanOrEqual(4);
    // 24 permits at 10 per 2 s cannot all be granted at once: the budget made them wait.
    expect(Date.now() - started).toBeGreaterThan(2000);
  });
});
