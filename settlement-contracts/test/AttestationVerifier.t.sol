// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AttestationVerifier} from "../src/AttestationVerifier.sol";
import {ISettlement} from "../src/ISettlement.sol";
import {Settlement} from "../src/Settlement.sol";
import {SettlementFixture} from "./helpers/SettlementFixture.sol";

/// @notice The k-of-n attestation verifier on its own, fuzzed, and behind a Settlement.
contract AttestationVerifierTest is SettlementFixture {
    uint256 internal constant HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;
    uint256 internal constant ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141;

    uint256[] internal keys;
    address[] internal attesters;
    AttestationVerifier internal attestation;
    bytes internal pv = abi.encode(uint256(31337), address(0x1234), bytes32("config"), uint256(1));

    function setUp() public override {
        super.setUp();
        // Three attesters, sorted by address so tests can pick signers in order.
        uint256[3] memory raw = [uint256(0xA77E57), 0xB0B5, 0xC0FFEE];
        for (uint256 i; i < raw.length; ++i) {
            keys.push(raw[i]);
            attesters.push(vm.addr(raw[i]));
        }
        _sortByAddress();
        attestation = new AttestationVerifier(attesters, 2);
    }

    function _sortByAddress() internal {
        for (uint256 i; i < keys.length; ++i) {
            for (uint256 j = i + 1; j < keys.length; ++j) {
                if (attesters[j] < attesters[i]) {
                    (attesters[i], attesters[j]) = (attesters[j], attesters[i]);
                    (keys[i], keys[j]) = (keys[j], keys[i]);
                }
            }
        }
    }

    function _digest(bytes32 vkey, bytes memory publicValues) internal pure returns (bytes32) {
        return keccak256(bytes.concat(vkey, publicValues));
    }

    function _sig(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _proof(uint256[] memory signerPositions, bytes32 digest) internal view returns (bytes memory proof) {
        for (uint256 i; i < signerPositions.length; ++i) {
            proof = bytes.concat(proof, _sig(keys[signerPositions[i]], digest));
        }
    }

    function _positions(uint256 a, uint256 b) internal pure returns (uint256[] memory p) {
        p = new uint256[](2);
        (p[0], p[1]) = (a, b);
    }

    // ------------------------------------------------------------------ verify

    function test_verify_acceptsTwoOfThreeInOrder() public view {
        bytes32 digest = _digest(VKEY, pv);
        assertEq(attestation.attestationDigest(VKEY, pv), digest, "documented digest");
        attestation.verify(VKEY, pv, _proof(_positions(0, 1), digest));
        attestation.verify(VKEY, pv, _proof(_positions(0, 2), digest));
        attestation.verify(VKEY, pv, _proof(_positions(1, 2), digest));
        uint256[] memory all = new uint256[](3);
        (all[0], all[1], all[2]) = (0, 1, 2);
        attestation.verify(VKEY, pv, _proof(all, digest));
    }

    function test_verify_rejectsUnsortedSigners() public {
        bytes memory proof = _proof(_positions(1, 0), _digest(VKEY, pv));
        vm.expectRevert(abi.encodeWithSelector(AttestationVerifier.SignersNotSorted.selector, 1));
        attestation.verify(VKEY, pv, proof);
    }

    function test_verify_rejectsADuplicateSigner() public {
        bytes memory proof = _proof(_positions(1, 1), _digest(VKEY, pv));
        vm.expectRevert(abi.encodeWithSelector(AttestationVerifier.DuplicateSigner.selector, attesters[1]));
        attestation.verify(VKEY, pv, proof);
    }

    function test_verify_rejectsTooFewSignatures() public {
        bytes memory proof = _sig(keys[0], _digest(VKEY, pv));
        vm.expectRevert(abi.encodeWithSelector(AttestationVerifier.NotEnoughSignatures.selector, 1, 2));
        attestation.verify(VKEY, pv, proof);
    }

    function test_verify_rejectsABadLength() public {
        bytes memory proof = _proof(_positions(0, 1), _digest(VKEY, pv));
        bytes memory cut = new bytes(proof.length - 1);
        for (uint256 i; i < cut.length; ++i) {
            cut[i] = proof[i];
        }
        vm.expectRevert(abi.encodeWithSelector(AttestationVerifier.BadProofLength.selector, 129));
        attestation.verify(VKEY, pv, cut);
        vm.expectRevert(abi.encodeWithSelector(AttestationVerifier.BadProofLength.selector, 0));
        attestation.verify(VKEY, pv, "");
    }

    function test_verify_rejectsAnOutsider() public {
        uint256 outsiderKey = 0xBAD;
        address outsider = vm.addr(outsiderKey);
        bytes32 digest = _digest(VKEY, pv);
        bytes memory a = _sig(keys[0], digest);
        bytes memory b = _sig(outsiderKey, digest);
        bytes memory proof = attesters[0] < outsider ? bytes.concat(a, b) : bytes.concat(b, a);
        vm.expectRevert(abi.encodeWithSelector(AttestationVerifier.NotAttester.selector, outsider));
        attestation.verify(VKEY, pv, proof);
    }

    function test_verify_signaturesOverOtherValuesOrAnotherKeyFail() public {
        bytes memory proof = _proof(_positions(0, 1), _digest(VKEY, pv));
        vm.expectRevert(); // recovers to unrelated addresses: NotAttester (or unsorted)
        attestation.verify(VKEY, bytes.concat(pv, hex"00"), proof);
        vm.expectRevert();
        attestation.verify(keccak256("other program"), pv, proof);
    }

    function test_verify_rejectsMalformedSignatures() public {
        bytes32 digest = _digest(VKEY, pv);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[0], digest);
        bytes memory second = _sig(keys[1], digest);

        bytes memory badV = bytes.concat(abi.encodePacked(r, s, uint8(v + 2)), second);
        vm.expectRevert(abi.encodeWithSelector(AttestationVerifier.InvalidSignature.selector, 0));
        attestation.verify(VKEY, pv, badV);

        // The malleable twin (n - s, flipped v) recovers the same signer; it is refused.
        bytes32 highS = bytes32(ORDER - uint256(s));
        uint8 flipped = v == 27 ? 28 : 27;
        assertGt(uint256(highS), HALF_ORDER, "twin has a high s");
        bytes memory twin = bytes.concat(abi.encodePacked(r, highS, flipped), second);
        vm.expectRevert(abi.encodeWithSelector(AttestationVerifier.InvalidSignature.selector, 0));
        attestation.verify(VKEY, pv, twin);

        bytes memory zeroR = bytes.concat(abi.encodePacked(bytes32(0), s, v), second);
        vm.expectRevert(abi.encodeWithSelector(AttestationVerifier.InvalidSignature.selector, 0));
        attestation.verify(VKEY, pv, zeroR);
    }

    function test_constructor_rejectsBadSets() public {
        address[] memory none = new address[](0);
        vm.expectRevert(abi.encodeWithSelector(AttestationVerifier.InvalidAttesterSet.selector, "threshold"));
        new AttestationVerifier(none, 0);
        vm.expectRevert(abi.encodeWithSelector(AttestationVerifier.InvalidAttesterSet.selector, "threshold"));
        new AttestationVerifier(attesters, 4);
        address[] memory withZero = new address[](2);
        withZero[0] = attesters[0];
        vm.expectRevert(abi.encodeWithSelector(AttestationVerifier.InvalidAttesterSet.selector, "zero address"));
        new AttestationVerifier(withZero, 1);
        address[] memory dup = new address[](2);
        (dup[0], dup[1]) = (attesters[0], attesters[0]);
        vm.expectRevert(abi.encodeWithSelector(AttestationVerifier.InvalidAttesterSet.selector, "duplicate"));
        new AttestationVerifier(dup, 1);

        AttestationVerifier ok = new AttestationVerifier(attesters, 3);
        assertEq(ok.THRESHOLD(), 3, "threshold");
        assertEq(ok.ATTESTER_COUNT(), 3, "count");
        assertTrue(ok.isAttester(attesters[2]), "member");
        assertFalse(ok.isAttester(address(this)), "not a member");
    }

    /// @notice Any threshold-sized subset of a random 5-attester set passes in ascending order; one signer fewer,
    /// or the same subset in descending order, fails.
    function testFuzz_verify_subsets(uint256 seed, uint8 thresholdSeed, uint8 subsetMask) public {
        uint256 n = 5;
        uint256 threshold = bound(thresholdSeed, 1, n);
        uint256[] memory k = new uint256[](n);
        address[] memory a = new address[](n);
        for (uint256 i; i < n; ++i) {
            k[i] = bound(uint256(keccak256(abi.encode(seed, i))), 1, ORDER - 1);
            a[i] = vm.addr(k[i]);
        }
        // Sort by address.
        for (uint256 i; i < n; ++i) {
            for (uint256 j = i + 1; j < n; ++j) {
                if (a[j] < a[i]) {
                    (a[i], a[j]) = (a[j], a[i]);
                    (k[i], k[j]) = (k[j], k[i]);
                }
            }
        }
        for (uint256 i = 1; i < n; ++i) {
            vm.assume(a[i] != a[i - 1]);
        }
        AttestationVerifier v = new AttestationVerifier(a, threshold);
        bytes32 digest = _digest(VKEY, pv);
        bytes memory proof;
        bytes memory reversed;
        uint256 count;
        for (uint256 i; i < n; ++i) {
            if ((subsetMask >> i) & 1 == 1) {
                bytes memory sig = _sig(k[i], digest);
                proof = bytes.concat(proof, sig);
                reversed = bytes.concat(sig, reversed);
                ++count;
            }
        }
        if (count >= threshold) {
            v.verify(VKEY, pv, proof);
            if (count >= 2) {
                vm.expectRevert(abi.encodeWithSelector(AttestationVerifier.SignersNotSorted.selector, 1));
                v.verify(VKEY, pv, reversed);
            }
        } else if (count == 0) {
            vm.expectRevert(abi.encodeWithSelector(AttestationVerifier.BadProofLength.selector, 0));
            v.verify(VKEY, pv, proof);
        } else {
            vm.expectRevert(abi.encodeWithSelector(AttestationVerifier.NotEnoughSignatures.selector, count, threshold));
            v.verify(VKEY, pv, proof);
        }
    }

    // ------------------------------------------------------------------ behind Settlement

    function test_settlement_provesWithAttestations() public {
        Settlement s = new Settlement(defaultConfig(address(usdc), address(attestation)));
        vm.prank(proposer);
        s.proposeBatch{value: PROPOSER_BOND}(GENESIS, keccak256("r1"), EMPTY_WITHDRAWALS, 0, hex"5c010000");
        ISettlement.BatchHeader memory h = ISettlement.BatchHeader({
            batchIndex: 1,
            epoch: 0,
            prevStateRoot: GENESIS,
            stateRoot: keccak256("r1"),
            withdrawalsRoot: EMPTY_WITHDRAWALS,
            dataHash: keccak256(hex"5c010000"),
            inboxConsumed: 0,
            inboxAccumulator: bytes32(0),
            proposedAt: block.timestamp
        });
        vm.prank(watcher);
        s.challenge{value: CHALLENGER_BOND}(h);
        // The attesters sign the public values written out from the documented layout.
        bytes memory values = abi.encode(
            block.chainid,
            address(s),
            CONFIG_HASH,
            uint256(1),
            GENESIS,
            keccak256("r1"),
            EMPTY_WITHDRAWALS,
            keccak256(hex"5c010000"),
            uint256(0),
            bytes32(0)
        );
        bytes memory proof = _proof(_positions(0, 2), _digest(VKEY, values));
        vm.prank(prover);
        s.prove(h, proof);
        assertEq(s.creditOf(prover), CHALLENGER_BOND, "prover paid");
        s.resolve(h);
        assertEq(s.finalizedStateRoot(), keccak256("r1"), "finalized");
    }
}
