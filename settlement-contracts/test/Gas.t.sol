// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AttestationVerifier} from "../src/AttestationVerifier.sol";
import {ISettlement} from "../src/ISettlement.sol";
import {Settlement} from "../src/Settlement.sol";
import {SettlementFixture} from "./helpers/SettlementFixture.sol";
import {MerkleBuilder} from "./helpers/MerkleBuilder.sol";

/// @notice Gas of each user-facing call, as a transaction would pay it. Each test makes exactly one measured
/// call; everything it needs is prepared in setUp (so the call starts with cold storage, as a transaction does).
/// Printed as `GAS <name> tx=<total> exec=<callee frame> calldata=<intrinsic data gas> floor=<EIP-7623 floor>`,
/// where tx = max(21000 + calldata + exec, floor). `forge snapshot --match-contract GasTest` keeps the
/// committed .gas-snapshot; the printed lines are the figures quoted in docs/contracts.md.
contract GasTest is SettlementFixture {
    uint256 internal constant TX_BASE = 21_000;
    uint256 internal constant WITHDRAW_TARGET = 100_000;
    address internal constant FRESH = address(0xF2E54); // never held a token

    AttestationVerifier internal attestation;
    Settlement internal s; // behind the attestation verifier
    uint256[] internal keys;

    ISettlement.BatchHeader internal challengedHeader;
    bytes internal attestationProof;
    ISettlement.BatchHeader internal pendingHeader;
    bytes32 internal tipRoot;
    uint256 internal tipConsumed;
    bytes internal data1k;
    bytes internal data10k;

    Withdrawal[] internal _ws;
    bytes32[] internal withdrawProof;
    bytes32[] internal freshProof;
    uint256 internal withdrawBatch;

    bytes32 internal escapeAccountsRoot;
    bytes32[] internal escapeProof;

    function setUp() public override {
        super.setUp();
        uint256[3] memory raw = [uint256(0xA77E57), 0xB0B5, 0xC0FFEE];
        address[] memory attesters = new address[](3);
        for (uint256 i; i < 3; ++i) {
            keys.push(raw[i]);
            attesters[i] = vm.addr(raw[i]);
        }
        for (uint256 i; i < 3; ++i) {
            for (uint256 j = i + 1; j < 3; ++j) {
                if (attesters[j] < attesters[i]) {
                    (attesters[i], attesters[j]) = (attesters[j], attesters[i]);
                    (keys[i], keys[j]) = (keys[j], keys[i]);
                }
            }
        }
        attestation = new AttestationVerifier(attesters, 2);
        settlement = new Settlement(defaultConfig(address(usdc), address(attestation)));
        s = settlement;
        vm.prank(alice);
        usdc.approve(address(s), type(uint256).max);
        vm.prank(bob);
        usdc.approve(address(s), type(uint256).max);
        vm.prank(carol);
        usdc.approve(address(s), type(uint256).max);

        // Steady state: some deposits, a finalized batch with withdrawals, a pending batch.
        depositAs(alice, 1000e6, alice);
        depositAs(bob, 1000e6, bob);
        _ws.push(Withdrawal(alice, 100e6));
        _ws.push(Withdrawal(bob, 50e6));
        _ws.push(Withdrawal(carol, 25e6));
        _ws.push(Withdrawal(FRESH, 10e6));
        withdrawBatch = 1;
        AccountLeaf[] memory accounts = new AccountLeaf[](3);
        accounts[0] = AccountLeaf(0, address(0), 0, keccak256("fund"));
        accounts[1] = AccountLeaf(1, alice, 800e6, keccak256("alice"));
        accounts[2] = AccountLeaf(2, bob, 900e6, keccak256("bob"));
        (uint256[] memory indices, bytes32[] memory leaves) = accountsTree(accounts);
        escapeAccountsRoot = MerkleBuilder.root(indices, leaves, DEPTH);
        escapeProof = MerkleBuilder.proof(indices, leaves, DEPTH, 1);
        finalize(propose(stateRootOf(escapeAccountsRoot, "m", "g"), withdrawalsRootOf(1, _ws), 2, hex"01"));
        withdrawProof = withdrawalProof(1, _ws, 2); // carol: holds tokens already (minted in the fixture)
        freshProof = withdrawalProof(1, _ws, 3);

        pendingHeader = proposeSimple(keccak256("pending"));
        challengedHeader = proposeSimple(keccak256("challenged"));
        challengeAs(watcher, challengedHeader);
        bytes32 digest = keccak256(bytes.concat(VKEY, expectedPublicValues(challengedHeader)));
        for (uint256 i; i < 2; ++i) {
            (uint8 v, bytes32 r, bytes32 sg) = vm.sign(keys[i], digest);
            attestationProof = bytes.concat(attestationProof, abi.encodePacked(r, sg, v));
        }
        tipRoot = s.latestStateRoot();
        tipConsumed = s.proposedInboxConsumed();
        data1k = _pseudoRandom(1024);
        data10k = _pseudoRandom(10_240);
        vm.warp(block.timestamp + 60);
    }

    function _pseudoRandom(uint256 length) internal pure returns (bytes memory out) {
        out = new bytes(length);
        for (uint256 i; i < length; i += 32) {
            bytes32 word = keccak256(abi.encode(i));
            for (uint256 j; j < 32 && i + j < length; ++j) {
                out[i + j] = word[j];
            }
        }
    }

    /// @dev Prints and returns the transaction gas of the last call made with `callData`.
    function _report(string memory name, bytes memory callData) internal view returns (uint256 txGas) {
        uint256 exec = vm.lastCallGas().gasTotalUsed;
        uint256 zeros;
        for (uint256 i; i < callData.length; ++i) {
            if (callData[i] == 0) ++zeros;
        }
        uint256 nonZeros = callData.length - zeros;
        uint256 dataGas = zeros * 4 + nonZeros * 16;
        uint256 floor = TX_BASE + 10 * (zeros + 4 * nonZeros);
        txGas = TX_BASE + dataGas + exec;
        if (floor > txGas) txGas = floor;
        log(
            string.concat(
                "GAS ",
                name,
                " tx=",
                vm.toString(txGas),
                " exec=",
                vm.toString(exec),
                " calldata=",
                vm.toString(dataGas),
                " floor=",
                vm.toString(floor)
            )
        );
    }

    function _proposeCall(bytes memory data) internal view returns (bytes memory) {
        return abi.encodeCall(
            ISettlement.proposeBatch, (tipRoot, keccak256("next"), keccak256("withdrawals"), tipConsumed, data)
        );
    }

    function _callAs(address who, uint256 value, bytes memory callData) internal {
        vm.prank(who);
        (bool ok, bytes memory returned) = address(s).call{value: value}(callData);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(returned, 0x20), mload(returned))
            }
        }
    }

    function test_gas_proposeBatch_base() public {
        bytes memory callData = _proposeCall(hex"5c010000"); // an empty batch in the engine's codec
        _callAs(proposer, PROPOSER_BOND, callData);
        assertLe(_report("propose_base", callData), 100_000, "target gas_propose_base");
    }

    function test_gas_proposeBatch_1kb() public {
        bytes memory callData = _proposeCall(data1k);
        _callAs(proposer, PROPOSER_BOND, callData);
        _report("propose_1kb", callData);
    }

    function test_gas_proposeBatch_10kb() public {
        bytes memory callData = _proposeCall(data10k);
        _callAs(proposer, PROPOSER_BOND, callData);
        _report("propose_10kb", callData);
    }

    /// @dev Execution gas only: the blob itself pays 131,072 blob gas in its own fee market (see gas.bench.ts).
    function test_gas_proposeBatchBlobs_oneBlob() public {
        bytes32[] memory hashes = new bytes32[](1);
        hashes[0] = bytes32((uint256(keccak256("blob")) >> 8) | (uint256(1) << 248));
        vm.blobhashes(hashes);
        bytes memory callData = abi.encodeCall(
            ISettlement.proposeBatchBlobs, (tipRoot, keccak256("next"), keccak256("withdrawals"), tipConsumed)
        );
        _callAs(proposer, PROPOSER_BOND, callData);
        assertLe(_report("propose_blobs_1", callData), 100_000, "target gas_propose_base, blob variant");
    }

    function test_gas_withdraw() public {
        bytes memory callData = abi.encodeCall(ISettlement.withdraw, (withdrawBatch, 2, carol, 25e6, withdrawProof));
        _callAs(carol, 0, callData);
        assertLe(_report("withdraw", callData), WITHDRAW_TARGET, "target gas_withdraw");
    }

    function test_gas_withdraw_toAnEmptyBalance() public {
        // Worst case: the recipient holds no tokens yet, so its balance slot goes from zero to non-zero.
        bytes memory callData = abi.encodeCall(ISettlement.withdraw, (withdrawBatch, 3, FRESH, 10e6, freshProof));
        _callAs(FRESH, 0, callData);
        _report("withdraw_empty_balance", callData);
    }

    function test_gas_escape() public {
        vm.warp(block.timestamp + LIVENESS_TIMEOUT);
        s.freezeForLiveness();
        bytes memory callData = abi.encodeCall(
            ISettlement.escape, (escapeAccountsRoot, "m", "g", 1, 800e6, keccak256("alice"), escapeProof)
        );
        // freezeForLiveness warmed only the chain slot; the escape reads it too (100 gas difference at most).
        _callAs(alice, 0, callData);
        assertLe(_report("escape", callData), 120_000, "target gas_escape");
    }

    function test_gas_prove_attestation_2of3() public {
        bytes memory callData = abi.encodeCall(ISettlement.prove, (challengedHeader, attestationProof));
        _callAs(prover, 0, callData);
        assertLe(_report("prove_attestation", callData), 120_000, "target gas_prove_attestation");
    }

    function test_gas_deposit() public {
        bytes memory callData = abi.encodeCall(ISettlement.deposit, (100e6, carol));
        _callAs(carol, 0, callData);
        _report("deposit", callData);
    }

    function test_gas_requestForcedWithdrawal() public {
        bytes memory callData = abi.encodeCall(ISettlement.requestForcedWithdrawal, (100e6));
        _callAs(carol, FORCED_FEE, callData);
        _report("forced_request", callData);
    }

    function test_gas_challenge() public {
        bytes memory callData = abi.encodeCall(ISettlement.challenge, (pendingHeader));
        _callAs(watcher, CHALLENGER_BOND, callData);
        _report("challenge", callData);
    }

    function test_gas_resolve_finalize() public {
        vm.warp(pendingHeader.proposedAt + CHALLENGE_WINDOW);
        bytes memory callData = abi.encodeCall(ISettlement.resolve, (pendingHeader));
        _callAs(alice, 0, callData);
        _report("resolve_finalize", callData);
    }
}
