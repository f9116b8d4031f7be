/**
 * The Lit SDK (7.4.0) writes to the console on every session-sig call when no storage provider is
 * set ("Storage key "lit-wallet-sig" is missing…", "Unable to store walletSig…"). We deliberately
 * use no storage provider (its wallet-sig cache is process-global, wrong for many agents), so these
 * lines are expected noise that would drown the worker's JSON logs. Only these exact messages are
 * dropped; everything else the SDK prints still goes through.
 */
const EXPECTED_NOISE = [
  /^Storage key "lit-wallet-sig" is missing\. Not a problem\. Continue\.\.\.$/,
  /^Unable to store walletSig in local storage\. Not a problem\. Continue\.\.\.$/,
];

export function isExpectedSdkNoise(args: unknown[]): boolean {
  return (
    args.length === 1 &&
    typeof args[0] === 'string' &&
    EXPECTED_NOISE.some((re) => re.test(args[0] as string))
  );
}

let installed = false;

export function silenceExpectedSdkNoise(): void {
  if (installed) return;
  installed = true;
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    if (!isExpectedSdkNoise(args)) warn(...args);
  };
}
