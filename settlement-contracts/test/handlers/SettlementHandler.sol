// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ISettlement} from "../../src/ISettlement.sol";
import {MockUSDC} from "../../src/MockUSDC.sol";
import {Settlement} from "../../src/Settlement.sol";
import {Vm} from "../base/Vm.sol";
import {MerkleBuilder} from "../helpers/MerkleBuilder.sol";
import {MockVerifier} from "../mocks/MockVerifier.sol";

/// @notice Drives a Settlement through random sequences of every user action, with an honest L2 model next
/// to it: balances per batch, withdrawals per batch, the inbox. Honest batches are provable; fraudulent ones
/// (which pay out more than exists) are not, and the handler's watcher always challenges them. Ghost
/// variables record what the invariants check.
contract SettlementHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    uint256 internal constant ACTORS = 4;
    uint256 internal constant DEPTH = 24;
    bytes32 internal constant EMPTY_WITHDRAWALS = 0x2733e50f526ec2fa19a22b31e8ed50f23cd1fdf94c9154ed3a7609a2f1ff981f;

    Settlement public immutable settlement;
    MockUSDC public immutable usdc;
    MockVerifier public immutable verifier;
    address public immutable proposer;
    address public constant WATCHER = address(0x3A7C4);
    address public constant PROVER = address(0x960E);
    bytes32 public immutable VKEY;

    struct Withdrawal {
        address account;
        uint256 amountQuantums;
    }

    struct Item {
        ISettlement.InboxItem item;
        bool reclaimed;
    }

    address[ACTORS] public actors;
    Item[] internal _inbox;

    // Per batch index (overwritten when an index is proposed again after a revert).
    mapping(uint256 => ISettlement.BatchHeader) internal _headers;
    mapping(uint256 => uint256[ACTORS]) internal _balances;
    mapping(uint256 => Withdrawal[]) internal _withdrawals;
    mapping(uint256 => bool) internal _fraud;
    mapping(uint256 => mapping(uint256 => bool)) internal _claimed;
    mapping(address => bool) internal _escaped;

    bytes32[] internal _challengeHashes;

    // ------------------------------------------------------------------ ghosts

    bool public ghostDoubleWithdrawal;
    bool public ghostDoubleEscape;
    bool public ghostDoubleReclaim;
    bool public ghostFinalizedOutOfOrder;
    bool public ghostFinalizedEarly;
    bool public ghostFraudFinalized;
    uint256 public ghostEthIn;
    uint256 public ghostEthOut;
    bytes32[] public finalizedHashes; // index b - 1 holds batch b
    bytes32[] public revertedHashes;
    uint256[] public revertedIndices;
    mapping(bytes4 => uint256) public calls;
    /// @notice Successful effects, to show the runs reach every path.
    uint256 public withdrawals;
    uint256 public escapes;
    uint256 public reclaims;
    uint256 public proofs;
    uint256 public freezes;

    constructor(Settlement settlement_, MockUSDC usdc_, MockVerifier verifier_, address proposer_) {
        settlement = settlement_;
        usdc = usdc_;
        verifier = verifier_;
        proposer = proposer_;
        VKEY = settlement_.VKEY();
        actors = [address(0xA1), address(0xA2), address(0xA3), address(0xA4)];
        for (uint256 i; i < ACTORS; ++i) {
            usdc.mint(actors[i], 1e15);
            vm.prank(actors[i]);
            usdc.approve(address(settlement_), type(uint256).max);
            vm.deal(actors[i], 1000 ether);
        }
        vm.deal(proposer_, 1_000_000 ether);
        vm.deal(WATCHER, 1_000_000 ether);
    }

    modifier counted() {
        ++calls[msg.sig];
        _;
    }

    // ------------------------------------------------------------------ actions

    function deposit(uint256 actorSeed, uint256 recipientSeed, uint256 amountSeed) external counted {
        if (settlement.isFrozen() || settlement.inboxCap() != type(uint48).max) return;
        address sender = actors[actorSeed % ACTORS];
        address recipient = actors[recipientSeed % ACTORS];
        uint256 amount = 1 + (amountSeed % 1000e6);
        uint256 index = settlement.inboxLength();
        vm.prank(sender);
        settlement.deposit(amount, recipient);
        _inbox.push(
            Item(
                ISettlement.InboxItem(ISettlement.InboxKind.Deposit, sender, recipient, amount, index, block.timestamp),
                false
            )
        );
    }

    function requestForcedWithdrawal(uint256 actorSeed, uint256 amountSeed) external counted {
        if (settlement.isFrozen()) return;
        address sender = actors[actorSeed % ACTORS];
        uint256 amount = 1 + (amountSeed % 2000e6);
        uint256 fee = settlement.FORCED_WITHDRAWAL_FEE_WEI();
        uint256 index = settlement.inboxLength();
        vm.prank(sender);
        settlement.requestForcedWithdrawal{value: fee}(amount);
        ghostEthIn += fee;
        _inbox.push(
            Item(
                ISettlement.InboxItem(
                    ISettlement.InboxKind.ForcedWithdrawal, sender, sender, amount, index, block.timestamp
                ),
                false
            )
        );
    }

    function proposeHonest(uint256 consumeSeed, uint256 withdrawSeed) external counted {
        _propose(consumeSeed, withdrawSeed, false);
    }

    function proposeFraud(uint256 consumeSeed, uint256 withdrawSeed) external counted {
        // Rarer than honest batches: every fraud reverts the chain behind it.
        if (withdrawSeed % 3 != 0) return;
        (bool proposed, ISettlement.BatchHeader memory h) = _propose(consumeSeed, withdrawSeed, true);
        if (!proposed) return;
        // The watcher catches every fraud within the window.
        _challenge(WATCHER, h);
    }

    function challengeHonest(uint256 batchSeed, uint256 actorSeed) external counted {
        if (actorSeed % 2 != 0) return;
        (bool found, ISettlement.BatchHeader memory h) = _pendingBatch(batchSeed);
        if (!found || settlement.isFrozen()) return;
        if (block.timestamp >= h.proposedAt + settlement.CHALLENGE_WINDOW()) return;
        if (settlement.challengeOf(keccak256(abi.encode(h))).status != ISettlement.ChallengeStatus.None) return;
        _challenge(actors[actorSeed % ACTORS], h);
    }

    function prove(uint256 batchSeed) external counted {
        (bool found, ISettlement.BatchHeader memory h) = _pendingBatch(batchSeed);
        if (!found || settlement.isFrozen() || _fraud[h.batchIndex]) return;
        ISettlement.Challenge memory c = settlement.challengeOf(keccak256(abi.encode(h)));
        if (c.status != ISettlement.ChallengeStatus.Challenged) return;
        if (block.timestamp >= uint256(c.challengedAt) + settlement.PROVE_WINDOW()) return;
        vm.prank(PROVER);
        settlement.prove(h, "ok");
        ++proofs;
    }

    /// @notice Resolves up to four batches in order, waiting for each one's deadline if `waitUntilDue`.
    function resolveNext(uint256 countSeed, bool waitUntilDue) external counted {
        uint256 count = 1 + countSeed % 4;
        for (uint256 i; i < count; ++i) {
            if (!_resolveNext(waitUntilDue)) return;
        }
    }

    function _resolveNext(bool waitUntilDue) internal returns (bool resolved) {
        uint256 next = settlement.finalizedBatchIndex() + 1;
        if (next > settlement.latestBatchIndex()) return false;
        ISettlement.BatchHeader memory h = _headers[next];
        bytes32 batchHash = keccak256(abi.encode(h));
        ISettlement.Challenge memory c = settlement.challengeOf(batchHash);
        if (waitUntilDue) {
            uint256 due = c.status == ISettlement.ChallengeStatus.Challenged
                ? uint256(c.challengedAt) + settlement.PROVE_WINDOW()
                : h.proposedAt + settlement.CHALLENGE_WINDOW();
            if (block.timestamp < due) vm.warp(due);
        }
        uint256 latestBefore = settlement.latestBatchIndex();
        uint256 finalizedBefore = settlement.finalizedBatchIndex();
        try settlement.resolve(h) {}
        catch {
            return false;
        }
        if (settlement.finalizedBatchIndex() == next) {
            if (next != finalizedBefore + 1) ghostFinalizedOutOfOrder = true;
            bool windowOver = block.timestamp >= h.proposedAt + settlement.CHALLENGE_WINDOW();
            if (!windowOver && c.status != ISettlement.ChallengeStatus.Proven) ghostFinalizedEarly = true;
            if (_fraud[next]) ghostFraudFinalized = true;
            finalizedHashes.push(batchHash);
        } else {
            for (uint256 b = next; b <= latestBefore; ++b) {
                revertedHashes.push(keccak256(abi.encode(_headers[b])));
                revertedIndices.push(b);
            }
        }
        return true;
    }

    /// @notice Time passes. Half the time the honest operator keeps up meanwhile: it proposes a batch with
    /// everything in the inbox and resolves what is due, as a live sequencer would.
    function warp(uint256 secondsSeed) external counted {
        vm.warp(block.timestamp + 1 + (secondsSeed % 6 hours));
        if (secondsSeed % 2 == 0 || settlement.isFrozen()) return;
        _propose(type(uint256).max, secondsSeed >> 32, false);
        for (uint256 i; i < 4; ++i) {
            if (!_resolveNext(false)) break;
        }
    }

    function withdraw(uint256 batchSeed, uint256 indexSeed) external counted {
        uint256 finalized = settlement.finalizedBatchIndex();
        if (finalized == 0) return;
        uint256 b = 1 + (batchSeed % finalized);
        uint256 count = _withdrawals[b].length;
        if (count == 0) return;
        uint256 k = indexSeed % count;
        Withdrawal memory w = _withdrawals[b][k];
        bytes32[] memory proof = MerkleBuilder.proof(MerkleBuilder.denseIndices(count), _withdrawalLeaves(b), 16, k);
        try settlement.withdraw(b, k, w.account, w.amountQuantums, proof) {
            if (_claimed[b][k]) ghostDoubleWithdrawal = true;
            _claimed[b][k] = true;
            ++withdrawals;
        } catch {}
    }

    function freeze(uint256 seed) external counted {
        if (settlement.isFrozen()) return;
        // Now and then, let the operator go silent long enough for the liveness timeout.
        if (seed % 8 == 0) vm.warp(settlement.lastFinalizedAt() + settlement.LIVENESS_TIMEOUT());
        if (seed % 2 == 0) {
            try settlement.freezeForLiveness() {
                ++freezes;
            } catch {}
            return;
        }
        uint256 n = _inbox.length;
        if (n == 0) return;
        ISettlement.InboxItem memory item = _inbox[seed % n].item;
        try settlement.freezeForForcedWithdrawal(item) {
            ++freezes;
        } catch {}
    }

    function escape(uint256 actorSeed) external counted {
        uint256 finalized = settlement.finalizedBatchIndex();
        if (!settlement.isFrozen() || finalized == 0) return;
        uint256 a = actorSeed % ACTORS;
        uint256 epoch = _headers[finalized].epoch;
        (uint256[] memory indices, bytes32[] memory leaves) =
            _accountLeaves(_balances[finalized], _dataHash(finalized, epoch));
        bytes32 accountsRoot = MerkleBuilder.root(indices, leaves, DEPTH);
        bytes32[] memory proof = MerkleBuilder.proof(indices, leaves, DEPTH, a + 1);
        vm.prank(actors[a]);
        try settlement.escape(
            accountsRoot,
            "m",
            _globals(finalized, epoch),
            a + 1,
            _balances[finalized][a],
            _dataHash(finalized, epoch),
            proof
        ) {
            if (_escaped[actors[a]]) ghostDoubleEscape = true;
            _escaped[actors[a]] = true;
            ++escapes;
        } catch {}
    }

    function reclaimDeposit(uint256 seed) external counted {
        uint256 n = _inbox.length;
        if (n == 0) return;
        uint256 i = seed % n;
        if (_inbox[i].item.kind != ISettlement.InboxKind.Deposit) return;
        try settlement.reclaimDeposit(_inbox[i].item) {
            if (_inbox[i].reclaimed) ghostDoubleReclaim = true;
            _inbox[i].reclaimed = true;
            ++reclaims;
        } catch {}
    }

    function claimCredit(uint256 seed) external counted {
        address who = _creditHolder(seed);
        uint256 credit = settlement.creditOf(who);
        if (credit == 0) return;
        vm.prank(who);
        settlement.claimCredit(payable(address(0xC1A1)));
        ghostEthOut += credit;
    }

    function reclaimChallengeBond(uint256 seed) external counted {
        uint256 n = _challengeHashes.length;
        if (n == 0) return;
        try settlement.reclaimChallengeBond(_challengeHashes[seed % n]) {} catch {}
    }

    // ------------------------------------------------------------------ views for the invariants

    function creditHolderCount() external pure returns (uint256) {
        return ACTORS + 3;
    }

    function creditHolder(uint256 i) external view returns (address) {
        return _creditHolder(i);
    }

    function challengeHashes() external view returns (bytes32[] memory) {
        return _challengeHashes;
    }

    /// @notice What users may still take out, by the honest model: unescaped equity in the finalized state,
    /// unclaimed withdrawals of finalized batches, and deposits no finalized batch consumed and not reclaimed.
    function claimableQuantums() external view returns (uint256 total) {
        uint256 finalized = settlement.finalizedBatchIndex();
        for (uint256 a; a < ACTORS; ++a) {
            if (!_escaped[actors[a]] && finalized > 0) total += _balances[finalized][a];
        }
        for (uint256 b = 1; b <= finalized; ++b) {
            for (uint256 k; k < _withdrawals[b].length; ++k) {
                if (!_claimed[b][k]) total += _withdrawals[b][k].amountQuantums;
            }
        }
        uint256 consumed = settlement.finalizedInboxConsumed();
        for (uint256 i = consumed; i < _inbox.length; ++i) {
            Item memory it = _inbox[i];
            if (it.item.kind == ISettlement.InboxKind.Deposit && !it.reclaimed) total += it.item.amountQuantums;
        }
    }

    function revertedCount() external view returns (uint256) {
        return revertedHashes.length;
    }

    function finalizedCount() external view returns (uint256) {
        return finalizedHashes.length;
    }

    // ------------------------------------------------------------------ internals

    function _propose(uint256 consumeSeed, uint256 withdrawSeed, bool fraud)
        internal
        returns (bool proposed, ISettlement.BatchHeader memory h)
    {
        if (settlement.isFrozen()) return (false, h);
        uint256 b = settlement.latestBatchIndex() + 1;
        uint256 from = settlement.proposedInboxConsumed();
        uint256 available = settlement.inboxLength();
        uint256 cap = settlement.inboxCap();
        if (cap < available) available = cap;
        uint256 to = consumeSeed == type(uint256).max
            ? available
            : from + (available > from ? consumeSeed % (available - from + 1) : 0);
        _model(b, from, to, withdrawSeed, fraud);
        h = _submit(b, to, fraud);
        return (true, h);
    }

    /// @dev The honest transition: deposits credit, forced requests pay what the balance allows, one voluntary
    /// withdrawal; a fraud adds a withdrawal of more than was ever deposited.
    function _model(uint256 b, uint256 from, uint256 to, uint256 withdrawSeed, bool fraud) internal {
        uint256[ACTORS] memory balances = _balances[b - 1];
        delete _withdrawals[b];
        for (uint256 i = from; i < to; ++i) {
            ISettlement.InboxItem memory item = _inbox[i].item;
            uint256 a = _actorIndex(item.account);
            if (item.kind == ISettlement.InboxKind.Deposit) {
                balances[a] += item.amountQuantums;
            } else {
                uint256 paid = item.amountQuantums < balances[a] ? item.amountQuantums : balances[a];
                if (paid > 0) {
                    balances[a] -= paid;
                    _withdrawals[b].push(Withdrawal(item.account, paid));
                }
            }
        }
        uint256 who = withdrawSeed % ACTORS;
        uint256 voluntary = balances[who] == 0 ? 0 : (withdrawSeed >> 8) % (balances[who] + 1);
        if (voluntary > 0) {
            balances[who] -= voluntary;
            _withdrawals[b].push(Withdrawal(actors[who], voluntary));
        }
        if (fraud) _withdrawals[b].push(Withdrawal(actors[who], 1e18));
        _balances[b] = balances;
        _fraud[b] = fraud;
    }

    function _submit(uint256 b, uint256 to, bool fraud) internal returns (ISettlement.BatchHeader memory h) {
        uint256 epoch = settlement.epoch();
        bytes memory data = abi.encode(b, epoch, fraud);
        h = ISettlement.BatchHeader({
            batchIndex: b,
            epoch: epoch,
            prevStateRoot: settlement.latestStateRoot(),
            stateRoot: _stateRoot(b, epoch),
            withdrawalsRoot: _withdrawalsRoot(b),
            dataHash: keccak256(data),
            inboxConsumed: to,
            inboxAccumulator: settlement.inboxAccumulatorAt(to),
            proposedAt: block.timestamp
        });
        _headers[b] = h;
        uint256 bond = settlement.PROPOSER_BOND_WEI();
        vm.prank(proposer);
        settlement.proposeBatch{value: bond}(h.prevStateRoot, h.stateRoot, h.withdrawalsRoot, to, data);
        ghostEthIn += bond;
        if (!fraud) verifier.setValid(VKEY, settlement.publicValuesOf(h), true);
    }

    function _stateRoot(uint256 b, uint256 epoch) internal view returns (bytes32) {
        (uint256[] memory indices, bytes32[] memory leaves) = _accountLeaves(_balances[b], _dataHash(b, epoch));
        return keccak256(abi.encode(MerkleBuilder.root(indices, leaves, DEPTH), bytes32("m"), _globals(b, epoch)));
    }

    function _withdrawalsRoot(uint256 b) internal view returns (bytes32) {
        uint256 n = _withdrawals[b].length;
        if (n == 0) return EMPTY_WITHDRAWALS;
        return MerkleBuilder.root(MerkleBuilder.denseIndices(n), _withdrawalLeaves(b), 16);
    }

    function _challenge(address who, ISettlement.BatchHeader memory h) internal {
        uint256 bond = settlement.CHALLENGER_BOND_WEI();
        vm.prank(who);
        settlement.challenge{value: bond}(h);
        ghostEthIn += bond;
        _challengeHashes.push(keccak256(abi.encode(h)));
    }

    function _pendingBatch(uint256 seed) internal view returns (bool, ISettlement.BatchHeader memory h) {
        uint256 finalized = settlement.finalizedBatchIndex();
        uint256 latest = settlement.latestBatchIndex();
        if (latest == finalized) return (false, h);
        uint256 b = finalized + 1 + (seed % (latest - finalized));
        return (true, _headers[b]);
    }

    function _withdrawalLeaves(uint256 b) internal view returns (bytes32[] memory leaves) {
        uint256 n = _withdrawals[b].length;
        leaves = new bytes32[](n);
        for (uint256 k; k < n; ++k) {
            Withdrawal memory w = _withdrawals[b][k];
            leaves[k] = keccak256(
                bytes.concat(
                    keccak256(abi.encode(block.chainid, address(settlement), b, k, w.account, w.amountQuantums))
                )
            );
        }
    }

    /// @dev Account 0 is the insurance fund; actor i is account i + 1.
    function _accountLeaves(uint256[ACTORS] memory balances, bytes32 dataHash)
        internal
        view
        returns (uint256[] memory indices, bytes32[] memory leaves)
    {
        indices = new uint256[](ACTORS + 1);
        leaves = new bytes32[](ACTORS + 1);
        leaves[0] = keccak256(bytes.concat(keccak256(abi.encode(address(0), uint256(0), dataHash))));
        for (uint256 a; a < ACTORS; ++a) {
            indices[a + 1] = a + 1;
            leaves[a + 1] = keccak256(bytes.concat(keccak256(abi.encode(actors[a], balances[a], dataHash))));
        }
    }

    function _dataHash(uint256 b, uint256 epoch) internal pure returns (bytes32) {
        return keccak256(abi.encode("data", b, epoch));
    }

    function _globals(uint256 b, uint256 epoch) internal pure returns (bytes32) {
        return keccak256(abi.encode("globals", b, epoch));
    }

    function _actorIndex(address account) internal view returns (uint256) {
        for (uint256 a; a < ACTORS; ++a) {
            if (actors[a] == account) return a;
        }
        revert("not an actor");
    }

    function _creditHolder(uint256 seed) internal view returns (address) {
        uint256 i = seed % (ACTORS + 3);
        if (i < ACTORS) return actors[i];
        if (i == ACTORS) return proposer;
        if (i == ACTORS + 1) return WATCHER;
        return PROVER;
    }
}
