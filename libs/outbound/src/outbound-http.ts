import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { OutboundPolicy } from './outbound-policy';

/**
 * An undici connector applying the policy to every new connection: an IP literal is judged before the
 * socket opens, a host name by the socket's lookup; plain http needs an allow-listed address. Outside
 * production it is undici's own connector.
 */
export function outboundConnector(policy: OutboundPolicy, options: buildConnector.BuildOptions = {}): buildConnector.connector {
  if (!policy.enforced) return buildConnector(options);
  const tls = buildConnector({ ...options, lookup: policy.lookup });
  const plain = buildConnector({ ...options, lookup: policy.plaintextLookup });
  return (target, callback) => {
    const plaintext = target.protocol === 'http:';
    try {
      policy.checkHost(target.hostname, { plaintext });
    } catch (error) {
      return callback(error as Error, null);
    }
    return (plaintext ? plain : tls)(target, callback);
  };
}

export interface OutboundAgentOptions extends Omit<Agent.Options, 'connect'> {
  /** CA certificate(s), PEM, to trust (OAUTH_CA_FILE); like tls.connect's `ca`, they replace the system roots. */
  ca?: string | Buffer;
  /** TCP + TLS connect timeout. */
  connectTimeoutMs?: number;
}

/** An undici Agent whose every connection passes the outbound policy. */
export function outboundAgent(policy: OutboundPolicy, options: OutboundAgentOptions = {}): Agent {
  const { ca, connectTimeoutMs, ...agentOptions } = options;
  return new Agent({ ...agentOptions, connect: outboundConnector(policy, { ca, timeout: connectTimeoutMs }) });
}

/**
 * A `fetch` whose connections go through `agent` (undici's own fetch: the global one is a different undici
 * copy, and handing it this Agent is fragile).
 */
export function fetchThrough(agent: Agent): typeof fetch {
  return ((input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) =>
    undiciFetch(input, { ...init, dispatcher: agent })) as unknown as typeof fetch;
}
