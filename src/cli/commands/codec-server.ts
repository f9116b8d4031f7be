/**
 * `session-keeper codec-server`: decrypts payloads for the Temporal Web UI and CLI. Keys come from
 * SESSION_KEEPER_CODEC_KEYS / SESSION_KEEPER_CODEC_KEYS_FILE, the bearer token from
 * SESSION_KEEPER_CODEC_SERVER_TOKEN (never from a flag: flags show up in `ps`).
 */
import { type Command, InvalidArgumentError } from 'commander';
import {
  CODEC_KEYS_ENV,
  CODEC_KEYS_FILE_ENV,
  CODEC_SERVER_TOKEN_ENV,
  CodecConfigError,
  DEFAULT_CODEC_SERVER_HOST,
  DEFAULT_CODEC_SERVER_PORT,
  DEFAULT_UI_CODEC_PATH,
  DEFAULT_UI_ORIGINS,
  describeKeyring,
  loadCodecKeys,
  loadCodecServerToken,
  startCodecServer,
} from '../../codec';

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('must be a port number, 0-65535');
  return n;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function register(program: Command): void {
  program
    .command('codec-server')
    .description(
      'Serve /encode and /decode so the Temporal Web UI and CLI can show encrypted payloads (needs the codec keys)',
    )
    .option('--port <port>', 'port to listen on', parsePort, DEFAULT_CODEC_SERVER_PORT)
    .option('--host <host>', 'address to bind', DEFAULT_CODEC_SERVER_HOST)
    .option(
      '--origin <url>',
      `Web UI origin allowed to call (repeatable; default ${DEFAULT_UI_ORIGINS.join(', ')})`,
      collect,
    )
    .option('--no-auth', `run without ${CODEC_SERVER_TOKEN_ENV} (only on a loopback host, for local use)`)
    .option(
      '--ui-upstream <url>',
      'also serve the Temporal Web UI at <url> through this server, with its codec endpoint on the same origin ' +
        `(set the UI's codec endpoint to ${DEFAULT_UI_CODEC_PATH}); browsers sign in with the token as password`,
    )
    .option('--ui-codec-path <path>', 'with --ui-upstream: the codec endpoint path', DEFAULT_UI_CODEC_PATH)
    .addHelpText(
      'after',
      `
Environment:
  ${CODEC_KEYS_ENV} / ${CODEC_KEYS_FILE_ENV}   the codec keys (same as the workers')
  ${CODEC_SERVER_TOKEN_ENV}             bearer token callers must send (required unless --no-auth)

Examples:
  ${CODEC_SERVER_TOKEN_ENV}=$(openssl rand -hex 32) session-keeper codec-server --port 8888
  temporal workflow show -w lit-session/agent-1 --codec-endpoint http://127.0.0.1:8888 --codec-auth "Bearer $${CODEC_SERVER_TOKEN_ENV}"
  session-keeper codec-server --no-auth   # then: temporal server start-dev --ui-codec-endpoint http://127.0.0.1:8888

UI gateway (docker-compose.yml): the Web UI sends no token to a codec server, so serve the UI through it:
  temporal-ui: TEMPORAL_CODEC_ENDPOINT=${DEFAULT_UI_CODEC_PATH} (not published itself)
  session-keeper codec-server --host 0.0.0.0 --port 8080 --ui-upstream http://temporal-ui:8080
  then open http://localhost:8080 and sign in with any user name and the token as password`,
    )
    .action(
      async (opts: {
        port: number;
        host: string;
        origin?: string[];
        auth: boolean;
        uiUpstream?: string;
        uiCodecPath: string;
      }) => {
        const keyring = loadCodecKeys();
        if (!keyring) {
          throw new CodecConfigError(
            `the codec server needs the codec keys: set ${CODEC_KEYS_ENV} or ${CODEC_KEYS_FILE_ENV} as for the workers`,
          );
        }
        const token = loadCodecServerToken(process.env, !opts.auth);
        const origins = opts.origin?.length ? opts.origin : DEFAULT_UI_ORIGINS;
        const server = await startCodecServer({
          keyring,
          host: opts.host,
          port: opts.port,
          origins,
          token,
          ...(opts.uiUpstream !== undefined
            ? { uiUpstream: opts.uiUpstream, uiCodecPath: opts.uiCodecPath }
            : {}),
        });
        const codecUrl = opts.uiUpstream !== undefined ? `${server.url}${opts.uiCodecPath}` : server.url;
        process.stdout.write(
          `codec server listening on ${server.url} (${describeKeyring(keyring)}; ` +
            `${token ? 'bearer token required' : 'NO AUTH, loopback only'}; CORS origins ${origins.join(', ')})\n` +
            (opts.uiUpstream !== undefined
              ? `  Web UI: ${opts.uiUpstream} served here${token ? ' (sign in: any user name, the token as password)' : ''}; its codec endpoint must be ${opts.uiCodecPath}\n`
              : `  Web UI: set the codec endpoint to ${server.url}\n`) +
            `  CLI:    temporal … --codec-endpoint ${codecUrl}${token ? ` --codec-auth "Bearer $${CODEC_SERVER_TOKEN_ENV}"` : ''}\n`,
        );
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            resolve();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        await server.close();
      },
    );
}
