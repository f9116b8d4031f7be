/**
 * Stand-in for `@lit-protocol/lit-auth-client`'s `EthWalletProvider.authenticate`, which the
 * project does not depend on (its last 7.x release is 7.3.1; the examples resolved 7.0.4). Same
 * steps as the published `src/lib/providers/EthWalletProvider.js` of 7.3.1, signer branch: a SIWE
 * message (domain `localhost`, uri `http://localhost` outside a browser, chain id of `chain` from
 * LIT_CHAINS, expiration 24 h, nonce = the client's latest blockhash) signed by the signer, as an
 * EthWallet auth method `{ authMethodType: 1, accessToken: JSON.stringify(authSig) }`.
 */
import { AUTH_METHOD_TYPE, LIT_CHAINS } from '@lit-protocol/constants';
import { ethers } from 'ethers';
import { SiweMessage } from 'siwe';

export const EthWalletProvider = {
  async authenticate({
    signer,
    address,
    chain,
    litNodeClient,
    expiration,
    domain,
    origin,
  }: {
    signer: ethers.Signer & { address?: string };
    address?: string;
    chain?: string;
    litNodeClient: { getLatestBlockhash(): Promise<string> };
    expiration?: string;
    domain?: string;
    origin?: string;
  }): Promise<{ authMethodType: number; accessToken: string }> {
    const chainName = chain || 'ethereum';
    const who = ethers.utils.getAddress(address || (await signer.getAddress()) || signer.address!);
    const chainId = (LIT_CHAINS as Record<string, { chainId?: number }>)[chainName]?.chainId ?? 1;
    const message = new SiweMessage({
      domain: domain || 'localhost',
      uri: origin || 'http://localhost',
      address: who,
      version: '1',
      chainId,
      expirationTime: expiration || new Date(Date.now() + 1000 * 60 * 60 * 24).toISOString(),
      nonce: await litNodeClient.getLatestBlockhash(),
    });
    const toSign = message.prepareMessage();
    const authSig = {
      sig: await signer.signMessage(toSign),
      derivedVia: 'web3.eth.personal.sign',
      signedMessage: toSign,
      address: who,
    };
    return { authMethodType: AUTH_METHOD_TYPE.EthWallet, accessToken: JSON.stringify(authSig) };
  },
};
