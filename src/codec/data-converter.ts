/**
 * The data converter options shared by the client and the worker: the encryption codec plus a
 * failure converter that moves error messages and stack traces into (encrypted) payloads.
 *
 * SDK 1.24 takes the failure converter by module path, not as an instance: `failureConverterPath`
 * is used by the client and the worker's activities, and when the worker runs a pre-built
 * workflow bundle the same path must be given to `bundleWorkflowCode({ failureConverterPath })`
 * (`FAILURE_CONVERTER_PATH`), or failures raised by workflow code are stored in plaintext.
 */
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { AesGcmPayloadCodec } from './aes-gcm-codec';
import { type CodecKeyring, describeKeyring, loadCodecKeys } from './keys';
import { allowUnencryptedFromEnv, decideEncryption, UnencryptedPayloadsRefused } from './policy';

/** Module with the `failureConverter` export (resolves to .ts under tsx, .js when compiled). */
export const FAILURE_CONVERTER_PATH: string = require.resolve('./failure-converter');

/** `{ payloadCodecs: [codec], failureConverterPath }` when keys are configured, `undefined` otherwise. */
export function buildDataConverter(keyring: CodecKeyring | undefined): DataConverter | undefined {
  if (!keyring) return undefined;
  return {
    payloadCodecs: [new AesGcmPayloadCodec(keyring)],
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
}

/**
 * The codec of a connection opened for calls without payloads (`sendsPayloads: false`) and no keys:
 * encoding any payload is refused, so such a connection cannot send plaintext by mistake. Decoding
 * passes payloads through (reading sends nothing).
 */
export const refusingPayloadCodec: PayloadCodec = {
  async encode(payloads: Payload[]): Promise<Payload[]> {
    if (payloads.length === 0) return payloads;
    throw new UnencryptedPayloadsRefused(
      'this connection was opened for calls that send no payloads and has no codec keys; ' +
        'refusing to send a payload in plaintext',
    );
  },
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads;
  },
};

export interface PayloadEncryptionOptions {
  /** Address the client/worker connects to (`host:port`); empty means the SDK default, localhost:7233. */
  temporalAddress: string | undefined;
  /** `--allow-unencrypted` given on the command line (the env variable is read too). */
  allowUnencrypted?: boolean;
  /**
   * `false` for a connection that sends no payloads (e.g. `session-keeper setup`): keys are used
   * when configured, but none are needed on any address, and without them encoding is refused.
   */
  sendsPayloads?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Called at most once per process and message, e.g. `logger.warn.bind(logger)`. */
  warn?: (message: string) => void;
}

export interface PayloadEncryption {
  /** Pass as `dataConverter` to `Client`, `Worker.create` (and `bundleWorkflowCode`'s `failureConverterPath`). */
  dataConverter: DataConverter | undefined;
  encrypt: boolean;
  keyring: CodecKeyring | undefined;
  /** One line for start-up logs; names key ids, never key material. */
  summary: string;
}

const warned = new Set<string>();

/**
 * One call for the worker, the client library and the CLI: loads keys from the environment,
 * applies the policy (throws `UnencryptedPayloadsRefused` / `CodecConfigError` with the fix),
 * warns once when payloads stay in plaintext, and returns the data converter.
 */
export function setupPayloadEncryption(opts: PayloadEncryptionOptions): PayloadEncryption {
  const env = opts.env ?? process.env;
  const keyring = loadCodecKeys(env);
  const allowInsecure = (opts.allowUnencrypted ?? false) || allowUnencryptedFromEnv(env);
  const decision = decideEncryption({
    keysConfigured: keyring !== undefined,
    temporalAddress: opts.temporalAddress,
    allowInsecure,
    sendsPayloads: opts.sendsPayloads ?? true,
  });
  if (decision.warning && opts.warn && !warned.has(decision.warning)) {
    warned.add(decision.warning);
    opts.warn(decision.warning);
  }
  const noPayloads = opts.sendsPayloads === false && keyring === undefined;
  return {
    dataConverter: noPayloads ? { payloadCodecs: [refusingPayloadCodec] } : buildDataConverter(keyring),
    encrypt: decision.encrypt,
    keyring,
    summary: keyring
      ? `payload encryption on (${keyring.source}: ${describeKeyring(keyring)})`
      : noPayloads
        ? 'no payloads sent (payload encryption not needed)'
        : 'payload encryption off',
  };
}
