// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice A plain balance ledger the odd tokens below share.
abstract contract BaseTestToken {
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    uint256 public totalSupply;

    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
        totalSupply += amount;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        return true;
    }

    function _spend(address from, uint256 amount) internal {
        if (msg.sender != from) {
            require(allowance[from][msg.sender] >= amount, "allowance");
            allowance[from][msg.sender] -= amount;
        }
    }

    function _move(address from, address to, uint256 amount) internal {
        require(balanceOf[from] >= amount, "balance");
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
    }
}

/// @notice Burns `feePpm` of every transfer, so the receiver gets less than the amount asked.
contract FeeOnTransferToken is BaseTestToken {
    uint256 public feePpm;

    constructor(uint256 feePpm_) {
        feePpm = feePpm_;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _feeMove(msg.sender, to, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        _spend(from, amount);
        _feeMove(from, to, amount);
        return true;
    }

    function _feeMove(address from, address to, uint256 amount) internal {
        uint256 fee = amount * feePpm / 1_000_000; // rounded down: the token's business
        _move(from, to, amount);
        balanceOf[to] -= fee;
        totalSupply -= fee;
    }
}

/// @notice Delivers one unit more than asked on `transferFrom` (minted), to test the upper bound on what arrives.
contract BonusToken is BaseTestToken {
    function transfer(address to, uint256 amount) external returns (bool) {
        _move(msg.sender, to, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        _spend(from, amount);
        _move(from, to, amount);
        balanceOf[to] += 1;
        totalSupply += 1;
        return true;
    }
}

/// @notice USDT style: transfer functions return nothing.
contract NoReturnToken is BaseTestToken {
    function transfer(address to, uint256 amount) external {
        _move(msg.sender, to, amount);
    }

    function transferFrom(address from, address to, uint256 amount) external {
        _spend(from, amount);
        _move(from, to, amount);
    }
}

/// @notice Returns false instead of reverting, and moves nothing.
contract FalseReturnToken is BaseTestToken {
    function transfer(address, uint256) external pure returns (bool) {
        return false;
    }

    function transferFrom(address, address, uint256) external pure returns (bool) {
        return false;
    }
}

/// @notice A token that, during a transfer, calls back into a target with preset calldata once, and records
/// whether that call succeeded and what it returned. The outer transfer still goes through.
contract ReentrantToken is BaseTestToken {
    address public target;
    bytes public reentryCall;
    bool public armed;
    bool public reentrySucceeded;
    bytes public reentryReturnData;
    uint256 public reentryCount;

    function arm(address target_, bytes calldata call_) external {
        target = target_;
        reentryCall = call_;
        armed = true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _move(msg.sender, to, amount);
        _reenter();
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        _spend(from, amount);
        _move(from, to, amount);
        _reenter();
        return true;
    }

    function _reenter() internal {
        if (!armed) return;
        armed = false;
        ++reentryCount;
        (bool ok, bytes memory data) = target.call(reentryCall);
        reentrySucceeded = ok;
        reentryReturnData = data;
    }
}

/// @notice Refuses ETH, to test a failing credit payout.
contract RejectingReceiver {
    receive() external payable {
        revert("no ETH");
    }
}

/// @notice On receiving ETH, tries once to claim again from the settlement.
contract ReentrantReceiver {
    address public settlement;
    bool public reentrySucceeded;
    bytes public reentryReturnData;
    bool private _entered;

    constructor(address settlement_) {
        settlement = settlement_;
    }

    /// @dev Acts as a settlement user (e.g. challenges) so that it earns credit.
    function execute(bytes calldata data) external payable {
        (bool ok, bytes memory returned) = settlement.call{value: msg.value}(data);
        require(ok, string(returned));
    }

    function claim() external {
        (bool ok, bytes memory data) = settlement.call(abi.encodeWithSignature("claimCredit(address)", address(this)));
        require(ok, string(data));
    }

    receive() external payable {
        if (_entered) return;
        _entered = true;
        (bool ok, bytes memory data) = settlement.call(abi.encodeWithSignature("claimCredit(address)", address(this)));
        reentrySucceeded = ok;
        reentryReturnData = data;
    }
}
