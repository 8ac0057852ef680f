"""Transport views: GTFS import and export (docs/transport.md "GTFS";
https://gtfs.org/schedule/reference/).

- `POST /transport/gtfs`: a feed as a ZIP archive, the multipart field `file` (or
  the whole body as `application/zip`), imported all or nothing
  (services/transport/gtfs_import.py). Options in the query string or as
  multipart fields: `company_id` (every agency becomes that company; an operator's
  import always goes to its own), `country` (of new companies), `from` / `until`
  (the service dates whose trips are created). 200 with the counts and warnings;
  422 `gtfs-invalid` with `errors: [{file, row, field, reason}]`.
- `GET /transport/gtfs.zip?company_id=`: the company's feed
  (services/transport/gtfs_export.py).

Both: admin and operation for any company, an operator for its own (another
company: 404); other roles 403, anonymous 401.

Their schemas are in schemas/transport/gtfs.py.
"""

import tempfile

from flask import current_app, request, send_file
from flask.views import MethodView
from flask_jwt_extended import current_user
from marshmallow import ValidationError

from auth.decorators import roles_required
from core.errors import ProblemSchema, ValidationFailed
from routes.common.request_facts import request_facts
from routes.transport import blp
from schemas.transport.gtfs import (
    GtfsExportArgs,
    GtfsImportArgs,
    GtfsImportResultSchema,
    GtfsProblemSchema,
    GtfsUploadSchema,
)
from services.transport import gtfs_export, gtfs_import
from services.transport.access import MANAGERS

ZIP_TYPE = "application/zip"
# Bodies taken as a raw ZIP archive (besides a multipart upload).
ZIP_TYPES = (ZIP_TYPE, "application/x-zip-compressed", "application/octet-stream")
# The import view takes a non-JSON body of at most app.config[<setting>] bytes:
# the request guards (app.py, core/input_limits.py) read this mark on the view.
UPLOAD_LIMIT_SETTING = "GTFS_MAX_UPLOAD_BYTES"
# Uncompressed bytes a feed sent over HTTP may hold (a ZIP bomb guard; the CLI
# has no limit).
MAX_FEED_BYTES = 512 * 1024 * 1024
SPOOL_BYTES = 8 * 1024 * 1024
BINARY = {"type": "string", "format": "binary"}


def _options(args: dict) -> dict:
    """The import options: the query string's, completed by multipart fields of
    the same names; ValidationFailed (422) for a bad multipart field."""
    names = {"company_id", "country", "from", "until"}
    given = {key: value for key, value in request.form.items() if key in names}
    try:
        form = GtfsImportArgs().load(given) if given else {}
    except ValidationError as exc:
        raise ValidationFailed(exc.messages) from exc
    return {**form, **args}


def _feed_source(files: dict):
    """The uploaded archive: the multipart `file`, else a ZIP body copied to a
    spooled temporary file; ValidationFailed (422) when there is neither."""
    upload = files.get("file")
    if upload is not None:
        return upload.stream
    if request.mimetype in ZIP_TYPES and request.content_length:
        copy = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        while chunk := request.stream.read(1024 * 1024):
            copy.write(chunk)
        copy.seek(0)
        return copy
    raise ValidationFailed(
        {"file": ["Send the GTFS zip as the multipart field `file`."]}
    )


@blp.route("/gtfs")
class GtfsImport(MethodView):
    """POST /transport/gtfs: import a GTFS feed."""

    @roles_required(*MANAGERS)
    @blp.arguments(GtfsImportArgs, location="query")
    @blp.arguments(GtfsUploadSchema, location="files")
    @blp.response(200, GtfsImportResultSchema)
    @blp.alt_response(
        422,
        schema=GtfsProblemSchema,
        description="A faulty feed (nothing written) or bad options",
    )
    @blp.alt_response(404, schema=ProblemSchema, description="No such company")
    @blp.doc(operationId="importGtfsFeed")
    def post(self, args, files):
        """Import a GTFS feed (zip) all or nothing: 422 `gtfs-invalid` with
        `errors: [{file, row, field, reason}]` for a faulty feed."""
        options = _options(args)
        source = _feed_source(files)
        try:
            return gtfs_import.import_feed(
                source,
                actor=current_user,
                company_id=options.get("company_id"),
                country=options.get("country"),
                first_date=options.get("from_date"),
                last_date=options.get("until"),
                facts=request_facts(),
                max_bytes=current_app.config.get("GTFS_MAX_FEED_BYTES", MAX_FEED_BYTES),
            )
        finally:
            source.close()

    # Read by the request guards: this view takes a ZIP body, not JSON.
    post.upload_limit_setting = UPLOAD_LIMIT_SETTING


@blp.route("/gtfs.zip")
class GtfsExport(MethodView):
    """GET /transport/gtfs.zip: export a company's GTFS feed."""

    @roles_required(*MANAGERS)
    @blp.arguments(GtfsExportArgs, location="query")
    @blp.alt_response(404, schema=ProblemSchema, description="No such company")
    @blp.doc(
        operationId="exportGtfsFeed",
        responses={
            "200": {
                "description": "The company's GTFS feed",
                "content": {
                    ZIP_TYPE: {"schema": BINARY},
                    # What generic clients (openapi-python-client) read as a file.
                    "application/octet-stream": {"schema": BINARY},
                },
            }
        },
    )
    def get(self, args):
        """The company's timetable as a GTFS feed (zip): agency, stops, routes,
        trips, stop_times (agency timezone), calendar, calendar_dates."""
        archive, name = gtfs_export.export_feed(
            actor=current_user,
            company_id=args.get("company_id"),
            site_url=current_app.config.get("PUBLIC_BASE_URL") or request.host_url,
        )
        return send_file(
            archive, mimetype=ZIP_TYPE, as_attachment=True, download_name=name
        )
