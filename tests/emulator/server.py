"""moto's server, with carbonc's plugins applied.

Run by `scripts/emulator start` as `<venv>/bin/python tests/emulator/server.py -H HOST -p PORT`
in place of `moto_server`; it takes the same arguments (they go to moto.server.main).

Each `plugins/*.py` (in name order; names starting with `_` are skipped) is a module with a
`register()` function that patches moto in this process: it fixes a moto bug or adds an
operation that moto lacks. The server runs in this same process (werkzeug, threaded), so the
patches apply to every request. A plugin that fails to load stops the server: a silently
unpatched emulator would make tests pass or fail for the wrong reason.

In front of moto sits `validator.py`: every request is checked against botocore's model of its
operation and refused as AWS would refuse it (see that module).
"""

import importlib.util
import pathlib
import sys

PLUGIN_DIR = pathlib.Path(__file__).resolve().parent / "plugins"

# No __pycache__ folders in the repository's plugins/ folder.
sys.dont_write_bytecode = True


def load_plugins(directory: pathlib.Path = PLUGIN_DIR) -> list[str]:
    """Imports every plugin in `directory` and calls its register(); returns their names."""
    loaded = []
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        name = f"carbonc_emulator_plugins.{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise SystemExit(f"emulator plugin {path}: cannot be imported")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        register = getattr(module, "register", None)
        if not callable(register):
            raise SystemExit(f"emulator plugin {path}: no register() function")
        register()
        # Plugins patch moto internals of the version they were written for (`WRITTEN_FOR`).
        written_for = getattr(module, "WRITTEN_FOR", None)
        import moto

        if written_for != moto.__version__:
            print(
                f"carbonc emulator: plugin {path.stem} was written for moto {written_for}, "
                f"this is {moto.__version__}: check that the bug or gap is still there",
                file=sys.stderr,
            )
        loaded.append(path.stem)
    return loaded


def install_validator() -> None:
    """Puts validator.py (behind rpcv2_cbor.py) in front of moto's request dispatcher."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    import rpcv2_cbor
    import validator

    dispatch = DomainDispatcherApplication.__call__

    def __call__(self, environ, start_response):
        # RPC v2 CBOR requests (CloudWatch from the Rust SDK) become JSON-protocol ones first, so
        # that the validator and moto see a protocol they read.
        inner = validator.wsgi_middleware(lambda e, s: dispatch(self, e, s))
        return rpcv2_cbor.bridge(inner)(environ, start_response)

    DomainDispatcherApplication.__call__ = __call__


def main(argv: list[str] | None = None) -> None:
    import moto
    from moto.server import main as moto_main

    plugins = load_plugins()
    install_validator()
    if not sys.stderr.isatty():
        # werkzeug colours its request log even in a file; the log is read as plain text.
        import werkzeug.serving

        werkzeug.serving._log_add_style = False  # type: ignore[attr-defined]
    print(
        f"carbonc emulator: moto {moto.__version__}, plugins: {', '.join(plugins) or 'none'}",
        file=sys.stderr,
        flush=True,
    )
    moto_main(argv)


if __name__ == "__main__":
    main()
