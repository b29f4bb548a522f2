// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "../src/IERC20.sol";
import {MockUSDC} from "../src/MockUSDC.sol";
import {Test} from "./base/Test.sol";

contract MockUSDCTest is Test {
    MockUSDC internal usdc;
    address internal alice = address(0xA11CE);
    address internal bob = address(0xB0B);

    function setUp() public {
        usdc = new MockUSDC();
    }

    function test_metadata() public view {
        assertEq(usdc.decimals(), 6, "decimals");
        assertEq(usdc.symbol(), "USDC", "symbol");
        assertEq(usdc.name(), "Mock USDC", "name");
    }

    function test_mintTransferApprove() public {
        vm.expectEmit(address(usdc));
        emit IERC20.Transfer(address(0), alice, 5e6);
        usdc.mint(alice, 5e6);
        assertEq(usdc.totalSupply(), 5e6, "supply");
        vm.prank(alice);
        assertTrue(usdc.transfer(bob, 2e6), "transfer");
        assertEq(usdc.balanceOf(bob), 2e6, "bob");
        vm.prank(alice);
        usdc.approve(bob, 1e6);
        vm.prank(bob);
        assertTrue(usdc.transferFrom(alice, bob, 1e6), "transferFrom");
        assertEq(usdc.allowance(alice, bob), 0, "allowance spent");
        assertEq(usdc.balanceOf(alice), 2e6, "alice");
    }

    function test_infiniteAllowanceIsNotSpent() public {
        usdc.mint(alice, 5e6);
        vm.prank(alice);
        usdc.approve(bob, type(uint256).max);
        vm.prank(bob);
        assertTrue(usdc.transferFrom(alice, bob, 5e6), "transferFrom");
        assertEq(usdc.allowance(alice, bob), type(uint256).max, "unchanged");
    }

    function test_revertsOnInsufficientBalanceOrAllowance() public {
        usdc.mint(alice, 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(MockUSDC.InsufficientBalance.selector, alice, 1, 2));
        assertFalse(usdc.transfer(bob, 2), "unreachable: reverts");
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(MockUSDC.InsufficientAllowance.selector, alice, bob, 0, 1));
        assertFalse(usdc.transferFrom(alice, bob, 1), "unreachable: reverts");
    }
}
