// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ISettlement} from "../src/ISettlement.sol";
import {MockUSDC} from "../src/MockUSDC.sol";
import {Settlement} from "../src/Settlement.sol";
import {SettlementFixture} from "./helpers/SettlementFixture.sol";
import {SettlementHandler} from "./handlers/SettlementHandler.sol";

/// @notice Invariants over random sequences of every action (see SettlementHandler).
contract SettlementInvariantTest is SettlementFixture {
    SettlementHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new SettlementHandler(settlement, usdc, verifier, proposer);
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](14);
        selectors[0] = SettlementHandler.deposit.selector;
        selectors[1] = SettlementHandler.requestForcedWithdrawal.selector;
        selectors[2] = SettlementHandler.proposeHonest.selector;
        selectors[3] = SettlementHandler.proposeFraud.selector;
        selectors[4] = SettlementHandler.challengeHonest.selector;
        selectors[5] = SettlementHandler.prove.selector;
        selectors[6] = SettlementHandler.resolveNext.selector;
        selectors[7] = SettlementHandler.warp.selector;
        selectors[8] = SettlementHandler.withdraw.selector;
        selectors[9] = SettlementHandler.freeze.selector;
        selectors[10] = SettlementHandler.escape.selector;
        selectors[11] = SettlementHandler.reclaimDeposit.selector;
        selectors[12] = SettlementHandler.claimCredit.selector;
        selectors[13] = SettlementHandler.reclaimChallengeBond.selector;
        targetSelector(FuzzSelector(address(handler), selectors));
    }

    /// @notice A scripted pseudo-random walk over the handler, checking every invariant after every step, that
    /// must reach every path at least once (so the invariants above are not passing on an idle contract).
    function test_handlerWalk_reachesEveryPath() public {
        uint256[8] memory totals; // finalized, reverted, proofs, withdrawals, freezes, escapes, reclaims, steps
        for (uint256 life; life < 10; ++life) {
            settlement = new Settlement(defaultConfig(address(usdc), address(verifier)));
            handler = new SettlementHandler(settlement, usdc, verifier, proposer);
            for (uint256 step; step < 200; ++step) {
                uint256 r = uint256(keccak256(abi.encode(life, step)));
                _act(r % 14, r >> 8);
                _checkAll();
                ++totals[7];
            }
            totals[0] += handler.finalizedCount();
            totals[1] += handler.revertedCount();
            totals[2] += handler.proofs();
            totals[3] += handler.withdrawals();
            totals[4] += handler.freezes();
            totals[5] += handler.escapes();
            totals[6] += handler.reclaims();
        }
        string[7] memory names = ["finalized", "reverted", "proofs", "withdrawals", "freezes", "escapes", "reclaims"];
        for (uint256 i; i < 7; ++i) {
            log(names[i], totals[i]);
            assertGt(totals[i], 0, string.concat("the walk never reached: ", names[i]));
        }
    }

    function _act(uint256 action, uint256 r) internal {
        uint256 a = r >> 16;
        uint256 b = r >> 80;
        if (action == 0) handler.deposit(a, b, r >> 140);
        else if (action == 1) handler.requestForcedWithdrawal(a, b);
        else if (action == 2) handler.proposeHonest(a, b);
        else if (action == 3) handler.proposeFraud(a, b);
        else if (action == 4) handler.challengeHonest(a, b);
        else if (action == 5) handler.prove(a);
        else if (action == 6) handler.resolveNext(a, b % 2 == 0);
        else if (action == 7) handler.warp(a);
        else if (action == 8) handler.withdraw(a, b);
        else if (action == 9) handler.freeze(a % 5 == 0 ? a : a | 1);
        else if (action == 10) handler.escape(a);
        else if (action == 11) handler.reclaimDeposit(a);
        else if (action == 12) handler.claimCredit(a);
        else handler.reclaimChallengeBond(a);
    }

    function _checkAll() internal view {
        invariant_noDoubleClaims();
        invariant_bondsAndCreditsConserved();
        invariant_tokenBalanceCoversClaims();
        invariant_finalizationOrder();
        invariant_revertedNeverFinalized();
    }

    /// @notice Run statistics (shown with -vv): evidence that the sequences reach every path.
    function afterInvariant() public view {
        log(
            string.concat(
                "run: finalized=",
                vm.toString(handler.finalizedCount()),
                " reverted=",
                vm.toString(handler.revertedCount()),
                " proofs=",
                vm.toString(handler.proofs()),
                " withdrawals=",
                vm.toString(handler.withdrawals()),
                " freezes=",
                vm.toString(handler.freezes()),
                " escapes=",
                vm.toString(handler.escapes()),
                " reclaims=",
                vm.toString(handler.reclaims())
            )
        );
    }

    /// @notice No withdrawal, escape or deposit reclaim pays twice.
    function invariant_noDoubleClaims() public view {
        assertFalse(handler.ghostDoubleWithdrawal(), "a withdrawal paid twice");
        assertFalse(handler.ghostDoubleEscape(), "an account escaped twice");
        assertFalse(handler.ghostDoubleReclaim(), "a deposit reclaimed twice");
    }

    /// @notice The contract's ETH is exactly the credits owed plus the bonds still held, and equals what came
    /// in minus what was claimed.
    function invariant_bondsAndCreditsConserved() public view {
        uint256 credits;
        for (uint256 i; i < handler.creditHolderCount(); ++i) {
            credits += settlement.creditOf(handler.creditHolder(i));
        }
        uint256 proposerBonds = (settlement.latestBatchIndex() - settlement.finalizedBatchIndex()) * PROPOSER_BOND;
        uint256 challengerBonds;
        bytes32[] memory hashes = handler.challengeHashes();
        for (uint256 i; i < hashes.length; ++i) {
            if (settlement.challengeOf(hashes[i]).status == ISettlement.ChallengeStatus.Challenged) {
                challengerBonds += CHALLENGER_BOND;
            }
        }
        assertEq(address(settlement).balance, credits + proposerBonds + challengerBonds, "ETH = credits + held bonds");
        assertEq(address(settlement).balance, handler.ghostEthIn() - handler.ghostEthOut(), "ETH in - out");
    }

    /// @notice The token balance always covers everything users may still take out.
    function invariant_tokenBalanceCoversClaims() public view {
        assertGe(usdc.balanceOf(address(settlement)), handler.claimableQuantums(), "token balance >= claimable");
    }

    /// @notice Batches finalize one after another, never early, never a fraud; a finalized hash never changes.
    function invariant_finalizationOrder() public view {
        assertFalse(handler.ghostFinalizedOutOfOrder(), "finalized before its parent");
        assertFalse(handler.ghostFinalizedEarly(), "finalized inside its window unproven");
        assertFalse(handler.ghostFraudFinalized(), "a fraudulent batch finalized");
        uint256 finalized = settlement.finalizedBatchIndex();
        assertEq(handler.finalizedCount(), finalized, "every finalization seen");
        for (uint256 i; i < finalized; ++i) {
            assertEq(settlement.batchHashOf(i + 1), handler.finalizedHashes(i), "finalized batch unchanged");
        }
    }

    /// @notice A reverted batch is never the finalized batch at its index.
    function invariant_revertedNeverFinalized() public view {
        uint256 finalized = settlement.finalizedBatchIndex();
        for (uint256 i; i < handler.revertedCount(); ++i) {
            uint256 index = handler.revertedIndices(i);
            if (index <= finalized) {
                assertTrue(settlement.batchHashOf(index) != handler.revertedHashes(i), "a reverted batch finalized");
            }
        }
    }
}
