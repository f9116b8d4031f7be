/**
 * Payload ↔ proto3 JSON, the codec server's wire format: bytes fields (the data and every metadata
 * value) are base64 strings, e.g. {"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "Im9rIg=="}.
 * (The SDK's own `JSONToPayload` fails in 1.24 with "type must be a Type", so this is done here.)
 */
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

const ProtoPayload = temporal.api.common.v1.Payload;
const BASE64 = /^(?:[A-Za-z0-9+/]*={0,2}|[A-Za-z0-9_-]*={0,2})$/;

export interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
  externalPayloads?: { sizeBytes?: string }[];
}

export class PayloadJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadJsonError';
  }
}

function base64Field(value: unknown, where: string): string {
  if (typeof value !== 'string' || !BASE64.test(value)) {
    throw new PayloadJsonError(`${where} must be a base64 string`);
  }
  return value.replace(/-/g, '+').replace(/_/g, '/');
}

/** Parses one JSON payload; throws `PayloadJsonError` naming the bad field. */
export function payloadFromJson(json: unknown, where = 'payload'): Payload {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new PayloadJsonError(`${where} must be an object with "metadata" and "data"`);
  }
  const o = json as Record<string, unknown>;
  const metadata: Record<string, string> = {};
  if (o.metadata !== undefined && o.metadata !== null) {
    if (typeof o.metadata !== 'object' || Array.isArray(o.metadata)) {
      throw new PayloadJsonError(`${where}.metadata must be an object of base64 strings`);
    }
    for (const [k, v] of Object.entries(o.metadata)) metadata[k] = base64Field(v, `${where}.metadata.${k}`);
  }
  const data = o.data === undefined || o.data === null ? undefined : base64Field(o.data, `${where}.data`);
  try {
    return ProtoPayload.fromObject({
      metadata,
      ...(data !== undefined ? { data } : {}),
      ...(Array.isArray(o.externalPayloads) ? { externalPayloads: o.externalPayloads } : {}),
    });
  } catch (err) {
    throw new PayloadJsonError(`${where} is not a Temporal Payload: ${(err as Error).message}`);
  }
}

export function payloadToJson(payload: Payload): JsonPayload {
  return ProtoPayload.toObject(ProtoPayload.fromObject(payload), {
    bytes: String,
    longs: String,
  }) as JsonPayload;
}
