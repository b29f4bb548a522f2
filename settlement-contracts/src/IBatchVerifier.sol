// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IBatchVerifier
/// @notice What the settlement contract asks of a proof system. Today `AttestationVerifier` (k-of-n replay
/// attesters) implements it; a zero-knowledge verifier can implement the same interface later.
interface IBatchVerifier {
    /// @notice Checks `proof` for the batch described by `publicValues` under the program key `vkey`.
    /// @dev Reverts when the proof is not valid; returns nothing when it is (the shape of SP1's
    /// `ISP1Verifier.verifyProof`). `Settlement` calls it with STATICCALL and builds `publicValues` itself,
    /// see `ISettlement.publicValues`.
    /// @param vkey Identifies the state transition program (the engine version) the proof is about.
    /// @param publicValues The ABI-encoded public values of one batch.
    /// @param proof The proof bytes; their format is the verifier's own.
    function verify(bytes32 vkey, bytes calldata publicValues, bytes calldata proof) external view;
}
