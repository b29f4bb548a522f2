// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title SafeTransferLib
/// @notice ERC-20 transfers that also work with tokens that return nothing (USDT style), and that report
/// failure as `false` so the caller reverts with its own error.
library SafeTransferLib {
    /// @notice `token.transfer(to, amount)`; true iff the call succeeded and returned true or nothing.
    function trySafeTransfer(address token, address to, uint256 amount) internal returns (bool ok) {
        return _call(token, abi.encodeWithSelector(0xa9059cbb, to, amount));
    }

    /// @notice `token.transferFrom(from, to, amount)`; true iff the call succeeded and returned true or nothing.
    function trySafeTransferFrom(address token, address from, address to, uint256 amount) internal returns (bool ok) {
        return _call(token, abi.encodeWithSelector(0x23b872dd, from, to, amount));
    }

    function _call(address token, bytes memory callData) private returns (bool ok) {
        assembly ("memory-safe") {
            // Only the first return word is copied (to scratch space), so a huge return cannot cost us memory.
            let success := call(gas(), token, 0, add(callData, 0x20), mload(callData), 0x00, 0x20)
            // Empty return data counts as success only if the token has code: a call to an address without
            // code succeeds and returns nothing.
            let returnedNothing := and(iszero(returndatasize()), gt(extcodesize(token), 0))
            let returnedTrue := and(gt(returndatasize(), 31), eq(mload(0x00), 1))
            ok := and(success, or(returnedNothing, returnedTrue))
        }
    }
}
