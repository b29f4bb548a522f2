// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBatchVerifier} from "./IBatchVerifier.sol";

/// @title AttestationVerifier
/// @notice An `IBatchVerifier` backed by a k-of-n set of replay attesters, not by a zero-knowledge proof. Each
/// attester replays the batch with the engine and signs the digest below when the result matches; the
/// contract trusts any `THRESHOLD` of them. A zero-knowledge verifier can replace it behind the same interface.
/// @dev Digest: `keccak256(abi.encodePacked(vkey, publicValues))`, signed raw (no EIP-191 prefix).
/// Proof: signatures of 65 bytes `r ‖ s ‖ v` (v = 27 or 28, s in the lower half of the curve order),
/// concatenated in strictly ascending order of the recovered signer address, at least `THRESHOLD` of them.
contract AttestationVerifier is IBatchVerifier {
    /// @notice Signatures needed.
    uint256 public immutable THRESHOLD;
    /// @notice Size of the attester set.
    uint256 public immutable ATTESTER_COUNT;
    /// @notice Whether an address is an attester.
    mapping(address attester => bool) public isAttester;

    /// @dev secp256k1 order / 2: a larger `s` is the malleable twin of a valid signature.
    uint256 internal constant HALF_CURVE_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    /// @notice An attester of the set, emitted once per attester at deployment.
    event AttesterAdded(address indexed attester);

    /// @notice The attester list or threshold given to the constructor is invalid.
    error InvalidAttesterSet(string reason);
    /// @notice The proof is not a non-empty whole number of 65-byte signatures.
    error BadProofLength(uint256 length);
    /// @notice Fewer signatures than the threshold.
    error NotEnoughSignatures(uint256 count, uint256 threshold);
    /// @notice Signature `position` is malformed (v, high s) or recovers to no address.
    error InvalidSignature(uint256 position);
    /// @notice The signature recovers to an address outside the attester set.
    error NotAttester(address signer);
    /// @notice The same attester signed twice.
    error DuplicateSigner(address signer);
    /// @notice Signature `position` is out of ascending signer order.
    error SignersNotSorted(uint256 position);

    /// @param attesters The attester set; no zero address, no duplicates.
    /// @param threshold Signatures needed, 1 to `attesters.length`.
    constructor(address[] memory attesters, uint256 threshold) {
        if (threshold == 0 || threshold > attesters.length) revert InvalidAttesterSet("threshold");
        for (uint256 i; i < attesters.length; ++i) {
            address attester = attesters[i];
            if (attester == address(0)) revert InvalidAttesterSet("zero address");
            if (isAttester[attester]) revert InvalidAttesterSet("duplicate");
            isAttester[attester] = true;
            emit AttesterAdded(attester);
        }
        THRESHOLD = threshold;
        ATTESTER_COUNT = attesters.length;
    }

    /// @notice The digest attesters sign: `keccak256(abi.encodePacked(vkey, publicValues))`.
    /// @param vkey The program key.
    /// @param publicValues The batch's public values.
    function attestationDigest(bytes32 vkey, bytes calldata publicValues) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(vkey, publicValues));
    }

    /// @inheritdoc IBatchVerifier
    function verify(bytes32 vkey, bytes calldata publicValues, bytes calldata proof) external view {
        if (proof.length == 0 || proof.length % 65 != 0) revert BadProofLength(proof.length);
        uint256 count = proof.length / 65; // exact: checked above
        if (count < THRESHOLD) revert NotEnoughSignatures(count, THRESHOLD);
        bytes32 digest = attestationDigest(vkey, publicValues);
        address previous;
        for (uint256 i; i < count; ++i) {
            uint256 offset = i * 65;
            bytes32 r = bytes32(proof[offset:offset + 32]);
            bytes32 s = bytes32(proof[offset + 32:offset + 64]);
            uint8 v = uint8(proof[offset + 64]);
            if ((v != 27 && v != 28) || uint256(s) > HALF_CURVE_ORDER) revert InvalidSignature(i);
            address signer = ecrecover(digest, v, r, s);
            if (signer == address(0)) revert InvalidSignature(i);
            // INVARIANT: strictly ascending signers, so k signatures are k distinct attesters.
            if (signer == previous) revert DuplicateSigner(signer);
            if (signer < previous) revert SignersNotSorted(i);
            if (!isAttester[signer]) revert NotAttester(signer);
            previous = signer;
        }
    }
}
