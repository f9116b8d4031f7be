/**
 * Loads a published example's own files (test/conformance/examples/<name>/*.cts, byte for byte
 * as published) the way its package ran them, through tsx, with one difference: the packages
 * that set up the network resolve, for the examples' files only, to the stand-ins here.
 *
 *   @lit-protocol/lit-node-client → stand-ins/lit-node-client.ts (the stock client, devnet config)
 *   @lit-protocol/contracts-sdk   → stand-ins/contracts-sdk.ts   (minting through the devnet)
 *   @lit-protocol/constants       → stand-ins/constants.ts       (LIT_RPC.CHRONICLE_YELLOWSTONE)
 *   @lit-protocol/lit-auth-client → stand-ins/lit-auth-client.ts (not a project dependency)
 *
 * Everything else an example imports (`@lit-protocol/auth-helpers`, `ethers`,
 * `typestub-ipfs-only-hash`, ...) is the real package. The fixtures' relative imports
 * (`./utils`, `./litAction`) resolve to their `.cts` files.
 */
import Module from 'node:module';
import path from 'node:path';

export const EXAMPLES_DIR = path.join(__dirname, '..', 'examples');

const STAND_INS: Record<string, string> = {
  '@lit-protocol/lit-node-client': path.join(__dirname, 'stand-ins', 'lit-node-client.ts'),
  '@lit-protocol/contracts-sdk': path.join(__dirname, 'stand-ins', 'contracts-sdk.ts'),
  '@lit-protocol/constants': path.join(__dirname, 'stand-ins', 'constants.ts'),
  '@lit-protocol/lit-auth-client': path.join(__dirname, 'stand-ins', 'lit-auth-client.ts'),
};

type Resolve = (request: string, parent: { filename?: string } | undefined, ...rest: unknown[]) => string;

const moduleInternals = Module as unknown as { _resolveFilename: Resolve };
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const resolve = moduleInternals._resolveFilename;
  moduleInternals._resolveFilename = function (this: unknown, request, parent, ...rest) {
    const from = parent?.filename;
    if (from?.startsWith(EXAMPLES_DIR + path.sep)) {
      const standIn = STAND_INS[request];
      if (standIn) return resolve.call(this, standIn, parent, ...rest);
      if (request.startsWith('./') && !path.extname(request)) {
        return resolve.call(this, path.join(path.dirname(from), `${request}.cts`), parent, ...rest);
      }
    }
    return resolve.call(this, request, parent, ...rest);
  };
}

/** `require`s `examples/<example>/<file>.cts` (cached: load an example once per process). */
export function loadExample<T = Record<string, any>>(example: string, file = 'index'): T {
  install();
  return require(path.join(EXAMPLES_DIR, example, `${file}.cts`)) as T;
}
