// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBatchVerifier} from "../../src/IBatchVerifier.sol";

/// @notice Accepts a proof iff `keccak256(vkey, publicValues)` was registered as valid, and the proof is the
/// bytes "ok". Tests register the public values they compute independently of the contract.
contract MockVerifier is IBatchVerifier {
    mapping(bytes32 => bool) public valid;
    bool public acceptAll;

    error ProofRejected(bytes32 vkey, bytes32 publicValuesHash);

    function setValid(bytes32 vkey, bytes memory publicValues, bool isValid) external {
        valid[keccak256(abi.encodePacked(vkey, publicValues))] = isValid;
    }

    function setAcceptAll(bool accept) external {
        acceptAll = accept;
    }

    function verify(bytes32 vkey, bytes calldata publicValues, bytes calldata proof) external view {
        if (acceptAll) return;
        if (!valid[keccak256(abi.encodePacked(vkey, publicValues))] || keccak256(proof) != keccak256("ok")) {
            revert ProofRejected(vkey, keccak256(publicValues));
        }
    }
}
