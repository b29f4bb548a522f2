// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ISettlement} from "../src/ISettlement.sol";
import {SettlementFixture} from "./helpers/SettlementFixture.sol";
import {MerkleBuilder} from "./helpers/MerkleBuilder.sol";

/// @notice Fuzz tests: trees of any shape, amounts at the edges, and every window boundary.
contract SettlementFuzzTest is SettlementFixture {
    Withdrawal[] internal _ws;

    /// @notice Any withdrawal of any finalized tree pays exactly once, to exactly its account and amount.
    function testFuzz_withdraw_anyTreeAnyLeaf(uint256 seed, uint8 countSeed, uint8 pickSeed) public {
        uint256 count = bound(countSeed, 1, 40);
        uint256 total;
        for (uint256 i; i < count; ++i) {
            uint256 amount = bound(uint256(keccak256(abi.encode(seed, i, "amount"))), 0, 1000e6);
            address account = address(uint160(uint256(keccak256(abi.encode(seed, i, "account")))));
            _ws.push(Withdrawal(account, amount));
            total += amount;
        }
        usdc.mint(address(settlement), total);
        finalize(propose(keccak256(abi.encode(seed)), withdrawalsRootOf(1, _ws), 0, ""));
        uint256 pick = bound(pickSeed, 0, count - 1);
        Withdrawal memory w = _ws[pick];
        bytes32[] memory proof = withdrawalProof(1, _ws, pick);

        uint256 other = (pick + 1) % 65_536;
        vm.expectRevert(ISettlement.InvalidMerkleProof.selector);
        settlement.withdraw(1, other, w.account, w.amountQuantums, proof);
        vm.expectRevert(ISettlement.InvalidMerkleProof.selector);
        settlement.withdraw(1, pick, w.account, w.amountQuantums + 1, proof);

        uint256 before = usdc.balanceOf(w.account);
        settlement.withdraw(1, pick, w.account, w.amountQuantums, proof);
        assertEq(usdc.balanceOf(w.account) - before, w.amountQuantums, "paid");
        vm.expectRevert(abi.encodeWithSelector(ISettlement.AlreadyWithdrawn.selector, 1, pick));
        settlement.withdraw(1, pick, w.account, w.amountQuantums, proof);
    }

    /// @notice Any account at any index of a sparse depth-24 tree escapes with its equity, once.
    function testFuzz_escape_sparseAccounts(uint256 seed, uint256 equity) public {
        equity = bound(equity, 0, 1_000_000e6);
        usdc.mint(address(settlement), equity);
        AccountLeaf[] memory accounts = new AccountLeaf[](3);
        uint256 id = bound(uint256(keccak256(abi.encode(seed, 0))), 0, (1 << DEPTH) - 3);
        accounts[0] = AccountLeaf(id, address(0x1111), 1, keccak256("a"));
        accounts[1] = AccountLeaf(id + 1, alice, equity, keccak256(abi.encode(seed)));
        accounts[2] = AccountLeaf(id + 2, address(0x3333), 2, keccak256("c"));
        (uint256[] memory indices, bytes32[] memory leaves) = accountsTree(accounts);
        bytes32 accountsRoot = MerkleBuilder.root(indices, leaves, DEPTH);
        finalize(proposeSimple(stateRootOf(accountsRoot, "m", "g")));
        vm.warp(block.timestamp + LIVENESS_TIMEOUT);
        settlement.freezeForLiveness();
        bytes32[] memory proof = MerkleBuilder.proof(indices, leaves, DEPTH, id + 1);
        uint256 before = usdc.balanceOf(alice);
        vm.prank(alice);
        settlement.escape(accountsRoot, "m", "g", id + 1, equity, keccak256(abi.encode(seed)), proof);
        assertEq(usdc.balanceOf(alice) - before, equity, "paid");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.AlreadyEscaped.selector, id + 1));
        settlement.escape(accountsRoot, "m", "g", id + 1, equity, keccak256(abi.encode(seed)), proof);
    }

    /// @notice Deposits of 1 .. 2^64 - 1 enter the inbox with the documented accumulator; larger ones revert.
    function testFuzz_deposit_amounts(uint256 amount, address recipient) public {
        usdc.mint(alice, amount > type(uint128).max ? type(uint128).max : amount);
        if (amount == 0) {
            vm.prank(alice);
            vm.expectRevert(ISettlement.ZeroAmount.selector);
            settlement.deposit(amount, recipient);
        } else if (amount > type(uint64).max) {
            vm.prank(alice);
            vm.expectRevert(abi.encodeWithSelector(ISettlement.AmountTooLarge.selector, amount, type(uint64).max));
            settlement.deposit(amount, recipient);
        } else {
            ISettlement.InboxItem memory item = depositAs(alice, amount, recipient);
            assertEq(settlement.inboxAccumulatorAt(1), accumulate(bytes32(0), item), "accumulator");
        }
    }

    /// @notice A batch is challengeable exactly before `proposedAt + CHALLENGE_WINDOW` and finalizes exactly from it.
    function testFuzz_challengeWindowBoundary(uint256 delay) public {
        delay = bound(delay, 0, 2 * CHALLENGE_WINDOW);
        ISettlement.BatchHeader memory h = proposeSimple(keccak256("r"));
        vm.warp(h.proposedAt + delay);
        bool open = delay < CHALLENGE_WINDOW;
        uint256 snapshot = vm.snapshotState();
        vm.prank(watcher);
        if (!open) {
            vm.expectRevert(
                abi.encodeWithSelector(ISettlement.ChallengeWindowClosed.selector, h.proposedAt + CHALLENGE_WINDOW)
            );
        }
        settlement.challenge{value: CHALLENGER_BOND}(h);
        vm.revertToState(snapshot);
        if (open) {
            vm.expectRevert(
                abi.encodeWithSelector(ISettlement.ChallengeWindowOpen.selector, h.proposedAt + CHALLENGE_WINDOW)
            );
        }
        settlement.resolve(h);
        assertEq(settlement.finalizedBatchIndex(), open ? 0 : 1, "finalized iff the window is over");
    }

    /// @notice A challenged batch is provable exactly before `challengedAt + PROVE_WINDOW`, revertible from it.
    function testFuzz_proveWindowBoundary(uint256 delay) public {
        delay = bound(delay, 0, 2 * PROVE_WINDOW);
        ISettlement.BatchHeader memory h = proposeSimple(keccak256("r"));
        challengeAs(watcher, h);
        uint256 deadline = block.timestamp + PROVE_WINDOW;
        verifier.setValid(VKEY, expectedPublicValues(h), true);
        vm.warp(block.timestamp + delay);
        bool open = delay < PROVE_WINDOW;
        uint256 snapshot = vm.snapshotState();
        if (!open) vm.expectRevert(abi.encodeWithSelector(ISettlement.ProveWindowClosed.selector, deadline));
        settlement.prove(h, "ok");
        vm.revertToState(snapshot);
        if (open) vm.expectRevert(abi.encodeWithSelector(ISettlement.ProveWindowOpen.selector, deadline));
        settlement.resolve(h);
        assertEq(settlement.latestBatchIndex(), open ? 1 : 0, "reverted iff the window is over");
    }

    /// @notice A proposal may consume any count from its parent's up to the inbox length, and nothing else.
    function testFuzz_inboxConsumedRange(uint8 lengthSeed, uint8 firstSeed, uint8 secondSeed) public {
        uint256 length = bound(lengthSeed, 0, 12);
        for (uint256 i; i < length; ++i) {
            depositAs(alice, 1e6 + i, bob);
        }
        uint256 first = bound(firstSeed, 0, length);
        propose(keccak256("r1"), EMPTY_WITHDRAWALS, first, "");
        uint256 second = bound(secondSeed, 0, 16);
        vm.prank(proposer);
        if (second < first) {
            vm.expectRevert(abi.encodeWithSelector(ISettlement.InboxConsumedBackwards.selector, first, second));
        } else if (second > length) {
            vm.expectRevert(abi.encodeWithSelector(ISettlement.InboxConsumedTooFar.selector, length, second));
        }
        settlement.proposeBatch{value: PROPOSER_BOND}(keccak256("r1"), keccak256("r2"), EMPTY_WITHDRAWALS, second, "");
        if (second >= first && second <= length) {
            assertEq(settlement.proposedInboxConsumed(), second, "recorded");
        }
    }
}
