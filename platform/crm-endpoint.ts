/**
 * crmEndpoint from an installer's configuration is hostile input (issue 19 item 7): it is sent to the CRM partner
 * with the worker's CRM secret. Pure check, no network: `https` only, no credentials, host in the allow-list
 * (TOLLGATE_CRM_ENDPOINT_HOSTS; `*.domain` allows subdomains), never an IP literal (any form WHATWG URL
 * normalises: 0x7f000001, [::ffff:10.0.0.1], …) and never a loopback or metadata name.
 */
import { isIP } from 'node:net';

export const DEFAULT_CRM_ENDPOINT_HOSTS = ['acme.salesforce.com'];

export type CrmEndpointCheck = { ok: true; url: string } | { ok: false; reason: string };

const FORBIDDEN_NAMES = [/^localhost$/, /\.localhost$/, /^metadata\.google\.internal$/, /\.internal$/, /\.local$/];

function ipRange(ip: string): string {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split('.').map(Number);
    if (a === 127) return 'loopback';
    if (a === 169 && b === 254) return 'link-local / metadata';
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127)) return 'private';
    if (a === 0) return 'unspecified';
    return 'public';
  }
  const lower = ip.toLowerCase();
  const mapped = /^::ffff:(.+)$/.exec(lower);
  if (mapped) {
    const tail = mapped[1];
    if (isIP(tail) === 4) return `v4-mapped ${ipRange(tail)}`;
    const m = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(tail);
    if (m) {
      const n = (parseInt(m[1], 16) << 16) | parseInt(m[2], 16);
      return `v4-mapped ${ipRange([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'))}`;
    }
  }
  if (lower === '::1') return 'loopback';
  if (lower === '::') return 'unspecified';
  if (/^fe[89ab]/.test(lower)) return 'link-local';
  if (/^f[cd]/.test(lower)) return 'unique-local';
  if (lower.startsWith('fd00:ec2::254')) return 'metadata';
  return 'public';
}

export function normaliseHostPattern(entry: string): string | undefined {
  const host = entry.trim().toLowerCase().replace(/\.$/, '');
  if (!host) return undefined;
  const bare = host.startsWith('*.') ? host.slice(2) : host;
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(bare) || isIP(bare) || /^[0-9.]+$/.test(bare)) return undefined;
  return host;
}

function allowed(host: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.startsWith('*.') ? host.endsWith(p.slice(1)) : host === p));
}

export function checkCrmEndpoint(value: unknown, allowedHosts: readonly string[]): CrmEndpointCheck {
  if (typeof value !== 'string' || value.length === 0) return { ok: false, reason: 'crmEndpoint must be a non-empty string' };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, reason: 'crmEndpoint is not a URL' };
  }
  if (url.protocol !== 'https:') return { ok: false, reason: `crmEndpoint must use https, not ${url.protocol.replace(/:$/, '')}` };
  if (url.username || url.password) return { ok: false, reason: 'crmEndpoint must not carry credentials' };
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare)) return { ok: false, reason: `crmEndpoint host ${url.hostname} is an IP literal (${ipRange(bare)}); only allowed host names are accepted` };
  if (FORBIDDEN_NAMES.some((re) => re.test(host))) return { ok: false, reason: `crmEndpoint host ${host} is a loopback, local or metadata name` };
  if (!allowed(host, allowedHosts)) return { ok: false, reason: `crmEndpoint host ${host} is not in TOLLGATE_CRM_ENDPOINT_HOSTS` };
  return { ok: true, url: url.toString() };
}
