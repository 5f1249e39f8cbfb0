#!/usr/bin/env bash
# The Debian package the browser tests need, installed when missing and the machine allows it (root with
# apt-get): chromium, which Playwright drives (it never downloads a browser here). Elsewhere those tests
# are skipped, with one line saying how to get it; under CI=true a missing browser fails the run.
set -u
need=()
command -v chromium >/dev/null || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing the Debian package the browser tests use: ${need[*]}"
    if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
        exit 0
    fi
    echo "apt-get could not install ${need[*]}." >&2
fi
if [ "${CI:-}" = true ]; then
    echo "CI=true: the tests need ${need[*]} (apt-get install ${need[*]})." >&2
    exit 1
fi
echo "Skipping the tests that need ${need[*]}: 'sudo apt-get install ${need[*]}' (Debian) runs them too."
