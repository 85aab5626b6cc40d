"""carbon-lsp driven by an independent client (pytest-lsp over stdio), on examples/global.carbon.

The server binary comes from the environment variable CARBON_LSP. The document is opened under the
file URI of the real example, so that the server resolves its imports (`modules/eks.carbon`, ...)
from disk. The edits happen only in the client's copy of the text: the file is never written.
"""

import asyncio
import os
import pathlib

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

REPO = pathlib.Path(__file__).resolve().parents[2]
GLOBAL = REPO / "examples" / "global.carbon"
URI = GLOBAL.as_uri()


def _line_of(text: str) -> int:
    """The zero-based line of examples/global.carbon that holds `text` (so edits elsewhere in the
    example do not move the checks)."""
    return next(i for i, line in enumerate(GLOBAL.read_text().split("\n")) if text in line)


KEY_LINE = _line_of("resource aws.kms.Key data_key @ r {")
MISTAKE_LINE = _line_of("secrets_key = data_key[r]")
TIMEOUT = 30  # seconds to wait for diagnostics


def server_command() -> list[str]:
    path = os.environ.get("CARBON_LSP")
    if not path:
        pytest.exit(
            "CARBON_LSP must name the carbon-lsp binary (cargo build -p carbon-lsp)", returncode=2
        )
    if not os.access(path, os.X_OK):
        pytest.exit(f"CARBON_LSP={path} is not an executable file", returncode=2)
    return [path]


@pytest_lsp.fixture(config=ClientServerConfig(server_command=server_command()))
async def client(lsp_client: LanguageClient):
    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(
                text_document=types.TextDocumentClientCapabilities(
                    publish_diagnostics=types.PublishDiagnosticsClientCapabilities(),
                    hover=types.HoverClientCapabilities(
                        content_format=[types.MarkupKind.Markdown, types.MarkupKind.PlainText]
                    ),
                )
            ),
            root_uri=REPO.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=REPO.as_uri(), name="carbonc")],
        )
    )
    lsp_client.server_info = result.server_info
    lsp_client.sync_kind = sync_kind(result.capabilities)
    yield
    # Fails the test if the server does not answer `shutdown` or does not exit after `exit`.
    await asyncio.wait_for(lsp_client.shutdown_session(), TIMEOUT)


def sync_kind(caps: types.ServerCapabilities) -> types.TextDocumentSyncKind:
    sync = caps.text_document_sync
    if isinstance(sync, types.TextDocumentSyncOptions):
        return sync.change or types.TextDocumentSyncKind.None_
    return sync or types.TextDocumentSyncKind.None_


async def wait_for_diagnostics(client: LanguageClient, ok, what: str):
    """Waits until the diagnostics published for URI satisfy `ok`; returns them."""

    async def loop():
        while True:
            if URI in client.diagnostics and ok(client.diagnostics[URI]):
                return client.diagnostics[URI]
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    try:
        return await asyncio.wait_for(loop(), TIMEOUT)
    except TimeoutError:
        seen = client.diagnostics.get(URI, "nothing published")
        pytest.fail(f"no {what} within {TIMEOUT} s; the last diagnostics for the file: {seen}")


def errors(diags):
    return [d for d in diags if d.severity == types.DiagnosticSeverity.Error]


def describe(diags) -> str:
    return (
        "\n".join(
            f"  line {d.range.start.line + 1}: [{d.code}] {d.message} ({d.source})" for d in diags
        )
        or "  (none)"
    )


def open_global(client: LanguageClient) -> str:
    text = GLOBAL.read_text(encoding="utf-8")
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=URI, language_id="carbon", version=1, text=text
            )
        )
    )
    return text


async def test_cross_region_key_is_reported_while_typing(client: LanguageClient):
    text = open_global(client)
    first = await wait_for_diagnostics(client, lambda _: True, "diagnostics after didOpen")
    assert not errors(first), f"examples/global.carbon should have no errors:\n{describe(first)}"

    # `secrets_key = data_key[r]` becomes `data_key[use1]`: the key of another region.
    lines = text.split("\n")
    line = lines[MISTAKE_LINE]
    assert line.strip() == "secrets_key = data_key[r]", f"line {MISTAKE_LINE + 1} is now {line!r}"
    col = line.index("data_key[r]") + len("data_key[")
    lines[MISTAKE_LINE] = line[:col] + "use1" + line[col + 1 :]
    if client.sync_kind == types.TextDocumentSyncKind.Incremental:
        change = types.TextDocumentContentChangePartial(
            range=types.Range(
                start=types.Position(line=MISTAKE_LINE, character=col),
                end=types.Position(line=MISTAKE_LINE, character=col + 1),
            ),
            text="use1",
        )
    else:
        change = types.TextDocumentContentChangeWholeDocument(text="\n".join(lines))
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=2),
            content_changes=[change],
        )
    )

    def has_e0301(diags):
        return any(d.code == "E0301" for d in errors(diags))

    after = await wait_for_diagnostics(client, has_e0301, "E0301 error after the edit")
    found = [d for d in errors(after) if d.code == "E0301"]
    on_line = [d for d in found if d.range.start.line == MISTAKE_LINE]
    assert on_line, f"E0301 is not on line {MISTAKE_LINE + 1}:\n{describe(found)}"
    diag = on_line[0]
    assert diag.source == "carbonc", diag
    assert "another region" in diag.message, diag.message
    # The label points at the argument `data_key[use1]`.
    assert diag.range.start.character <= col <= diag.range.end.character, diag.range


async def test_hover_on_a_resource_names_its_type(client: LanguageClient):
    text = open_global(client)
    line = text.split("\n")[KEY_LINE]
    assert "resource aws.kms.Key data_key @ r {" in line, f"line {KEY_LINE + 1} is now {line!r}"
    for word in ("data_key", "Key"):
        hover = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=URI),
                position=types.Position(line=KEY_LINE, character=line.index(word) + 1),
            )
        )
        assert hover is not None, f"no hover on `{word}` at line {KEY_LINE + 1}"
        contents = hover.contents
        value = contents.value if isinstance(contents, types.MarkupContent) else str(contents)
        assert "aws.kms.Key" in value, f"the hover on `{word}` does not name aws.kms.Key: {value!r}"
