/**
 * The OAuth access token for the client-credentials grant: fetched once, shared, refreshed before it expires.
 *
 * Seed Edge Case 2 ("OAuth token expiry during deployment"): before every call, if now + a safety margin
 * (5 minutes) reaches the expiry, a new token is requested first. A token whose whole lifetime is shorter than
 * that margin (test and sandbox settings) is refreshed once past half its lifetime instead, so it is still used.
 * Concurrent callers share one in-flight token request, so a burst of activities does not stampede the token
 * endpoint. After a 401 the caller drops the token it used (`invalidate`) and asks again.
 */
import type { TokenResponse } from './schemas';

export const REFRESH_MARGIN_MS = 5 * 60_000;

interface CachedToken {
  value: string;
  expiresAt: number;
  refreshAt: number;
}

export class AccessTokenCache {
  private current: CachedToken | undefined;
  private inFlight: Promise<CachedToken> | undefined;

  constructor(
    private readonly requestToken: () => Promise<TokenResponse>,
    private readonly now: () => number,
  ) {}

  /** A token that is good for at least the refresh margin (or half its life, for short-lived tokens). */
  async get(): Promise<string> {
    const cached = this.current;
    if (cached && this.now() < cached.refreshAt) return cached.value;
    return (await this.refresh()).value;
  }

  /** Drops `token` if it is still the cached one (a concurrent caller may already have replaced it). */
  invalidate(token: string): void {
    if (this.current?.value === token) this.current = undefined;
  }

  private refresh(): Promise<CachedToken> {
    if (!this.inFlight) {
      this.inFlight = (async () => {
        try {
          const requestedAt = this.now();
          const response = await this.requestToken();
          // Measured from when the request left: the server's clock started no earlier than that.
          const lifetimeMs = response.expires_in * 1000;
          const margin = lifetimeMs > REFRESH_MARGIN_MS ? REFRESH_MARGIN_MS : lifetimeMs / 2;
          const token = { value: response.access_token, expiresAt: requestedAt + lifetimeMs, refreshAt: requestedAt + lifetimeMs - margin };
          this.current = token;
          return token;
        } finally {
          this.inFlight = undefined;
        }
      })();
    }
    return this.inFlight;
  }
}
