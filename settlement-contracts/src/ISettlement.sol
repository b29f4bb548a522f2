// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ISettlement
/// @notice The L1 half of SCE: an inbox for deposits and forced withdrawal requests, batches of state roots
/// with a fraud window (challenge, prove, resolve), withdrawals by Merkle proof, and a freeze with an escape
/// hatch. Every external function, event and error of `Settlement` is declared here.
/// @dev Amounts named `...Quantums` are USDC base units (10^6 = 1 USDC); bonds, fees and credits named
/// `...Wei` are ETH. Times are L1 block timestamps in seconds. Batch 0 is the genesis state, finalized at
/// deployment; proposed batches are numbered from 1. The exact encodings are in docs/contracts.md.
interface ISettlement {
    // ------------------------------------------------------------------ types

    /// @notice Constructor parameters. Windows are in seconds.
    struct SettlementConfig {
        /// @notice The ERC-20 collateral (USDC, 6 decimals).
        address token;
        /// @notice The proof system that `prove` asks.
        address verifier;
        /// @notice The program key passed to `verifier`, naming the engine version.
        bytes32 vkey;
        /// @notice Commits to the engine's genesis configuration; part of every batch's public values.
        bytes32 configHash;
        /// @notice State root of batch 0, the engine's initial state.
        bytes32 genesisStateRoot;
        /// @notice The only address that may propose batches.
        address proposer;
        /// @notice Depth of the accounts tree (engine `accountTreeDepth`), 1 to 32.
        uint256 accountTreeDepth;
        /// @notice How long after proposal a batch may be challenged.
        uint256 challengeWindow;
        /// @notice How long after a challenge the batch may be proven.
        uint256 proveWindow;
        /// @notice How long a forced withdrawal request may wait for a finalized batch to consume it.
        uint256 forcedInclusionDeadline;
        /// @notice How long the contract may go without finalizing a batch.
        uint256 livenessTimeout;
        /// @notice How long a deposit must wait unconsumed before its sender may reclaim it.
        uint256 depositReclaimDelay;
        /// @notice ETH held per proposed batch until it resolves.
        uint256 proposerBondWei;
        /// @notice ETH a challenger puts up.
        uint256 challengerBondWei;
        /// @notice ETH paid (to the proposer's credit) with each forced withdrawal request.
        uint256 forcedWithdrawalFeeWei;
    }

    /// @notice Everything recorded about a proposed batch. Only `keccak256(abi.encode(header))` is stored;
    /// `challenge`, `prove` and `resolve` take the header back and check it against that hash, so the
    /// values they use are the stored ones. The `BatchProposed` event carries the header.
    struct BatchHeader {
        /// @notice Position in the chain of batches, from 1.
        uint256 batchIndex;
        /// @notice Number of reverts before this proposal; makes the hash of a re-proposed batch unique.
        uint256 epoch;
        /// @notice State root before the batch (the previous batch's `stateRoot`).
        bytes32 prevStateRoot;
        /// @notice State root after the batch.
        bytes32 stateRoot;
        /// @notice Root of the batch's withdrawals tree (depth 16).
        bytes32 withdrawalsRoot;
        /// @notice keccak256 of the batch data bytes posted as calldata.
        bytes32 dataHash;
        /// @notice Inbox items consumed in total after this batch.
        uint256 inboxConsumed;
        /// @notice The inbox accumulator after `inboxConsumed` items (`bytes32(0)` for none).
        bytes32 inboxAccumulator;
        /// @notice Block timestamp of the proposal.
        uint256 proposedAt;
    }

    /// @notice Inbox item kinds, in the order of their numeric value.
    enum InboxKind {
        Deposit,
        ForcedWithdrawal
    }

    /// @notice One inbox item, as hashed into the accumulator:
    /// `acc_i = keccak256(abi.encode(acc_{i-1}, item))`, with `acc_{-1} = bytes32(0)`.
    struct InboxItem {
        /// @notice Deposit or forced withdrawal request.
        InboxKind kind;
        /// @notice Who sent the transaction (who paid the deposit, who asked the withdrawal).
        address sender;
        /// @notice The L2 account: the deposit's recipient, or the requester for a forced withdrawal.
        address account;
        /// @notice Amount in quantums; at most 2^64 - 1.
        uint256 amountQuantums;
        /// @notice 0-based position in the inbox (the engine op's `inboxIndex`).
        uint256 index;
        /// @notice Block timestamp when the item was appended.
        uint256 timestamp;
    }

    /// @notice Where a challenge stands.
    enum ChallengeStatus {
        None,
        Challenged,
        Proven,
        Settled
    }

    /// @notice A challenge, keyed by the batch hash.
    struct Challenge {
        address challenger;
        uint40 challengedAt;
        uint40 batchIndex;
        ChallengeStatus status;
    }

    /// @notice Why the contract froze.
    enum FreezeReason {
        ForcedWithdrawalOverdue,
        LivenessTimeout
    }

    // ------------------------------------------------------------------ events

    /// @notice A deposit or a forced withdrawal request entered the inbox.
    event InboxItemAppended(
        uint256 indexed index,
        InboxKind indexed kind,
        address indexed account,
        address sender,
        uint256 amountQuantums,
        uint256 timestamp,
        bytes32 accumulator
    );
    /// @notice A batch was proposed; `header` is what `challenge`, `prove` and `resolve` take back.
    event BatchProposed(uint256 indexed batchIndex, bytes32 indexed batchHash, BatchHeader header);
    /// @notice A batch was challenged; it must be proven before `proveDeadline`.
    event BatchChallenged(
        uint256 indexed batchIndex, bytes32 indexed batchHash, address indexed challenger, uint256 proveDeadline
    );
    /// @notice A challenged batch was proven; the challenger's bond went to the prover's credit.
    event BatchProven(uint256 indexed batchIndex, bytes32 indexed batchHash, address indexed prover);
    /// @notice A batch finalized: its withdrawals are claimable and its root is the escape root.
    event BatchFinalized(
        uint256 indexed batchIndex, bytes32 indexed batchHash, bytes32 stateRoot, bytes32 withdrawalsRoot
    );
    /// @notice Batches `fromBatchIndex` to `toBatchIndex` were reverted after an unproven challenge.
    event BatchesReverted(
        uint256 indexed fromBatchIndex, uint256 toBatchIndex, address indexed challenger, uint256 newEpoch
    );
    /// @notice The bond of a challenge on a batch reverted by an earlier one (or stranded by a freeze) was
    /// returned to the challenger's credit.
    event ChallengeBondRefunded(bytes32 indexed batchHash, address indexed challenger);
    /// @notice ETH was added to `account`'s credit.
    event Credited(address indexed account, uint256 amountWei);
    /// @notice `account` took its credit, paid to `recipient`.
    event CreditClaimed(address indexed account, address indexed recipient, uint256 amountWei);
    /// @notice A withdrawal of a finalized batch was paid.
    event WithdrawalClaimed(
        uint256 indexed batchIndex, uint256 indexed withdrawalIndex, address indexed account, uint256 amountQuantums
    );
    /// @notice The contract froze for good. `inboxIndex` is the overdue request (0 for a liveness freeze).
    event Frozen(FreezeReason reason, uint256 inboxIndex);
    /// @notice An account took its escape equity out of the frozen contract.
    event Escaped(uint256 indexed accountId, address indexed account, uint256 amountQuantums);
    /// @notice An unconsumed deposit went back to its sender.
    event DepositReclaimed(uint256 indexed inboxIndex, address indexed sender, uint256 amountQuantums);
    /// @notice After a reclaim, batches may consume at most `inboxCap` inbox items.
    event InboxCapped(uint256 inboxCap);

    // ------------------------------------------------------------------ errors

    /// @notice Only the proposer may propose batches.
    error NotProposer(address caller);
    /// @notice The contract is frozen: no deposits, requests, batches or finalization.
    error ContractIsFrozen();
    /// @notice `proposeBatchBlobs` was sent without blobs, or with more than `MAX_BLOBS_PER_BATCH`.
    error BlobCount(uint256 count, uint256 max);
    /// @notice Escape works only once the contract is frozen.
    error ContractNotFrozen();
    /// @notice `msg.value` must equal the bond or fee exactly.
    error WrongValue(uint256 expectedWei, uint256 sentWei);
    /// @notice An amount of 0 was given, or nothing arrived.
    error ZeroAmount();
    /// @notice Amounts must fit the codec's uint64.
    error AmountTooLarge(uint256 amountQuantums, uint256 maxQuantums);
    /// @notice Deposits stopped when a reclaim capped the inbox: no batch could ever consume a new one.
    error DepositsClosed(uint256 inboxCap);
    /// @notice A token transfer failed (returned false, reverted, or the token has no code).
    error TokenTransferFailed(address token);
    /// @notice `prevStateRoot` is not the root of the last proposed batch.
    error PrevStateRootMismatch(bytes32 expected, bytes32 given);
    /// @notice A batch must not consume fewer inbox items than its parent.
    error InboxConsumedBackwards(uint256 alreadyConsumed, uint256 given);
    /// @notice A batch may not consume more inbox items than exist (or than the cap after a reclaim).
    error InboxConsumedTooFar(uint256 available, uint256 given);
    /// @notice The header does not match a live batch (wrong fields, reverted, or never proposed).
    error UnknownBatch(uint256 batchIndex);
    /// @notice The batch can no longer be challenged.
    error ChallengeWindowClosed(uint256 deadline);
    /// @notice The unchallenged batch cannot finalize before `deadline`.
    error ChallengeWindowOpen(uint256 deadline);
    /// @notice The batch was challenged already.
    error AlreadyChallenged(bytes32 batchHash);
    /// @notice Only a challenged batch can be proven.
    error NotChallenged(bytes32 batchHash);
    /// @notice The challenge was proven already.
    error AlreadyProven(bytes32 batchHash);
    /// @notice The prove window of the challenge has closed.
    error ProveWindowClosed(uint256 deadline);
    /// @notice The challenged batch cannot be reverted before `deadline`.
    error ProveWindowOpen(uint256 deadline);
    /// @notice A batch resolves only right after its parent has finalized.
    error ParentNotFinalized(uint256 batchIndex, uint256 finalizedBatchIndex);
    /// @notice The batch has finalized; it cannot be challenged, proven or resolved again.
    error BatchAlreadyFinalized(uint256 batchIndex);
    /// @notice The challenge has no bond to refund: it was settled, or its batch is still live.
    error ChallengeNotRefundable(bytes32 batchHash);
    /// @notice The caller has no credit.
    error NoCredit(address account);
    /// @notice Sending ETH to `recipient` failed.
    error EthTransferFailed(address recipient, uint256 amountWei);
    /// @notice The batch has not finalized, or it has no withdrawals.
    error WithdrawalsRootUnknown(uint256 batchIndex);
    /// @notice A leaf index outside its tree.
    error IndexOutOfRange(uint256 index, uint256 limit);
    /// @notice A Merkle proof must have exactly one sibling per level.
    error BadProofLength(uint256 expected, uint256 given);
    /// @notice The Merkle proof does not lead to the stored root.
    error InvalidMerkleProof();
    /// @notice The withdrawal was paid already.
    error AlreadyWithdrawn(uint256 batchIndex, uint256 withdrawalIndex);
    /// @notice The given parts do not hash to the last finalized state root.
    error StateRootMismatch(bytes32 expected, bytes32 computed);
    /// @notice The empty leaf (32 zero bytes) holds no account and cannot escape.
    error EmptyLeaf();
    /// @notice The account has escaped already.
    error AlreadyEscaped(uint256 accountId);
    /// @notice No inbox item with these fields at this index.
    error UnknownInboxItem(uint256 index);
    /// @notice The inbox item is not of the kind this function needs.
    error WrongInboxKind(uint256 index, InboxKind expected);
    /// @notice The inbox item has been consumed (by a finalized batch, or by a pending one for a reclaim).
    error InboxItemConsumed(uint256 index, uint256 consumed);
    /// @notice Freezing is not allowed before `notBefore`.
    error FreezeNotDue(uint256 notBefore);
    /// @notice The deposit was reclaimed already.
    error AlreadyReclaimed(uint256 index);
    /// @notice The deposit cannot be reclaimed before `notBefore`.
    error ReclaimNotDue(uint256 notBefore);
    /// @notice A token or ETH callback tried to re-enter.
    error Reentrancy();
    /// @notice A constructor parameter is out of range.
    error InvalidConfig(string field);

    // ------------------------------------------------------------------ inbox

    /// @notice Deposits collateral for `l2Recipient` (address 0 tops up the insurance fund). Pulls `amountQuantums`
    /// with `transferFrom` (approve first) and credits what actually arrived (balance difference). Refused once
    /// frozen, and once a reclaim has capped the inbox.
    /// @param amountQuantums Amount to pull; at most 2^64 - 1.
    /// @param l2Recipient The L2 account credited.
    /// @return inboxIndex The deposit's position in the inbox.
    function deposit(uint256 amountQuantums, address l2Recipient) external returns (uint256 inboxIndex);

    /// @notice Asks the sequencer to withdraw up to `amountQuantums` from the caller's account. If no finalized
    /// batch consumes the request within `FORCED_INCLUSION_DEADLINE`, anyone may freeze the contract.
    /// `msg.value` must be `FORCED_WITHDRAWAL_FEE_WEI`, credited to the proposer.
    /// @param amountQuantums Upper bound of the withdrawal; 1 to 2^64 - 1.
    /// @return inboxIndex The request's position in the inbox.
    function requestForcedWithdrawal(uint256 amountQuantums) external payable returns (uint256 inboxIndex);

    /// @notice Sends a deposit's tokens back to its sender: once frozen, for any deposit no finalized batch
    /// consumed; before that, for a deposit older than `DEPOSIT_RECLAIM_DELAY` that no proposed batch
    /// consumed, and then batches may no longer consume it or anything after it (`InboxCapped`).
    /// @param item The deposit, exactly as in its `InboxItemAppended` event.
    function reclaimDeposit(InboxItem calldata item) external;

    // ------------------------------------------------------------------ batches

    /// @notice Proposes the next batch. Proposer only, not when frozen, `msg.value == PROPOSER_BOND_WEI`.
    /// @param prevStateRoot Must equal the last proposed batch's state root.
    /// @param newStateRoot State root after the batch.
    /// @param withdrawalsRoot Root of the batch's withdrawals tree.
    /// @param inboxConsumed Inbox items consumed in total after the batch; not below the parent's, not above
    /// the inbox length (or the cap).
    /// @param batchData The batch in the engine's codec; only its keccak256 is kept.
    /// @return batchIndex The new batch's index.
    function proposeBatch(
        bytes32 prevStateRoot,
        bytes32 newStateRoot,
        bytes32 withdrawalsRoot,
        uint256 inboxConsumed,
        bytes calldata batchData
    ) external payable returns (uint256 batchIndex);

    /// @notice Proposes the next batch with its data in the transaction's EIP-4844 blobs, under the same rules
    /// as `proposeBatch`. The data is the blobs' payload (docs/protocol.md, "Batch data in blobs"); the header's
    /// `dataHash` is `keccak256(abi.encodePacked(blobhash(0), ..., blobhash(n - 1)))` over every blob the
    /// transaction carries, at most `MAX_BLOBS_PER_BATCH`.
    /// @param prevStateRoot Must equal the last proposed batch's state root.
    /// @param newStateRoot State root after the batch.
    /// @param withdrawalsRoot Root of the batch's withdrawals tree.
    /// @param inboxConsumed Inbox items consumed in total after the batch, as for `proposeBatch`.
    /// @return batchIndex The new batch's index.
    function proposeBatchBlobs(bytes32 prevStateRoot, bytes32 newStateRoot, bytes32 withdrawalsRoot, uint256 inboxConsumed)
        external
        payable
        returns (uint256 batchIndex);

    /// @notice Challenges a batch within `CHALLENGE_WINDOW` of its proposal; `msg.value == CHALLENGER_BOND_WEI`.
    /// Opens a prove window of `PROVE_WINDOW`.
    /// @param header The batch, as in its `BatchProposed` event.
    function challenge(BatchHeader calldata header) external payable;

    /// @notice Proves a challenged batch before its prove deadline: calls
    /// `VERIFIER.verify(VKEY, publicValuesOf(header), proof)`. The challenger's bond goes to the caller's credit.
    /// @param header The batch, as in its `BatchProposed` event.
    /// @param proof The verifier's proof.
    function prove(BatchHeader calldata header, bytes calldata proof) external;

    /// @notice Resolves the batch right after the last finalized one. Unchallenged after its challenge window,
    /// or proven: finalized, and the proposer's bond goes back to the proposer's credit. Challenged and not
    /// proven by the deadline: it and every later batch are reverted, and their proposer bonds and the
    /// challenger's own bond go to the challenger's credit.
    /// @param header The batch, as in its `BatchProposed` event.
    function resolve(BatchHeader calldata header) external;

    /// @notice Returns a challenger's bond to its credit when its batch was reverted because of an earlier
    /// batch, or when the freeze left it pending, provided it was not proven.
    /// @param batchHash The challenged batch's hash.
    function reclaimChallengeBond(bytes32 batchHash) external;

    /// @notice Pays the caller's whole ETH credit (bonds won or returned, fees) to `recipient`.
    /// @param recipient Where the ETH goes.
    /// @return amountWei What was paid.
    function claimCredit(address payable recipient) external returns (uint256 amountWei);

    // ------------------------------------------------------------------ exits

    /// @notice Pays a withdrawal of a finalized batch to `account`, once. Anyone may call.
    /// @param batchIndex The finalized batch.
    /// @param withdrawalIndex Position of the withdrawal in the batch (its leaf index), below 2^16.
    /// @param account The L1 address paid.
    /// @param amountQuantums The amount.
    /// @param proof 16 sibling hashes, bottom-up.
    function withdraw(
        uint256 batchIndex,
        uint256 withdrawalIndex,
        address account,
        uint256 amountQuantums,
        bytes32[] calldata proof
    ) external;

    /// @notice Freezes the contract because the forced withdrawal request `item` is older than
    /// `FORCED_INCLUSION_DEADLINE` and no finalized batch has consumed it. Anyone may call.
    /// @param item The request, exactly as in its `InboxItemAppended` event.
    function freezeForForcedWithdrawal(InboxItem calldata item) external;

    /// @notice Freezes the contract because no batch has finalized for `LIVENESS_TIMEOUT`. Anyone may call.
    function freezeForLiveness() external;

    /// @notice Once frozen, pays the caller its escape equity, proven against the last finalized state root.
    /// Once per account id. The leaf is `keccak256(bytes.concat(keccak256(abi.encode(msg.sender,
    /// escapeEquityQuantums, accountDataHash))))` at index `accountId`.
    /// @param accountsRoot Root of the accounts tree, the first part of the finalized state root.
    /// @param marketsHash The second part of the finalized state root.
    /// @param globalsHash The third part of the finalized state root.
    /// @param accountId The account's leaf index.
    /// @param escapeEquityQuantums The amount paid.
    /// @param accountDataHash The leaf's opaque account data hash.
    /// @param proof `ACCOUNT_TREE_DEPTH` sibling hashes, bottom-up.
    function escape(
        bytes32 accountsRoot,
        bytes32 marketsHash,
        bytes32 globalsHash,
        uint256 accountId,
        uint256 escapeEquityQuantums,
        bytes32 accountDataHash,
        bytes32[] calldata proof
    ) external;

    // ------------------------------------------------------------------ views: configuration

    /// @notice The collateral token.
    function TOKEN() external view returns (address);
    /// @notice The batch verifier.
    function VERIFIER() external view returns (address);
    /// @notice The program key given to the verifier.
    function VKEY() external view returns (bytes32);
    /// @notice The engine configuration commitment in every batch's public values.
    function CONFIG_HASH() external view returns (bytes32);
    /// @notice State root of batch 0.
    function GENESIS_STATE_ROOT() external view returns (bytes32);
    /// @notice The only proposer.
    function PROPOSER() external view returns (address);
    /// @notice Depth of the accounts tree.
    function ACCOUNT_TREE_DEPTH() external view returns (uint256);
    /// @notice Depth of every batch's withdrawals tree: 16.
    function WITHDRAWAL_TREE_DEPTH() external view returns (uint256);
    /// @notice Most blobs one `proposeBatchBlobs` may carry: 6, EIP-7594's per-transaction limit.
    function MAX_BLOBS_PER_BATCH() external view returns (uint256);
    /// @notice Seconds after proposal during which a batch may be challenged.
    function CHALLENGE_WINDOW() external view returns (uint256);
    /// @notice Seconds after a challenge during which the batch may be proven.
    function PROVE_WINDOW() external view returns (uint256);
    /// @notice Seconds a forced withdrawal request may wait before anyone may freeze.
    function FORCED_INCLUSION_DEADLINE() external view returns (uint256);
    /// @notice Seconds without a finalized batch before anyone may freeze.
    function LIVENESS_TIMEOUT() external view returns (uint256);
    /// @notice Seconds before an unconsumed deposit may be reclaimed (when not frozen).
    function DEPOSIT_RECLAIM_DELAY() external view returns (uint256);
    /// @notice Proposer bond per batch, in wei.
    function PROPOSER_BOND_WEI() external view returns (uint256);
    /// @notice Challenger bond, in wei.
    function CHALLENGER_BOND_WEI() external view returns (uint256);
    /// @notice Fee per forced withdrawal request, in wei.
    function FORCED_WITHDRAWAL_FEE_WEI() external view returns (uint256);

    // ------------------------------------------------------------------ views: state

    /// @notice Index of the last proposed batch (0 when only genesis exists).
    function latestBatchIndex() external view returns (uint256);
    /// @notice Index of the last finalized batch.
    function finalizedBatchIndex() external view returns (uint256);
    /// @notice State root of the last proposed batch: the next proposal's `prevStateRoot`.
    function latestStateRoot() external view returns (bytes32);
    /// @notice State root of the last finalized batch: the root escapes prove against.
    function finalizedStateRoot() external view returns (bytes32);
    /// @notice Number of reverts so far.
    function epoch() external view returns (uint256);
    /// @notice Timestamp of the last finalization (the deployment for genesis).
    function lastFinalizedAt() external view returns (uint256);
    /// @notice Whether the contract is frozen.
    function isFrozen() external view returns (bool);
    /// @notice Inbox items consumed by the last proposed batch.
    function proposedInboxConsumed() external view returns (uint256);
    /// @notice Inbox items consumed by the last finalized batch.
    function finalizedInboxConsumed() external view returns (uint256);
    /// @notice Number of inbox items.
    function inboxLength() external view returns (uint256);
    /// @notice Most inbox items a batch may consume: the first reclaimed deposit's index, else 2^48 - 1.
    function inboxCap() external view returns (uint256);
    /// @notice The inbox accumulator after the first `count` items (`bytes32(0)` for 0).
    function inboxAccumulatorAt(uint256 count) external view returns (bytes32);
    /// @notice Hash of the live batch at `batchIndex` (0 for genesis and beyond the last proposed).
    function batchHashOf(uint256 batchIndex) external view returns (bytes32);
    /// @notice Withdrawals root of a finalized batch (0 if it had no withdrawals or has not finalized).
    function withdrawalsRootOf(uint256 batchIndex) external view returns (bytes32);
    /// @notice The challenge recorded for a batch hash.
    function challengeOf(bytes32 batchHash) external view returns (Challenge memory);
    /// @notice Whether a withdrawal was paid.
    function isWithdrawn(uint256 batchIndex, uint256 withdrawalIndex) external view returns (bool);
    /// @notice Whether an account has escaped.
    function hasEscaped(uint256 accountId) external view returns (bool);
    /// @notice Whether a deposit was reclaimed.
    function isReclaimed(uint256 inboxIndex) external view returns (bool);
    /// @notice ETH credit waiting for `account`.
    function creditOf(address account) external view returns (uint256);

    // ------------------------------------------------------------------ views: encodings

    /// @notice `keccak256(abi.encode(header))`, the stored batch hash.
    function hashBatchHeader(BatchHeader calldata header) external pure returns (bytes32);
    /// @notice The public values the verifier sees for `header`: `abi.encode(uint256 chainId,
    /// address settlement, bytes32 configHash, uint256 batchIndex, bytes32 prevStateRoot, bytes32 stateRoot,
    /// bytes32 withdrawalsRoot, bytes32 dataHash, uint256 inboxConsumed, bytes32 inboxAccumulator)`.
    function publicValuesOf(BatchHeader calldata header) external view returns (bytes memory);
    /// @notice `keccak256(abi.encode(prevAccumulator, item))`, the next inbox accumulator.
    function nextInboxAccumulator(bytes32 prevAccumulator, InboxItem calldata item) external pure returns (bytes32);
}
