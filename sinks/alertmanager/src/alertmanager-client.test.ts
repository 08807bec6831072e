import { describe, expect, it } from 'vitest';
import { retryAfterMs } from './alertmanager-client.js';
import { alertmanagerTarget, withoutCredentials } from './alertmanager-target.js';

describe('an Alertmanager target', () => {
  it('takes the credentials out of the URL into a Basic header, and shows the URL without them', () => {
    const target = alertmanagerTarget('https://ops:s3cr%40t@am.example:9093/prefix/?token=abc');
    expect(target).toEqual({
      endpoint: 'https://am.example:9093/prefix/api/v2/alerts?token=abc',
      shown: 'https://am.example:9093/prefix/api/v2/alerts',
      authorization: `Basic ${Buffer.from('ops:s3cr@t').toString('base64')}`,
    });
    expect(alertmanagerTarget('http://am:9093')).toEqual({ endpoint: 'http://am:9093/api/v2/alerts', shown: 'http://am:9093/api/v2/alerts' });
  });

  it('shows a redirect\'s location resolved and without credentials', () => {
    expect(withoutCredentials('http://u:p@other:9093/x?y=1')).toBe('http://other:9093/x');
    expect(withoutCredentials('/elsewhere', 'http://am:9093/api/v2/alerts')).toBe('http://am:9093/elsewhere');
  });
});

describe('Retry-After', () => {
  it('reads seconds or an HTTP date, caps it at a minute, and is 0 when absent or unreadable', () => {
    const now = Date.parse('2026-12-04T12:00:00Z');
    expect(retryAfterMs('2', now)).toBe(2000);
    expect(retryAfterMs('Fri, 04 Dec 2026 12:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('86400', now)).toBe(60_000);
    expect(retryAfterMs(null, now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBe(0);
    expect(retryAfterMs('Fri, 04 Dec 2026 11:00:00 GMT', now)).toBe(0);
  });
});
