/**
 * The real Staking contract ABI, from `@lit-protocol/contracts` (datil-dev). The ABI bundled in
 * contracts-sdk lacks `getActiveUnkickedValidatorStructsAndCounts`, which `connect()` calls.
 */

interface ContractsFile {
  data: { name: string; contracts: { ABI: unknown[] }[] }[];
}

// The package only exposes its JSON through `exports`, which this project's TypeScript module
// resolution ignores; Node's own require honours it.
const datilDev = require('@lit-protocol/contracts/prod/datil-dev.json') as ContractsFile;

const staking = datilDev.data.find((c) => c.name === 'Staking');
if (!staking) throw new Error('@lit-protocol/contracts datil-dev.json has no Staking contract');

export const STAKING_ABI: readonly unknown[] = staking.contracts[0].ABI;
