// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ISettlement} from "../src/ISettlement.sol";
import {Settlement} from "../src/Settlement.sol";
import {SettlementFixture} from "./helpers/SettlementFixture.sol";
import {BonusToken, FalseReturnToken, FeeOnTransferToken, NoReturnToken} from "./mocks/TestTokens.sol";

/// @notice Constructor, deposits, forced withdrawal requests, the inbox accumulator and deposit reclaims.
contract SettlementInboxTest is SettlementFixture {
    // ------------------------------------------------------------------ constructor

    function test_constructor_setsGenesisAndConfiguration() public view {
        assertEq(settlement.latestStateRoot(), GENESIS, "latest root");
        assertEq(settlement.finalizedStateRoot(), GENESIS, "finalized root");
        assertEq(settlement.GENESIS_STATE_ROOT(), GENESIS, "genesis");
        assertEq(settlement.latestBatchIndex(), 0, "latest index");
        assertEq(settlement.finalizedBatchIndex(), 0, "finalized index");
        assertEq(settlement.lastFinalizedAt(), START_TIME, "genesis counts as finalized now");
        assertEq(settlement.inboxCap(), type(uint48).max, "no cap");
        assertEq(settlement.TOKEN(), address(usdc), "token");
        assertEq(settlement.VERIFIER(), address(verifier), "verifier");
        assertEq(settlement.VKEY(), VKEY, "vkey");
        assertEq(settlement.CONFIG_HASH(), CONFIG_HASH, "config hash");
        assertEq(settlement.PROPOSER(), proposer, "proposer");
        assertEq(settlement.ACCOUNT_TREE_DEPTH(), DEPTH, "depth");
        assertEq(settlement.WITHDRAWAL_TREE_DEPTH(), 16, "withdrawal depth");
        assertEq(settlement.CHALLENGE_WINDOW(), CHALLENGE_WINDOW, "challenge window");
        assertEq(settlement.PROVE_WINDOW(), PROVE_WINDOW, "prove window");
        assertEq(settlement.FORCED_INCLUSION_DEADLINE(), FORCED_DEADLINE, "forced deadline");
        assertEq(settlement.LIVENESS_TIMEOUT(), LIVENESS_TIMEOUT, "liveness");
        assertEq(settlement.DEPOSIT_RECLAIM_DELAY(), RECLAIM_DELAY, "reclaim delay");
        assertEq(settlement.PROPOSER_BOND_WEI(), PROPOSER_BOND, "proposer bond");
        assertEq(settlement.CHALLENGER_BOND_WEI(), CHALLENGER_BOND, "challenger bond");
        assertEq(settlement.FORCED_WITHDRAWAL_FEE_WEI(), FORCED_FEE, "fee");
        assertFalse(settlement.isFrozen(), "not frozen");
    }

    function test_constructor_rejectsEachBadField() public {
        ISettlement.SettlementConfig memory c;

        c = defaultConfig(address(usdc), address(verifier));
        c.token = address(0);
        _expectInvalid(c, "token");

        c = defaultConfig(address(usdc), address(verifier));
        c.verifier = address(0);
        _expectInvalid(c, "verifier");

        c = defaultConfig(address(usdc), address(verifier));
        c.proposer = address(0);
        _expectInvalid(c, "proposer");

        c = defaultConfig(address(usdc), address(verifier));
        c.accountTreeDepth = 0;
        _expectInvalid(c, "accountTreeDepth");
        c.accountTreeDepth = 33;
        _expectInvalid(c, "accountTreeDepth");

        c = defaultConfig(address(usdc), address(verifier));
        c.challengeWindow = 0;
        _expectInvalid(c, "challengeWindow");
        c.challengeWindow = uint256(type(uint32).max) + 1;
        _expectInvalid(c, "challengeWindow");

        c = defaultConfig(address(usdc), address(verifier));
        c.proveWindow = 0;
        _expectInvalid(c, "proveWindow");
        c.proveWindow = uint256(type(uint32).max) + 1;
        _expectInvalid(c, "proveWindow");

        c = defaultConfig(address(usdc), address(verifier));
        c.forcedInclusionDeadline = CHALLENGE_WINDOW + PROVE_WINDOW;
        _expectInvalid(c, "forcedInclusionDeadline");
        c.forcedInclusionDeadline = uint256(type(uint32).max) + 1;
        _expectInvalid(c, "forcedInclusionDeadline");

        c = defaultConfig(address(usdc), address(verifier));
        c.livenessTimeout = CHALLENGE_WINDOW + PROVE_WINDOW;
        _expectInvalid(c, "livenessTimeout");
        c.livenessTimeout = uint256(type(uint32).max) + 1;
        _expectInvalid(c, "livenessTimeout");

        c = defaultConfig(address(usdc), address(verifier));
        c.depositReclaimDelay = 0;
        _expectInvalid(c, "depositReclaimDelay");
        c.depositReclaimDelay = uint256(type(uint32).max) + 1;
        _expectInvalid(c, "depositReclaimDelay");

        // The boundary values are accepted.
        c = defaultConfig(address(usdc), address(verifier));
        c.accountTreeDepth = 32;
        c.forcedInclusionDeadline = CHALLENGE_WINDOW + PROVE_WINDOW + 1;
        c.livenessTimeout = CHALLENGE_WINDOW + PROVE_WINDOW + 1;
        c.depositReclaimDelay = 1;
        new Settlement(c);
    }

    function _expectInvalid(ISettlement.SettlementConfig memory c, string memory field) internal {
        vm.expectRevert(abi.encodeWithSelector(ISettlement.InvalidConfig.selector, field));
        new Settlement(c);
    }

    // ------------------------------------------------------------------ deposit

    function test_deposit_appendsItemAndPullsTokens() public {
        uint256 before = usdc.balanceOf(alice);
        bytes32 expectedAcc = accumulate(
            bytes32(0), ISettlement.InboxItem(ISettlement.InboxKind.Deposit, alice, bob, 250e6, 0, block.timestamp)
        );
        vm.expectEmit(address(settlement));
        emit ISettlement.InboxItemAppended(
            0, ISettlement.InboxKind.Deposit, bob, alice, 250e6, block.timestamp, expectedAcc
        );
        vm.prank(alice);
        uint256 index = settlement.deposit(250e6, bob);
        assertEq(index, 0, "first index");
        assertEq(settlement.inboxLength(), 1, "length");
        assertEq(settlement.inboxAccumulatorAt(0), bytes32(0), "empty accumulator");
        assertEq(settlement.inboxAccumulatorAt(1), expectedAcc, "accumulator");
        assertEq(before - usdc.balanceOf(alice), 250e6, "pulled");
        assertEq(usdc.balanceOf(address(settlement)), 250e6, "held");
    }

    function test_deposit_accumulatorChainsEveryItemInOrder() public {
        ISettlement.InboxItem memory a = depositAs(alice, 1e6, alice);
        vm.warp(block.timestamp + 7);
        ISettlement.InboxItem memory b = requestAs(bob, 5e6);
        ISettlement.InboxItem memory c = depositAs(carol, 3e6, address(0));
        bytes32 acc = accumulate(accumulate(accumulate(bytes32(0), a), b), c);
        assertEq(settlement.inboxAccumulatorAt(3), acc, "acc_2");
        assertEq(settlement.nextInboxAccumulator(settlement.inboxAccumulatorAt(2), c), acc, "view agrees");
        vm.expectRevert(abi.encodeWithSelector(ISettlement.IndexOutOfRange.selector, 4, 3));
        settlement.inboxAccumulatorAt(4);
    }

    function test_deposit_toZeroAddressToppingUpInsuranceFund() public {
        ISettlement.InboxItem memory item = depositAs(alice, 10e6, address(0));
        assertEq(item.account, address(0), "insurance fund");
        assertEq(settlement.inboxAccumulatorAt(1), accumulate(bytes32(0), item), "accumulated");
    }

    function test_deposit_acceptsTheUint64Maximum() public {
        usdc.mint(alice, type(uint64).max);
        vm.prank(alice);
        settlement.deposit(type(uint64).max, alice);
        assertEq(usdc.balanceOf(address(settlement)), type(uint64).max, "held");
    }

    function test_deposit_revertsOnZero() public {
        vm.prank(alice);
        vm.expectRevert(ISettlement.ZeroAmount.selector);
        settlement.deposit(0, alice);
    }

    function test_deposit_revertsAboveUint64() public {
        uint256 tooMuch = uint256(type(uint64).max) + 1;
        usdc.mint(alice, tooMuch);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.AmountTooLarge.selector, tooMuch, type(uint64).max));
        settlement.deposit(tooMuch, alice);
    }

    function test_deposit_revertsWhenTheTransferFails() public {
        vm.prank(alice);
        usdc.approve(address(settlement), 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.TokenTransferFailed.selector, address(usdc)));
        settlement.deposit(2, alice);
    }

    function test_deposit_revertsWhenFrozen() public {
        _freezeByLiveness();
        vm.prank(alice);
        vm.expectRevert(ISettlement.ContractIsFrozen.selector);
        settlement.deposit(1e6, alice);
    }

    function test_deposit_creditsWhatArrivedFromAFeeToken() public {
        FeeOnTransferToken token = new FeeOnTransferToken(10_000); // 1 %
        Settlement s = new Settlement(defaultConfig(address(token), address(verifier)));
        token.mint(alice, 1000e6);
        vm.startPrank(alice);
        token.approve(address(s), type(uint256).max);
        vm.expectEmit(address(s));
        emit ISettlement.InboxItemAppended(
            0,
            ISettlement.InboxKind.Deposit,
            alice,
            alice,
            99e6,
            block.timestamp,
            accumulate(
                bytes32(0), ISettlement.InboxItem(ISettlement.InboxKind.Deposit, alice, alice, 99e6, 0, block.timestamp)
            )
        );
        s.deposit(100e6, alice);
        vm.stopPrank();
        assertEq(token.balanceOf(address(s)), 99e6, "received");
    }

    function test_deposit_revertsWhenNothingArrives() public {
        FeeOnTransferToken token = new FeeOnTransferToken(1_000_000); // everything burned
        Settlement s = new Settlement(defaultConfig(address(token), address(verifier)));
        token.mint(alice, 10e6);
        vm.startPrank(alice);
        token.approve(address(s), type(uint256).max);
        vm.expectRevert(ISettlement.ZeroAmount.selector);
        s.deposit(10e6, alice);
        vm.stopPrank();
    }

    function test_deposit_revertsWhenMoreThanUint64Arrives() public {
        BonusToken token = new BonusToken();
        Settlement s = new Settlement(defaultConfig(address(token), address(verifier)));
        token.mint(alice, type(uint64).max);
        vm.startPrank(alice);
        token.approve(address(s), type(uint256).max);
        vm.expectRevert(
            abi.encodeWithSelector(ISettlement.AmountTooLarge.selector, uint256(type(uint64).max) + 1, type(uint64).max)
        );
        s.deposit(type(uint64).max, alice);
        vm.stopPrank();
    }

    function test_deposit_worksWithATokenThatReturnsNothing() public {
        NoReturnToken token = new NoReturnToken();
        Settlement s = new Settlement(defaultConfig(address(token), address(verifier)));
        token.mint(alice, 10e6);
        vm.startPrank(alice);
        token.approve(address(s), type(uint256).max);
        s.deposit(10e6, alice);
        vm.stopPrank();
        assertEq(token.balanceOf(address(s)), 10e6, "held");
    }

    function test_deposit_revertsWithATokenThatReturnsFalse() public {
        FalseReturnToken token = new FalseReturnToken();
        Settlement s = new Settlement(defaultConfig(address(token), address(verifier)));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.TokenTransferFailed.selector, address(token)));
        s.deposit(10e6, alice);
    }

    function test_deposit_revertsWhenTheTokenHasNoCode() public {
        Settlement s = new Settlement(defaultConfig(address(0xDEAD), address(verifier)));
        vm.prank(alice);
        // balanceOf on an address without code returns nothing, which the ABI decoder rejects.
        vm.expectRevert();
        s.deposit(10e6, alice);
    }

    // ------------------------------------------------------------------ forced withdrawal requests

    function test_requestForcedWithdrawal_appendsItemAndCreditsTheFee() public {
        bytes32 expectedAcc = accumulate(
            bytes32(0), ISettlement.InboxItem(ISettlement.InboxKind.ForcedWithdrawal, bob, bob, 7e6, 0, block.timestamp)
        );
        vm.expectEmit(address(settlement));
        emit ISettlement.InboxItemAppended(
            0, ISettlement.InboxKind.ForcedWithdrawal, bob, bob, 7e6, block.timestamp, expectedAcc
        );
        vm.expectEmit(address(settlement));
        emit ISettlement.Credited(proposer, FORCED_FEE);
        vm.prank(bob);
        uint256 index = settlement.requestForcedWithdrawal{value: FORCED_FEE}(7e6);
        assertEq(index, 0, "index");
        assertEq(settlement.creditOf(proposer), FORCED_FEE, "fee to proposer");
        assertEq(address(settlement).balance, FORCED_FEE, "fee held");
        assertEq(settlement.inboxAccumulatorAt(1), expectedAcc, "accumulator");
    }

    function test_requestForcedWithdrawal_revertsOnWrongFee() public {
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.WrongValue.selector, FORCED_FEE, FORCED_FEE - 1));
        settlement.requestForcedWithdrawal{value: FORCED_FEE - 1}(7e6);
    }

    function test_requestForcedWithdrawal_revertsOnZeroAndTooLarge() public {
        vm.prank(bob);
        vm.expectRevert(ISettlement.ZeroAmount.selector);
        settlement.requestForcedWithdrawal{value: FORCED_FEE}(0);
        uint256 tooMuch = uint256(type(uint64).max) + 1;
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.AmountTooLarge.selector, tooMuch, type(uint64).max));
        settlement.requestForcedWithdrawal{value: FORCED_FEE}(tooMuch);
    }

    function test_requestForcedWithdrawal_revertsWhenFrozen() public {
        _freezeByLiveness();
        vm.prank(bob);
        vm.expectRevert(ISettlement.ContractIsFrozen.selector);
        settlement.requestForcedWithdrawal{value: FORCED_FEE}(1);
    }

    // ------------------------------------------------------------------ reclaimDeposit

    function test_reclaimDeposit_afterTheDelayPaysTheSenderAndCapsTheInbox() public {
        ISettlement.InboxItem memory item = depositAs(alice, 40e6, bob);
        depositAs(carol, 1e6, carol);
        vm.warp(item.timestamp + RECLAIM_DELAY);
        uint256 before = usdc.balanceOf(alice);
        vm.expectEmit(address(settlement));
        emit ISettlement.InboxCapped(0);
        vm.expectEmit(address(settlement));
        emit ISettlement.DepositReclaimed(0, alice, 40e6);
        settlement.reclaimDeposit(item); // anyone may trigger; the sender is paid
        assertEq(usdc.balanceOf(alice) - before, 40e6, "paid back");
        assertTrue(settlement.isReclaimed(0), "marked");
        assertEq(settlement.inboxCap(), 0, "capped");
        // No batch may now consume the reclaimed deposit.
        vm.prank(proposer);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.InboxConsumedTooFar.selector, 0, 1));
        settlement.proposeBatch{value: PROPOSER_BOND}(GENESIS, keccak256("r1"), EMPTY_WITHDRAWALS, 1, "");
    }

    function test_reclaimDeposit_closesDepositsButNotForcedRequests() public {
        ISettlement.InboxItem memory item = depositAs(alice, 40e6, bob);
        vm.warp(item.timestamp + RECLAIM_DELAY);
        settlement.reclaimDeposit(item);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.DepositsClosed.selector, 0));
        settlement.deposit(1e6, bob);
        // A forced request still enters: it cannot be consumed, so it leads to a freeze and the escape hatch.
        ISettlement.InboxItem memory request = requestAs(bob, 1e6);
        vm.warp(request.timestamp + FORCED_DEADLINE);
        settlement.freezeForForcedWithdrawal(request);
        assertTrue(settlement.isFrozen(), "frozen");
    }

    function test_reclaimDeposit_capOnlyMovesDown() public {
        ISettlement.InboxItem memory first = depositAs(alice, 1e6, alice);
        ISettlement.InboxItem memory second = depositAs(bob, 2e6, bob);
        vm.warp(block.timestamp + RECLAIM_DELAY);
        settlement.reclaimDeposit(first);
        settlement.reclaimDeposit(second);
        assertEq(settlement.inboxCap(), 0, "cap at the first reclaimed index");
        assertTrue(settlement.isReclaimed(1), "second reclaimed");
    }

    function test_reclaimDeposit_beforeTheDelayReverts() public {
        ISettlement.InboxItem memory item = depositAs(alice, 40e6, bob);
        vm.warp(item.timestamp + RECLAIM_DELAY - 1);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.ReclaimNotDue.selector, item.timestamp + RECLAIM_DELAY));
        settlement.reclaimDeposit(item);
    }

    function test_reclaimDeposit_consumedByAProposedBatchReverts() public {
        ISettlement.InboxItem memory item = depositAs(alice, 40e6, bob);
        propose(keccak256("r1"), EMPTY_WITHDRAWALS, 1, hex"00");
        vm.warp(item.timestamp + RECLAIM_DELAY);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.InboxItemConsumed.selector, 0, 1));
        settlement.reclaimDeposit(item);
    }

    function test_reclaimDeposit_twiceReverts() public {
        ISettlement.InboxItem memory item = depositAs(alice, 40e6, bob);
        vm.warp(item.timestamp + RECLAIM_DELAY);
        settlement.reclaimDeposit(item);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.AlreadyReclaimed.selector, 0));
        settlement.reclaimDeposit(item);
    }

    function test_reclaimDeposit_ofAForcedRequestReverts() public {
        ISettlement.InboxItem memory item = requestAs(bob, 1e6);
        vm.warp(item.timestamp + RECLAIM_DELAY);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.WrongInboxKind.selector, 0, ISettlement.InboxKind.Deposit));
        settlement.reclaimDeposit(item);
    }

    function test_reclaimDeposit_withForgedFieldsReverts() public {
        ISettlement.InboxItem memory item = depositAs(alice, 40e6, bob);
        vm.warp(item.timestamp + RECLAIM_DELAY);
        ISettlement.InboxItem memory forged = item;
        forged.amountQuantums = 41e6;
        vm.expectRevert(abi.encodeWithSelector(ISettlement.UnknownInboxItem.selector, 0));
        settlement.reclaimDeposit(forged);
        forged = depositAs(alice, 1, alice);
        forged.sender = carol;
        vm.expectRevert(abi.encodeWithSelector(ISettlement.UnknownInboxItem.selector, 1));
        settlement.reclaimDeposit(forged);
        forged.index = 2;
        vm.expectRevert(abi.encodeWithSelector(ISettlement.UnknownInboxItem.selector, 2));
        settlement.reclaimDeposit(forged);
    }

    function test_reclaimDeposit_whenFrozenIsImmediateForUnfinalizedDeposits() public {
        ISettlement.InboxItem memory consumed = depositAs(alice, 5e6, alice);
        ISettlement.InboxItem memory pending = depositAs(bob, 6e6, bob);
        ISettlement.InboxItem memory unseen = depositAs(carol, 7e6, carol);
        finalize(propose(keccak256("r1"), EMPTY_WITHDRAWALS, 1, hex"01"));
        propose(keccak256("r2"), EMPTY_WITHDRAWALS, 2, hex"02"); // consumes `pending`, never finalizes
        _freezeByLiveness();

        vm.expectRevert(abi.encodeWithSelector(ISettlement.InboxItemConsumed.selector, 0, 1));
        settlement.reclaimDeposit(consumed);

        uint256 bobBefore = usdc.balanceOf(bob);
        settlement.reclaimDeposit(pending);
        assertEq(usdc.balanceOf(bob) - bobBefore, 6e6, "pending deposit back");
        uint256 carolBefore = usdc.balanceOf(carol);
        settlement.reclaimDeposit(unseen);
        assertEq(usdc.balanceOf(carol) - carolBefore, 7e6, "unseen deposit back");
        assertEq(settlement.inboxCap(), type(uint48).max, "no cap needed once frozen");
    }

    function _freezeByLiveness() internal {
        vm.warp(settlement.lastFinalizedAt() + LIVENESS_TIMEOUT);
        settlement.freezeForLiveness();
    }
}
