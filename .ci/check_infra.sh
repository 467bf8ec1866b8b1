#!/usr/bin/env bash
# Offline checks of infra/: terraform fmt, validate (against the local provider mirror) and checkov.
# Called by .ci/run; run it by hand with `bash .ci/check_infra.sh`. Needs no network beyond PyPI
# (first run only, to install checkov into .venv-checkov) and no AWS credentials.
set -euo pipefail

cd "$(dirname "$0")/.."
INFRA_DIR=infra
CHECKOV_VENV=${CHECKOV_VENV:-.venv-checkov}
# Provider mirror used for `terraform validate`; the AWS provider cannot be downloaded here.
TF_PLUGIN_DIR=${TF_PLUGIN_DIR:-/opt/tf-plugins}
# The machine points TF_CLI_CONFIG_FILE at a file that may not exist; terraform then warns on every call.
if [[ -n "${TF_CLI_CONFIG_FILE:-}" && ! -f "${TF_CLI_CONFIG_FILE}" ]]; then
    unset TF_CLI_CONFIG_FILE
fi
export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1

start=$(date +%s)

# --- terraform fmt / validate -------------------------------------------------
if command -v terraform >/dev/null 2>&1; then
    echo "== terraform fmt -check -recursive ${INFRA_DIR}"
    if ! terraform fmt -check -recursive -diff "${INFRA_DIR}"; then
        echo "FAIL: run 'terraform fmt -recursive ${INFRA_DIR}'" >&2
        exit 1
    fi
    if [[ -d "${TF_PLUGIN_DIR}/registry.terraform.io/hashicorp/aws" ]]; then
        echo "== terraform validate (providers from ${TF_PLUGIN_DIR})"
        work=$(mktemp -d)
        trap 'rm -rf "${work}"' EXIT
        cp -r "${INFRA_DIR}" "${work}/infra"
        rm -rf "${work}/infra/.terraform" "${work}/infra/.terraform.lock.hcl"
        terraform -chdir="${work}/infra" init -backend=false -input=false -no-color \
            -plugin-dir="${TF_PLUGIN_DIR}" >"${work}/init.log" 2>&1 || { cat "${work}/init.log"; exit 1; }
        terraform -chdir="${work}/infra" validate -no-color
    else
        echo "FAIL: no AWS provider under ${TF_PLUGIN_DIR} (the machine image ships one; set TF_PLUGIN_DIR)" >&2
        exit 1
    fi
else
    echo "FAIL: no terraform binary found (the machine image ships one): fmt and validate cannot run" >&2
    exit 1
fi

# --- checkov ----------------------------------------------------------------------
# checkov lives in its own venv: it pins an old boto3 and ships its own python-hcl2 fork.
if [[ ! -x "${CHECKOV_VENV}/bin/checkov" ]]; then
    echo "== installing checkov into ${CHECKOV_VENV}"
    python3 -m venv "${CHECKOV_VENV}"
    "${CHECKOV_VENV}/bin/python" -m pip install --quiet --disable-pip-version-check checkov 2>&1 \
        | grep -v "is ignored: it is neither a file nor a directory" || true
    "${CHECKOV_VENV}/bin/checkov" --version >/dev/null
fi

echo "== checkov $("${CHECKOV_VENV}/bin/checkov" --version) on ${INFRA_DIR}"
# --skip-download: never call Prisma Cloud for policies or metadata; --framework terraform: no other scanners.
# checkov exits non-zero on any failed check.
BC_SKIP_MAPPING=TRUE "${CHECKOV_VENV}/bin/checkov" \
    -d "${INFRA_DIR}" \
    --framework terraform \
    --skip-download \
    --download-external-modules false \
    --compact \
    --quiet

echo "infra checks passed in $(( $(date +%s) - start ))s"
