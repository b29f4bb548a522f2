// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IBatchVerifier} from "./IBatchVerifier.sol";
import {IERC20} from "./IERC20.sol";
import {ISettlement} from "./ISettlement.sol";
import {Commitments} from "./lib/Commitments.sol";
import {SafeTransferLib} from "./lib/SafeTransferLib.sol";

/// @title Settlement
/// @notice The L1 half of SCE. See `ISettlement` for the surface and docs/contracts.md for the rules.
/// @dev Users' funds must stay safe whatever the proposer does: a wrong batch is challenged and reverted,
/// censorship ends in a freeze, and a freeze lets every account escape against the last finalized root.
contract Settlement is ISettlement {
    /// @inheritdoc ISettlement
    uint256 public constant WITHDRAWAL_TREE_DEPTH = 16;
    /// @inheritdoc ISettlement
    uint256 public constant MAX_BLOBS_PER_BATCH = 6;
    uint256 internal constant MAX_AMOUNT_QUANTUMS = type(uint64).max;
    uint256 internal constant NO_INBOX_CAP = type(uint48).max;
    /// @dev Root of a depth-16 tree with no leaves; a batch with this root has nothing to claim.
    bytes32 internal constant EMPTY_WITHDRAWALS_ROOT =
        0x2733e50f526ec2fa19a22b31e8ed50f23cd1fdf94c9154ed3a7609a2f1ff981f;

    /// @inheritdoc ISettlement
    address public immutable TOKEN;
    /// @inheritdoc ISettlement
    address public immutable VERIFIER;
    /// @inheritdoc ISettlement
    bytes32 public immutable VKEY;
    /// @inheritdoc ISettlement
    bytes32 public immutable CONFIG_HASH;
    /// @inheritdoc ISettlement
    bytes32 public immutable GENESIS_STATE_ROOT;
    /// @inheritdoc ISettlement
    address public immutable PROPOSER;
    /// @inheritdoc ISettlement
    uint256 public immutable ACCOUNT_TREE_DEPTH;
    /// @inheritdoc ISettlement
    uint256 public immutable CHALLENGE_WINDOW;
    /// @inheritdoc ISettlement
    uint256 public immutable PROVE_WINDOW;
    /// @inheritdoc ISettlement
    uint256 public immutable FORCED_INCLUSION_DEADLINE;
    /// @inheritdoc ISettlement
    uint256 public immutable LIVENESS_TIMEOUT;
    /// @inheritdoc ISettlement
    uint256 public immutable DEPOSIT_RECLAIM_DELAY;
    /// @inheritdoc ISettlement
    uint256 public immutable PROPOSER_BOND_WEI;
    /// @inheritdoc ISettlement
    uint256 public immutable CHALLENGER_BOND_WEI;
    /// @inheritdoc ISettlement
    uint256 public immutable FORCED_WITHDRAWAL_FEE_WEI;

    /// @dev One slot, read and written by every proposal.
    struct Chain {
        uint40 latestBatchIndex;
        uint40 finalizedBatchIndex;
        uint48 proposedInboxConsumed;
        uint48 finalizedInboxConsumed;
        uint32 epoch;
        uint40 lastFinalizedAt;
        bool frozen;
    }

    /// @dev One slot, written by every inbox append.
    struct Inbox {
        uint48 length;
        uint48 cap;
    }

    Chain internal _chain;
    bytes32 internal _latestStateRoot;
    bytes32 internal _finalizedStateRoot;
    Inbox internal _inbox;
    /// @dev Accumulator after item i, at key i.
    mapping(uint256 index => bytes32) internal _inboxAccumulators;
    /// @dev keccak256(abi.encode(header)); live only for indices up to `latestBatchIndex`.
    mapping(uint256 batchIndex => bytes32) internal _batchHashes;
    /// @dev Set at finalization, and only when the batch has withdrawals.
    mapping(uint256 batchIndex => bytes32) internal _withdrawalsRoots;
    mapping(bytes32 batchHash => Challenge) internal _challenges;
    /// @dev Key `batchIndex << 8 | withdrawalIndex >> 8`, bit `withdrawalIndex & 255`.
    mapping(uint256 key => uint256) internal _withdrawnBits;
    mapping(uint256 key => uint256) internal _escapedBits;
    mapping(uint256 key => uint256) internal _reclaimedBits;
    mapping(address account => uint256) internal _credits;
    bool internal transient _locked;

    modifier nonReentrant() {
        if (_locked) revert Reentrancy();
        _locked = true;
        _;
        _locked = false;
    }

    /// @notice Deploys with batch 0 = `config.genesisStateRoot`, finalized now.
    /// @param config Token, verifier, keys, proposer, windows and bonds; see `SettlementConfig`.
    constructor(SettlementConfig memory config) {
        if (config.token == address(0)) revert InvalidConfig("token");
        if (config.verifier == address(0)) revert InvalidConfig("verifier");
        if (config.proposer == address(0)) revert InvalidConfig("proposer");
        if (config.accountTreeDepth == 0 || config.accountTreeDepth > 32) revert InvalidConfig("accountTreeDepth");
        if (config.challengeWindow == 0 || config.challengeWindow > type(uint32).max) {
            revert InvalidConfig("challengeWindow");
        }
        if (config.proveWindow == 0 || config.proveWindow > type(uint32).max) revert InvalidConfig("proveWindow");
        // A forced request needs a proposal, a challenge window and possibly a prove window before it can
        // finalize; a shorter deadline would let anyone freeze an honest operator.
        uint256 slowestFinalization = config.challengeWindow + config.proveWindow;
        if (config.forcedInclusionDeadline <= slowestFinalization || config.forcedInclusionDeadline > type(uint32).max)
        {
            revert InvalidConfig("forcedInclusionDeadline");
        }
        if (config.livenessTimeout <= slowestFinalization || config.livenessTimeout > type(uint32).max) {
            revert InvalidConfig("livenessTimeout");
        }
        if (config.depositReclaimDelay == 0 || config.depositReclaimDelay > type(uint32).max) {
            revert InvalidConfig("depositReclaimDelay");
        }
        TOKEN = config.token;
        VERIFIER = config.verifier;
        VKEY = config.vkey;
        CONFIG_HASH = config.configHash;
        GENESIS_STATE_ROOT = config.genesisStateRoot;
        PROPOSER = config.proposer;
        ACCOUNT_TREE_DEPTH = config.accountTreeDepth;
        CHALLENGE_WINDOW = config.challengeWindow;
        PROVE_WINDOW = config.proveWindow;
        FORCED_INCLUSION_DEADLINE = config.forcedInclusionDeadline;
        LIVENESS_TIMEOUT = config.livenessTimeout;
        DEPOSIT_RECLAIM_DELAY = config.depositReclaimDelay;
        PROPOSER_BOND_WEI = config.proposerBondWei;
        CHALLENGER_BOND_WEI = config.challengerBondWei;
        FORCED_WITHDRAWAL_FEE_WEI = config.forcedWithdrawalFeeWei;

        _latestStateRoot = config.genesisStateRoot;
        _finalizedStateRoot = config.genesisStateRoot;
        _chain.lastFinalizedAt = uint40(block.timestamp);
        _inbox.cap = uint48(NO_INBOX_CAP);
    }

    // ------------------------------------------------------------------ inbox

    /// @inheritdoc ISettlement
    function deposit(uint256 amountQuantums, address l2Recipient) external nonReentrant returns (uint256 inboxIndex) {
        if (_chain.frozen) revert ContractIsFrozen();
        uint256 cap = _inbox.cap;
        if (cap != NO_INBOX_CAP) revert DepositsClosed(cap);
        if (amountQuantums == 0) revert ZeroAmount();
        if (amountQuantums > MAX_AMOUNT_QUANTUMS) revert AmountTooLarge(amountQuantums, MAX_AMOUNT_QUANTUMS);
        uint256 balanceBefore = IERC20(TOKEN).balanceOf(address(this));
        if (!SafeTransferLib.trySafeTransferFrom(TOKEN, msg.sender, address(this), amountQuantums)) {
            revert TokenTransferFailed(TOKEN);
        }
        uint256 balanceAfter = IERC20(TOKEN).balanceOf(address(this));
        // INVARIANT: the inbox credits only what arrived (fee-on-transfer tokens deliver less).
        if (balanceAfter <= balanceBefore) revert ZeroAmount();
        uint256 receivedQuantums = balanceAfter - balanceBefore;
        if (receivedQuantums > MAX_AMOUNT_QUANTUMS) revert AmountTooLarge(receivedQuantums, MAX_AMOUNT_QUANTUMS);
        return _appendInbox(InboxKind.Deposit, msg.sender, l2Recipient, receivedQuantums);
    }

    /// @inheritdoc ISettlement
    function requestForcedWithdrawal(uint256 amountQuantums) external payable returns (uint256 inboxIndex) {
        if (_chain.frozen) revert ContractIsFrozen();
        if (msg.value != FORCED_WITHDRAWAL_FEE_WEI) revert WrongValue(FORCED_WITHDRAWAL_FEE_WEI, msg.value);
        if (amountQuantums == 0) revert ZeroAmount();
        if (amountQuantums > MAX_AMOUNT_QUANTUMS) revert AmountTooLarge(amountQuantums, MAX_AMOUNT_QUANTUMS);
        inboxIndex = _appendInbox(InboxKind.ForcedWithdrawal, msg.sender, msg.sender, amountQuantums);
        if (msg.value != 0) _credit(PROPOSER, msg.value);
    }

    /// @inheritdoc ISettlement
    function reclaimDeposit(InboxItem calldata item) external nonReentrant {
        _requireInboxItem(item);
        if (item.kind != InboxKind.Deposit) revert WrongInboxKind(item.index, InboxKind.Deposit);
        Chain memory chain = _chain;
        if (chain.frozen) {
            // No batch will finalize again, so only the finalized root's consumption counts.
            if (item.index < chain.finalizedInboxConsumed) {
                revert InboxItemConsumed(item.index, chain.finalizedInboxConsumed);
            }
        } else {
            uint256 notBefore = item.timestamp + DEPOSIT_RECLAIM_DELAY;
            if (block.timestamp < notBefore) revert ReclaimNotDue(notBefore);
            // INVARIANT: a reclaimed deposit is never credited on L2: no proposed batch has consumed it,
            // and the cap below stops any later batch from consuming it.
            if (item.index < chain.proposedInboxConsumed) {
                revert InboxItemConsumed(item.index, chain.proposedInboxConsumed);
            }
            if (item.index < _inbox.cap) {
                _inbox.cap = uint48(item.index);
                emit InboxCapped(item.index);
            }
        }
        uint256 key = item.index >> 8;
        uint256 bit = 1 << (item.index & 255);
        uint256 word = _reclaimedBits[key];
        if (word & bit != 0) revert AlreadyReclaimed(item.index);
        _reclaimedBits[key] = word | bit;
        emit DepositReclaimed(item.index, item.sender, item.amountQuantums);
        _payToken(item.sender, item.amountQuantums);
    }

    // ------------------------------------------------------------------ batches

    /// @inheritdoc ISettlement
    function proposeBatch(
        bytes32 prevStateRoot,
        bytes32 newStateRoot,
        bytes32 withdrawalsRoot,
        uint256 inboxConsumed,
        bytes calldata batchData
    ) external payable returns (uint256 batchIndex) {
        return _propose(prevStateRoot, newStateRoot, withdrawalsRoot, inboxConsumed, keccak256(batchData));
    }

    /// @inheritdoc ISettlement
    function proposeBatchBlobs(bytes32 prevStateRoot, bytes32 newStateRoot, bytes32 withdrawalsRoot, uint256 inboxConsumed)
        external
        payable
        returns (uint256 batchIndex)
    {
        // Every blob the transaction carries is hashed in, so no blob of it can be left out of the commitment.
        bytes32[] memory versionedHashes = new bytes32[](MAX_BLOBS_PER_BATCH);
        uint256 count;
        for (; count <= MAX_BLOBS_PER_BATCH; ++count) {
            bytes32 versionedHash = blobhash(count);
            if (versionedHash == bytes32(0)) break;
            if (count == MAX_BLOBS_PER_BATCH) revert BlobCount(count + 1, MAX_BLOBS_PER_BATCH);
            versionedHashes[count] = versionedHash;
        }
        if (count == 0) revert BlobCount(0, MAX_BLOBS_PER_BATCH);
        bytes32 dataHash;
        assembly ("memory-safe") {
            dataHash := keccak256(add(versionedHashes, 0x20), shl(5, count))
        }
        return _propose(prevStateRoot, newStateRoot, withdrawalsRoot, inboxConsumed, dataHash);
    }

    /// @inheritdoc ISettlement
    function challenge(BatchHeader calldata header) external payable {
        if (msg.value != CHALLENGER_BOND_WEI) revert WrongValue(CHALLENGER_BOND_WEI, msg.value);
        Chain memory chain = _chain;
        // Nothing finalizes after a freeze, so a challenge could only strand a bond.
        if (chain.frozen) revert ContractIsFrozen();
        bytes32 batchHash = _requirePending(header, chain);
        uint256 deadline = header.proposedAt + CHALLENGE_WINDOW;
        if (block.timestamp >= deadline) revert ChallengeWindowClosed(deadline);
        if (_challenges[batchHash].status != ChallengeStatus.None) revert AlreadyChallenged(batchHash);
        _challenges[batchHash] = Challenge({
            challenger: msg.sender,
            challengedAt: uint40(block.timestamp),
            batchIndex: uint40(header.batchIndex),
            status: ChallengeStatus.Challenged
        });
        emit BatchChallenged(header.batchIndex, batchHash, msg.sender, block.timestamp + PROVE_WINDOW);
    }

    /// @inheritdoc ISettlement
    function prove(BatchHeader calldata header, bytes calldata proof) external {
        Chain memory chain = _chain;
        if (chain.frozen) revert ContractIsFrozen();
        bytes32 batchHash = _requirePending(header, chain);
        Challenge memory pending = _challenges[batchHash];
        if (pending.status == ChallengeStatus.None) revert NotChallenged(batchHash);
        if (pending.status != ChallengeStatus.Challenged) revert AlreadyProven(batchHash);
        uint256 deadline = uint256(pending.challengedAt) + PROVE_WINDOW;
        if (block.timestamp >= deadline) revert ProveWindowClosed(deadline);
        // A view call (STATICCALL): the verifier cannot re-enter to change state.
        IBatchVerifier(VERIFIER).verify(VKEY, _publicValues(header), proof);
        _challenges[batchHash].status = ChallengeStatus.Proven;
        emit BatchProven(header.batchIndex, batchHash, msg.sender);
        _credit(msg.sender, CHALLENGER_BOND_WEI);
    }

    /// @inheritdoc ISettlement
    function resolve(BatchHeader calldata header) external {
        Chain memory chain = _chain;
        bytes32 batchHash = _requirePending(header, chain);
        uint256 batchIndex = header.batchIndex;
        // INVARIANT: a batch resolves only after its parent has finalized.
        if (batchIndex != uint256(chain.finalizedBatchIndex) + 1) {
            revert ParentNotFinalized(batchIndex, chain.finalizedBatchIndex);
        }
        Challenge memory pending = _challenges[batchHash];
        if (pending.status == ChallengeStatus.Challenged) {
            uint256 proveDeadline = uint256(pending.challengedAt) + PROVE_WINDOW;
            if (block.timestamp < proveDeadline) revert ProveWindowOpen(proveDeadline);
            _revertFrom(chain, batchIndex, batchHash, pending.challenger);
            return;
        }
        if (chain.frozen) revert ContractIsFrozen();
        // INVARIANT: a batch finalizes only once proven or after its whole challenge window.
        if (pending.status != ChallengeStatus.Proven) {
            uint256 challengeDeadline = header.proposedAt + CHALLENGE_WINDOW;
            if (block.timestamp < challengeDeadline) revert ChallengeWindowOpen(challengeDeadline);
        }
        chain.finalizedBatchIndex = uint40(batchIndex);
        chain.finalizedInboxConsumed = uint48(header.inboxConsumed);
        chain.lastFinalizedAt = uint40(block.timestamp);
        _chain = chain;
        _finalizedStateRoot = header.stateRoot;
        if (header.withdrawalsRoot != EMPTY_WITHDRAWALS_ROOT) _withdrawalsRoots[batchIndex] = header.withdrawalsRoot;
        emit BatchFinalized(batchIndex, batchHash, header.stateRoot, header.withdrawalsRoot);
        _credit(PROPOSER, PROPOSER_BOND_WEI);
    }

    /// @inheritdoc ISettlement
    function reclaimChallengeBond(bytes32 batchHash) external {
        Challenge memory stranded = _challenges[batchHash];
        if (stranded.status != ChallengeStatus.Challenged) revert ChallengeNotRefundable(batchHash);
        Chain memory chain = _chain;
        uint256 batchIndex = stranded.batchIndex;
        // A challenged batch never finalizes (resolve reverts it), so "live" here means still pending.
        bool live = batchIndex <= chain.latestBatchIndex && _batchHashes[batchIndex] == batchHash;
        if (live && !chain.frozen) revert ChallengeNotRefundable(batchHash);
        _challenges[batchHash].status = ChallengeStatus.Settled;
        emit ChallengeBondRefunded(batchHash, stranded.challenger);
        _credit(stranded.challenger, CHALLENGER_BOND_WEI);
    }

    /// @inheritdoc ISettlement
    function claimCredit(address payable recipient) external nonReentrant returns (uint256 amountWei) {
        amountWei = _credits[msg.sender];
        if (amountWei == 0) revert NoCredit(msg.sender);
        _credits[msg.sender] = 0;
        emit CreditClaimed(msg.sender, recipient, amountWei);
        (bool sent,) = recipient.call{value: amountWei}("");
        if (!sent) revert EthTransferFailed(recipient, amountWei);
    }

    // ------------------------------------------------------------------ exits

    /// @inheritdoc ISettlement
    function withdraw(
        uint256 batchIndex,
        uint256 withdrawalIndex,
        address account,
        uint256 amountQuantums,
        bytes32[] calldata proof
    ) external nonReentrant {
        bytes32 root = _withdrawalsRoots[batchIndex];
        if (root == bytes32(0)) revert WithdrawalsRootUnknown(batchIndex);
        if (withdrawalIndex >= 1 << WITHDRAWAL_TREE_DEPTH) {
            revert IndexOutOfRange(withdrawalIndex, 1 << WITHDRAWAL_TREE_DEPTH);
        }
        if (proof.length != WITHDRAWAL_TREE_DEPTH) revert BadProofLength(WITHDRAWAL_TREE_DEPTH, proof.length);
        uint256 key = (batchIndex << 8) | (withdrawalIndex >> 8);
        uint256 bit = 1 << (withdrawalIndex & 255);
        uint256 word = _withdrawnBits[key];
        // INVARIANT: each withdrawal leaf pays once.
        if (word & bit != 0) revert AlreadyWithdrawn(batchIndex, withdrawalIndex);
        bytes32 leaf = Commitments.withdrawalLeaf(
            block.chainid, address(this), batchIndex, withdrawalIndex, account, amountQuantums
        );
        if (Commitments.rootFromProof(leaf, withdrawalIndex, proof) != root) revert InvalidMerkleProof();
        _withdrawnBits[key] = word | bit;
        emit WithdrawalClaimed(batchIndex, withdrawalIndex, account, amountQuantums);
        _payToken(account, amountQuantums);
    }

    /// @inheritdoc ISettlement
    function freezeForForcedWithdrawal(InboxItem calldata item) external {
        Chain memory chain = _chain;
        if (chain.frozen) revert ContractIsFrozen();
        _requireInboxItem(item);
        if (item.kind != InboxKind.ForcedWithdrawal) revert WrongInboxKind(item.index, InboxKind.ForcedWithdrawal);
        if (item.index < chain.finalizedInboxConsumed) {
            revert InboxItemConsumed(item.index, chain.finalizedInboxConsumed);
        }
        uint256 notBefore = item.timestamp + FORCED_INCLUSION_DEADLINE;
        if (block.timestamp < notBefore) revert FreezeNotDue(notBefore);
        _freeze(chain, FreezeReason.ForcedWithdrawalOverdue, item.index);
    }

    /// @inheritdoc ISettlement
    function freezeForLiveness() external {
        Chain memory chain = _chain;
        if (chain.frozen) revert ContractIsFrozen();
        uint256 notBefore = uint256(chain.lastFinalizedAt) + LIVENESS_TIMEOUT;
        if (block.timestamp < notBefore) revert FreezeNotDue(notBefore);
        _freeze(chain, FreezeReason.LivenessTimeout, 0);
    }

    /// @inheritdoc ISettlement
    function escape(
        bytes32 accountsRoot,
        bytes32 marketsHash,
        bytes32 globalsHash,
        uint256 accountId,
        uint256 escapeEquityQuantums,
        bytes32 accountDataHash,
        bytes32[] calldata proof
    ) external nonReentrant {
        if (!_chain.frozen) revert ContractNotFrozen();
        bytes32 expected = _finalizedStateRoot;
        bytes32 computed = Commitments.stateRoot(accountsRoot, marketsHash, globalsHash);
        if (computed != expected) revert StateRootMismatch(expected, computed);
        uint256 depth = ACCOUNT_TREE_DEPTH;
        if (accountId >= 1 << depth) revert IndexOutOfRange(accountId, 1 << depth);
        if (proof.length != depth) revert BadProofLength(depth, proof.length);
        uint256 key = accountId >> 8;
        uint256 bit = 1 << (accountId & 255);
        uint256 word = _escapedBits[key];
        // INVARIANT: each account escapes once.
        if (word & bit != 0) revert AlreadyEscaped(accountId);
        bytes32 leaf = Commitments.accountLeaf(msg.sender, escapeEquityQuantums, accountDataHash);
        // INVARIANT: an empty position (leaf 0) holds no account. A computed leaf is a hash and is never 0
        // in practice; the check keeps the rule explicit.
        if (leaf == bytes32(0)) revert EmptyLeaf();
        if (Commitments.rootFromProof(leaf, accountId, proof) != accountsRoot) revert InvalidMerkleProof();
        _escapedBits[key] = word | bit;
        emit Escaped(accountId, msg.sender, escapeEquityQuantums);
        _payToken(msg.sender, escapeEquityQuantums);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ISettlement
    function latestBatchIndex() external view returns (uint256) {
        return _chain.latestBatchIndex;
    }

    /// @inheritdoc ISettlement
    function finalizedBatchIndex() external view returns (uint256) {
        return _chain.finalizedBatchIndex;
    }

    /// @inheritdoc ISettlement
    function latestStateRoot() external view returns (bytes32) {
        return _latestStateRoot;
    }

    /// @inheritdoc ISettlement
    function finalizedStateRoot() external view returns (bytes32) {
        return _finalizedStateRoot;
    }

    /// @inheritdoc ISettlement
    function epoch() external view returns (uint256) {
        return _chain.epoch;
    }

    /// @inheritdoc ISettlement
    function lastFinalizedAt() external view returns (uint256) {
        return _chain.lastFinalizedAt;
    }

    /// @inheritdoc ISettlement
    function isFrozen() external view returns (bool) {
        return _chain.frozen;
    }

    /// @inheritdoc ISettlement
    function proposedInboxConsumed() external view returns (uint256) {
        return _chain.proposedInboxConsumed;
    }

    /// @inheritdoc ISettlement
    function finalizedInboxConsumed() external view returns (uint256) {
        return _chain.finalizedInboxConsumed;
    }

    /// @inheritdoc ISettlement
    function inboxLength() external view returns (uint256) {
        return _inbox.length;
    }

    /// @inheritdoc ISettlement
    function inboxCap() external view returns (uint256) {
        return _inbox.cap;
    }

    /// @inheritdoc ISettlement
    function inboxAccumulatorAt(uint256 count) external view returns (bytes32) {
        if (count > _inbox.length) revert IndexOutOfRange(count, _inbox.length);
        return _accumulatorAt(count);
    }

    /// @inheritdoc ISettlement
    function batchHashOf(uint256 batchIndex) external view returns (bytes32) {
        if (batchIndex > _chain.latestBatchIndex) return bytes32(0);
        return _batchHashes[batchIndex];
    }

    /// @inheritdoc ISettlement
    function withdrawalsRootOf(uint256 batchIndex) external view returns (bytes32) {
        return _withdrawalsRoots[batchIndex];
    }

    /// @inheritdoc ISettlement
    function challengeOf(bytes32 batchHash) external view returns (Challenge memory) {
        return _challenges[batchHash];
    }

    /// @inheritdoc ISettlement
    function isWithdrawn(uint256 batchIndex, uint256 withdrawalIndex) external view returns (bool) {
        if (withdrawalIndex >= 1 << WITHDRAWAL_TREE_DEPTH) return false;
        return _withdrawnBits[(batchIndex << 8) | (withdrawalIndex >> 8)] & (1 << (withdrawalIndex & 255)) != 0;
    }

    /// @inheritdoc ISettlement
    function hasEscaped(uint256 accountId) external view returns (bool) {
        return _escapedBits[accountId >> 8] & (1 << (accountId & 255)) != 0;
    }

    /// @inheritdoc ISettlement
    function isReclaimed(uint256 inboxIndex) external view returns (bool) {
        return _reclaimedBits[inboxIndex >> 8] & (1 << (inboxIndex & 255)) != 0;
    }

    /// @inheritdoc ISettlement
    function creditOf(address account) external view returns (uint256) {
        return _credits[account];
    }

    /// @inheritdoc ISettlement
    function hashBatchHeader(BatchHeader calldata header) external pure returns (bytes32) {
        return keccak256(abi.encode(header));
    }

    /// @inheritdoc ISettlement
    function publicValuesOf(BatchHeader calldata header) external view returns (bytes memory) {
        return _publicValues(header);
    }

    /// @inheritdoc ISettlement
    function nextInboxAccumulator(bytes32 prevAccumulator, InboxItem calldata item) external pure returns (bytes32) {
        return keccak256(abi.encode(prevAccumulator, item));
    }

    // ------------------------------------------------------------------ internals

    function _appendInbox(InboxKind kind, address sender, address account, uint256 amountQuantums)
        internal
        returns (uint256 index)
    {
        index = _inbox.length;
        InboxItem memory item = InboxItem({
            kind: kind,
            sender: sender,
            account: account,
            amountQuantums: amountQuantums,
            index: index,
            timestamp: block.timestamp
        });
        bytes32 accumulator = keccak256(abi.encode(_accumulatorAt(index), item));
        _inboxAccumulators[index] = accumulator;
        _inbox.length = uint48(index + 1);
        emit InboxItemAppended(index, kind, account, sender, amountQuantums, block.timestamp, accumulator);
    }

    function _propose(
        bytes32 prevStateRoot,
        bytes32 newStateRoot,
        bytes32 withdrawalsRoot,
        uint256 inboxConsumed,
        bytes32 dataHash
    ) internal returns (uint256 batchIndex) {
        if (msg.sender != PROPOSER) revert NotProposer(msg.sender);
        if (msg.value != PROPOSER_BOND_WEI) revert WrongValue(PROPOSER_BOND_WEI, msg.value);
        Chain memory chain = _chain;
        if (chain.frozen) revert ContractIsFrozen();
        // INVARIANT: batches form one chain; each starts from the root its parent ended with.
        bytes32 latestRoot = _latestStateRoot;
        if (prevStateRoot != latestRoot) revert PrevStateRootMismatch(latestRoot, prevStateRoot);
        // INVARIANT: the inbox is consumed in order, never past its end or a reclaimed deposit.
        if (inboxConsumed < chain.proposedInboxConsumed) {
            revert InboxConsumedBackwards(chain.proposedInboxConsumed, inboxConsumed);
        }
        Inbox memory inbox = _inbox;
        uint256 available = inbox.length < inbox.cap ? inbox.length : inbox.cap;
        if (inboxConsumed > available) revert InboxConsumedTooFar(available, inboxConsumed);

        batchIndex = uint256(chain.latestBatchIndex) + 1;
        BatchHeader memory header = BatchHeader({
            batchIndex: batchIndex,
            epoch: chain.epoch,
            prevStateRoot: prevStateRoot,
            stateRoot: newStateRoot,
            withdrawalsRoot: withdrawalsRoot,
            dataHash: dataHash,
            inboxConsumed: inboxConsumed,
            inboxAccumulator: _accumulatorAt(inboxConsumed),
            proposedAt: block.timestamp
        });
        bytes32 batchHash = keccak256(abi.encode(header));
        _batchHashes[batchIndex] = batchHash;
        chain.latestBatchIndex = uint40(batchIndex);
        chain.proposedInboxConsumed = uint48(inboxConsumed);
        _chain = chain;
        _latestStateRoot = newStateRoot;
        emit BatchProposed(batchIndex, batchHash, header);
    }

    function _accumulatorAt(uint256 count) internal view returns (bytes32) {
        return count == 0 ? bytes32(0) : _inboxAccumulators[count - 1];
    }

    /// @dev The item's fields must hash, with the previous accumulator, to the stored one.
    function _requireInboxItem(InboxItem calldata item) internal view {
        uint256 index = item.index;
        if (index >= _inbox.length) revert UnknownInboxItem(index);
        if (keccak256(abi.encode(_accumulatorAt(index), item)) != _inboxAccumulators[index]) {
            revert UnknownInboxItem(index);
        }
    }

    /// @dev Returns the hash of a batch that is proposed, not reverted and not finalized.
    function _requirePending(BatchHeader calldata header, Chain memory chain)
        internal
        view
        returns (bytes32 batchHash)
    {
        uint256 batchIndex = header.batchIndex;
        batchHash = keccak256(abi.encode(header));
        if (batchIndex == 0 || batchIndex > chain.latestBatchIndex || _batchHashes[batchIndex] != batchHash) {
            revert UnknownBatch(batchIndex);
        }
        if (batchIndex <= chain.finalizedBatchIndex) revert BatchAlreadyFinalized(batchIndex);
    }

    /// @dev Reverts `batchIndex` and every later batch; the chain tip goes back to the last finalized batch.
    function _revertFrom(Chain memory chain, uint256 batchIndex, bytes32 batchHash, address challenger) internal {
        uint256 lastReverted = chain.latestBatchIndex;
        uint256 revertedCount = lastReverted - batchIndex + 1;
        chain.latestBatchIndex = uint40(batchIndex - 1);
        chain.proposedInboxConsumed = chain.finalizedInboxConsumed;
        chain.epoch += 1;
        _chain = chain;
        _latestStateRoot = _finalizedStateRoot;
        _challenges[batchHash].status = ChallengeStatus.Settled;
        emit BatchesReverted(batchIndex, lastReverted, challenger, chain.epoch);
        // Every reverted batch built on the wrong root: all their bonds go to the challenger.
        _credit(challenger, CHALLENGER_BOND_WEI + revertedCount * PROPOSER_BOND_WEI);
    }

    function _freeze(Chain memory chain, FreezeReason reason, uint256 inboxIndex) internal {
        chain.frozen = true;
        _chain = chain;
        emit Frozen(reason, inboxIndex);
    }

    function _publicValues(BatchHeader calldata header) internal view returns (bytes memory) {
        return abi.encode(
            block.chainid,
            address(this),
            CONFIG_HASH,
            header.batchIndex,
            header.prevStateRoot,
            header.stateRoot,
            header.withdrawalsRoot,
            header.dataHash,
            header.inboxConsumed,
            header.inboxAccumulator
        );
    }

    function _credit(address account, uint256 amountWei) internal {
        if (amountWei == 0) return;
        _credits[account] += amountWei;
        emit Credited(account, amountWei);
    }

    function _payToken(address to, uint256 amountQuantums) internal {
        if (amountQuantums == 0) return;
        if (!SafeTransferLib.trySafeTransfer(TOKEN, to, amountQuantums)) revert TokenTransferFailed(TOKEN);
    }
}
