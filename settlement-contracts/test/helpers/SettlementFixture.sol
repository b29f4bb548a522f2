// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ISettlement} from "../../src/ISettlement.sol";
import {MockUSDC} from "../../src/MockUSDC.sol";
import {Settlement} from "../../src/Settlement.sol";
import {Test} from "../base/Test.sol";
import {MockVerifier} from "../mocks/MockVerifier.sol";
import {MerkleBuilder} from "./MerkleBuilder.sol";

/// @notice Deploys a Settlement over MockUSDC and MockVerifier, and builds batches, withdrawal trees and
/// account trees for the tests. Encodings here are written from docs/protocol.md, not taken from src/.
abstract contract SettlementFixture is Test {
    uint256 internal constant CHALLENGE_WINDOW = 1 hours;
    uint256 internal constant PROVE_WINDOW = 30 minutes;
    uint256 internal constant FORCED_DEADLINE = 4 hours;
    uint256 internal constant LIVENESS_TIMEOUT = 1 days;
    uint256 internal constant RECLAIM_DELAY = 2 hours;
    uint256 internal constant PROPOSER_BOND = 1 ether;
    uint256 internal constant CHALLENGER_BOND = 0.5 ether;
    uint256 internal constant FORCED_FEE = 0.01 ether;
    uint256 internal constant DEPTH = 24;
    bytes32 internal constant VKEY = keccak256("sce-engine-v1");
    bytes32 internal constant CONFIG_HASH = keccak256("engine-config");
    bytes32 internal constant GENESIS = keccak256("genesis");
    bytes32 internal constant EMPTY_WITHDRAWALS = 0x2733e50f526ec2fa19a22b31e8ed50f23cd1fdf94c9154ed3a7609a2f1ff981f;
    uint256 internal constant START_TIME = 1_700_000_000;

    address internal proposer = address(0xB0B);
    address internal alice = address(0xA11CE);
    address internal bob = address(0xB0B0);
    address internal carol = address(0xCA201);
    address internal watcher = address(0x3A7C4);
    address internal prover = address(0x960E);

    MockUSDC internal usdc;
    MockVerifier internal verifier;
    Settlement internal settlement;

    function setUp() public virtual {
        vm.warp(START_TIME);
        usdc = new MockUSDC();
        verifier = new MockVerifier();
        settlement = new Settlement(defaultConfig(address(usdc), address(verifier)));
        vm.label(address(settlement), "Settlement");
        vm.label(address(usdc), "MockUSDC");
        address[6] memory users = [proposer, alice, bob, carol, watcher, prover];
        for (uint256 i; i < users.length; ++i) {
            vm.deal(users[i], 100 ether);
            usdc.mint(users[i], 1_000_000e6);
            vm.prank(users[i]);
            usdc.approve(address(settlement), type(uint256).max);
        }
    }

    function defaultConfig(address token, address verifier_)
        internal
        view
        returns (ISettlement.SettlementConfig memory)
    {
        return ISettlement.SettlementConfig({
            token: token,
            verifier: verifier_,
            vkey: VKEY,
            configHash: CONFIG_HASH,
            genesisStateRoot: GENESIS,
            proposer: proposer,
            accountTreeDepth: DEPTH,
            challengeWindow: CHALLENGE_WINDOW,
            proveWindow: PROVE_WINDOW,
            forcedInclusionDeadline: FORCED_DEADLINE,
            livenessTimeout: LIVENESS_TIMEOUT,
            depositReclaimDelay: RECLAIM_DELAY,
            proposerBondWei: PROPOSER_BOND,
            challengerBondWei: CHALLENGER_BOND,
            forcedWithdrawalFeeWei: FORCED_FEE
        });
    }

    // ------------------------------------------------------------------ inbox

    function depositAs(address sender, uint256 amount, address recipient)
        internal
        returns (ISettlement.InboxItem memory item)
    {
        uint256 index = settlement.inboxLength();
        vm.prank(sender);
        settlement.deposit(amount, recipient);
        item = ISettlement.InboxItem({
            kind: ISettlement.InboxKind.Deposit,
            sender: sender,
            account: recipient,
            amountQuantums: amount,
            index: index,
            timestamp: block.timestamp
        });
    }

    function requestAs(address sender, uint256 amount) internal returns (ISettlement.InboxItem memory item) {
        uint256 index = settlement.inboxLength();
        vm.prank(sender);
        settlement.requestForcedWithdrawal{value: FORCED_FEE}(amount);
        item = ISettlement.InboxItem({
            kind: ISettlement.InboxKind.ForcedWithdrawal,
            sender: sender,
            account: sender,
            amountQuantums: amount,
            index: index,
            timestamp: block.timestamp
        });
    }

    /// @dev acc_i = keccak256(abi.encode(acc_{i-1}, kind, sender, account, amount, index, timestamp)).
    function accumulate(bytes32 prev, ISettlement.InboxItem memory item) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                prev, uint8(item.kind), item.sender, item.account, item.amountQuantums, item.index, item.timestamp
            )
        );
    }

    // ------------------------------------------------------------------ batches

    function propose(bytes32 newRoot, bytes32 withdrawalsRoot, uint256 inboxConsumed, bytes memory data)
        internal
        returns (ISettlement.BatchHeader memory header)
    {
        header = ISettlement.BatchHeader({
            batchIndex: settlement.latestBatchIndex() + 1,
            epoch: settlement.epoch(),
            prevStateRoot: settlement.latestStateRoot(),
            stateRoot: newRoot,
            withdrawalsRoot: withdrawalsRoot,
            dataHash: keccak256(data),
            inboxConsumed: inboxConsumed,
            inboxAccumulator: settlement.inboxAccumulatorAt(inboxConsumed),
            proposedAt: block.timestamp
        });
        vm.prank(proposer);
        settlement.proposeBatch{value: PROPOSER_BOND}(
            header.prevStateRoot, newRoot, withdrawalsRoot, inboxConsumed, data
        );
    }

    function proposeSimple(bytes32 newRoot) internal returns (ISettlement.BatchHeader memory) {
        return propose(newRoot, EMPTY_WITHDRAWALS, settlement.proposedInboxConsumed(), hex"5c010000");
    }

    function finalize(ISettlement.BatchHeader memory header) internal {
        uint256 due = header.proposedAt + CHALLENGE_WINDOW;
        if (block.timestamp < due) vm.warp(due);
        settlement.resolve(header);
    }

    function challengeAs(address who, ISettlement.BatchHeader memory header) internal {
        vm.prank(who);
        settlement.challenge{value: CHALLENGER_BOND}(header);
    }

    function hashHeader(ISettlement.BatchHeader memory header) internal pure returns (bytes32) {
        return keccak256(abi.encode(header));
    }

    /// @dev The documented public values layout, written out field by field.
    function expectedPublicValues(ISettlement.BatchHeader memory header) internal view returns (bytes memory) {
        return abi.encode(
            block.chainid,
            address(settlement),
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

    // ------------------------------------------------------------------ trees

    struct Withdrawal {
        address account;
        uint256 amountQuantums;
    }

    function withdrawalLeaf(address settlementAddress, uint256 batchIndex, uint256 index, Withdrawal memory w)
        internal
        view
        returns (bytes32)
    {
        return keccak256(
            bytes.concat(
                keccak256(abi.encode(block.chainid, settlementAddress, batchIndex, index, w.account, w.amountQuantums))
            )
        );
    }

    function withdrawalLeaves(uint256 batchIndex, Withdrawal[] memory ws)
        internal
        view
        returns (bytes32[] memory leaves)
    {
        leaves = new bytes32[](ws.length);
        for (uint256 i; i < ws.length; ++i) {
            leaves[i] = withdrawalLeaf(address(settlement), batchIndex, i, ws[i]);
        }
    }

    function withdrawalsRootOf(uint256 batchIndex, Withdrawal[] memory ws) internal view returns (bytes32) {
        return MerkleBuilder.root(MerkleBuilder.denseIndices(ws.length), withdrawalLeaves(batchIndex, ws), 16);
    }

    function withdrawalProof(uint256 batchIndex, Withdrawal[] memory ws, uint256 index)
        internal
        view
        returns (bytes32[] memory)
    {
        return MerkleBuilder.proof(MerkleBuilder.denseIndices(ws.length), withdrawalLeaves(batchIndex, ws), 16, index);
    }

    struct AccountLeaf {
        uint256 accountId;
        address account;
        uint256 escapeEquityQuantums;
        bytes32 accountDataHash;
    }

    function accountLeafHash(AccountLeaf memory a) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(a.account, a.escapeEquityQuantums, a.accountDataHash))));
    }

    /// @dev `accounts` sorted by accountId.
    function accountsTree(AccountLeaf[] memory accounts)
        internal
        pure
        returns (uint256[] memory indices, bytes32[] memory leaves)
    {
        indices = new uint256[](accounts.length);
        leaves = new bytes32[](accounts.length);
        for (uint256 i; i < accounts.length; ++i) {
            indices[i] = accounts[i].accountId;
            leaves[i] = accountLeafHash(accounts[i]);
        }
    }

    function stateRootOf(bytes32 accountsRoot, bytes32 marketsHash, bytes32 globalsHash)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encodePacked(accountsRoot, marketsHash, globalsHash));
    }
}
