// The client's package index also loads every KMS driver it ships (about a second of start-up); the client module alone is enough.
import { Compatibility, SchemaRegistryClient } from '@confluentinc/schemaregistry/dist/schemaregistry-client.js';
import { parse, type ConfigOf } from './config.js';
import { GpumonError, errorMessage } from './errors.js';

export const registryOptions = {
  schemaRegistryUrl: {
    env: 'SCHEMA_REGISTRY_URL', flag: 'schema-registry-url', default: 'http://localhost:8081/apis/ccompat/v7', example: 'https://registry.internal:8081',
    description: 'Base URL of the Confluent-compatible schema registry API (Apicurio serves it under /apis/ccompat/v7).', schema: parse.url(['http', 'https']),
  },
  schemaRegistryUsername: {
    env: 'SCHEMA_REGISTRY_USERNAME', flag: 'schema-registry-username', example: 'gpumon',
    description: 'Basic-auth user for the schema registry.', schema: parse.optionalString(),
  },
  schemaRegistryPassword: {
    env: 'SCHEMA_REGISTRY_PASSWORD', flag: 'schema-registry-password', example: 'secret', secret: true,
    description: 'Basic-auth password for the schema registry.', schema: parse.optionalString(),
  },
} as const;

export type RegistrySettings = ConfigOf<typeof registryOptions>;
export { Compatibility, SchemaRegistryClient };

export function createRegistryClient(settings: RegistrySettings): SchemaRegistryClient {
  return new SchemaRegistryClient({
    baseURLs: [settings.schemaRegistryUrl],
    maxRetries: 2,
    createAxiosDefaults: { timeout: 10_000 },
    ...(settings.schemaRegistryUsername !== undefined
      ? {
          basicAuthCredentials: {
            credentialsSource: 'USER_INFO',
            userInfo: `${settings.schemaRegistryUsername}:${settings.schemaRegistryPassword ?? ''}`,
          },
        }
      : {}),
  });
}

/** A real request (list subjects), so a wrong URL or path fails here rather than at the first record. */
export async function checkRegistry(client: SchemaRegistryClient, settings: RegistrySettings): Promise<void> {
  try {
    await client.getAllSubjects();
  } catch (error) {
    throw new GpumonError(
      'service_unreachable',
      `cannot reach the schema registry at ${settings.schemaRegistryUrl}: ${errorMessage(error)}`,
      { cause: error },
    );
  }
}
