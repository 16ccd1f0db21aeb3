"""Validate template.yaml offline: cfn-lint on the SAM source, then the SAM transform, then
cfn-lint on the transformed CloudFormation (cfn-lint alone misses many SAM errors).
Exit code 0 only when all three are clean (cfn-lint warnings are printed, errors fail)."""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.public.translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "template.yaml"
LINT_CONFIG = ROOT / "infra" / ".cfnlintrc.yaml"


class OfflinePolicyLoader(ManagedPolicyLoader):
    """The translator only needs managed-policy ARNs for names; we use none, so never call IAM."""

    def __init__(self):
        pass

    def load(self):
        return {}


def lint(path: Path) -> int:
    cmd = [str(Path(sys.executable).with_name("cfn-lint")), "--config-file", str(LINT_CONFIG), "--", str(path)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    out = (result.stdout + result.stderr).strip()
    if out:
        print(out)
    # cfn-lint exit codes are bit flags: 2 = error, 4 = warning, 8 = informational; we fail on both.
    return result.returncode & 6


def main() -> int:
    failed = 0
    print(f"cfn-lint {TEMPLATE.name} (SAM source)")
    failed |= lint(TEMPLATE)

    print("aws-sam-translator transform")
    sam = yaml_parse(TEMPLATE.read_text())
    # Offline: the translator only needs a region name for ARNs it generates.
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
    # As `sam build`/`sam package` do: local CodeUri folders become S3 artefacts before the transform.
    for logical_id, resource in sam.get("Resources", {}).items():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and not str(props.get("CodeUri", "")).startswith("s3://"):
            props["CodeUri"] = f"s3://sam-artifacts/{logical_id}.zip"
    try:
        cfn = transform(sam, {}, OfflinePolicyLoader())
    except InvalidDocumentException as e:
        for cause in e.causes:
            print(f"E SAM: {cause.message}")
        return 1
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(cfn, f, indent=1)
        out = Path(f.name)
    print(f"cfn-lint transformed template ({len(cfn.get('Resources', {}))} resources)")
    failed |= lint(out)
    out.unlink()
    print("template valid" if not failed else "template INVALID")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
