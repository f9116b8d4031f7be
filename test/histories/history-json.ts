/**
 * History ⇄ proto3 JSON (the format of `temporal workflow show -o json` and the Web UI download).
 *
 * Why not `historyToJSON`/`historyFromJSON` from @temporalio/common (which the replayer also uses
 * for JSON input)? In this install protobufjs 8 is nested twice, under @temporalio/common and
 * under @temporalio/proto (the hoisted copy is protobufjs 7 for the Lit SDK), and protojson's
 * `instanceof Type` check fails across the two copies: "TypeError: type must be a Type". Loading
 * protojson from the copy @temporalio/proto itself uses avoids that, whatever the layout.
 */
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

type History = temporal.api.history.v1.IHistory;

const protoDir = path.dirname(require.resolve('@temporalio/proto/package.json'));
const protojson: {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
} = require(require.resolve('protobufjs/ext/protojson', { paths: [protoDir] }));
const historyType = (patchProtobufRoot(require('@temporalio/proto')) as any).lookupType(
  'temporal.api.history.v1.History',
);

export function historyToJson(history: History): string {
  const json = protojson.toJson(historyType, temporal.api.history.v1.History.fromObject(history));
  return `${JSON.stringify(json, null, 2)}\n`;
}

export function historyFromJson(text: string): History {
  return temporal.api.history.v1.History.fromObject(
    protojson.fromJson(historyType, JSON.parse(text), { ignoreUnknownFields: true }) as object,
  );
}
