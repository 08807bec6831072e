import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { classifyConsumeError, classifySendError, isRetriableSend } from './kafka-errors.js';

/** kafkajs's own constructor of what a broker's error code becomes, so the tests see the shapes a send really throws. */
const { createErrorFromCode } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as { createErrorFromCode(code: number): Error };
const CODES = { UNKNOWN_TOPIC_OR_PARTITION: 3, NOT_LEADER_FOR_PARTITION: 6, REQUEST_TIMED_OUT: 7, MESSAGE_TOO_LARGE: 10, RECORD_LIST_TOO_LARGE: 18, NOT_ENOUGH_REPLICAS: 19, TOPIC_AUTHORIZATION_FAILED: 29, GROUP_AUTHORIZATION_FAILED: 30, CLUSTER_AUTHORIZATION_FAILED: 31, SASL_AUTHENTICATION_FAILED: 58, INVALID_RECORD: 87 };
/** As a send with `retries: 0` rejects: kafkajs wraps a retriable error in NumberOfRetriesExceeded, bails with the rest as they are. */
const asSent = (code: number): Error => {
  const error = createErrorFromCode(code);
  return (error as { retriable?: boolean }).retriable === true ? new kafkajs.KafkaJSNumberOfRetriesExceeded(error, { retryCount: 0, retryTime: 300 }) : error;
};

describe('classifySendError', () => {
  it('dead-letters only what the broker says about the records themselves', () => {
    for (const type of ['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD'] as const) {
      expect(classifySendError(asSent(CODES[type]))).toEqual({ kind: 'record', type });
      expect(isRetriableSend(asSent(CODES[type]))).toBe(false);
    }
  });

  it('waits on what an operator fixes: authorisation, SASL, a missing topic', () => {
    expect(classifySendError(asSent(CODES.TOPIC_AUTHORIZATION_FAILED))).toEqual({ kind: 'wait', reason: 'kafka_authorization' });
    expect(classifySendError(asSent(CODES.CLUSTER_AUTHORIZATION_FAILED))).toEqual({ kind: 'wait', reason: 'kafka_authorization' });
    expect(classifySendError(asSent(CODES.SASL_AUTHENTICATION_FAILED))).toEqual({ kind: 'wait', reason: 'kafka_authorization' });
    // kafkajs's types declare no argument, its constructor takes the message.
    const SaslError = kafkajs.KafkaJSSASLAuthenticationError as unknown as new (message: string) => Error;
    expect(classifySendError(new SaslError('SASL PLAIN authentication failed'))).toEqual({ kind: 'wait', reason: 'kafka_authorization' });
    expect(classifySendError(asSent(CODES.UNKNOWN_TOPIC_OR_PARTITION))).toEqual({ kind: 'wait', reason: 'kafka_unknown_topic' });
  });

  it('waits on what time fixes: leader moves, too few replicas, timeouts, lost connections, anything unknown', () => {
    for (const code of [CODES.NOT_LEADER_FOR_PARTITION, CODES.REQUEST_TIMED_OUT, CODES.NOT_ENOUGH_REPLICAS]) {
      expect(classifySendError(asSent(code))).toEqual({ kind: 'wait', reason: 'kafka_unreachable' });
    }
    expect(classifySendError(new kafkajs.KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092', { broker: 'localhost:9092', code: 'ECONNREFUSED' })).kind).toBe('wait');
    expect(classifySendError(new kafkajs.KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out')).kind).toBe('wait');
    expect(classifySendError(new Error('something no one has seen'))).toEqual({ kind: 'wait', reason: 'kafka_unreachable' });
  });
});

describe('classifyConsumeError', () => {
  it('names what an operator fixes, as kafkajs crashes a consumer on it', () => {
    // A refused fetch: given up at once, wrapped as kafkajs's retry wraps it (its types declare no options).
    const NonRetriable = kafkajs.KafkaJSNonRetriableError as unknown as new (error: Error, options: { cause: Error }) => Error;
    const refused = createErrorFromCode(CODES.TOPIC_AUTHORIZATION_FAILED);
    const fetchRefused = new NonRetriable(refused, { cause: refused });
    expect(classifyConsumeError(fetchRefused)).toEqual({ reason: 'kafka_authorization', said: 'TOPIC_AUTHORIZATION_FAILED: Not authorized to access topics: [Topic authorization failed]' });
    expect(classifyConsumeError(createErrorFromCode(CODES.GROUP_AUTHORIZATION_FAILED))?.reason).toBe('kafka_authorization');
    // A refused group: kafkajs drops the broker's answer and says only this.
    const CoordinatorNotFound = kafkajs.KafkaJSGroupCoordinatorNotFound as unknown as new (message: string) => Error;
    const group = classifyConsumeError(new CoordinatorNotFound('Failed to find group coordinator'));
    expect(group?.reason).toBe('kafka_authorization');
    expect(group?.said).toMatch(/^Failed to find group coordinator: .*GROUP_AUTHORIZATION_FAILED/);
    // A deleted topic: retried by kafkajs until it gives up.
    expect(classifyConsumeError(asSent(CODES.UNKNOWN_TOPIC_OR_PARTITION))).toEqual({ reason: 'kafka_unknown_topic', said: 'UNKNOWN_TOPIC_OR_PARTITION: This server does not host this topic-partition' });
  });

  it('leaves the rest to kafkajs or to the loop: lost connections, leader moves, a handler\'s own error', () => {
    expect(classifyConsumeError(asSent(CODES.NOT_LEADER_FOR_PARTITION))).toBeUndefined();
    expect(classifyConsumeError(new kafkajs.KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092', { broker: 'localhost:9092', code: 'ECONNREFUSED' }))).toBeUndefined();
    expect(classifyConsumeError(new Error('the database refused the write for good'))).toBeUndefined();
  });
});
