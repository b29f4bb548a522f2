// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ISettlement} from "../src/ISettlement.sol";
import {SettlementFixture} from "./helpers/SettlementFixture.sol";
import {MockVerifier} from "./mocks/MockVerifier.sol";
import {RejectingReceiver, ReentrantReceiver} from "./mocks/TestTokens.sol";

/// @notice proposeBatch, challenge, prove, resolve, reclaimChallengeBond and claimCredit.
contract SettlementBatchesTest is SettlementFixture {
    bytes32 internal constant R1 = keccak256("root 1");
    bytes32 internal constant R2 = keccak256("root 2");
    bytes32 internal constant R3 = keccak256("root 3");

    // ------------------------------------------------------------------ proposeBatch

    function test_proposeBatch_storesTheHeaderHash() public {
        depositAs(alice, 5e6, alice);
        bytes memory data = hex"5c0101050a01";
        bytes32 wRoot = keccak256("withdrawals");
        ISettlement.BatchHeader memory expected = ISettlement.BatchHeader({
            batchIndex: 1,
            epoch: 0,
            prevStateRoot: GENESIS,
            stateRoot: R1,
            withdrawalsRoot: wRoot,
            dataHash: keccak256(data),
            inboxConsumed: 1,
            inboxAccumulator: settlement.inboxAccumulatorAt(1),
            proposedAt: block.timestamp
        });
        vm.expectEmit(address(settlement));
        emit ISettlement.BatchProposed(1, hashHeader(expected), expected);
        vm.prank(proposer);
        uint256 index = settlement.proposeBatch{value: PROPOSER_BOND}(GENESIS, R1, wRoot, 1, data);
        assertEq(index, 1, "index");
        assertEq(settlement.batchHashOf(1), hashHeader(expected), "hash");
        assertEq(settlement.hashBatchHeader(expected), hashHeader(expected), "view hash");
        assertEq(settlement.latestBatchIndex(), 1, "latest");
        assertEq(settlement.latestStateRoot(), R1, "latest root");
        assertEq(settlement.proposedInboxConsumed(), 1, "consumed");
        assertEq(settlement.finalizedStateRoot(), GENESIS, "not final yet");
        assertEq(address(settlement).balance, PROPOSER_BOND, "bond held");
        assertEq(settlement.batchHashOf(2), bytes32(0), "nothing beyond the tip");
    }

    function test_proposeBatch_chainsOnTheLatestRoot() public {
        proposeSimple(R1);
        ISettlement.BatchHeader memory h2 = proposeSimple(R2);
        assertEq(h2.prevStateRoot, R1, "parent root");
        assertEq(h2.batchIndex, 2, "index");
        assertEq(settlement.batchHashOf(2), hashHeader(h2), "hash");
    }

    function test_proposeBatch_onlyTheProposer() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.NotProposer.selector, alice));
        settlement.proposeBatch{value: PROPOSER_BOND}(GENESIS, R1, EMPTY_WITHDRAWALS, 0, "");
    }

    function test_proposeBatch_requiresTheExactBond() public {
        vm.prank(proposer);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.WrongValue.selector, PROPOSER_BOND, PROPOSER_BOND + 1));
        settlement.proposeBatch{value: PROPOSER_BOND + 1}(GENESIS, R1, EMPTY_WITHDRAWALS, 0, "");
    }

    function test_proposeBatch_rejectsAWrongPreviousRoot() public {
        proposeSimple(R1);
        vm.prank(proposer);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.PrevStateRootMismatch.selector, R1, GENESIS));
        settlement.proposeBatch{value: PROPOSER_BOND}(GENESIS, R2, EMPTY_WITHDRAWALS, 0, "");
    }

    function test_proposeBatch_rejectsConsumingBackwards() public {
        depositAs(alice, 1e6, alice);
        depositAs(alice, 1e6, alice);
        propose(R1, EMPTY_WITHDRAWALS, 2, "");
        vm.prank(proposer);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.InboxConsumedBackwards.selector, 2, 1));
        settlement.proposeBatch{value: PROPOSER_BOND}(R1, R2, EMPTY_WITHDRAWALS, 1, "");
    }

    function test_proposeBatch_rejectsConsumingMoreThanExists() public {
        depositAs(alice, 1e6, alice);
        vm.prank(proposer);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.InboxConsumedTooFar.selector, 1, 2));
        settlement.proposeBatch{value: PROPOSER_BOND}(GENESIS, R1, EMPTY_WITHDRAWALS, 2, "");
    }

    function test_proposeBatch_rejectedWhenFrozen() public {
        _freezeByLiveness();
        vm.prank(proposer);
        vm.expectRevert(ISettlement.ContractIsFrozen.selector);
        settlement.proposeBatch{value: PROPOSER_BOND}(GENESIS, R1, EMPTY_WITHDRAWALS, 0, "");
    }

    // ------------------------------------------------------------------ proposeBatchBlobs

    function _versionedHashes(uint256 count) internal pure returns (bytes32[] memory hashes) {
        hashes = new bytes32[](count);
        for (uint256 i = 0; i < count; i++) {
            // Version byte 0x01, as EIP-4844 versioned hashes have.
            hashes[i] = bytes32((uint256(keccak256(abi.encode("blob", i))) >> 8) | (uint256(1) << 248));
        }
    }

    function test_proposeBatchBlobs_hashesEveryBlobOfTheTransaction() public {
        depositAs(alice, 5e6, alice);
        bytes32[] memory hashes = _versionedHashes(3);
        vm.blobhashes(hashes);
        ISettlement.BatchHeader memory expected = ISettlement.BatchHeader({
            batchIndex: 1,
            epoch: 0,
            prevStateRoot: GENESIS,
            stateRoot: R1,
            withdrawalsRoot: EMPTY_WITHDRAWALS,
            dataHash: keccak256(abi.encodePacked(hashes[0], hashes[1], hashes[2])),
            inboxConsumed: 1,
            inboxAccumulator: settlement.inboxAccumulatorAt(1),
            proposedAt: block.timestamp
        });
        vm.expectEmit(address(settlement));
        emit ISettlement.BatchProposed(1, hashHeader(expected), expected);
        vm.prank(proposer);
        uint256 index = settlement.proposeBatchBlobs{value: PROPOSER_BOND}(GENESIS, R1, EMPTY_WITHDRAWALS, 1);
        assertEq(index, 1, "index");
        assertEq(settlement.batchHashOf(1), hashHeader(expected), "hash");
        assertEq(settlement.latestStateRoot(), R1, "latest root");
        assertEq(settlement.proposedInboxConsumed(), 1, "consumed");
    }

    function test_proposeBatchBlobs_acceptsTheMaximumBlobCount() public {
        bytes32[] memory hashes = _versionedHashes(settlement.MAX_BLOBS_PER_BATCH());
        vm.blobhashes(hashes);
        vm.prank(proposer);
        settlement.proposeBatchBlobs{value: PROPOSER_BOND}(GENESIS, R1, EMPTY_WITHDRAWALS, 0);
        assertEq(settlement.latestBatchIndex(), 1, "proposed");
    }

    function test_proposeBatchBlobs_requiresABlob() public {
        vm.prank(proposer);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.BlobCount.selector, 0, 6));
        settlement.proposeBatchBlobs{value: PROPOSER_BOND}(GENESIS, R1, EMPTY_WITHDRAWALS, 0);
    }

    function test_proposeBatchBlobs_refusesMoreBlobsThanItCanHash() public {
        vm.blobhashes(_versionedHashes(7));
        vm.prank(proposer);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.BlobCount.selector, 7, 6));
        settlement.proposeBatchBlobs{value: PROPOSER_BOND}(GENESIS, R1, EMPTY_WITHDRAWALS, 0);
    }

    function test_proposeBatchBlobs_keepsTheProposeRules() public {
        vm.blobhashes(_versionedHashes(1));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.NotProposer.selector, alice));
        settlement.proposeBatchBlobs{value: PROPOSER_BOND}(GENESIS, R1, EMPTY_WITHDRAWALS, 0);
        vm.prank(proposer);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.WrongValue.selector, PROPOSER_BOND, 0));
        settlement.proposeBatchBlobs(GENESIS, R1, EMPTY_WITHDRAWALS, 0);
        vm.prank(proposer);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.PrevStateRootMismatch.selector, GENESIS, R2));
        settlement.proposeBatchBlobs{value: PROPOSER_BOND}(R2, R1, EMPTY_WITHDRAWALS, 0);
        vm.prank(proposer);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.InboxConsumedTooFar.selector, 0, 1));
        settlement.proposeBatchBlobs{value: PROPOSER_BOND}(GENESIS, R1, EMPTY_WITHDRAWALS, 1);
        _freezeByLiveness();
        vm.prank(proposer);
        vm.expectRevert(ISettlement.ContractIsFrozen.selector);
        settlement.proposeBatchBlobs{value: PROPOSER_BOND}(GENESIS, R1, EMPTY_WITHDRAWALS, 0);
    }

    // ------------------------------------------------------------------ challenge

    function test_challenge_recordsTheChallenge() public {
        ISettlement.BatchHeader memory h = proposeSimple(R1);
        vm.warp(block.timestamp + CHALLENGE_WINDOW - 1);
        vm.expectEmit(address(settlement));
        emit ISettlement.BatchChallenged(1, hashHeader(h), watcher, block.timestamp + PROVE_WINDOW);
        challengeAs(watcher, h);
        ISettlement.Challenge memory c = settlement.challengeOf(hashHeader(h));
        assertEq(c.challenger, watcher, "challenger");
        assertEq(uint256(c.challengedAt), block.timestamp, "at");
        assertEq(uint256(c.batchIndex), 1, "batch");
        assertEq(uint256(c.status), uint256(ISettlement.ChallengeStatus.Challenged), "status");
        assertEq(address(settlement).balance, PROPOSER_BOND + CHALLENGER_BOND, "both bonds held");
    }

    function test_challenge_closesAtTheEndOfTheWindow() public {
        ISettlement.BatchHeader memory h = proposeSimple(R1);
        vm.warp(h.proposedAt + CHALLENGE_WINDOW);
        vm.prank(watcher);
        vm.expectRevert(
            abi.encodeWithSelector(ISettlement.ChallengeWindowClosed.selector, h.proposedAt + CHALLENGE_WINDOW)
        );
        settlement.challenge{value: CHALLENGER_BOND}(h);
    }

    function test_challenge_requiresTheExactBond() public {
        ISettlement.BatchHeader memory h = proposeSimple(R1);
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.WrongValue.selector, CHALLENGER_BOND, 0));
        settlement.challenge(h);
    }

    function test_challenge_onlyOnce() public {
        ISettlement.BatchHeader memory h = proposeSimple(R1);
        challengeAs(watcher, h);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.AlreadyChallenged.selector, hashHeader(h)));
        settlement.challenge{value: CHALLENGER_BOND}(h);
    }

    function test_challenge_rejectsAnyAlteredHeaderField() public {
        ISettlement.BatchHeader memory h = proposeSimple(R1);
        for (uint256 field; field < 9; ++field) {
            ISettlement.BatchHeader memory altered = _alter(h, field);
            vm.prank(watcher);
            vm.expectRevert(abi.encodeWithSelector(ISettlement.UnknownBatch.selector, altered.batchIndex));
            settlement.challenge{value: CHALLENGER_BOND}(altered);
        }
    }

    function test_challenge_rejectsGenesisAndFinalizedBatches() public {
        ISettlement.BatchHeader memory h = proposeSimple(R1);
        ISettlement.BatchHeader memory genesis = _alter(h, 0);
        genesis.batchIndex = 0;
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.UnknownBatch.selector, 0));
        settlement.challenge{value: CHALLENGER_BOND}(genesis);
        finalize(h);
        vm.prank(watcher);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.BatchAlreadyFinalized.selector, 1));
        settlement.challenge{value: CHALLENGER_BOND}(h);
    }

    function test_challenge_rejectedWhenFrozen() public {
        ISettlement.BatchHeader memory h = proposeSimple(R1);
        _freezeByLiveness();
        vm.prank(watcher);
        vm.expectRevert(ISettlement.ContractIsFrozen.selector);
        settlement.challenge{value: CHALLENGER_BOND}(h);
    }

    // ------------------------------------------------------------------ prove

    function test_prove_passesThePublicValuesFromStorageAndPaysTheProver() public {
        depositAs(alice, 3e6, alice);
        ISettlement.BatchHeader memory h = propose(R1, keccak256("w"), 1, hex"abcdef");
        challengeAs(watcher, h);
        bytes memory pv = expectedPublicValues(h);
        assertEq(settlement.publicValuesOf(h), pv, "documented layout");
        verifier.setValid(VKEY, pv, true);
        vm.expectEmit(address(settlement));
        emit ISettlement.BatchProven(1, hashHeader(h), prover);
        vm.prank(prover);
        settlement.prove(h, "ok");
        assertEq(settlement.creditOf(prover), CHALLENGER_BOND, "challenger bond to the prover");
        assertEq(
            uint256(settlement.challengeOf(hashHeader(h)).status), uint256(ISettlement.ChallengeStatus.Proven), "proven"
        );
    }

    function test_prove_bubblesTheVerifierRejection() public {
        ISettlement.BatchHeader memory h = proposeSimple(R1);
        challengeAs(watcher, h);
        verifier.setValid(VKEY, expectedPublicValues(h), true);
        vm.prank(prover);
        vm.expectRevert(
            abi.encodeWithSelector(MockVerifier.ProofRejected.selector, VKEY, keccak256(expectedPublicValues(h)))
        );
        settlement.prove(h, "not ok");
    }

    function test_prove_valuesRegisteredForAnotherBatchDoNotProveThisOne() public {
        ISettlement.BatchHeader memory h1 = proposeSimple(R1);
        ISettlement.BatchHeader memory h2 = proposeSimple(R2);
        challengeAs(watcher, h2);
        verifier.setValid(VKEY, expectedPublicValues(h1), true);
        vm.prank(prover);
        vm.expectRevert(
            abi.encodeWithSelector(MockVerifier.ProofRejected.selector, VKEY, keccak256(expectedPublicValues(h2)))
        );
        settlement.prove(h2, "ok");
    }

    function test_prove_requiresAChallenge() public {
        ISettlement.BatchHeader memory h = proposeSimple(R1);
        vm.prank(prover);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.NotChallenged.selector, hashHeader(h)));
        settlement.prove(h, "ok");
    }

    function test_prove_onlyOnce() public {
        ISettlement.BatchHeader memory h = _challengedAndProven(R1);
        vm.prank(prover);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.AlreadyProven.selector, hashHeader(h)));
        settlement.prove(h, "ok");
    }

    function test_prove_closesAtTheProveDeadline() public {
        ISettlement.BatchHeader memory h = proposeSimple(R1);
        challengeAs(watcher, h);
        verifier.setValid(VKEY, expectedPublicValues(h), true);
        uint256 deadline = block.timestamp + PROVE_WINDOW;
        vm.warp(deadline);
        vm.prank(prover);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.ProveWindowClosed.selector, deadline));
        settlement.prove(h, "ok");
    }

    function test_prove_rejectsAnUnknownHeaderAndAFrozenContract() public {
        ISettlement.BatchHeader memory h = proposeSimple(R1);
        challengeAs(watcher, h);
        ISettlement.BatchHeader memory altered = _alter(h, 3);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.UnknownBatch.selector, 1));
        settlement.prove(altered, "ok");
        _freezeByLiveness();
        vm.expectRevert(ISettlement.ContractIsFrozen.selector);
        settlement.prove(h, "ok");
    }

    // ------------------------------------------------------------------ resolve: finalize

    function test_resolve_finalizesAnUnchallengedBatchAfterItsWindow() public {
        depositAs(alice, 9e6, alice);
        bytes32 wRoot = keccak256("withdrawals");
        ISettlement.BatchHeader memory h = propose(R1, wRoot, 1, hex"01");
        vm.warp(h.proposedAt + CHALLENGE_WINDOW);
        vm.expectEmit(address(settlement));
        emit ISettlement.BatchFinalized(1, hashHeader(h), R1, wRoot);
        vm.expectEmit(address(settlement));
        emit ISettlement.Credited(proposer, PROPOSER_BOND);
        settlement.resolve(h);
        assertEq(settlement.finalizedBatchIndex(), 1, "finalized");
        assertEq(settlement.finalizedStateRoot(), R1, "root");
        assertEq(settlement.finalizedInboxConsumed(), 1, "consumed");
        assertEq(settlement.lastFinalizedAt(), block.timestamp, "time");
        assertEq(settlement.withdrawalsRootOf(1), wRoot, "withdrawals claimable");
        assertEq(settlement.creditOf(proposer), PROPOSER_BOND, "bond back");
        assertEq(settlement.batchHashOf(1), hashHeader(h), "hash kept");
    }

    function test_resolve_waitsForTheChallengeWindow() public {
        ISettlement.BatchHeader memory h = proposeSimple(R1);
        vm.warp(h.proposedAt + CHALLENGE_WINDOW - 1);
        vm.expectRevert(
            abi.encodeWithSelector(ISettlement.ChallengeWindowOpen.selector, h.proposedAt + CHALLENGE_WINDOW)
        );
        settlement.resolve(h);
    }

    function test_resolve_emptyWithdrawalsRootStoresNothing() public {
        ISettlement.BatchHeader memory h = proposeSimple(R1);
        finalize(h);
        assertEq(settlement.withdrawalsRootOf(1), bytes32(0), "nothing to claim");
    }

    function test_resolve_onlyRightAfterTheParent() public {
        proposeSimple(R1);
        ISettlement.BatchHeader memory h2 = proposeSimple(R2);
        vm.warp(block.timestamp + CHALLENGE_WINDOW);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.ParentNotFinalized.selector, 2, 0));
        settlement.resolve(h2);
    }

    function test_resolve_aProvenBatchFinalizesWithoutWaiting() public {
        ISettlement.BatchHeader memory h = _challengedAndProven(R1);
        assertLt(block.timestamp, h.proposedAt + CHALLENGE_WINDOW, "still inside the window");
        settlement.resolve(h);
        assertEq(settlement.finalizedStateRoot(), R1, "final");
        assertEq(settlement.creditOf(proposer), PROPOSER_BOND, "proposer bond back");
    }

    function test_resolve_twiceReverts() public {
        ISettlement.BatchHeader memory h = proposeSimple(R1);
        finalize(h);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.BatchAlreadyFinalized.selector, 1));
        settlement.resolve(h);
    }

    function test_resolve_doesNotFinalizeWhenFrozen() public {
        ISettlement.BatchHeader memory h = proposeSimple(R1);
        _freezeByLiveness();
        vm.expectRevert(ISettlement.ContractIsFrozen.selector);
        settlement.resolve(h);
    }

    // ------------------------------------------------------------------ resolve: revert

    function test_resolve_revertsAnUnprovenBatchAndEveryLaterOne() public {
        depositAs(alice, 1e6, alice);
        ISettlement.BatchHeader memory h1 = propose(R1, EMPTY_WITHDRAWALS, 1, hex"01");
        finalize(h1);
        depositAs(bob, 2e6, bob);
        ISettlement.BatchHeader memory h2 = propose(R2, EMPTY_WITHDRAWALS, 2, hex"02");
        ISettlement.BatchHeader memory h3 = proposeSimple(R3);
        ISettlement.BatchHeader memory h4 = proposeSimple(keccak256("root 4"));
        challengeAs(watcher, h2);
        challengeAs(alice, h4);

        uint256 deadline = block.timestamp + PROVE_WINDOW;
        vm.warp(deadline - 1);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.ProveWindowOpen.selector, deadline));
        settlement.resolve(h2);

        vm.warp(deadline);
        vm.expectEmit(address(settlement));
        emit ISettlement.BatchesReverted(2, 4, watcher, 1);
        vm.expectEmit(address(settlement));
        emit ISettlement.Credited(watcher, CHALLENGER_BOND + 3 * PROPOSER_BOND);
        settlement.resolve(h2);

        assertEq(settlement.latestBatchIndex(), 1, "tip back to the finalized batch");
        assertEq(settlement.latestStateRoot(), R1, "tip root");
        assertEq(settlement.proposedInboxConsumed(), 1, "inbox position back");
        assertEq(settlement.epoch(), 1, "epoch");
        assertEq(settlement.creditOf(watcher), CHALLENGER_BOND + 3 * PROPOSER_BOND, "bonds to the challenger");
        assertEq(settlement.batchHashOf(3), bytes32(0), "gone");
        assertEq(
            uint256(settlement.challengeOf(hashHeader(h2)).status),
            uint256(ISettlement.ChallengeStatus.Settled),
            "settled"
        );
        vm.expectRevert(abi.encodeWithSelector(ISettlement.UnknownBatch.selector, 3));
        settlement.resolve(h3);

        // The chain continues from the finalized root, with a new epoch in the header.
        ISettlement.BatchHeader memory again = propose(R2, EMPTY_WITHDRAWALS, 2, hex"02");
        assertEq(again.batchIndex, 2, "index reused");
        assertEq(again.epoch, 1, "new epoch");
        assertTrue(hashHeader(again) != hashHeader(h2), "a different batch hash");
        finalize(again);
        assertEq(settlement.finalizedStateRoot(), R2, "re-proposed batch finalizes");
    }

    // ------------------------------------------------------------------ reclaimChallengeBond

    function test_reclaimChallengeBond_forABatchRevertedByAnEarlierOne() public {
        ISettlement.BatchHeader memory h1 = proposeSimple(R1);
        ISettlement.BatchHeader memory h2 = proposeSimple(R2);
        challengeAs(watcher, h1);
        challengeAs(alice, h2);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.ChallengeNotRefundable.selector, hashHeader(h2)));
        settlement.reclaimChallengeBond(hashHeader(h2));

        vm.warp(block.timestamp + PROVE_WINDOW);
        settlement.resolve(h1);
        vm.expectEmit(address(settlement));
        emit ISettlement.ChallengeBondRefunded(hashHeader(h2), alice);
        settlement.reclaimChallengeBond(hashHeader(h2));
        assertEq(settlement.creditOf(alice), CHALLENGER_BOND, "own bond back");
        vm.expectRevert(abi.encodeWithSelector(ISettlement.ChallengeNotRefundable.selector, hashHeader(h2)));
        settlement.reclaimChallengeBond(hashHeader(h2));
        // The challenge that caused the revert was paid by resolve and is settled.
        vm.expectRevert(abi.encodeWithSelector(ISettlement.ChallengeNotRefundable.selector, hashHeader(h1)));
        settlement.reclaimChallengeBond(hashHeader(h1));
    }

    function test_reclaimChallengeBond_whenFrozen() public {
        ISettlement.BatchHeader memory h1 = proposeSimple(R1);
        challengeAs(watcher, h1);
        _freezeByLiveness();
        settlement.reclaimChallengeBond(hashHeader(h1));
        assertEq(settlement.creditOf(watcher), CHALLENGER_BOND, "bond back after the freeze");
        // Settled, so resolve can no longer pay it a second time.
        vm.expectRevert(ISettlement.ContractIsFrozen.selector);
        settlement.resolve(h1);
    }

    function test_reclaimChallengeBond_notForProvenOrUnknownChallenges() public {
        ISettlement.BatchHeader memory h = _challengedAndProven(R1);
        _freezeByLiveness();
        vm.expectRevert(abi.encodeWithSelector(ISettlement.ChallengeNotRefundable.selector, hashHeader(h)));
        settlement.reclaimChallengeBond(hashHeader(h));
        vm.expectRevert(abi.encodeWithSelector(ISettlement.ChallengeNotRefundable.selector, bytes32(uint256(1))));
        settlement.reclaimChallengeBond(bytes32(uint256(1)));
    }

    // ------------------------------------------------------------------ claimCredit

    function test_claimCredit_paysTheWholeCreditOnce() public {
        finalize(proposeSimple(R1));
        address payable to = payable(address(0xBEEF));
        vm.expectEmit(address(settlement));
        emit ISettlement.CreditClaimed(proposer, to, PROPOSER_BOND);
        vm.prank(proposer);
        uint256 paid = settlement.claimCredit(to);
        assertEq(paid, PROPOSER_BOND, "returned");
        assertEq(to.balance, PROPOSER_BOND, "paid");
        assertEq(settlement.creditOf(proposer), 0, "cleared");
        vm.prank(proposer);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.NoCredit.selector, proposer));
        settlement.claimCredit(to);
    }

    function test_claimCredit_aRecipientThatRefusesKeepsTheCredit() public {
        finalize(proposeSimple(R1));
        RejectingReceiver refuser = new RejectingReceiver();
        vm.prank(proposer);
        vm.expectRevert(abi.encodeWithSelector(ISettlement.EthTransferFailed.selector, address(refuser), PROPOSER_BOND));
        settlement.claimCredit(payable(address(refuser)));
        assertEq(settlement.creditOf(proposer), PROPOSER_BOND, "still owed");
    }

    function test_claimCredit_cannotBeReentered() public {
        ReentrantReceiver receiver = new ReentrantReceiver(address(settlement));
        vm.deal(address(receiver), 10 ether);
        ISettlement.BatchHeader memory h = proposeSimple(R1);
        receiver.execute{value: CHALLENGER_BOND}(abi.encodeCall(ISettlement.challenge, (h)));
        vm.warp(block.timestamp + PROVE_WINDOW);
        settlement.resolve(h);
        uint256 credit = settlement.creditOf(address(receiver));
        assertEq(credit, CHALLENGER_BOND + PROPOSER_BOND, "won");
        uint256 before = address(receiver).balance;
        receiver.claim();
        assertFalse(receiver.reentrySucceeded(), "reentry blocked");
        assertEq(receiver.reentryReturnData(), abi.encodeWithSelector(ISettlement.Reentrancy.selector), "why");
        assertEq(address(receiver).balance - before, credit, "paid once");
    }

    // ------------------------------------------------------------------ helpers

    function _challengedAndProven(bytes32 root) internal returns (ISettlement.BatchHeader memory h) {
        h = proposeSimple(root);
        challengeAs(watcher, h);
        verifier.setValid(VKEY, expectedPublicValues(h), true);
        vm.prank(prover);
        settlement.prove(h, "ok");
    }

    function _alter(ISettlement.BatchHeader memory h, uint256 field)
        internal
        pure
        returns (ISettlement.BatchHeader memory a)
    {
        a = ISettlement.BatchHeader(
            h.batchIndex,
            h.epoch,
            h.prevStateRoot,
            h.stateRoot,
            h.withdrawalsRoot,
            h.dataHash,
            h.inboxConsumed,
            h.inboxAccumulator,
            h.proposedAt
        );
        if (field == 0) a.batchIndex += 1;
        if (field == 1) a.epoch += 1;
        if (field == 2) a.prevStateRoot = keccak256("x");
        if (field == 3) a.stateRoot = keccak256("x");
        if (field == 4) a.withdrawalsRoot = keccak256("x");
        if (field == 5) a.dataHash = keccak256("x");
        if (field == 6) a.inboxConsumed += 1;
        if (field == 7) a.inboxAccumulator = keccak256("x");
        if (field == 8) a.proposedAt += 1;
    }

    function _freezeByLiveness() internal {
        vm.warp(settlement.lastFinalizedAt() + LIVENESS_TIMEOUT);
        settlement.freezeForLiveness();
    }
}
