"""`saraban serve`: run the read-only dashboard (the `app` package) with uvicorn."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0 for every interface)."),
        port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
        database_url: str | None = typer.Option(
            None, "--database-url", envvar="SARABAN_DATABASE_URL", help="SQLAlchemy URL of the record."
        ),
        prefect_ui_url: str | None = typer.Option(
            None,
            "--prefect-ui-url",
            help="Prefect UI for flow-run links (default: PREFECT_UI_URL, or PREFECT_API_URL minus /api).",
            show_default=False,
        ),
    ) -> None:
        """Serve the dashboard (แดชบอร์ด): circulars, agencies, letters; read-only."""
        import uvicorn

        from app.main import create_app
        from cli.common import open_readonly

        # Fail here, saying why, rather than serve 500s: a missing file, a foreign database, an old schema.
        open_readonly(database_url)

        typer.echo(f"saraban dashboard on http://{host}:{port}/ (Ctrl-C to stop)", err=True)
        uvicorn.run(
            create_app(database_url, prefect_ui_url=prefect_ui_url), host=host, port=port, log_level="info"
        )
