"""The API docs page at `/docs`: Swagger UI 5 from the swagger-ui-bundle-v2 package, served by the
helpdesk itself, so that it works offline and the browser fetches nothing from a CDN."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/docs/assets"


def mount_api_docs(http: FastAPI) -> None:
    http.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="api-docs-assets")

    @http.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=http.openapi_url,
            title=f"{http.title} API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            # Swagger UI would otherwise send the schema to its public validator.
            swagger_ui_parameters={"validatorUrl": None},
        )
