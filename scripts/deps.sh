#!/usr/bin/env bash
# Installs the Debian 12 packages attn-mlir builds and tests with: LLVM/MLIR
# 22 (libMLIR.so, mlir-runner, FileCheck, lit), cmake, ninja, a C++17
# compiler. Uses sudo when not root. Skips what is already there.
set -euo pipefail
pkgs=(cmake ninja-build g++ python3 libmlir-22-dev mlir-22-tools llvm-22-dev
      llvm-22-tools zlib1g-dev libzstd-dev python3-xgboost)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "attn-mlir: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
