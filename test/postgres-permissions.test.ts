/**
 * Run as root, the embedded PostgreSQL runs as the `postgres` user, which must reach its binaries inside the
 * checkout: a clone under a directory only its owner may enter (`mktemp -d`) gets search permission for others on
 * each such directory, and nothing more (platform/postgres.ts).
 */
import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { letOthersReach } from '../platform/postgres';

it('gives others search permission (o+x) on every directory on the way that lacks it, and no other permission', async () => {
  const top = mkdtempSync(join(tmpdir(), 'tollgate-reach-')); // mode 0700, as mktemp -d makes it
  const bin = join(top, 'node_modules', 'native', 'bin');
  mkdirSync(bin, { recursive: true, mode: 0o700 });
  const modeOf = (dir: string) => statSync(dir).mode & 0o7777;
  expect(modeOf(top) & 0o001).toBe(0);

  await letOthersReach(bin);

  for (const dir of [top, join(top, 'node_modules'), join(top, 'node_modules', 'native'), bin]) expect(modeOf(dir)).toBe(0o701);
});
