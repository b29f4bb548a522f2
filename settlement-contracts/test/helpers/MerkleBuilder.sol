// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Builds fixed-depth sparse Merkle trees in Solidity (node = keccak256(left ‖ right), empty leaf 0),
/// independently of src/, so tests can produce roots and bottom-up proofs and compare them with the engine's.
library MerkleBuilder {
    function hashPair(bytes32 left, bytes32 right) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(left, right));
    }

    /// @notice Z[0..depth]: Z[0] = 0, Z[h+1] = H(Z[h] ‖ Z[h]).
    function zeroHashes(uint256 depth) internal pure returns (bytes32[] memory zeros) {
        zeros = new bytes32[](depth + 1);
        for (uint256 h; h < depth; ++h) {
            zeros[h + 1] = hashPair(zeros[h], zeros[h]);
        }
    }

    /// @notice Root of a tree holding `leaves[i]` at `indices[i]` (indices strictly ascending).
    function root(uint256[] memory indices, bytes32[] memory leaves, uint256 depth) internal pure returns (bytes32) {
        (bytes32 top,) = _walk(indices, leaves, depth, type(uint256).max);
        return top;
    }

    /// @notice Bottom-up proof for position `target` (which may be empty).
    function proof(uint256[] memory indices, bytes32[] memory leaves, uint256 depth, uint256 target)
        internal
        pure
        returns (bytes32[] memory siblings)
    {
        (, siblings) = _walk(indices, leaves, depth, target);
    }

    /// @notice Dense variant: `leaves[i]` at index i.
    function denseIndices(uint256 count) internal pure returns (uint256[] memory indices) {
        indices = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            indices[i] = i;
        }
    }

    function _walk(uint256[] memory indices, bytes32[] memory leaves, uint256 depth, uint256 target)
        private
        pure
        returns (bytes32 top, bytes32[] memory siblings)
    {
        require(indices.length == leaves.length, "MerkleBuilder: lengths");
        bytes32[] memory zeros = zeroHashes(depth);
        siblings = new bytes32[](depth);
        uint256[] memory levelIndices = indices;
        bytes32[] memory levelNodes = leaves;
        uint256 position = target;
        for (uint256 h; h < depth; ++h) {
            siblings[h] = zeros[h];
            uint256 n = levelIndices.length;
            uint256[] memory nextIndices = new uint256[](n);
            bytes32[] memory nextNodes = new bytes32[](n);
            uint256 m;
            for (uint256 i; i < n; ++i) {
                uint256 index = levelIndices[i];
                if (i > 0) require(index > levelIndices[i - 1], "MerkleBuilder: indices not ascending");
                if (index == (position ^ 1)) siblings[h] = levelNodes[i];
                bytes32 left;
                bytes32 right;
                if (index & 1 == 0) {
                    left = levelNodes[i];
                    right = zeros[h];
                    if (i + 1 < n && levelIndices[i + 1] == index + 1) {
                        right = levelNodes[i + 1];
                        if (index + 1 == (position ^ 1)) siblings[h] = right;
                        ++i;
                    }
                } else {
                    left = zeros[h];
                    right = levelNodes[i];
                }
                nextIndices[m] = index >> 1;
                nextNodes[m] = hashPair(left, right);
                ++m;
            }
            assembly ("memory-safe") {
                mstore(nextIndices, m)
                mstore(nextNodes, m)
            }
            levelIndices = nextIndices;
            levelNodes = nextNodes;
            position = position == type(uint256).max ? position : position >> 1;
        }
        top = levelIndices.length == 0 ? zeros[depth] : levelNodes[0];
    }
}
