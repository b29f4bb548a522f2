// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Commitments
/// @notice The leaf, tree and state root encodings of docs/protocol.md ("State commitments"), the same bytes
/// the engine hashes in engine/commitment/.
library Commitments {
    /// @notice `keccak256(bytes.concat(keccak256(abi.encode(account, escapeEquityQuantums, accountDataHash))))`.
    function accountLeaf(address account, uint256 escapeEquityQuantums, bytes32 accountDataHash)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(bytes.concat(keccak256(abi.encode(account, escapeEquityQuantums, accountDataHash))));
    }

    /// @notice The double-hashed withdrawal leaf; it binds chain, contract, batch and position.
    function withdrawalLeaf(
        uint256 chainId,
        address settlement,
        uint256 batchIndex,
        uint256 withdrawalIndex,
        address account,
        uint256 amountQuantums
    ) internal pure returns (bytes32) {
        return keccak256(
            bytes.concat(
                keccak256(abi.encode(chainId, settlement, batchIndex, withdrawalIndex, account, amountQuantums))
            )
        );
    }

    /// @notice `keccak256(abi.encode(accountsRoot, marketsHash, globalsHash))`.
    function stateRoot(bytes32 accountsRoot, bytes32 marketsHash, bytes32 globalsHash) internal pure returns (bytes32) {
        return keccak256(abi.encode(accountsRoot, marketsHash, globalsHash));
    }

    /// @notice The root reached from `leaf` at `index` with bottom-up siblings `proof`. Children are ordered by
    /// position (bit h of `index`), never sorted. The caller checks `index < 2^depth` and
    /// `proof.length == depth`; without those checks one leaf would verify at several indices.
    function rootFromProof(bytes32 leaf, uint256 index, bytes32[] memory proof) internal pure returns (bytes32 node) {
        node = leaf;
        uint256 length = proof.length;
        for (uint256 h; h < length; ++h) {
            bytes32 sibling = proof[h];
            bool nodeIsRight = (index >> h) & 1 == 1;
            assembly ("memory-safe") {
                // Scratch space: node ‖ sibling or sibling ‖ node, 64 bytes.
                mstore(mul(nodeIsRight, 0x20), node)
                mstore(mul(iszero(nodeIsRight), 0x20), sibling)
                node := keccak256(0x00, 0x40)
            }
        }
    }
}
