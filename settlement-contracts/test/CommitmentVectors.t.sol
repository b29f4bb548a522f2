// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ISettlement} from "../src/ISettlement.sol";
import {MockUSDC} from "../src/MockUSDC.sol";
import {Settlement} from "../src/Settlement.sol";
import {Test} from "./base/Test.sol";
import {Vm} from "./base/Vm.sol";
import {CommitmentsHarness} from "./helpers/CommitmentsHarness.sol";
import {MerkleBuilder} from "./helpers/MerkleBuilder.sol";
import {MockVerifier} from "./mocks/MockVerifier.sol";

/// @notice Checks every case of engine/commitment/vectors/*.json against the Solidity encodings: the
/// contract's own library (src/lib/Commitments.sol) and, for trees, an independent Solidity tree builder that
/// must reproduce the engine's roots and proofs. A vector file this test does not know fails it.
contract CommitmentVectorsTest is Test {
    string internal constant DIR = "../engine/commitment/vectors/";
    CommitmentsHarness internal commitments;

    function setUp() public {
        commitments = new CommitmentsHarness();
    }

    function test_everyVectorFileIsChecked() public view {
        Vm.DirEntry[] memory entries = vm.readDir(DIR);
        uint256 jsonFiles;
        for (uint256 i; i < entries.length; ++i) {
            string memory path = entries[i].path;
            if (!_endsWith(path, ".json")) continue;
            ++jsonFiles;
            assertTrue(_isKnown(path), string.concat("unknown vector file (add a check for it): ", path));
        }
        assertEq(jsonFiles, 6, "vector files");
    }

    function test_accountLeaves() public view {
        string memory json = _load("accountLeaves.json", "accountLeaf");
        uint256 n = _caseCount(json);
        assertGt(n, 0, "no cases");
        for (uint256 i; i < n; ++i) {
            string memory c = _case(i);
            bytes32 leaf = commitments.accountLeaf(
                vm.parseJsonAddress(json, string.concat(c, ".address")),
                vm.parseJsonUint(json, string.concat(c, ".escapeEquityQuantums")),
                vm.parseJsonBytes32(json, string.concat(c, ".accountDataHash"))
            );
            assertEq(leaf, vm.parseJsonBytes32(json, string.concat(c, ".leaf")), _name(json, c));
        }
    }

    function test_withdrawalLeaves() public view {
        string memory json = _load("withdrawalLeaves.json", "withdrawalLeaf");
        uint256 n = _caseCount(json);
        assertGt(n, 0, "no cases");
        for (uint256 i; i < n; ++i) {
            string memory c = _case(i);
            bytes32 leaf = commitments.withdrawalLeaf(
                vm.parseJsonUint(json, string.concat(c, ".chainId")),
                vm.parseJsonAddress(json, string.concat(c, ".settlement")),
                vm.parseJsonUint(json, string.concat(c, ".batchIndex")),
                vm.parseJsonUint(json, string.concat(c, ".withdrawalIndex")),
                vm.parseJsonAddress(json, string.concat(c, ".account")),
                vm.parseJsonUint(json, string.concat(c, ".amountQuantums"))
            );
            assertEq(leaf, vm.parseJsonBytes32(json, string.concat(c, ".leaf")), _name(json, c));
        }
    }

    function test_merkleTrees() public view {
        string memory json = _load("merkleTrees.json", "merkleTree");
        uint256 n = _caseCount(json);
        assertGt(n, 0, "no cases");
        for (uint256 i; i < n; ++i) {
            string memory c = _case(i);
            string memory name = _name(json, c);
            uint256 depth = vm.parseJsonUint(json, string.concat(c, ".depth"));
            bytes32 root = vm.parseJsonBytes32(json, string.concat(c, ".root"));
            uint256 count = _count(json, string.concat(c, ".leaves"));
            uint256[] memory indices = new uint256[](count);
            bytes32[] memory leaves = new bytes32[](count);
            for (uint256 k; k < count; ++k) {
                string memory l = string.concat(c, ".leaves[", vm.toString(k), "]");
                indices[k] = vm.parseJsonUint(json, string.concat(l, ".index"));
                leaves[k] = vm.parseJsonBytes32(json, string.concat(l, ".leaf"));
                bytes32[] memory proof = vm.parseJsonBytes32Array(json, string.concat(l, ".proof"));
                assertEq(proof.length, depth, string.concat(name, ": proof length"));
                // TypeScript proof, Solidity verifier.
                assertEq(commitments.rootFromProof(leaves[k], indices[k], proof), root, name);
            }
            for (uint256 k; k < count; ++k) {
                // Solidity-built proof equals the TypeScript one.
                bytes32[] memory built = MerkleBuilder.proof(indices, leaves, depth, indices[k]);
                bytes32[] memory proof =
                    vm.parseJsonBytes32Array(json, string.concat(c, ".leaves[", vm.toString(k), "].proof"));
                assertEq(abi.encode(built), abi.encode(proof), string.concat(name, ": rebuilt proof"));
            }
            // A case lists every non-empty leaf, so the Solidity builder must reach the same root.
            assertEq(MerkleBuilder.root(indices, leaves, depth), root, string.concat(name, ": rebuilt root"));
        }
    }

    function test_withdrawalsRoots() public view {
        string memory json = _load("withdrawalsRoots.json", "withdrawalsRoot");
        uint256 n = _caseCount(json);
        assertGt(n, 0, "no cases");
        for (uint256 i; i < n; ++i) {
            string memory c = _case(i);
            string memory name = _name(json, c);
            bytes32 root = vm.parseJsonBytes32(json, string.concat(c, ".root"));
            uint256 count = _count(json, string.concat(c, ".withdrawals"));
            bytes32[] memory leaves = _withdrawalLeaves(json, c, count);
            assertEq(MerkleBuilder.root(MerkleBuilder.denseIndices(count), leaves, 16), root, name);
            for (uint256 k; k < count; ++k) {
                bytes32[] memory proof =
                    vm.parseJsonBytes32Array(json, string.concat(c, ".proofs[", vm.toString(k), "]"));
                assertEq(proof.length, 16, string.concat(name, ": proof length"));
                assertEq(commitments.rootFromProof(leaves[k], k, proof), root, name);
            }
        }
    }

    /// @notice The withdrawal vectors, claimed through `Settlement.withdraw` itself: the contract is placed at the
    /// vector's settlement address, batch `batchIndex` is finalized with the vector's root, and every
    /// withdrawal is paid with the vector's proof.
    function test_withdrawalsRoots_claimThroughSettlement() public {
        string memory json = _load("withdrawalsRoots.json", "withdrawalsRoot");
        uint256 n = _caseCount(json);
        for (uint256 i; i < n; ++i) {
            string memory c = _case(i);
            uint256 count = _count(json, string.concat(c, ".withdrawals"));
            if (count == 0) continue;
            // Cases share the settlement address and batch index; each starts from the same clean state.
            uint256 clean = vm.snapshotState();
            vm.chainId(vm.parseJsonUint(json, string.concat(c, ".chainId")));
            Settlement settlement = _settlementAt(vm.parseJsonAddress(json, string.concat(c, ".settlement")));
            uint256 batchIndex = vm.parseJsonUint(json, string.concat(c, ".batchIndex"));
            _finalizeUpTo(settlement, batchIndex, vm.parseJsonBytes32(json, string.concat(c, ".root")));
            for (uint256 k; k < count; ++k) {
                _claimVector(settlement, json, c, batchIndex, k);
            }
            vm.revertToState(clean);
        }
    }

    function _claimVector(Settlement settlement, string memory json, string memory c, uint256 batchIndex, uint256 k)
        internal
    {
        string memory w = string.concat(c, ".withdrawals[", vm.toString(k), "]");
        address account = vm.parseJsonAddress(json, string.concat(w, ".account"));
        uint256 amount = vm.parseJsonUint(json, string.concat(w, ".amountQuantums"));
        bytes32[] memory proof = vm.parseJsonBytes32Array(json, string.concat(c, ".proofs[", vm.toString(k), "]"));
        MockUSDC token = MockUSDC(settlement.TOKEN());
        uint256 before = token.balanceOf(account);
        settlement.withdraw(batchIndex, k, account, amount, proof);
        assertEq(token.balanceOf(account) - before, amount, _name(json, c));
        assertTrue(settlement.isWithdrawn(batchIndex, k), "spent");
    }

    function test_stateRoots() public view {
        string memory json = _load("stateRoots.json", "stateRoot");
        uint256 n = _caseCount(json);
        assertGt(n, 0, "no cases");
        for (uint256 i; i < n; ++i) {
            string memory c = _case(i);
            bytes32 root = commitments.stateRoot(
                vm.parseJsonBytes32(json, string.concat(c, ".accountsRoot")),
                vm.parseJsonBytes32(json, string.concat(c, ".marketsHash")),
                vm.parseJsonBytes32(json, string.concat(c, ".globalsHash"))
            );
            assertEq(root, vm.parseJsonBytes32(json, string.concat(c, ".stateRoot")), _name(json, c));
        }
    }

    function test_zeroHashes() public view {
        string memory json = _load("zeroHashes.json", "zeroHashes");
        uint256 n = _caseCount(json);
        assertEq(n, 1, "one case");
        bytes32[] memory expected = vm.parseJsonBytes32Array(json, ".cases[0].hashes");
        assertEq(expected.length, 33, "Z[0..32]");
        bytes32[] memory zeros = MerkleBuilder.zeroHashes(32);
        for (uint256 h; h <= 32; ++h) {
            assertEq(zeros[h], expected[h], string.concat("Z[", vm.toString(h), "]"));
        }
    }

    // ------------------------------------------------------------------ helpers

    function _withdrawalLeaves(string memory json, string memory c, uint256 count)
        internal
        view
        returns (bytes32[] memory leaves)
    {
        leaves = new bytes32[](count);
        for (uint256 k; k < count; ++k) {
            leaves[k] = _withdrawalLeaf(json, c, k);
        }
    }

    function _withdrawalLeaf(string memory json, string memory c, uint256 k) internal view returns (bytes32) {
        string memory w = string.concat(c, ".withdrawals[", vm.toString(k), "]");
        assertEq(vm.parseJsonUint(json, string.concat(w, ".withdrawalIndex")), k, "withdrawals in order");
        return commitments.withdrawalLeaf(
            vm.parseJsonUint(json, string.concat(c, ".chainId")),
            vm.parseJsonAddress(json, string.concat(c, ".settlement")),
            vm.parseJsonUint(json, string.concat(c, ".batchIndex")),
            k,
            vm.parseJsonAddress(json, string.concat(w, ".account")),
            vm.parseJsonUint(json, string.concat(w, ".amountQuantums"))
        );
    }

    /// @dev Deploys a Settlement and copies its code to `target`. Immutables live in the code; the storage at `target`
    /// starts empty (genesis root 0, inbox cap 0), which is all this test needs.
    function _settlementAt(address target) internal returns (Settlement) {
        MockUSDC usdc = new MockUSDC();
        MockVerifier verifier = new MockVerifier();
        Settlement template = new Settlement(
            ISettlement.SettlementConfig({
                token: address(usdc),
                verifier: address(verifier),
                vkey: bytes32(0),
                configHash: bytes32(0),
                genesisStateRoot: bytes32(0),
                proposer: address(this),
                accountTreeDepth: 24,
                challengeWindow: 60,
                proveWindow: 60,
                forcedInclusionDeadline: 600,
                livenessTimeout: 600,
                depositReclaimDelay: 600,
                proposerBondWei: 0,
                challengerBondWei: 0,
                forcedWithdrawalFeeWei: 0
            })
        );
        vm.etch(target, address(template).code);
        usdc.mint(target, type(uint128).max);
        return Settlement(target);
    }

    function _finalizeUpTo(Settlement settlement, uint256 batchIndex, bytes32 withdrawalsRoot) internal {
        bytes32 root = settlement.latestStateRoot();
        for (uint256 b = 1; b <= batchIndex; ++b) {
            bytes32 next = keccak256(abi.encode("root", b));
            bytes32 wRoot = b == batchIndex ? withdrawalsRoot : bytes32(0);
            settlement.proposeBatch(root, next, wRoot, 0, "");
            ISettlement.BatchHeader memory header = ISettlement.BatchHeader({
                batchIndex: b,
                epoch: 0,
                prevStateRoot: root,
                stateRoot: next,
                withdrawalsRoot: wRoot,
                dataHash: keccak256(""),
                inboxConsumed: 0,
                inboxAccumulator: bytes32(0),
                proposedAt: block.timestamp
            });
            vm.warp(block.timestamp + 60);
            settlement.resolve(header);
            root = next;
        }
        assertEq(settlement.withdrawalsRootOf(batchIndex), withdrawalsRoot, "finalized withdrawals root");
    }

    function _load(string memory file, string memory kind) internal view returns (string memory json) {
        json = vm.readFile(string.concat(DIR, file));
        assertEq(vm.parseJsonString(json, ".kind"), kind, string.concat(file, ": kind"));
    }

    function _case(uint256 i) internal pure returns (string memory) {
        return string.concat(".cases[", vm.toString(i), "]");
    }

    function _name(string memory json, string memory c) internal pure returns (string memory) {
        return vm.parseJsonString(json, string.concat(c, ".name"));
    }

    function _caseCount(string memory json) internal view returns (uint256) {
        return _count(json, ".cases");
    }

    function _count(string memory json, string memory arrayKey) internal view returns (uint256 n) {
        while (vm.keyExistsJson(json, string.concat(arrayKey, "[", vm.toString(n), "]"))) {
            ++n;
        }
    }

    function _isKnown(string memory path) internal pure returns (bool) {
        string[6] memory known = [
            "/accountLeaves.json",
            "/withdrawalLeaves.json",
            "/merkleTrees.json",
            "/withdrawalsRoots.json",
            "/stateRoots.json",
            "/zeroHashes.json"
        ];
        for (uint256 i; i < known.length; ++i) {
            if (_endsWith(path, known[i])) return true;
        }
        return false;
    }

    function _endsWith(string memory s, string memory suffix) internal pure returns (bool) {
        bytes memory a = bytes(s);
        bytes memory b = bytes(suffix);
        if (b.length > a.length) return false;
        for (uint256 i; i < b.length; ++i) {
            if (a[a.length - b.length + i] != b[i]) return false;
        }
        return true;
    }
}
