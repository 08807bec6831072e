import { setTimeout as sleep } from 'node:timers/promises';
import { GpumonError, errorMessage } from '@gpumon/runtime/errors';
import type { PostableAlert } from './alertmanager-payload.js';
import { withoutCredentials, type AlertmanagerTarget } from './alertmanager-target.js';

const TIMEOUT_MS = 10_000;
/** The longest a Retry-After is honoured: a server asking for hours is waited out by the ordinary backoff instead. */
const RETRY_AFTER_CAP_MS = 60_000;
const BODY_EXCERPT_CHARS = 300;
/**
 * Refusals that say nothing about the alerts: time fixes them (408, 429, 5xx) or an operator does
 * (credentials, permissions, a wrong path or proxy). They are retried while the partition waits,
 * never dead-lettered; any other 4xx refuses the alerts themselves.
 */
const NOT_ABOUT_THE_ALERTS: ReadonlySet<number> = new Set([401, 403, 404, 405, 407, 408, 429]);

/** Retry-After in ms (seconds or an HTTP date), capped; 0 when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (header === null) return 0;
  const ms = /^\d+$/.test(header.trim()) ? Number(header.trim()) * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), RETRY_AFTER_CAP_MS) : 0;
}

/**
 * Posts alerts to one Alertmanager. Throws a retriable error for a network failure, a redirect
 * (never followed: fetch would turn the POST into a GET that answers 200, and the alerts would be
 * counted as sent and lost), and the answers listed above, after waiting out their Retry-After;
 * a non-retriable one, with the status and the body's start, when Alertmanager refuses the alerts.
 * `stop` cuts a Retry-After wait short, never a post under way.
 */
export async function postAlerts(target: AlertmanagerTarget, alerts: PostableAlert[], stop: AbortSignal): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (target.authorization !== undefined) headers.authorization = target.authorization;
  let response: Response;
  try {
    response = await fetch(target.endpoint, {
      method: 'POST', redirect: 'manual', headers, body: JSON.stringify(alerts), signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    throw new GpumonError('service_unreachable', `cannot reach Alertmanager at ${target.shown}: ${errorMessage(error)}`);
  }
  const body = (await response.text().catch(() => '')).slice(0, BODY_EXCERPT_CHARS);
  if (response.ok) return;
  const answered = `Alertmanager at ${target.shown} answered ${response.status}`;
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get('location');
    throw new GpumonError('service_unreachable', `${answered}, a redirect${location === null ? '' : ` to ${withoutCredentials(location, target.endpoint)}`}, `
      + 'which is not followed (a redirected POST becomes a GET and the alerts would be lost): give --to the address Alertmanager answers on');
  }
  if (response.status >= 500 || NOT_ABOUT_THE_ALERTS.has(response.status)) {
    await sleep(retryAfterMs(response.headers.get('retry-after')), undefined, { signal: stop }).catch(() => undefined);
    throw new GpumonError('service_unreachable', `${answered}: ${body}`);
  }
  throw new GpumonError('schema_rejected', `${answered}: ${body}`);
}
