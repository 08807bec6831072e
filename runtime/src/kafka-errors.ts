import { errorMessage } from './errors.js';

/**
 * What fixes a failed send to Kafka. Time fixes a lost connection, a leader move or too few
 * replicas; an operator fixes a missing ACL, a bad SASL password or a deleted topic: either way the
 * same send can succeed later, so the sender waits (paused) and nothing is lost. Only the broker's
 * verdict on the records themselves (too large, invalid) is final for them: retrying would hold
 * the partition for good, so those records are isolated and dead-lettered.
 */
export type SendVerdict =
  | { kind: 'wait'; reason: 'kafka_unreachable' | OperatorFixable }
  | { kind: 'record'; type: string };

/** The `gpumon_paused` reasons of what an operator fixes on the Kafka side. */
export type OperatorFixable = 'kafka_authorization' | 'kafka_unknown_topic';

/** Refusals of the records sent, whatever the cluster's state. */
const RECORD_ERRORS: ReadonlySet<string> = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'INVALID_TIMESTAMP']);
const AUTHORIZATION_ERRORS: ReadonlySet<string> = new Set([
  'TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'SASL_AUTHENTICATION_FAILED',
  'ILLEGAL_SASL_STATE', 'UNSUPPORTED_SASL_MECHANISM', 'DELEGATION_TOKEN_AUTHORIZATION_FAILED',
]);
const UNKNOWN_TOPIC_ERRORS: ReadonlySet<string> = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID', 'INVALID_TOPIC_EXCEPTION']);

/**
 * kafkajs's name for a group no broker would name the coordinator of. It drops what each broker
 * answered; with brokers that answer, that is GROUP_AUTHORIZATION_FAILED: the login may not read the group.
 */
const COORDINATOR_NOT_FOUND = 'KafkaJSGroupCoordinatorNotFound';

/** The kafkajs protocol error type (or error name) in `error`'s chain of causes: its retries wrap what the broker said. */
function brokerSaid(error: unknown): { type?: string; name?: string } {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string') return { type };
    if (e.name === 'KafkaJSSASLAuthenticationError' || e.name === COORDINATOR_NOT_FOUND) return { name: e.name };
    if (e.cause === e) break;
  }
  return {};
}

function operatorFixable({ type, name }: { type?: string; name?: string }): OperatorFixable | undefined {
  // Each name brokerSaid gives is a login or a group the broker refused.
  if ((type !== undefined && AUTHORIZATION_ERRORS.has(type)) || name !== undefined) return 'kafka_authorization';
  if (type !== undefined && UNKNOWN_TOPIC_ERRORS.has(type)) return 'kafka_unknown_topic';
  return undefined;
}

/**
 * The verdict on an error of `producer.send` / `sendBatch`. Anything not known to be about the
 * records waits: a good record dead-lettered by mistake is lost, a wrongly held partition shows in
 * `gpumon_paused` and its log line.
 */
export function classifySendError(error: unknown): SendVerdict {
  const said = brokerSaid(error);
  if (said.type !== undefined && RECORD_ERRORS.has(said.type)) return { kind: 'record', type: said.type };
  return { kind: 'wait', reason: operatorFixable(said) ?? 'kafka_unreachable' };
}

/**
 * What stops a consumer that an operator fixes: a missing ACL on its topics or group, a refused
 * login, a topic that is gone, with what the broker said. kafkajs gives the first ones up for good
 * and retries a missing topic every 300 ms; the consume loop waits them out instead, paused.
 * Anything else is undefined: kafkajs's to retry, or the loop's to fail on.
 */
export function classifyConsumeError(error: unknown): { reason: OperatorFixable; said: string } | undefined {
  const said = brokerSaid(error);
  const reason = operatorFixable(said);
  if (reason === undefined) return undefined;
  if (said.name === COORDINATOR_NOT_FOUND) {
    return { reason, said: `${errorMessage(error)}: no broker named the group's coordinator, which is how kafkajs reports GROUP_AUTHORIZATION_FAILED (the login may not read the group)` };
  }
  return { reason, said: `${said.type ?? said.name}: ${errorMessage(error)}` };
}

/** The retry predicate of every send: retry until it succeeds unless the broker refused the records themselves. */
export const isRetriableSend = (error: unknown): boolean => classifySendError(error).kind === 'wait';
