// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ISettlement} from "../src/ISettlement.sol";
import {Settlement} from "../src/Settlement.sol";
import {SettlementFixture} from "./helpers/SettlementFixture.sol";
import {MerkleBuilder} from "./helpers/MerkleBuilder.sol";
import {ReentrantToken} from "./mocks/TestTokens.sol";

/// @notice A malicious collateral token calls back into the settlement from inside every transfer. Each
/// re-entry must fail, and the outer call must pay exactly once.
contract ReentrancyTest is SettlementFixture {
    ReentrantToken internal token;
    Settlement internal s;
    Withdrawal[] internal _ws;

    function setUp() public override {
        super.setUp();
        token = new ReentrantToken();
        s = new Settlement(defaultConfig(address(token), address(verifier)));
        address[3] memory users = [alice, bob, carol];
        for (uint256 i; i < users.length; ++i) {
            token.mint(users[i], 1000e6);
            vm.prank(users[i]);
            token.approve(address(s), type(uint256).max);
        }
        vm.prank(alice);
        s.deposit(600e6, alice);
        // The token itself may spend (for the re-entrant deposit).
        token.mint(address(token), 1000e6);
        vm.prank(address(token));
        token.approve(address(s), type(uint256).max);
    }

    function _reentryReason() internal view returns (bytes memory) {
        return token.reentryReturnData();
    }

    function _finalize(bytes32 root, bytes32 wRoot, uint256 consumed)
        internal
        returns (ISettlement.BatchHeader memory h)
    {
        h = ISettlement.BatchHeader({
            batchIndex: s.latestBatchIndex() + 1,
            epoch: s.epoch(),
            prevStateRoot: s.latestStateRoot(),
            stateRoot: root,
            withdrawalsRoot: wRoot,
            dataHash: keccak256(""),
            inboxConsumed: consumed,
            inboxAccumulator: s.inboxAccumulatorAt(consumed),
            proposedAt: block.timestamp
        });
        vm.prank(proposer);
        s.proposeBatch{value: PROPOSER_BOND}(h.prevStateRoot, root, wRoot, consumed, "");
        vm.warp(block.timestamp + CHALLENGE_WINDOW);
        s.resolve(h);
    }

    function test_withdraw_reenteringTheSameClaimFails() public {
        _ws.push(Withdrawal(bob, 100e6));
        bytes32[] memory leaves = new bytes32[](1);
        leaves[0] = withdrawalLeaf(address(s), 1, 0, _ws[0]);
        bytes32 root = MerkleBuilder.root(MerkleBuilder.denseIndices(1), leaves, 16);
        bytes32[] memory proof = MerkleBuilder.proof(MerkleBuilder.denseIndices(1), leaves, 16, 0);
        _finalize(keccak256("r1"), root, 1);

        token.arm(address(s), abi.encodeCall(ISettlement.withdraw, (1, 0, bob, 100e6, proof)));
        uint256 before = token.balanceOf(bob);
        s.withdraw(1, 0, bob, 100e6, proof);
        assertEq(token.reentryCount(), 1, "re-entered");
        assertFalse(token.reentrySucceeded(), "re-entry failed");
        assertEq(_reentryReason(), abi.encodeWithSelector(ISettlement.Reentrancy.selector), "reason");
        assertEq(token.balanceOf(bob) - before, 100e6, "paid once");
    }

    function test_escape_reenteringFails() public {
        AccountLeaf[] memory accounts = new AccountLeaf[](1);
        accounts[0] = AccountLeaf(1, alice, 250e6, keccak256("data"));
        (uint256[] memory indices, bytes32[] memory leaves) = accountsTree(accounts);
        bytes32 accountsRoot = MerkleBuilder.root(indices, leaves, DEPTH);
        bytes32[] memory proof = MerkleBuilder.proof(indices, leaves, DEPTH, 1);
        _finalize(stateRootOf(accountsRoot, "m", "g"), EMPTY_WITHDRAWALS, 1);
        vm.warp(block.timestamp + LIVENESS_TIMEOUT);
        s.freezeForLiveness();

        // The token re-enters as itself; the escape it attempts is for alice's account id.
        token.arm(
            address(s), abi.encodeCall(ISettlement.escape, (accountsRoot, "m", "g", 1, 250e6, keccak256("data"), proof))
        );
        uint256 before = token.balanceOf(alice);
        vm.prank(alice);
        s.escape(accountsRoot, "m", "g", 1, 250e6, keccak256("data"), proof);
        assertFalse(token.reentrySucceeded(), "re-entry failed");
        assertEq(_reentryReason(), abi.encodeWithSelector(ISettlement.Reentrancy.selector), "reason");
        assertEq(token.balanceOf(alice) - before, 250e6, "paid once");
    }

    function test_deposit_reenteringCannotBeCountedTwice() public {
        token.arm(address(s), abi.encodeCall(ISettlement.deposit, (50e6, address(token))));
        uint256 lengthBefore = s.inboxLength();
        vm.prank(bob);
        s.deposit(100e6, bob);
        assertFalse(token.reentrySucceeded(), "re-entry failed");
        assertEq(_reentryReason(), abi.encodeWithSelector(ISettlement.Reentrancy.selector), "reason");
        assertEq(s.inboxLength(), lengthBefore + 1, "one item");
        assertEq(token.balanceOf(address(s)), 700e6, "held: 600 + 100");
    }

    function test_reclaimDeposit_reenteringFails() public {
        ISettlement.InboxItem memory item = ISettlement.InboxItem({
            kind: ISettlement.InboxKind.Deposit,
            sender: alice,
            account: alice,
            amountQuantums: 600e6,
            index: 0,
            timestamp: block.timestamp
        });
        vm.warp(block.timestamp + RECLAIM_DELAY);
        token.arm(address(s), abi.encodeCall(ISettlement.reclaimDeposit, (item)));
        uint256 before = token.balanceOf(alice);
        s.reclaimDeposit(item);
        assertFalse(token.reentrySucceeded(), "re-entry failed");
        assertEq(_reentryReason(), abi.encodeWithSelector(ISettlement.Reentrancy.selector), "reason");
        assertEq(token.balanceOf(alice) - before, 600e6, "paid once");
    }

    function test_withdraw_reenteringAnotherFunctionFails() public {
        _ws.push(Withdrawal(bob, 100e6));
        bytes32[] memory leaves = new bytes32[](1);
        leaves[0] = withdrawalLeaf(address(s), 1, 0, _ws[0]);
        bytes32 root = MerkleBuilder.root(MerkleBuilder.denseIndices(1), leaves, 16);
        bytes32[] memory proof = MerkleBuilder.proof(MerkleBuilder.denseIndices(1), leaves, 16, 0);
        _finalize(keccak256("r1"), root, 1);
        // Cross-function: from inside the payout, try to deposit (which measures balances).
        token.arm(address(s), abi.encodeCall(ISettlement.deposit, (10e6, address(token))));
        s.withdraw(1, 0, bob, 100e6, proof);
        assertFalse(token.reentrySucceeded(), "re-entry failed");
        assertEq(_reentryReason(), abi.encodeWithSelector(ISettlement.Reentrancy.selector), "reason");
    }
}
