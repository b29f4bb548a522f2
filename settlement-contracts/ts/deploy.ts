import {
  type Address,
  type GetContractReturnType,
  getAddress,
  getContract,
  getContractAddress,
  type Hash,
  type Hex,
} from 'viem'
import { type ChainClient, SettlementClient } from './client.ts'
import { attestationVerifierAbi, mockUSDCAbi, settlementAbi } from './generated/abis.ts'
import { attestationVerifierBytecode, mockUSDCBytecode, settlementBytecode } from './generated/bytecode.ts'

/** Seconds of L1 time. The contract requires forcedInclusion and liveness to exceed challenge + prove. */
export interface SettlementWindows {
  challengeSeconds: number
  proveSeconds: number
  forcedInclusionSeconds: number
  livenessSeconds: number
  depositReclaimSeconds: number
}

export interface SettlementBonds {
  proposerWei: bigint
  challengerWei: bigint
  forcedWithdrawalFeeWei: bigint
}

/** What the engine fixes: its genesis root and a commitment to its configuration. */
export interface SettlementGenesis {
  stateRoot: Hex
  configHash: Hex
}

export interface DeploySettlementParameters {
  /** An existing collateral token; MockUSDC is deployed when absent. */
  token?: Address
  /** An existing IBatchVerifier; an AttestationVerifier of `attesters` is deployed when absent. */
  verifier?: Address
  attesters?: readonly Address[]
  threshold?: number
  /** The verifier's program key (engine version). */
  vkey: Hex
  /** The only proposer; the deploying account when absent. */
  proposer?: Address
  accountTreeDepth: number
  windows: SettlementWindows
  bonds: SettlementBonds
  /**
   * The engine's genesis. The engine commits to the settlement address (EIP-712 domain, withdrawal
   * leaves, config hash), so it may be given as a function of the address the contract will have.
   */
  genesis: SettlementGenesis | ((settlement: Address) => SettlementGenesis)
}

export interface SettlementDeployment {
  chainId: number
  settlement: Address
  token: Address
  verifier: Address
  /** Block of the Settlement deployment: where event scans start. */
  deployBlock: bigint
  /** Whether `token` / `verifier` were deployed here (MockUSDC, AttestationVerifier). */
  deployedToken: boolean
  deployedVerifier: boolean
  genesis: SettlementGenesis
  /** The typed client on this deployment (settlement and token handles), signing as the deploying account. */
  client: SettlementClient
  /** The verifier, typed as AttestationVerifier (its `verify` is IBatchVerifier's). */
  verifierContract: GetContractReturnType<typeof attestationVerifierAbi, ChainClient, Address>
}

export class DeployError extends Error {
  override name = 'DeployError'
}

async function deployed(
  client: ChainClient,
  hash: Hash,
  what: string,
): Promise<{ address: Address; block: bigint }> {
  const receipt = await client.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success' || receipt.contractAddress == null) {
    throw new DeployError(`${what} deployment ${hash} failed`)
  }
  return { address: getAddress(receipt.contractAddress), block: receipt.blockNumber }
}

/**
 * Deploys MockUSDC (unless `token`), AttestationVerifier (unless `verifier`) and Settlement from
 * `client.account`, to any RPC. Nothing else may send from that account meanwhile: the Settlement
 * address is predicted from its nonce, and a mismatch throws.
 */
export async function deploySettlement(
  client: ChainClient,
  params: DeploySettlementParameters,
): Promise<SettlementDeployment> {
  const from = client.account.address
  let token = params.token
  if (token === undefined) {
    const hash = await client.deployContract({ abi: mockUSDCAbi, bytecode: mockUSDCBytecode, args: [] })
    token = (await deployed(client, hash, 'MockUSDC')).address
  }
  let verifier = params.verifier
  if (verifier === undefined) {
    const attesters = params.attesters ?? []
    const threshold = params.threshold ?? 0
    if (attesters.length === 0 || threshold < 1 || threshold > attesters.length) {
      throw new DeployError('an AttestationVerifier needs attesters and a threshold from 1 to their number')
    }
    const hash = await client.deployContract({
      abi: attestationVerifierAbi,
      bytecode: attestationVerifierBytecode,
      args: [[...attesters], BigInt(threshold)],
    })
    verifier = (await deployed(client, hash, 'AttestationVerifier')).address
  }

  const nonce = await client.getTransactionCount({ address: from, blockTag: 'pending' })
  const predicted = getContractAddress({ from, nonce: BigInt(nonce) })
  const genesis = typeof params.genesis === 'function' ? params.genesis(predicted) : params.genesis
  const w = params.windows
  const hash = await client.deployContract({
    abi: settlementAbi,
    bytecode: settlementBytecode,
    args: [
      {
        token,
        verifier,
        vkey: params.vkey,
        configHash: genesis.configHash,
        genesisStateRoot: genesis.stateRoot,
        proposer: params.proposer ?? from,
        accountTreeDepth: BigInt(params.accountTreeDepth),
        challengeWindow: BigInt(w.challengeSeconds),
        proveWindow: BigInt(w.proveSeconds),
        forcedInclusionDeadline: BigInt(w.forcedInclusionSeconds),
        livenessTimeout: BigInt(w.livenessSeconds),
        depositReclaimDelay: BigInt(w.depositReclaimSeconds),
        proposerBondWei: params.bonds.proposerWei,
        challengerBondWei: params.bonds.challengerWei,
        forcedWithdrawalFeeWei: params.bonds.forcedWithdrawalFeeWei,
      },
    ],
    nonce,
  })
  const settlement = await deployed(client, hash, 'Settlement')
  if (settlement.address !== predicted) {
    throw new DeployError(`Settlement landed at ${settlement.address}, not the predicted ${predicted}`)
  }
  return {
    chainId: client.chain.id,
    settlement: settlement.address,
    token,
    verifier,
    deployBlock: settlement.block,
    deployedToken: params.token === undefined,
    deployedVerifier: params.verifier === undefined,
    genesis,
    client: new SettlementClient(client, { settlement: settlement.address, token }),
    verifierContract: getContract({ address: verifier, abi: attestationVerifierAbi, client }),
  }
}
