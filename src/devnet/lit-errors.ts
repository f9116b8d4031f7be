/**
 * Lit node error codes and the JSON error body a Lit node answers with. Kinds and HTTP statuses
 * are those of Lit's node (`lit_node::error::EC`), so a client sees the same status and
 * `errorCode` from the devnet as from a real node.
 */

export const LIT_ERROR_CODES = {
  NodeSystemFault: { kind: 'Unexpected', status: 500 },
  NodeConcurrencyOverload: { kind: 'Unexpected', status: 429 },
  NodeRpcError: { kind: 'Validation', status: 502 },
  NodeBlockchainError: { kind: 'Blockchain', status: 502 },
  NodeBlsWrongEpochError: { kind: 'Unexpected', status: 502 },
  NodeInvalidBlockhash: { kind: 'Validation', status: 502 },
  NodeSIWEMessageError: { kind: 'Parser', status: 400 },
  NodeSIWECapabilityInvalid: { kind: 'Validation', status: 400 },
  NodeSIWESigConversionError: { kind: 'Validation', status: 400 },
  NodeExpWrongOrTooLarge: { kind: 'Validation', status: 403 },
  NodeIatOutsideGracePeriod: { kind: 'Validation', status: 403 },
  NodeNotAuthorized: { kind: 'Validation', status: 403 },
  NodeResourceIdNotFound: { kind: 'Validation', status: 404 },
  NodeAuthFailed: { kind: 'Validation', status: 401 },
  NodeInvalidAuthSig: { kind: 'Validation', status: 401 },
  NodeInvalidAuthSigSessionKeySignature: { kind: 'Validation', status: 400 },
  NodeAuthSigAddressConversionError: { kind: 'Validation', status: 400 },
  NodeAuthSigSignatureConversionError: { kind: 'Validation', status: 400 },
  NodeAuthSigSessionKeyConversionError: { kind: 'Validation', status: 400 },
  NodeAuthSigSignedMessageConversionError: { kind: 'Conversion', status: 400 },
  NodeParserError: { kind: 'Parser', status: 400 },
  NodePKPNotAuthorized: { kind: 'Validation', status: 401 },
  NodeInvalidPKPAddress: { kind: 'Validation', status: 401 },
  NodeInvalidCurveType: { kind: 'Validation', status: 400 },
  NodeInvalidAuthContextResource: { kind: 'Validation', status: 401 },
  NodeAccessControlConditionsReturnedNotAuthorized: { kind: 'Validation', status: 401 },
  NodeAccessControlConditionsCheckFailed: { kind: 'Validation', status: 502 },
  NodeMissingAccessControlConditions: { kind: 'Validation', status: 400 },
  // Lit's node files this one under kind Blockchain; kept as is so bodies match.
  NodeBadInput: { kind: 'Blockchain', status: 422 },
  // A Lit Action that threw / ran past the time limit (executeJs; Lit's EC names, statuses ours).
  NodeJsExecutionError: { kind: 'Unexpected', status: 500 },
  NodeJsTimeoutError: { kind: 'Timeout', status: 502 },
  // Out of memory (Lit's node: memory_limit_err_code(…, EC::NodeJsMemoryLimitError), 502).
  NodeJsMemoryLimitError: { kind: 'MemoryLimit', status: 502 },
} as const satisfies Record<string, { kind: string; status: number }>;

export type LitErrorCode = keyof typeof LIT_ERROR_CODES;

/** The JSON body of every error answer of a Lit node. */
export interface LitErrorBody {
  errorKind: string;
  errorCode: LitErrorCode;
  status: number;
  message: string;
  correlationId: string;
  details: string[];
}

/** An error a node handler throws; the server turns it into a `LitErrorBody` answer. */
export class LitNodeError extends Error {
  readonly code: LitErrorCode;
  readonly details: string[];
  constructor(code: LitErrorCode, message: string, details: string[] = []) {
    super(message);
    this.name = 'LitNodeError';
    this.code = code;
    this.details = details;
  }
  get status(): number {
    return LIT_ERROR_CODES[this.code].status;
  }
  get kind(): string {
    return LIT_ERROR_CODES[this.code].kind;
  }
}

export function litError(code: LitErrorCode, message: string, details: string[] = []): LitNodeError {
  return new LitNodeError(code, message, details);
}

export function isLitErrorCode(value: unknown): value is LitErrorCode {
  return typeof value === 'string' && Object.hasOwn(LIT_ERROR_CODES, value);
}

export function litErrorBody(err: LitNodeError, correlationId: string): LitErrorBody {
  return {
    errorKind: err.kind,
    errorCode: err.code,
    status: err.status,
    message: err.message,
    correlationId,
    details: err.details.length ? err.details : [err.message],
  };
}

/**
 * The Lit error code carried by an error the Lit SDK threw, if any. The SDK rejects a failed
 * node call with the node's JSON body and, once too few nodes succeed, throws a `NodeError`
 * whose `info.errorCode` is the most common node `errorCode` (its message embeds the bodies too).
 * A handshake failure in `connect()` rejects with the raw body instead, which has `errorCode` itself.
 */
export function litErrorCodeOf(err: unknown): string | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { info?: { errorCode?: unknown }; errorCode?: unknown; message?: unknown };
  if (typeof e.info?.errorCode === 'string') return e.info.errorCode;
  if (typeof e.errorCode === 'string') return e.errorCode;
  if (typeof e.message === 'string') {
    const m = /"errorCode":"([A-Za-z0-9_]+)"/.exec(e.message);
    if (m) return m[1];
  }
  return undefined;
}
