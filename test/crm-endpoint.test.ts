/** The crmEndpoint validator (issue 19, item 7): refusals decided from the URL alone, with no connection attempted. */
import { checkCrmEndpoint } from '../platform/crm-endpoint';

const hosts = ['acme.salesforce.com', '*.crm.example'];
describe('crmEndpoint validator', () => {
  it.each([
    'https://10.0.0.1',
    'https://169.254.169.254/latest/meta-data',
    'https://[fd00::1]',
    'https://[::ffff:10.0.0.1]',
    'https://0x7f000001',
    'https://127.0.0.1:8443',
    'https://[::1]',
    'https://localhost',
    'http://acme.salesforce.com',
    'https://user:pw@acme.salesforce.com',
    'https://evil.example',
    'not a url',
  ])('refuses %s', (value) => {
    expect(checkCrmEndpoint(value, hosts).ok).toBe(false);
  });
  it('accepts allowed hosts', () => {
    expect(checkCrmEndpoint('https://acme.salesforce.com', hosts)).toEqual({ ok: true, url: 'https://acme.salesforce.com/' });
    expect(checkCrmEndpoint('https://a.crm.example/x', hosts).ok).toBe(true);
  });
  it('names the range', () => {
    expect(checkCrmEndpoint('https://0x7f000001', hosts)).toMatchObject({ reason: expect.stringContaining('loopback') });
    expect(checkCrmEndpoint('https://[::ffff:10.0.0.1]', hosts)).toMatchObject({ reason: expect.stringContaining('private') });
  });
});
