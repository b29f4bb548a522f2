// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ISettlement} from "../src/ISettlement.sol";
import {SettlementFixture} from "./helpers/SettlementFixture.sol";
import {MerkleBuilder} from "./helpers/MerkleBuilder.sol";

/// @notice withdraw, freezeForForcedWithdrawal, freezeForLiveness and escape.
contract SettlementExitsTest is SettlementFixture {
    bytes32 internal constant MARKETS = keccak256("markets");
    bytes32 internal constant GLOBALS = keccak256("globals");

    Withdrawal[] internal _ws;

    function setUp() public override {
        super.setUp();
        depositAs(alice, 500e6, alice);
        depositAs(bob, 500e6, bob);
    }

    // ------------------------------------------------------------------ withdraw

    function _finalizedWithWithdrawals() internal returns (uint256 batchIndex) {
        _ws.push(Withdrawal(alice, 100e6));
        _ws.push(Withdrawal(bob, 42e6));
        _ws.push(Withdrawal(carol, 1));
        batchIndex = settlement.latestBatchIndex() + 1;
        finalize(propose(keccak256("r1"), withdrawalsRootOf(batchIndex, _ws), 2, hex"01"));
    }

    function test_withdraw_paysEachLeafOnce() public {
        uint256 b = _finalizedWithWithdrawals();
        for (uint256 i; i < _ws.length; ++i) {
            Withdrawal memory w = _ws[i];
            bytes32[] memory proof = withdrawalProof(b, _ws, i);
            uint256 before = usdc.balanceOf(w.account);
            vm.expectEmit(address(settlement));
            emit ISettlement.WithdrawalClaimed(b, i, w.account, w.amountQuantums);
            vm.prank(carol); // anyone may claim for the account
            settlement.withdraw(b, i, w.account, w.amountQuantums, proof);
            assertEq(usdc.balanceOf(w.account) - before, w.amountQuantums, "paid");
            assertTrue(settlement.isWithdrawn(b, i), "spent");
            vm.expectRevert(abi.encodeWithSelector(ISettlement.AlreadyWithdrawn.selector, b, i));
            settlement.withdraw(b, i, w.account, w.amountQuantums, proof);
        }
        assertFalse(settlement.isWithdrawn(b, 3), "unused position");
        assertFalse(settlement.isWithdrawn(b, 1 << 16), "outside the tree");
    }

    function test_withdraw_rejectsWrongFields() public {
        uint256 b = _finalizedWithWithdrawals();
        bytes32[] memory proof = withdrawalProof(b, _ws, 0);
        vm.expectRevert(ISettlement.InvalidMerkleProof.selector);
        settlement.withdraw(b, 0, alice, 100e6 + 1, proof);
        vm.expectRevert(ISettlement.InvalidMerkleProof.selector);
        settlement.withdraw(b, 0, bob, 100e6, proof);
        vm.expectRevert(ISettlement.InvalidMerkleProof.selector);
        settlement.withdraw(b, 1, alice, 100e6, proof);
        proof[3] = bytes32(uint256(proof[3]) ^ 1);
        vm.expectRevert(ISettlement.InvalidMerkleProof.selector);
        settlement.withdraw(b, 0, alice, 100e6, proof);
    }

    function test_withdraw_aLeafOfAnotherBatchDoesNotVerify() public {
        uint256 b = _finalizedWithWithdrawals();
        // The same withdrawals, with leaves bound to batch b + 1, do not match batch b's root.
        bytes32[] memory proof = withdrawalProof(b + 1, _ws, 0);
        vm.expectRevert(ISettlement.InvalidMerkleProof.selector);
        settlement.withdraw(b, 0, alice, 100e6, proof);
    }

    function test_withdraw_rejectsAnIndexOutsideTheTreeAndABadProofLength() public {
        uint256 b = _finalizedWithWithdrawals();
        bytes32[] memory proof = withdrawalProof(b, _ws, 0);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.IndexOutOfRange.selector, 1 << 16, 1 << 16));
        settlement.withdraw(b, 1 << 16, alice, 100e6, proof);
        bytes32[] memory short = new bytes32[](15);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.BadProofLength.selector, 16, 15));
        settlement.withdraw(b, 0, alice, 100e6, short);
    }

    function test_withdraw_onlyFromAFinalizedBatch() public {
        _ws.push(Withdrawal(alice, 100e6));
        ISettlement.BatchHeader memory h = propose(keccak256("r1"), withdrawalsRootOf(1, _ws), 2, hex"01");
        bytes32[] memory proof = withdrawalProof(1, _ws, 0);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.WithdrawalsRootUnknown.selector, 1));
        settlement.withdraw(1, 0, alice, 100e6, proof);
        finalize(h);
        settlement.withdraw(1, 0, alice, 100e6, proof);
    }

    function test_withdraw_stillWorksWhenFrozen() public {
        uint256 b = _finalizedWithWithdrawals();
        _freezeByLiveness();
        settlement.withdraw(b, 1, bob, 42e6, withdrawalProof(b, _ws, 1));
        assertTrue(settlement.isWithdrawn(b, 1), "claimed after the freeze");
    }

    function test_withdraw_revertsWhenTheTokenCannotPay() public {
        _ws.push(Withdrawal(alice, 2000e6)); // more than the contract holds
        finalize(propose(keccak256("r1"), withdrawalsRootOf(1, _ws), 2, hex"01"));
        bytes32[] memory proof = withdrawalProof(1, _ws, 0);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.TokenTransferFailed.selector, address(usdc)));
        settlement.withdraw(1, 0, alice, 2000e6, proof);
        assertFalse(settlement.isWithdrawn(1, 0), "not spent by a failed claim");
    }

    // ------------------------------------------------------------------ freezeForForcedWithdrawal

    function test_freezeForForcedWithdrawal_atTheDeadline() public {
        ISettlement.InboxItem memory item = requestAs(carol, 1e6);
        vm.warp(item.timestamp + FORCED_DEADLINE - 1);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.FreezeNotDue.selector, item.timestamp + FORCED_DEADLINE));
        settlement.freezeForForcedWithdrawal(item);
        vm.warp(item.timestamp + FORCED_DEADLINE);
        vm.expectEmit(address(settlement));
        emit ISettlement.Frozen(ISettlement.FreezeReason.ForcedWithdrawalOverdue, 2);
        settlement.freezeForForcedWithdrawal(item);
        assertTrue(settlement.isFrozen(), "frozen");
        vm.expectRevert(ISettlement.ContractIsFrozen.selector);
        settlement.freezeForForcedWithdrawal(item);
        vm.expectRevert(ISettlement.ContractIsFrozen.selector);
        settlement.freezeForLiveness();
    }

    function test_freezeForForcedWithdrawal_aPendingBatchDoesNotCount() public {
        ISettlement.InboxItem memory item = requestAs(carol, 1e6);
        propose(keccak256("r1"), EMPTY_WITHDRAWALS, 3, hex"01"); // consumes it, but never finalizes
        vm.warp(item.timestamp + FORCED_DEADLINE);
        settlement.freezeForForcedWithdrawal(item);
        assertTrue(settlement.isFrozen(), "frozen");
    }

    function test_freezeForForcedWithdrawal_notOnceAFinalizedBatchConsumedIt() public {
        ISettlement.InboxItem memory item = requestAs(carol, 1e6);
        finalize(propose(keccak256("r1"), EMPTY_WITHDRAWALS, 3, hex"01"));
        vm.warp(item.timestamp + FORCED_DEADLINE);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.InboxItemConsumed.selector, 2, 3));
        settlement.freezeForForcedWithdrawal(item);
    }

    function test_freezeForForcedWithdrawal_rejectsADepositAndForgedFields() public {
        ISettlement.InboxItem memory dep = depositAs(carol, 1e6, carol);
        vm.warp(block.timestamp + FORCED_DEADLINE);
        vm.expectRevert(
            abi.encodeWithSelector(ISettlement.WrongInboxKind.selector, 2, ISettlement.InboxKind.ForcedWithdrawal)
        );
        settlement.freezeForForcedWithdrawal(dep);
        dep.kind = ISettlement.InboxKind.ForcedWithdrawal;
        vm.expectRevert(abi.encodeWithSelector(ISettlement.UnknownInboxItem.selector, 2));
        settlement.freezeForForcedWithdrawal(dep);
        ISettlement.InboxItem memory early = requestAs(carol, 1e6);
        early.timestamp -= FORCED_DEADLINE; // pretend it is older
        vm.expectRevert(abi.encodeWithSelector(ISettlement.UnknownInboxItem.selector, 3));
        settlement.freezeForForcedWithdrawal(early);
    }

    // ------------------------------------------------------------------ freezeForLiveness

    function test_freezeForLiveness_countsFromTheLastFinalization() public {
        vm.warp(START_TIME + LIVENESS_TIMEOUT - 10);
        finalize(proposeSimple(keccak256("r1")));
        uint256 due = block.timestamp + LIVENESS_TIMEOUT;
        vm.warp(due - 1);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.FreezeNotDue.selector, due));
        settlement.freezeForLiveness();
        vm.warp(due);
        vm.expectEmit(address(settlement));
        emit ISettlement.Frozen(ISettlement.FreezeReason.LivenessTimeout, 0);
        settlement.freezeForLiveness();
        assertTrue(settlement.isFrozen(), "frozen");
    }

    // ------------------------------------------------------------------ escape

    function _accounts() internal view returns (AccountLeaf[] memory a) {
        a = new AccountLeaf[](4);
        a[0] = AccountLeaf(0, address(0), 0, keccak256("insurance")); // the insurance fund
        a[1] = AccountLeaf(1, alice, 321e6, keccak256("alice data"));
        a[2] = AccountLeaf(2, bob, 0, keccak256("bob data"));
        a[3] = AccountLeaf(77_000, carol, 5e6, keccak256("carol data"));
    }

    /// @dev Finalizes a batch whose state root commits to `_accounts()`, then freezes.
    function _frozenWithAccounts() internal returns (bytes32 accountsRoot) {
        (uint256[] memory indices, bytes32[] memory leaves) = accountsTree(_accounts());
        accountsRoot = MerkleBuilder.root(indices, leaves, DEPTH);
        finalize(proposeSimple(stateRootOf(accountsRoot, MARKETS, GLOBALS)));
        _freezeByLiveness();
    }

    function _proof(uint256 accountId) internal view returns (bytes32[] memory) {
        (uint256[] memory indices, bytes32[] memory leaves) = accountsTree(_accounts());
        return MerkleBuilder.proof(indices, leaves, DEPTH, accountId);
    }

    function test_escape_paysTheEquityOncePerAccount() public {
        bytes32 accountsRoot = _frozenWithAccounts();
        AccountLeaf memory a = _accounts()[1];
        uint256 before = usdc.balanceOf(alice);
        vm.expectEmit(address(settlement));
        emit ISettlement.Escaped(1, alice, 321e6);
        vm.prank(alice);
        settlement.escape(accountsRoot, MARKETS, GLOBALS, 1, a.escapeEquityQuantums, a.accountDataHash, _proof(1));
        assertEq(usdc.balanceOf(alice) - before, 321e6, "paid");
        assertTrue(settlement.hasEscaped(1), "marked");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.AlreadyEscaped.selector, 1));
        settlement.escape(accountsRoot, MARKETS, GLOBALS, 1, a.escapeEquityQuantums, a.accountDataHash, _proof(1));

        AccountLeaf memory c = _accounts()[3];
        vm.prank(carol);
        settlement.escape(
            accountsRoot, MARKETS, GLOBALS, 77_000, c.escapeEquityQuantums, c.accountDataHash, _proof(77_000)
        );
        assertTrue(settlement.hasEscaped(77_000), "sparse index");
    }

    function test_escape_withZeroEquityMarksTheAccountAndPaysNothing() public {
        bytes32 accountsRoot = _frozenWithAccounts();
        AccountLeaf memory b = _accounts()[2];
        uint256 before = usdc.balanceOf(address(settlement));
        vm.prank(bob);
        settlement.escape(accountsRoot, MARKETS, GLOBALS, 2, 0, b.accountDataHash, _proof(2));
        assertEq(usdc.balanceOf(address(settlement)), before, "nothing moved");
        assertTrue(settlement.hasEscaped(2), "marked");
    }

    function test_escape_onlyWhenFrozen() public {
        (uint256[] memory indices, bytes32[] memory leaves) = accountsTree(_accounts());
        bytes32 accountsRoot = MerkleBuilder.root(indices, leaves, DEPTH);
        finalize(proposeSimple(stateRootOf(accountsRoot, MARKETS, GLOBALS)));
        vm.prank(alice);
        vm.expectRevert(ISettlement.ContractNotFrozen.selector);
        settlement.escape(accountsRoot, MARKETS, GLOBALS, 1, 321e6, keccak256("alice data"), _proof(1));
    }

    function test_escape_provesAgainstTheFinalizedRootOnly() public {
        bytes32 accountsRoot = _frozenWithAccounts();
        bytes32 wrong = stateRootOf(accountsRoot, MARKETS, keccak256("other globals"));
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(ISettlement.StateRootMismatch.selector, settlement.finalizedStateRoot(), wrong)
        );
        settlement.escape(
            accountsRoot, MARKETS, keccak256("other globals"), 1, 321e6, keccak256("alice data"), _proof(1)
        );
    }

    function test_escape_aPendingBatchRootIsNotEscapable() public {
        (uint256[] memory indices, bytes32[] memory leaves) = accountsTree(_accounts());
        bytes32 accountsRoot = MerkleBuilder.root(indices, leaves, DEPTH);
        proposeSimple(stateRootOf(accountsRoot, MARKETS, GLOBALS)); // proposed, never finalized
        _freezeByLiveness();
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISettlement.StateRootMismatch.selector, GENESIS, stateRootOf(accountsRoot, MARKETS, GLOBALS)
            )
        );
        settlement.escape(accountsRoot, MARKETS, GLOBALS, 1, 321e6, keccak256("alice data"), _proof(1));
    }

    function test_escape_rejectsWrongLeafFields() public {
        bytes32 accountsRoot = _frozenWithAccounts();
        bytes32[] memory proof = _proof(1);
        vm.startPrank(alice);
        vm.expectRevert(ISettlement.InvalidMerkleProof.selector);
        settlement.escape(accountsRoot, MARKETS, GLOBALS, 1, 321e6 + 1, keccak256("alice data"), proof);
        vm.expectRevert(ISettlement.InvalidMerkleProof.selector);
        settlement.escape(accountsRoot, MARKETS, GLOBALS, 1, 321e6, keccak256("other data"), proof);
        vm.expectRevert(ISettlement.InvalidMerkleProof.selector);
        settlement.escape(accountsRoot, MARKETS, GLOBALS, 2, 321e6, keccak256("alice data"), proof);
        vm.stopPrank();
        // Someone else cannot take alice's leaf: the leaf is built from msg.sender.
        vm.prank(bob);
        vm.expectRevert(ISettlement.InvalidMerkleProof.selector);
        settlement.escape(accountsRoot, MARKETS, GLOBALS, 1, 321e6, keccak256("alice data"), proof);
        // An empty position holds the zero leaf, which no preimage produces.
        vm.prank(bob);
        vm.expectRevert(ISettlement.InvalidMerkleProof.selector);
        settlement.escape(accountsRoot, MARKETS, GLOBALS, 5, 0, bytes32(0), _proof(5));
    }

    function test_escape_rejectsAnIndexOutsideTheTreeAndABadProofLength() public {
        bytes32 accountsRoot = _frozenWithAccounts();
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.IndexOutOfRange.selector, 1 << DEPTH, 1 << DEPTH));
        settlement.escape(accountsRoot, MARKETS, GLOBALS, 1 << DEPTH, 321e6, keccak256("alice data"), _proof(1));
        // Without the range check, index 1 + 2^24 would reuse index 1's proof.
        vm.expectRevert(abi.encodeWithSelector(ISettlement.IndexOutOfRange.selector, 1 + (1 << DEPTH), 1 << DEPTH));
        settlement.escape(accountsRoot, MARKETS, GLOBALS, 1 + (1 << DEPTH), 321e6, keccak256("alice data"), _proof(1));
        bytes32[] memory long = new bytes32[](DEPTH + 1);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.BadProofLength.selector, DEPTH, DEPTH + 1));
        settlement.escape(accountsRoot, MARKETS, GLOBALS, 1, 321e6, keccak256("alice data"), long);
        vm.stopPrank();
    }

    function _freezeByLiveness() internal {
        vm.warp(settlement.lastFinalizedAt() + LIVENESS_TIMEOUT);
        settlement.freezeForLiveness();
    }
}
