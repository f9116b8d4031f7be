/**
 * The devnet's admin API: JSON over HTTP on loopback, for the CLI user and for chaos tests
 * running in another process.
 *
 *   GET  /info                                   → DevnetInfo
 *   GET  /stats                                  → DevnetStats
 *   POST /pkps          {permittedAddresses}     → {publicKey, ethAddress, tokenId}
 *   POST /lit-actions   {code}                   → {ipfsId}  (then executeJs({ ipfsId }))
 *   POST /pkps/permitted-actions {publicKey, ipfsId, permitted?}
 *                                                → the PKP with its permitted lists
 *        (a Lit Action that may authorise the PKP's sessions, as PKPPermissions.addPermittedAction;
 *        `permitted: false` removes it)
 *   POST /faults        {node, mode, latencyMs?, endpoints?}
 *   POST /chain-faults  {staleBlockhash}
 *   POST /epoch         {dropNode?, addNode?}    → EpochChange
 *   POST /clock         {offsetMs}               → {offsetMs}  (the nodes' clock runs offsetMs
 *        ahead of the host's — expiry, issue time and nonce age checks; 0 resets it)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { FaultSpecError, parseChainFaults, parseFaultSpec } from './faults';
import { BodyError, closeServer, isLoopback, LOOPBACK, listen, readJson, sendJson } from './http-util';
import type { DevnetLogger } from './logger';
import { IPFS_CID_V0 } from './pkp-registry';
import { type DevnetControl, DevnetUsageError } from './types';

/** A request the admin API refuses with 400 and this message. */
export class AdminRequestError extends DevnetUsageError {}

function object(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new AdminRequestError('body must be a JSON object');
  return body as Record<string, unknown>;
}

export function parseEpochRequest(body: unknown): { dropNode?: number; addNode?: boolean } {
  const { dropNode, addNode, ...rest } = object(body);
  if (Object.keys(rest).length)
    throw new AdminRequestError(`unknown field(s): ${Object.keys(rest).join(', ')}`);
  const out: { dropNode?: number; addNode?: boolean } = {};
  if (dropNode !== undefined) {
    if (!Number.isInteger(dropNode) || (dropNode as number) < 0) {
      throw new AdminRequestError('dropNode must be a node index (an integer >= 0)');
    }
    out.dropNode = dropNode as number;
  }
  if (addNode !== undefined) {
    if (typeof addNode !== 'boolean') throw new AdminRequestError('addNode must be true or false');
    out.addNode = addNode;
  }
  return out;
}

/** Pure: the body of `POST /clock`, `{offsetMs}` (an integer, ms; negative = behind). */
export function parseClockRequest(body: unknown): number {
  const { offsetMs, ...rest } = object(body);
  if (Object.keys(rest).length)
    throw new AdminRequestError(`unknown field(s): ${Object.keys(rest).join(', ')}`);
  if (typeof offsetMs !== 'number' || !Number.isSafeInteger(offsetMs)) {
    throw new AdminRequestError('offsetMs must be an integer number of milliseconds');
  }
  return offsetMs;
}

export function parsePkpRequest(body: unknown): string[] {
  const { permittedAddresses, ...rest } = object(body);
  if (Object.keys(rest).length)
    throw new AdminRequestError(`unknown field(s): ${Object.keys(rest).join(', ')}`);
  if (!Array.isArray(permittedAddresses) || permittedAddresses.some((a) => typeof a !== 'string')) {
    throw new AdminRequestError('permittedAddresses must be a list of Ethereum addresses');
  }
  return permittedAddresses as string[];
}

export interface PermittedActionRequest {
  publicKey: string;
  ipfsId: string;
  permitted: boolean;
}

export function parsePermittedActionRequest(body: unknown): PermittedActionRequest {
  const { publicKey, ipfsId, permitted, ...rest } = object(body);
  const problems: string[] = [];
  if (Object.keys(rest).length) problems.push(`unknown field(s): ${Object.keys(rest).join(', ')}`);
  if (typeof publicKey !== 'string' || !publicKey)
    problems.push('publicKey must be the PKP public key (0x04…)');
  if (typeof ipfsId !== 'string' || !IPFS_CID_V0.test(ipfsId)) {
    problems.push('ipfsId must be the IPFS CID of the Lit Action (Qm…, as POST /lit-actions answers)');
  }
  if (permitted !== undefined && typeof permitted !== 'boolean')
    problems.push('permitted must be true or false');
  if (problems.length) throw new AdminRequestError(problems.join('; '));
  return { publicKey: publicKey as string, ipfsId: ipfsId as string, permitted: permitted !== false };
}

export class AdminApi {
  private server: Server | undefined;
  private urlValue: string | undefined;

  constructor(
    private readonly control: DevnetControl,
    private readonly log: DevnetLogger,
  ) {}

  get url(): string {
    if (!this.urlValue) throw new Error('admin API is not listening');
    return this.urlValue;
  }

  async start(port: number): Promise<string> {
    this.server = createServer((req, res) => void this.onRequest(req, res));
    const actual = await listen(this.server, port);
    this.urlValue = `http://${LOOPBACK}:${actual}`;
    return this.urlValue;
  }

  async close(): Promise<void> {
    if (this.server) await closeServer(this.server);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isLoopback(req.socket.remoteAddress)) {
      sendJson(res, 403, { error: 'the admin API answers loopback clients only' });
      return;
    }
    const route = `${req.method} ${(req.url ?? '/').split('?')[0].replace(/\/+$/, '') || '/'}`;
    try {
      const body = req.method === 'POST' ? await readJson(req) : undefined;
      const result = await this.route(route, body);
      if (result === undefined) {
        sendJson(res, 404, { error: `no such admin route: ${route}` });
        return;
      }
      sendJson(res, 200, result);
    } catch (e) {
      const clientError =
        e instanceof DevnetUsageError || e instanceof FaultSpecError || e instanceof BodyError;
      const message = (e as Error)?.message ?? String(e);
      if (!clientError) this.log.error({ route, err: message }, 'admin request failed');
      sendJson(res, clientError ? 400 : 500, { error: message });
    }
  }

  private async route(route: string, body: unknown): Promise<unknown> {
    const c = this.control;
    switch (route) {
      case 'GET /info':
        return c.info();
      case 'GET /stats':
        return c.stats();
      case 'POST /pkps':
        return c.mintPkp(parsePkpRequest(body));
      case 'POST /pkps/permitted-actions': {
        const r = parsePermittedActionRequest(body);
        return c.setPkpAction(r.publicKey, r.ipfsId, r.permitted);
      }
      case 'POST /lit-actions': {
        const { code } = object(body);
        if (typeof code !== 'string' || code.length === 0)
          throw new AdminRequestError('code must be the Lit Action source (a non-empty string)');
        return c.addLitAction(code);
      }
      case 'POST /faults': {
        const { node, ...fault } = object(body);
        if (!Number.isInteger(node))
          throw new AdminRequestError('node must be a node index (an integer >= 0)');
        const spec = parseFaultSpec(fault);
        await c.setFault(node as number, spec);
        return { node, fault: spec };
      }
      case 'POST /chain-faults': {
        const faults = parseChainFaults(object(body));
        c.setChainFaults(faults);
        return faults;
      }
      case 'POST /epoch':
        return c.advanceEpoch(parseEpochRequest(body));
      case 'POST /clock':
        return c.setClockOffset(parseClockRequest(body));
      default:
        return undefined;
    }
  }
}
