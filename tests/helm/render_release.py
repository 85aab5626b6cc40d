"""Renders one release that `carbonc render` wrote (release-NAME.json and its values file) with the
real Helm engine (helm-python-sdk: Helm v4's Go SDK), the way `helm template` would, and writes the
manifests beside it as one YAML file. On a values refusal (the chart's values.schema.json), prints
Helm's message and exits 2.

    render_release.py RELEASE_JSON OUT_YAML
"""

import json
import sys
from pathlib import Path

import helm_python as helm


def main() -> int:
    release_path, out = Path(sys.argv[1]), Path(sys.argv[2])
    release = json.loads(release_path.read_text())
    values = json.loads((release_path.parent / release["values_file"]).read_text())
    chart = helm.Chart.load(release["chart"])
    try:
        chart.validate_schema(chart.merge_values(values))
        manifests = chart.render(values, name=release["name"], namespace=release["namespace"], is_install=True)
    except helm.HelmValuesError as e:
        print(f"helm: {e}")
        return 2
    docs = [text for _, text in sorted(manifests.items()) if text.strip()]
    out.write_text("---\n".join(docs))
    print(json.dumps({"templates": sorted(manifests), "documents": len(docs)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
