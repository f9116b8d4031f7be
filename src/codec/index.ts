/**
 * Payload protection: encryption codec, key configuration, the encryption policy, log redaction
 * and the codec server. See docs/security.md.
 */
export {
  AesGcmPayloadCodec,
  CIPHER,
  ENCODING_ENCRYPTED,
  METADATA_CIPHER,
  METADATA_KEY_ID,
  PayloadDecryptionError,
} from './aes-gcm-codec';
export {
  CODEC_SERVER_TOKEN_ENV,
  type CodecServer,
  type CodecServerOptions,
  DEFAULT_CODEC_SERVER_HOST,
  DEFAULT_CODEC_SERVER_PORT,
  DEFAULT_UI_CODEC_PATH,
  DEFAULT_UI_ORIGINS,
  loadCodecServerToken,
  startCodecServer,
} from './codec-server';
export {
  buildDataConverter,
  FAILURE_CONVERTER_PATH,
  type PayloadEncryption,
  type PayloadEncryptionOptions,
  refusingPayloadCodec,
  setupPayloadEncryption,
} from './data-converter';
export {
  CODEC_KEYS_ENV,
  CODEC_KEYS_FILE_ENV,
  CodecConfigError,
  type CodecKeyring,
  describeKeyring,
  loadCodecKeys,
  parseCodecKeys,
} from './keys';
export {
  ALLOW_UNENCRYPTED_ENV,
  ALLOW_UNENCRYPTED_FLAG,
  allowUnencryptedFromEnv,
  decideEncryption,
  type EncryptionDecision,
  type EncryptionPolicyInput,
  isLoopbackHost,
  UnencryptedPayloadsRefused,
} from './policy';
export { LOG_REDACT, LOG_REDACT_PATHS, REDACTED, redactSecrets, redactString, SECRET_FIELDS } from './redact';
