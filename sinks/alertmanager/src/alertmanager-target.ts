/** One Alertmanager the forwarder posts to. */
export interface AlertmanagerTarget {
  /** `<base>/api/v2/alerts` without user info: fetch refuses a URL that carries credentials. */
  endpoint: string;
  /** The endpoint as logs, errors and dead letters name it: no user, password or query. */
  shown: string;
  /** HTTP Basic credentials the base URL carried (`http://user:pass@host`), sent as a header instead. */
  authorization?: string;
}

/** `url` (resolved against `base`) with its user, password and query taken out, for anything a person or a log may read. */
export function withoutCredentials(url: string, base?: string): string {
  try {
    const parsed = new URL(url, base);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

export function alertmanagerTarget(base: string): AlertmanagerTarget {
  const url = new URL(base);
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v2/alerts`;
  const endpoint = url.toString();
  const target: AlertmanagerTarget = { endpoint, shown: withoutCredentials(endpoint) };
  if (user !== '' || password !== '') target.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return target;
}
