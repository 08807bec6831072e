/**
 * What fixes a failed send to Kafka. Time fixes a lost connection, a leader move or too few
 * replicas; an operator fixes a missing ACL, a bad SASL password or a deleted topic: either way the
 * same send can succeed later, so the sender waits (paused) and nothing is lost. Only the broker's
 * verdict on the records themselves (too large, invalid) is final for them: retrying would hold
 * the partition for good, so those records are isolated and dead-lettered.
 */
export type SendVerdict =
  | { kind: 'wait'; reason: 'kafka_unreachable' | 'kafka_authorization' | 'kafka_unknown_topic' }
  | { kind: 'record'; type: string };

/** Refusals of the records sent, whatever the cluster's state. */
const RECORD_ERRORS: ReadonlySet<string> = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'INVALID_TIMESTAMP']);
const AUTHORIZATION_ERRORS: ReadonlySet<string> = new Set([
  'TOPIC_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'SASL_AUTHENTICATION_FAILED',
  'ILLEGAL_SASL_STATE', 'UNSUPPORTED_SASL_MECHANISM', 'DELEGATION_TOKEN_AUTHORIZATION_FAILED',
]);
const UNKNOWN_TOPIC_ERRORS: ReadonlySet<string> = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID', 'INVALID_TOPIC_EXCEPTION']);

/** The kafkajs protocol error type (or error name) in `error`'s chain of causes: its retries wrap what the broker said. */
function brokerSaid(error: unknown): { type?: string; name?: string } {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string') return { type };
    if (e.name === 'KafkaJSSASLAuthenticationError') return { name: e.name };
    if (e.cause === e) break;
  }
  return {};
}

/**
 * The verdict on an error of `producer.send` / `sendBatch`. Anything not known to be about the
 * records waits: a good record dead-lettered by mistake is lost, a wrongly held partition shows in
 * `gpumon_paused` and its log line.
 */
export function classifySendError(error: unknown): SendVerdict {
  const { type, name } = brokerSaid(error);
  if (type !== undefined && RECORD_ERRORS.has(type)) return { kind: 'record', type };
  if ((type !== undefined && AUTHORIZATION_ERRORS.has(type)) || name === 'KafkaJSSASLAuthenticationError') {
    return { kind: 'wait', reason: 'kafka_authorization' };
  }
  if (type !== undefined && UNKNOWN_TOPIC_ERRORS.has(type)) return { kind: 'wait', reason: 'kafka_unknown_topic' };
  return { kind: 'wait', reason: 'kafka_unreachable' };
}

/** The retry predicate of every send: retry until it succeeds unless the broker refused the records themselves. */
export const isRetriableSend = (error: unknown): boolean => classifySendError(error).kind === 'wait';
