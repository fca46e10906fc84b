#!/usr/bin/env bash
# Debian's chromium for the headless rendering tests (Data Docs, report). Never a browser download
# by a test tool: the package comes from the distribution's registry.
set -eu
if command -v chromium >/dev/null 2>&1 && dpkg -s fonts-noto-cjk >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "chromium is missing: install Debian's package (sudo apt-get install -y chromium)" >&2
  exit 1
fi
echo "installing Debian's chromium"
DEBIAN_FRONTEND=noninteractive apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null
command -v chromium
