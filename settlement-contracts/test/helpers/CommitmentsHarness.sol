// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Commitments} from "../../src/lib/Commitments.sol";

/// @notice Exposes the internal Commitments library to tests.
contract CommitmentsHarness {
    function accountLeaf(address account, uint256 escapeEquityQuantums, bytes32 accountDataHash)
        external
        pure
        returns (bytes32)
    {
        return Commitments.accountLeaf(account, escapeEquityQuantums, accountDataHash);
    }

    function withdrawalLeaf(
        uint256 chainId,
        address settlement,
        uint256 batchIndex,
        uint256 withdrawalIndex,
        address account,
        uint256 amountQuantums
    ) external pure returns (bytes32) {
        return Commitments.withdrawalLeaf(chainId, settlement, batchIndex, withdrawalIndex, account, amountQuantums);
    }

    function stateRoot(bytes32 accountsRoot, bytes32 marketsHash, bytes32 globalsHash) external pure returns (bytes32) {
        return Commitments.stateRoot(accountsRoot, marketsHash, globalsHash);
    }

    function rootFromProof(bytes32 leaf, uint256 index, bytes32[] calldata proof) external pure returns (bytes32) {
        return Commitments.rootFromProof(leaf, index, proof);
    }
}
