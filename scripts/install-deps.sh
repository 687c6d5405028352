#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs every Debian 12 package Continuo builds, runs and tests with (apt-get).
# Called by both README commands and by .ci/run; safe to run again.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config python3 clang
  libopenblas-dev libcjson-dev libsndfile1-dev libsamplerate0-dev
  libzmq3-dev libsodium-dev libprotobuf-c-dev protobuf-c-compiler
  lv2-dev libjack-jackd2-dev liblilv-dev
  jalv lilv-utils jackd2 sordi procps
  ardour
)

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
