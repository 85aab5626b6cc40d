"""Runs a canary's script as Synthetics would: unpacks the zip carbonc sends in `CreateCanary`,
imports the handler's module from its `python/` folder and calls `handler(event, context)`.
Prints the outcome as JSON: the handler's result, or the exception that fails the run.

    python run_canary.py ENDPOINT REGION ZIP HANDLER

AWS calls the script makes (Secrets Manager, CloudWatch) go to the emulator at ENDPOINT.
"""
import contextlib
import importlib.util
import json
import os
import sys
import tempfile
import zipfile


def main():
    endpoint, region, archive, handler = sys.argv[1:5]
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
    )
    module, function = handler.rsplit(".", 1)
    with tempfile.TemporaryDirectory() as root:
        zipfile.ZipFile(archive).extractall(root)
        path = os.path.join(root, "python", f"{module}.py")
        spec = importlib.util.spec_from_file_location(module, path)
        loaded = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loaded)
        try:
            # What the script prints is the run's log, not this outcome.
            with contextlib.redirect_stdout(sys.stderr):
                result = getattr(loaded, function)({}, None)
            print(json.dumps({"result": result, "failed": None}))
        except Exception as e:  # the run fails: Synthetics records the message
            print(json.dumps({"result": None, "failed": str(e)}))


if __name__ == "__main__":
    main()
