// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IERC20
/// @notice The ERC-20 surface the settlement contract and its tests use.
interface IERC20 {
    /// @notice Emitted on every balance move, minting included (from address 0).
    event Transfer(address indexed from, address indexed to, uint256 value);
    /// @notice Emitted when an allowance is set.
    event Approval(address indexed owner, address indexed spender, uint256 value);

    /// @notice Total tokens in existence.
    function totalSupply() external view returns (uint256);
    /// @notice Tokens held by `account`.
    function balanceOf(address account) external view returns (uint256);
    /// @notice Tokens `spender` may still move for `owner`.
    function allowance(address owner, address spender) external view returns (uint256);
    /// @notice Moves `value` from the caller to `to`.
    function transfer(address to, uint256 value) external returns (bool);
    /// @notice Lets `spender` move up to `value` of the caller's tokens.
    function approve(address spender, uint256 value) external returns (bool);
    /// @notice Moves `value` from `from` to `to` against the caller's allowance.
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}
