/**
 * The failure converter used with encryption: moves error messages and stack traces into an
 * encoded attributes payload, so the payload codec encrypts them too ("Encoded failure" is what
 * the server stores as the message).
 *
 * Temporal loads it by path (`DataConverter.failureConverterPath`, and `bundleWorkflowCode({
 * failureConverterPath })` for a pre-built workflow bundle), so it must be a module with a
 * `failureConverter` named export, and it is bundled into workflow code: import only
 * `@temporalio/common` here.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
